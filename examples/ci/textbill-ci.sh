#!/bin/sh
# textbill in any CI: check, build, and the billing diff against a base revision.
#   TEXTBILL_LEDGER=. BASE=origin/main sh textbill-ci.sh
# Exit status: 1 when the ledger has errors or a document fails to build (textbill's own codes).
set -eu
export TEXTBILL_LEDGER="${TEXTBILL_LEDGER:-.}"
OUT="${OUT:-_site}"

# A cache is never trusted for being there (HMAC, see SECURITY.md); drop one that was committed.
if git ls-files --error-unmatch "$TEXTBILL_LEDGER/.textbill" >/dev/null 2>&1; then
  rm -rf "$TEXTBILL_LEDGER/.textbill"
fi

textbill check --format sarif > textbill.sarif || true   # SARIF 2.1.0 for tools that read it
textbill check                                           # the gate: diagnostics as text, exit 1 on errors
textbill build --out "$OUT"

if [ -n "${BASE:-}" ]; then                              # a pull request: what it changes, as Markdown
  textbill diff "$BASE...HEAD" --format markdown > textbill-diff.md
  cat textbill-diff.md
fi
