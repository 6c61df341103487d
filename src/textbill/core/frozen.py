"""Fast construction of frozen slots dataclasses, and stages that pause the cyclic collector.

A frozen dataclass's __init__ sets each field through object.__setattr__; a new instance whose
slots are set through their descriptors is the same object at half the cost.  The parser, the
parse cache and the engine build millions of nodes and lines this way.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Callable, Iterator
from typing import Any


def make_builder(cls: type) -> Callable[..., Any]:
    """A function that makes an instance of the frozen slots dataclass cls from its fields, in
    declaration order: the same object as cls(...) gives, without __init__'s per-field setattr."""
    names = [f.name for f in dataclasses.fields(cls)]
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    body = [f"def build({', '.join(f'a{i}' for i in range(len(names)))}):", "    o = _new(_cls)"]
    for i, name in enumerate(names):
        env[f"_s{i}"] = vars(cls)[name].__set__
        body.append(f"    _s{i}(o, a{i})")
    body.append("    return o")
    exec("\n".join(body), env)  # noqa: S102 - generated from the dataclass's own field names
    build = env["build"]
    build.__name__ = build.__qualname__ = f"_build_{cls.__name__}"
    return build


builder = make_builder


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for stages that allocate millions of long-lived,
    acyclic objects (nodes, invoice lines), which the collector would otherwise scan again and
    again for nothing.  Reference counting still frees everything as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
