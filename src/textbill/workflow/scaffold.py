"""`textbill init`: a new ledger with a commented example.  [I/O]"""
from __future__ import annotations

from pathlib import Path

from textbill.loading.writer import write_atomic

CONFIG = """\
# textbill build settings. Business facts live in .bill files, never here.
out: build                 # output folder, relative to this file
theme: default             # a bundled theme (default, modern) or a folder inside the ledger
formats: [html, pdf]       # any of: html, pdf, facturx, ubl, ksef, json, csv
locale: en                 # default document language
# smtp: {host: smtp.example.com, port: 587, user: billing, from: billing@example.com, starttls: true}
#   the password comes from the TEXTBILL_SMTP_PASSWORD environment variable
"""

GITIGNORE = """\
# textbill: build output, caches, timers and write locks
/build/
.textbill/
.*.lock
"""

LEDGER = """\
; A textbill ledger. Every *.bill file in this folder (and below) is read.
; Comments start with ';'. A block header starts in column 0; its attributes
; are the indented lines below it. Run `textbill check` after every edit.

company me "Your Company Ltd"
  address "1 Main Street\\n10001 Springfield"
  country US
  email billing@example.com
  currency USD
  bank "Example Bank" iban DE89370400440532013000 bic COBADEFFXXX
  payment-methods bank-transfer card
  ; invoice numbers: {year} and a gapless {seq} that restarts every year
  numbering "INV-{year}-{seq:04}"

reminders standard
  step +7d "friendly"     ; a week after the due date
  step +21d "firm"

client acme "Acme Corporation"
  address "2 Industrial Way\\nMetropolis"
  country US
  email ap@acme.example
  terms net 30
  reminders standard

; an hourly statement of work: time entries are billed at the rate,
; each entry rounded up to the increment
sow acme/website "Website build"
  period 2026-01-01 .. 2026-12-31
  hourly 120.00 USD
  increment 15m
  schedule monthly

2026-01-05 time acme/website 2h30m "Kickoff workshop" #meeting
2026-01-07 time acme/website 09:00-12:10 "Wireframes"
2026-01-12 expense acme/website 49.00 USD "Stock photos" markup 10%

; an issued invoice: it takes the billable entries of its period.
; It is not locked yet, so `textbill check` warns (W172) and you may still
; edit anything above (your company's name, the client, the rates). When the
; example is yours, run `textbill lock`: from then on an issued document
; never changes; a mistake is fixed by a credit note or a new invoice.
2026-01-31 invoice INV-2026-0001 acme
  period 2026-01-01 .. 2026-01-31
  note "Thank you for your business"

2026-02-20 payment acme 500.00 for INV-2026-0001 via bank-transfer ref "ACME-4471"
"""


def create_ledger(target: Path, force: bool = False) -> list[Path]:
    target = Path(target)
    if target.exists() and any(target.iterdir()) and not force:
        raise FileExistsError(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    files = {
        target / "textbill.yaml": CONFIG,
        target / ".gitignore": GITIGNORE,
        target / "ledger.bill": LEDGER,
    }
    written = []
    for path, text in files.items():
        if path.exists() and path.name != ".gitignore":
            continue
        if path.name == ".gitignore" and path.exists():
            old = path.read_text(encoding="utf-8")
            missing = [ln for ln in GITIGNORE.splitlines() if ln and not ln.startswith("#") and ln not in old]
            if not missing:
                continue
            text = old.rstrip("\n") + "\n" + "\n".join(missing) + "\n"
        write_atomic(path, text.encode("utf-8"))
        written.append(path)
    # textbill.lock is not written: a lock made now would freeze the example's company name and
    # client before the user had a chance to make them theirs (the first edit would be E170).
    # The unlocked invoice is a warning (W172) that says how to lock once the ledger is theirs.
    return written
