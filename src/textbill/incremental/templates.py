"""Jinja's compiled templates kept between processes: SealedTemplates.  [I/O]

Compiling the default theme's documents and dashboard takes ~0.2 s, which every build process
paid again before its first page (an edit + build in CI, a watch's start).  Jinja keeps compiled
templates in a bytecode cache of the caller's; this one is the ledger's `.textbill/state/`,
sealed like the rest of it (incremental/persist.py StateStore: HMAC with the user's secret), so a
compiled template planted in a restored `.textbill/` is never loaded.  An entry is named by the
environment's kind (its options change the code Jinja writes), the template's name and file,
and the sha1 of its source; Jinja checks the source and the Python version once more when it
loads the code (jinja2.bccache.Bucket).
"""
from __future__ import annotations

from contextlib import suppress

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from textbill.incremental.persist import FORMAT, StateStore, _sha

KIND = "templates"


class SealedTemplates(BytecodeCache):
    """Compiled templates of the environments of one kind (documents, dashboard) in the state."""

    def __init__(self, state: StateStore, kind: str) -> None:
        self.state = state
        self.kind = kind

    def _name(self, bucket: Bucket) -> str:
        return _sha(FORMAT, self.kind, bucket.key, bucket.checksum)

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self.state.load(KIND, self._name(bucket))
        if type(data) is bytes:
            try:
                bucket.bytecode_from_string(data)
            except Exception:  # noqa: BLE001 - code that does not load is compiled again
                bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with suppress(Exception):  # a template that cannot be kept is still rendered
            self.state.save(KIND, self._name(bucket), bucket.bytecode_to_string())


def sealed_templates(state: StateStore):
    """The render memo's `templates`: the cache of an environment of a kind."""
    return lambda kind: SealedTemplates(state, kind)
