"""What a new process finds again of the last analysis and build: each invoice's outcome
without its lines, the documents' digests for textbill.lock and for the build, each invoice's
part of model.json and the dashboard's invoice rows, sealed like the parse cache.  [I/O]

A CI job restores `.textbill/` and starts a new process.  Without this it computes every
invoice, hashes every document for textbill.lock (canonical JSON and sha256 of ~1,000 invoices:
about a second at 100k entries) and for the build's plan, encodes every invoice for model.json
and renders every dashboard row.  Here the results are kept in ROOT/.textbill/state/ under keys
of their inputs, behind the parse cache's HMAC (incremental/cache.py: an entry whose tag does
not verify is a miss and is never unpickled; the unpickler resolves only textbill's value
classes):

- books-all: per invoice, its outcome without lines (figures, tax groups, SOW usage,
  diagnostics), what its computation read (index slices, items it tried to take) and its token
  (PersistentBooks).  A document's token hashes everything computing it read: the context every
  invoice depends on (textbill's code, textbill.yaml, the company, the fx rates), its directive,
  client and SOWs, the end of the client's previous period, its currency, the entries of its
  SOWs in its period and the owner of every item it tried to take, and, for a document drawn
  with the parties textbill.lock recorded, those details.  Ledger nodes are named by a token:
  the hash of what the node is parsed from -- the parser, its file's name, its line and column
  and the text of its lines, up to the next directive -- the same exactly when parsed from the
  same text at the same place.
  A new process makes the recorded reads again and recalls the outcome when they give the same
  token; the lines are computed when first asked for.
- tokens-K: the tokens of the nodes of the file whose parse-cache key is K (node_tokens), so that
  a new process hashes the nodes of the files it parsed, not of every file.
- lockparse-K: textbill.lock parsed (checks.locks._parsed_kept), K the hash of the code and its text.
- templates-K: Jinja's compiled templates (incremental/templates.py).
- digests-all-X, plan-all-X, rows-all-X, json-all-XX (X a hex digit: ShardedTable): values keyed
  by a document's token and the other inputs of the value (the rows: by what they show).

A one-entry edit changes the token of that entry's node (and of the nodes below it in its file,
when it adds or removes lines): the documents that read one of them are computed and hashed
again; every other value is read back.  Results are those of a fresh process
(tests/test_incremental_persist.py).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

from textbill.core import model as m
from textbill.core.books import (
    AdjustmentPart,
    AdjustmentReason,
    CompanyTax,
    InvoiceDoc,
    SowUsage,
    TaxGroup,
)
from textbill.engine.invoices import (
    InvoiceInputs,
    InvoiceOutcome,
    Reads,
    SharedState,
    compute_books,
)
from textbill.incremental import cache
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.memo import IdentityMemo
from textbill.loading.loader import CONFIG_NAME, display_name, read_bytes

STATE_DIR = Path(".textbill") / "state"
FORMAT = 1
# entries not used by the last run that are kept (other branches).  A run that reads only some
# tables (a check reads no build's) must not lose the others': this is well above the number of
# names the tables have (1 + 3 x 16 + 256 shards: tests/test_incremental_persist.py), with room
# for the theme's compiled templates (a few dozen, incremental/templates.py)
MAX_UNUSED = 1024
_ID_KEYS = frozenset({"time", "expense", "done"})  # billable item keys made of (kind, id(entry))


def _sha(*parts) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------------- the store

class StateStore(cache.ParseCache):
    """Sealed values in ROOT/.textbill/state/ (the parse cache's secret, checks and atomic writes)."""

    def __init__(self, root: Path):
        super().__init__(root, folder=STATE_DIR)
        self.kept: set[str] = set()

    def load(self, kind: str, key: str):
        """The value stored for (kind, key), or None (missing, forged, foreign, damaged)."""
        if not self.enabled:
            return None
        self.kept.add(f"{kind}-{key}")
        try:
            data = self._read(key, kind)
            if data is None:
                return None
            fmt, stored, value = cache.loads(data)  # the parse cache's restricted unpickler
            return value if fmt == FORMAT and stored == key else None
        except Exception:  # noqa: BLE001 - a bad entry is a miss
            return None

    def save(self, kind: str, key: str, value) -> None:
        """Keep value under (kind, key); with `later`, encoded and written when the owner asks
        (value must not change until then: every caller hands over a value it no longer changes)."""
        if not self.enabled:
            return
        self.kept.add(f"{kind}-{key}")
        self._in_turn(self._save, kind, key, value)

    def _save(self, kind: str, key: str, value) -> None:
        try:
            data = cache.dumps((FORMAT, key, value))
        except Exception:  # noqa: BLE001 - an unpicklable value is a reason not to keep it, not to fail
            return
        if self._store(key, kind, data):
            self.written += 1

    def prune(self) -> None:
        """Forget entries this run did not use, beyond the most recent MAX_UNUSED, and at once
        those of a name this version never writes (an earlier version's whole tables: 55 MB of
        model.json's parts at 100k entries) and the tokens and lock parses of files no longer there
        as they were (each run that prunes has read those of the current files)."""
        self._prune_folder(self.kept.__contains__, MAX_UNUSED,
                           lambda name: _CURRENT.fullmatch(name) is None or name.startswith(_ONE_VERSION))


# the names of the entries this version writes (StateStore.save: KIND-KEY)
_CURRENT = re.compile(r"books-all|(?:digests|plan|rows)-all-[0-9a-f]|json-all-[0-9a-f]{2}"
                      r"|(?:templates|tokens|lockparse)-[0-9a-f]{64}")
_ONE_VERSION = ("tokens-", "lockparse-")  # kept for the files as they are now only: read by every run that prunes


def node_tokens(loaded, known: dict[str, tuple[str, ...]], state: StateStore) -> dict[int, str] | None:
    """id(node) -> its token (node_tokens_of), for every directive of a ledger loaded through an
    enabled parse cache; None when some file has no key, or a node no place in its file's text.

    known: parse-cache key -> the tokens of that file's nodes (a long-lived workspace's; left
    holding the current files' only); state: where they are kept between processes (tokens-KEY)."""
    store = loaded.cache
    directives = loaded.ledger.directives
    if store is None or not store.enabled or len(store.keys) != len(loaded.files):
        return None
    out: dict[int, str] = {}
    current: dict[str, tuple[str, ...]] = {}
    at = 0
    for path, key in zip(loaded.files, store.keys):
        if not key or ":" in key:
            continue  # unreadable: no nodes
        n = store.counts.get(key)
        if n is None:
            return None
        nodes = directives[at:at + n]
        tokens = known.get(key)
        if tokens is None:
            found = state.load("tokens", key)
            if type(found) is tuple and len(found) == n and all(type(t) is str for t in found):
                tokens = found
            else:
                name = display_name(path)
                tokens = node_tokens_of(nodes, loaded.sources.text(name), name)
                if tokens is None:
                    return None
                state.save("tokens", key, tokens)
        else:  # made for this very key, so for its n nodes
            state.kept.add(f"tokens-{key}")  # in use: not pruned as another version's
        current[key] = tokens
        out.update(zip(map(id, nodes), tokens))
        at += n
    known.clear()
    known.update(current)
    return out if at == len(directives) else None


def node_tokens_of(nodes: Sequence, text: str | None, name: str) -> tuple[str, ...] | None:
    """Each node's token: the hash of the parser, the file's name, the node's line and column and
    the text from its first line to the line before the next directive of the file (a block's
    indented lines belong to it; its span names its first line only).  A directive is parsed
    from those lines alone, so an equal token is an equal node, spans included: an unchanged
    directive of an edited file keeps its token.  None when a node has no place in this text."""
    if text is None:
        return None
    lines = text.split("\n")
    starts = sorted(node.span.line for node in nodes)
    base = hashlib.blake2b(digest_size=16, person=b"textbill-node")
    base.update(cache.parser_digest().encode() + b"\0" + name.encode("utf-8", "surrogatepass") + b"\0")
    out = []
    for node in nodes:
        span = node.span
        if span.file != name or not 1 <= span.line <= len(lines):
            return None
        later = bisect.bisect_right(starts, span.line)
        end = max(starts[later] - 1 if later < len(starts) else len(lines), span.end_line, span.line)
        h = base.copy()
        h.update(f"{span.line}\0{span.col}\0".encode())
        h.update("\n".join(lines[span.line - 1:end]).encode("utf-8", "surrogatepass"))
        out.append(h.hexdigest())
    return tuple(out)


class DocTokens:
    """id(document) -> (document, token): what a document was computed from, for its lock digest."""

    def __init__(self) -> None:
        self.table: dict[int, tuple] = {}

    def clear(self) -> None:
        self.table = {}

    def add(self, doc, token: str) -> None:
        self.table[id(doc)] = (doc, token)

    def get(self, doc) -> str | None:
        hit = self.table.get(id(doc))
        return hit[1] if hit is not None and hit[0] is doc else None


class Session:
    """One analysis's link to the store: the node tokens, the context digest, the company's token."""

    def __init__(self, state: StateStore, tokens: dict[int, str], ledger: m.Ledger, code: str):
        self.state = state
        self.tokens = tokens
        # read as the loader reads it: a FIFO or a symlink out of the ledger is never read (it would hang or leak)
        config_bytes = read_bytes(Path(ledger.root) / CONFIG_NAME, CONFIG_NAME, Path(ledger.root))[0] or b""
        self.company = None if ledger.company is None else tokens.get(id(ledger.company))
        self.company_node = ledger.company
        fx = tuple(tokens.get(id(f)) for f in ledger.fxs)
        ok = (ledger.company is None or self.company is not None) and None not in fx
        self.context = _sha(FORMAT, code, hashlib.sha256(config_bytes).hexdigest(), self.company, fx) if ok else None

    def seller(self, company) -> str | None:
        """The token of the ledger's company (None for any other seller)."""
        if company is None:
            return "none"
        return repr(self.company) if company is self.company_node and self.company is not None else None


# ---------------------------------------------------------------------------- invoices

class PersistentBooks(BooksMemo):
    """BooksMemo (the same objects within one process), and each computed document's token: the
    hash of everything its computation read, by node token, so that a new process finds the
    document again (entry books-all of the store) and its lock digest (LockDigests).

    What is stored of a document is its outcome without its lines (figures, tax groups, what it
    bills of each SOW, its diagnostics) and what its computation read: the index slices it asked
    for and the billable items it tried to take.  A new process recalls it when the same reads,
    made again on its ledger, give the same token; the document's lines are then computed when
    something first asks for them (LazyLines).  Reading the lines back is not worth it: unpickling
    the 960 invoices of the 100k bench ledger with their 92,773 lines takes 2.2 s, computing them
    all 0.7-1.0 s (bench/README.md)."""

    def __init__(self, docs: DocTokens) -> None:
        super().__init__()
        self.docs = docs
        self.session: Session | None = None
        self._last: dict[str, tuple] = {}  # number -> (doc, token) of the last run
        self._context: str | None = None  # the context the tokens in _last were made in
        self._round: dict[str, tuple] = {}
        # number -> a record, sealed on its own (cache.dumps of (token, slices, probes, summary)): an
        # edit re-encodes one record, and the table is written as so many byte strings
        self._stored: dict | None = None
        self._decoded: dict[str, tuple] = {}  # number -> (its bytes, the record)
        self._records: dict[str, bytes] = {}  # this run's records
        self._lines: _Recompute | None = None
        self._ledger: m.Ledger | None = None
        self.revived = 0
        # False: compute every invoice, its lines with it, and store it as usual (a build about to
        # render every document needs all lines; reading back first would compute them twice)
        self.read_back = True

    def attach(self, session: Session | None) -> None:
        if session is None or self.session is None or session.state.root != self.session.state.root:
            self._stored, self._decoded = None, {}
        self.session = session

    def begin(self, ledger: m.Ledger) -> None:
        super().begin(ledger)
        context = self.session.context if self.session is not None else None
        if context is not None:
            if self._context is not None and context != self._context:
                # textbill.yaml (or the code) changed under a long-lived workspace: the documents it
                # holds carry tokens of the old context, which no new process would find again
                # (their records would be written all the same).  Computed again, they get this one's.
                self.invoices, self._last = {}, {}
            self._context = context
        self._round, self._records, self.revived = {}, {}, 0
        self._lines = None
        if self.session is not None and self._stored is None:
            # the records of the same context only (textbill's code, textbill.yaml, company, fx):
            # every token hashes it, and a record written by other code may have another shape
            found = self.session.state.load("books", "all")
            ok = type(found) is tuple and len(found) == 2 and found[0] == self.session.context
            self._stored = found[1] if ok and type(found[1]) is dict else {}
        self._ledger = ledger

    def end(self) -> None:
        super().end()
        self._last, self._round = self._round, {}
        records, stored = self._records, self._stored
        self._records, self._ledger = {}, None
        if self.session is None:
            return
        if stored is None or len(records) != len(stored) or any(stored.get(k) is not v for k, v in records.items()):
            self.session.state.save("books", "all", (self.session.context, records))
            self._stored = records
            self._decoded = {k: v for k, v in self._decoded.items() if records.get(k) is v[0]}

    @property
    def lines_computed(self) -> bool:
        """Whether the lines of the documents recalled by the last run were asked for (and computed)."""
        return self._lines is not None and self._lines.invoices is not None

    def _register(self, number: str, doc, token: str | None) -> None:
        if token is not None:
            self.docs.add(doc, token)
            self._round[number] = (doc, token)

    def recall(self, inputs: InvoiceInputs, state: SharedState):
        found = super().recall(inputs, state)
        if self.session is None:
            return found
        if found is not None:
            last = self._last.get(inputs.number)
            if last is not None and last[0] is found[0].doc:
                self._register(inputs.number, last[0], last[1])
                blob, record = self._record(inputs.number)
                if record is not None and record[0] == last[1]:
                    self._records[inputs.number] = blob
            return found
        # read back what this process does not hold: an invoice the last run computed here (watch)
        # is computed again with its lines, which a document read back would compute for the whole
        # ledger when first asked for (an edited file's unchanged directives are new objects)
        fresh = self.read_back and inputs.number not in self._last
        blob, record = self._record(inputs.number) if fresh else (None, None)
        if record is None:
            return None
        revived = self._revive(record, inputs, state)
        if revived is not None:
            self.revived += 1
            self._records[inputs.number] = blob
            self._register(inputs.number, revived[0].doc, record[0])
        return revived

    def _record(self, number: str) -> tuple:
        """(bytes, record) of an invoice stored by the last run, else (None, None)."""
        blob = (self._stored or {}).get(number)
        if type(blob) is not bytes:
            return None, None
        hit = self._decoded.get(number)
        if hit is not None and hit[0] is blob:
            return hit
        try:  # inside a sealed table; read by the same restricted unpickler
            record = cache.loads(blob)
        except Exception:  # noqa: BLE001 - a record that does not read is a miss
            return None, None
        if type(record) is not tuple or len(record) != 4:
            return None, None
        self._decoded[number] = (blob, record)
        return blob, record

    def _token(self, inputs: InvoiceInputs):
        """The hash of the invoice's own inputs by node token (None: a node without one)."""
        session = self.session
        tokens = session.tokens
        objects = []
        for obj in inputs.objects:
            tok = "none" if obj is None else tokens.get(id(obj))
            if tok is None:
                return None
            objects.append(tok)
        return hashlib.sha256(repr((session.context, inputs.number, objects, inputs.values))
                              .encode("utf-8", "surrogatepass"))

    def _revive(self, record: tuple, inputs: InvoiceInputs, state: SharedState):
        """The stored outcome and the items it claims, when the reads it records, made again
        now, give its token; else None (as BooksMemo's _still, by token rather than identity)."""
        token, slices, probes, summary = record
        h = self._token(inputs)
        if h is None:
            return None
        tokens = self.session.tokens
        entries: list = []
        read = []
        for table, ref, period in slices:
            found = state.entries_between(table, ref, period)
            toks = list(map(tokens.get, map(id, found)))
            if None in toks:
                return None
            _hash_slice(h, table, ref, period, toks)
            entries.extend(found)
            read.append((table, ref, period, found))
        claimed: dict = {}
        billed = state.billed
        number = inputs.number
        owners, keys = [], []
        for kind, first, count in probes:
            if kind is None:
                items = [first]
                table, by_id = billed, False
            elif first + count > len(entries):
                return None
            else:
                items = [(kind, id(e)) for e in entries[first:first + count]]
                by_id = kind in billed.BY_ID  # the kind's claims by the entry's id (BilledItems.table)
                table = billed.table(kind) if by_id else billed
            for key in items:
                owner = claimed.get(key) if claimed else None
                if owner is None:
                    owner = table.get(key[1] if by_id else key)
                owners.append(owner)
                keys.append(key)
                if owner is None:
                    claimed[key] = number
        _hash_probes(h, probes, owners)
        if h.hexdigest() != token:
            return None
        if self._lines is None:
            assert self._ledger is not None  # recall() comes between begin() and end()
            self._lines = _Recompute(self._ledger)
        doc = _doc(summary, inputs.objects[0], inputs.objects[1], LazyLines(self._lines, number))
        outcome = InvoiceOutcome(doc, summary["diags"], summary["missing_fx"])
        # the next run of this process recalls it by identity, as one it computed (watch mode)
        self.remember(inputs, read, zip(keys, owners), outcome)
        return outcome, list(claimed)

    def keep(self, inputs: InvoiceInputs, reads: Reads, outcome: InvoiceOutcome) -> None:
        super().keep(inputs, reads, outcome)
        if self.session is None:
            return
        h = self._token(inputs)
        if h is None:
            return
        tokens = self.session.tokens
        entries: list = []
        slices = []
        for table, ref, period, found in reads.slices:
            toks = list(map(tokens.get, map(id, found)))
            if None in toks:
                return
            _hash_slice(h, table, ref, period, toks)
            entries.extend(found)
            slices.append((table, ref, period))
        where: dict[int, int] = {}
        for i, e in enumerate(entries):
            where.setdefault(id(e), i)
        # the items it tried to take: an entry's item by its place among the entries read, in runs
        # (kind, first place, count) -- an hourly invoice tries its entries in order: one run
        probes: list = []
        owners = []
        for item, before in reads.probes:
            if type(item) is tuple and len(item) == 2 and item[0] in _ID_KEYS:
                pos = where.get(item[1])
                if pos is None:
                    return
                last = probes[-1] if probes else None
                if last is not None and last[0] == item[0] and last[1] + last[2] == pos:
                    probes[-1] = (item[0], last[1], last[2] + 1)
                else:
                    probes.append((item[0], pos, 1))
            else:
                probes.append((None, item, 1))
            owners.append(before)
        probes_t = tuple(probes)
        _hash_probes(h, probes_t, owners)
        token = h.hexdigest()
        self._register(inputs.number, outcome.doc, token)
        record = (token, tuple(slices), probes_t, _summary(outcome))
        blob = cache.dumps(record)
        self._records[inputs.number] = blob
        self._decoded[inputs.number] = (blob, record)


def _hash_probes(h, probes: tuple, owners: list) -> None:
    """The items an invoice tried to take and who had each before it (None: nobody)."""
    h.update(b"\1")
    h.update(repr((probes, tuple(owners))).encode("utf-8", "surrogatepass"))


def _hash_slice(h, table: str, ref: str, period: m.Period, toks: list) -> None:
    h.update(f"\1{table}\0{ref}\0{period.start}\0{period.end}\0".encode("utf-8", "surrogatepass"))
    h.update("\0".join(toks).encode())


class _Recompute:
    """The whole ledger's invoices computed again, once, when the first recalled document's lines
    are asked for: the same inputs give the same documents (their tokens say so)."""

    def __init__(self, ledger: m.Ledger) -> None:
        self.ledger: m.Ledger | None = ledger
        self.invoices: dict | None = None

    def lines(self, number: str) -> tuple:
        if self.invoices is None:
            self.invoices = compute_books(self.ledger).invoices
            self.ledger = None
        return self.invoices[number].lines


class LazyLines(Sequence):
    """An invoice's lines, computed when first read (a document recalled from the persisted
    state); then a tuple like any other document's.  Pickles as that tuple."""

    __slots__ = ("_lines", "_number", "_source")

    def __init__(self, source: _Recompute, number: str) -> None:
        self._source, self._number, self._lines = source, number, None

    def _get(self) -> tuple:
        if self._lines is None:
            self._lines = self._source.lines(self._number)
            self._source = None
        return self._lines

    def __len__(self) -> int:
        return len(self._get())

    def __getitem__(self, i):
        return self._get()[i]

    def __iter__(self):
        return iter(self._get())

    def __eq__(self, other) -> bool:
        if isinstance(other, (tuple, LazyLines)):
            return self._get() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._get())

    def __repr__(self) -> str:
        return repr(self._get())

    def __reduce__(self):
        return tuple, (self._get(),)


# what is stored of a document: plain values and the model's own classes (the store's unpickler
# knows no others), rebuilt as core.books values when recalled

def _summary(outcome: InvoiceOutcome) -> dict:
    d = outcome.doc
    ct = d.company_tax
    return {
        "currency": d.currency, "period": d.period, "sows": d.sows, "due": d.due, "net": d.net, "tax": d.tax,
        "total": d.total, "seq": d.seq,
        "groups": tuple((g.tax, g.net, g.allowances, g.charges, g.basis, g.tax_amount,
                         tuple((p.kind, p.label, p.amount, p.how,
                                tuple((r.standing, r.reason, r.percent) for r in p.reasons)) for p in g.parts))
                        for g in d.groups),
        "company_tax": None if ct is None else (ct.currency, ct.rate, ct.rate_date, ct.amount, ct.groups),
        "usage": tuple((u.sow, u.hours, u.amount, u.milestone_amount, u.milestones, u.retainers) for u in d.usage),
        "billed_time": d.billed_time, "diags": outcome.diags, "missing_fx": outcome.missing_fx,
    }


def _doc(s: dict, invoice, client, lines) -> InvoiceDoc:
    groups = tuple(TaxGroup(tax, net, allowances, charges, basis, amount,
                            tuple(AdjustmentPart(kind, label, value, how,
                                                 tuple(AdjustmentReason(*r) for r in reasons))
                                  for kind, label, value, how, reasons in parts))
                   for tax, net, allowances, charges, basis, amount, parts in s["groups"])
    ct = s["company_tax"]
    return InvoiceDoc(invoice, client, s["currency"], s["period"], s["sows"], s["due"], lines, groups, s["net"],
                      s["tax"], s["total"], None if ct is None else CompanyTax(*ct), s["seq"],
                      usage=tuple(SowUsage(*u) for u in s["usage"]), billed_time=s["billed_time"])


# ---------------------------------------------------------------------------- lock digests

class RecordedParties(IdentityMemo):
    """checks.locks.with_recorded_parties's memo: a document drawn with its recorded parties gets
    the token of its document and of the details recorded."""

    def __init__(self, docs: DocTokens) -> None:
        super().__init__()
        self.docs = docs
        self.session: Session | None = None

    def get(self, key, inputs, make):
        value = super().get(key, inputs, make)
        doc, entry, company = inputs
        token = self.docs.get(doc)
        if token is not None and value is not doc and self.session is not None:
            seller = self.session.seller(company)
            if seller is not None:
                parties = json.dumps(entry.parties, sort_keys=True, default=str)
                self.docs.add(value, _sha(token, parties, seller))
        return value


class ShardedTable:
    """name -> text, kept in entries KIND-all-S of the store: the values split by the first
    `digits` hex digits S of their name (a sha256), so that a run that changes a few values
    rewrites the shards they fall in, not the whole table.  model.json's parts (~55 MB at 100k
    entries) are split in 256: a one-entry edit changes ~40 invoices, which fell in 13 of 16
    shards (45 MB sealed and written again) and fall in ~38 of 256 (~8 MB)."""

    def __init__(self, kind: str, digits: int = 1) -> None:
        self.kind = kind
        self.digits = digits
        self.values: dict[str, str] | None = None  # None: not read yet (or another ledger's)
        self.fresh: dict[str, str] = {}  # the values this run used

    def open(self, state: StateStore) -> None:
        self.fresh = {}
        if self.values is None:
            self.values = {}
            n = self.digits
            for shard in (f"{i:0{n}x}" for i in range(16 ** n)):
                found = state.load(self.kind, f"all-{shard}")
                if type(found) is dict:
                    self.values.update((k, v) for k, v in found.items()
                                       if type(k) is str and k[:n] == shard and type(v) is str)

    def get(self, name: str) -> str | None:
        return self.values.get(name) if self.values is not None else None

    def use(self, name: str, value: str) -> None:
        self.fresh[name] = value

    def close(self, state: StateStore) -> None:
        """Write the shards whose values this run changed: its values, then the latest others (a
        document edited back, another branch), up to twice as many."""
        fresh, values, n = self.fresh, self.values or {}, self.digits
        self.fresh = {}
        changed = {k[:n] for k, v in fresh.items() if values.get(k) != v}
        if not changed:
            return
        values = dict(values)
        for shard in sorted(changed):
            kept = {k: v for k, v in fresh.items() if k[:n] == shard}
            limit = 2 * len(kept) + 4
            for k, v in [(k, v) for k, v in values.items() if k[:n] == shard]:
                if len(kept) < limit:
                    kept.setdefault(k, v)
                else:
                    values.pop(k, None)
            values.update(kept)
            state.save(self.kind, f"all-{shard}", kept)
        self.values = values


class TokenDigests(IdentityMemo):
    """A memo of values derived from documents (digests), by identity within a process and by
    the documents' tokens across processes (a ShardedTable of the store).

    get(key, inputs, make): inputs are a document, then ledger nodes (or None); the value is
    stored under the key and the tokens of all of them, and used when all have a token."""

    def __init__(self, docs: DocTokens, kind: str, digits: int = 1) -> None:
        super().__init__()
        self.docs = docs
        self.table = ShardedTable(kind, digits)
        self.session: Session | None = None
        self.computed = 0

    def begin(self) -> None:
        super().begin()
        self.computed = 0
        if self.session is not None:
            self.table.open(self.session.state)

    def _name(self, key, inputs) -> str | None:
        token = self.docs.get(inputs[0])
        if token is None:
            return None
        tokens = self.session.tokens
        rest = []
        for obj in inputs[1:]:
            tok = "none" if obj is None else tokens.get(id(obj))
            if tok is None:
                return None
            rest.append(tok)
        return _sha(key, token, rest)

    def get(self, key, inputs, make):
        name = self._name(key, inputs) if self.session is not None else None
        if name is None:
            def counted():
                self.computed += 1
                return make()
            return super().get(key, inputs, counted)

        def stored():
            value = self.table.get(name)
            if value is None:
                value = make()
                self.computed += 1
            return value
        value = super().get(key, inputs, stored)
        self.table.use(name, value)
        return value

    def needs(self, key, inputs) -> bool:
        if not super().needs(key, inputs):
            return False
        name = self._name(key, inputs) if self.session is not None else None
        return name is None or self.table.get(name) is None

    def end(self) -> None:
        super().end()
        if self.session is not None:
            self.table.close(self.session.state)


class StoredTexts:
    """Texts rendered from values (the dashboard's invoice rows), by the hash of what they were
    rendered from: render.memo.RenderTables.stored.  Between open() and close() of a build."""

    def __init__(self) -> None:
        self.table = ShardedTable("rows")
        self.state: StateStore | None = None

    def open(self, state: StateStore | None) -> None:
        if state is None or self.state is None or state.root != self.state.root:
            self.table.values = None
        self.state = state
        if state is not None:
            self.table.open(state)

    def get(self, key) -> str | None:
        if self.state is None:
            return None
        name = _sha(FORMAT, key)
        value = self.table.get(name)
        if value is not None:
            self.table.use(name, value)
        return value

    def put(self, key, text: str) -> None:
        if self.state is not None:
            self.table.use(_sha(FORMAT, key), text)

    def close(self) -> None:
        if self.state is not None:
            self.table.close(self.state)


class LockDigests(TokenDigests):
    """checks.locks's memo of documents' digests: inputs (document, seller)."""

    def __init__(self, docs: DocTokens) -> None:
        super().__init__(docs, "digests")

    def _name(self, key, inputs) -> str | None:
        doc, seller = inputs
        token = self.docs.get(doc)
        if token is None:
            return None
        # a seller recorded in textbill.lock is part of the document (and of its token)
        mark = "doc" if seller is doc.company else self.session.seller(seller)
        return None if mark is None else _sha(token, mark)


# ---------------------------------------------------------------------------- the parts together

class Persistence:
    """The persistent memos of a Workspace (made by pipeline.analyze on its first analysis, so that
    a command answered from the check cache never imports the engine)."""

    def __init__(self, later: list | None = None) -> None:
        self.later = later  # the state's writes kept back for the workspace's owner (Workspace.later)
        self.docs = DocTokens()
        self.books = PersistentBooks(self.docs)
        self.digests = LockDigests(self.docs)
        self.recorded = RecordedParties(self.docs)
        self.plan = TokenDigests(self.docs, "plan")  # building.plan's documents' digests
        self.json = TokenDigests(self.docs, "json", digits=2)  # building.site's model.json text of each invoice
        self.rows = StoredTexts()  # the dashboard's invoice rows (render.dashboard._with_markup)
        self.file_tokens: dict[str, tuple[str, ...]] = {}  # node_tokens' known
        self.session: Session | None = None

    def attach(self, loaded, enabled: bool) -> Session | None:
        """Link the memos to the ledger just loaded (enabled: its caches may be read and written)."""
        self.docs.clear()
        session = None
        if enabled:
            state = StateStore(loaded.root)
            state.later = self.later
            tokens = node_tokens(loaded, self.file_tokens, state)
            if tokens is not None:
                session = Session(state, tokens, loaded.ledger, cache.whole_code_digest())
                if session.context is None:
                    session = None
        if session is None or self.session is None or session.state.root != self.session.state.root:
            for part in (self.digests, self.plan, self.json):
                part.table.values = None  # another ledger's (or none)
        self.session = session
        self.books.attach(session)
        for part in (self.digests, self.recorded, self.plan, self.json):
            part.session = session
        return session

    def finish(self) -> None:
        if self.session is not None:
            self.session.state.prune()
