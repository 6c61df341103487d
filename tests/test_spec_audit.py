"""The product owner's acceptance view of LANGUAGE.md sections 8, 9 and 12: ledgers written as a
reader of the spec would write them, run through the CLI; every figure computed by hand in the
comments. Each test here is the regression test of one deviation found in the audit."""
from __future__ import annotations

from conftest import cli, write_ledger


def test_half_typed_peppol_and_by_get_a_fix_that_fits(tmp_path):
    # section 4: every error says what is wrong and the likely fix. `peppol garbage` used to be told to
    # put the word in double quotes, and `by` with no person to lowercase the whole line.
    folder = write_ledger(tmp_path / "l", """\
        client globex "Globex Corporation"
          peppol garbage
        sow globex/web "Web"
          hourly 100
        2026-01-05 time globex/web 3h "Kickoff" by
        """)
    r = cli("check", folder)
    assert r.code == 1, r
    out = r.out + r.err
    assert "ledger.bill:7:10: error[E001]" in out
    assert "expected a Peppol participant id like 0088:5790000435975" in out
    assert "peppol 0088:5790000435975" in out
    assert "double quotes" not in out
    assert "ledger.bill:10:43: error[E001]: this line ends too early: expected an id" in out
    assert "ids are lowercase" not in out
