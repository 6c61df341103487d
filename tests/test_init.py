"""`textbill init`: a new ledger that checks clean and teaches by example."""
from __future__ import annotations

from conftest import cli


def test_init_creates_a_clean_ledger(tmp_path):
    target = tmp_path / "books"
    r = cli("init", target)
    assert r.code == 0, r
    names = sorted(p.name for p in target.iterdir() if not p.name.startswith(".textbill"))
    # Issue 13: init no longer locks its example invoice (renaming the company was then E170);
    # the only finding of a new ledger is the warning that says how to lock it.
    assert names == [".gitignore", "ledger.bill", "textbill.yaml"]
    check = cli("check", target, "--format", "json")
    assert check.code == 0, check
    assert [d["code"] for d in check.json()["diagnostics"]] == ["W172"], check
    ignore = (target / ".gitignore").read_text()
    for line in ("/build/", ".textbill/", ".*.lock"):
        assert line in ignore.splitlines()
    assert "TEXTBILL_SMTP_PASSWORD" in (target / "textbill.yaml").read_text()
    assert (target / "ledger.bill").read_text().count(";") >= 8  # it is a commented tutorial


def test_init_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    r = cli("init", tmp_path)
    assert r.code == 2
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    r = cli("init", tmp_path, "--force")
    assert r.code == 0 and (tmp_path / "mine.txt").read_text() == "keep me"


def test_init_adds_missing_ignore_lines_to_an_existing_gitignore(tmp_path):
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    assert cli("init", tmp_path, "--force").code == 0
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "node_modules/" and ".textbill/" in lines


def test_the_example_can_be_made_ones_own_then_locked(tmp_path):
    """Issue 13: the first natural edit of a new ledger, renaming the company, is not E170."""
    target = tmp_path / "books"
    assert cli("init", target).code == 0
    ledger = target / "ledger.bill"
    ledger.write_text(ledger.read_text().replace('"Your Company Ltd"', '"Kowalski Consulting"')
                      .replace('"Acme Corporation"', '"Globex Sp. z o.o."'))
    check = cli("check", target)
    assert check.code == 0 and "error" not in check.err and "W172" in check.err, check
    assert cli("lock", "-f", target).code == 0
    assert (target / "textbill.lock").is_file()
    check = cli("check", target)
    assert check.code == 0 and "no problems" in check.err, check
    # once locked, the lock guards the issued invoice: a new rate would change it (a new company
    # name would not: an issued document keeps the details it was issued with)
    ledger.write_text(ledger.read_text().replace("hourly 120.00 USD", "hourly 130.00 USD"))
    assert "E170" in cli("check", target).err
