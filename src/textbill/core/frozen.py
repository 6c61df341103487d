"""Fast construction of frozen slots dataclasses, and stages that pause the cyclic collector.

A frozen dataclass's __init__ sets each field through object.__setattr__.  An instance of a
mutable twin of the class (the same slots, the default __setattr__) is filled by plain attribute
stores and then given the class (`obj.__class__ = cls`, which CPython allows between classes of
the same layout): the same object at a quarter of __init__'s cost, half of setting each slot
through its descriptor.  The parser, the parse cache and the engine build millions of nodes and
lines this way.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Callable, Iterator
from typing import Any


def mutable_twin(cls: type) -> type:
    """A class with cls's slots and no __setattr__ of its own: an instance of it, its fields set,
    becomes a cls by `obj.__class__ = cls`.  Checked here: a class whose layout differs raises now."""
    twin = type(f"_{cls.__name__}Fields", (), {"__slots__": vars(cls)["__slots__"], "__module__": cls.__module__})
    probe: Any = object.__new__(twin)
    probe.__class__ = cls
    return twin


def make_builder(cls: type) -> Callable[..., Any]:
    """A function that makes an instance of the frozen slots dataclass cls from its fields, in
    declaration order: the same object as cls(...) gives, without __init__'s per-field setattr."""
    names = [f.name for f in dataclasses.fields(cls)]
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_twin": mutable_twin(cls)}
    body = [f"def build({', '.join(f'a{i}' for i in range(len(names)))}):", "    o = _new(_twin)"]
    body += [f"    o.{name} = a{i}" for i, name in enumerate(names)]
    body += ["    o.__class__ = _cls", "    return o"]
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
