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
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """No cyclic garbage collection inside: for stages that allocate millions of long-lived,
    acyclic objects (nodes, invoice lines), which the collector would otherwise scan again and
    again for nothing.  Reference counting still frees everything as usual.

    freeze: on the way out, what is alive then is left out of every later collection (gc.freeze)
    before collecting is enabled again: for a command that keeps it to its end.  Otherwise the
    first collection after the stage scans all of it (0.1-0.2 s at 100k entries)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def heap_frozen(keep: bool = False) -> Iterator[None]:
    """The objects alive on entry are left out of every cyclic collection inside (gc.freeze): a
    stage that runs over a large analysis (a build) then pays only for collecting what it makes
    itself.  On exit they are collectable again (gc.unfreeze), so a long-lived process frees what
    dies later -- unless keep: the caller keeps the heap frozen (a command that ends after, whose
    exit then does not scan it all; watch, whose tidying unfreezes it).  Reference counting frees
    everything as usual.

    keep is the caller's to say: whether the heap is frozen cannot be asked cheaply
    (gc.get_freeze_count() walks every frozen object: 13-19 ms a build at 100k entries)."""
    gc.freeze()
    try:
        yield
    finally:
        if not keep:
            gc.unfreeze()
