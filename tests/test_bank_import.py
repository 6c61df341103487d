"""`textbill import bank`: statements in four formats, matched to invoices (LANGUAGE.md section 9).

The ledger below has five invoices; each statement is a file in tests/bank written the way a bank
exports it.  Figures after an import are read back through `textbill invoices --format json` and
compared with sums done by hand in the comments.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import cli, invoices_json, write_ledger

HERE = Path(__file__).parent / "bank"

LEDGER = """\
company acme "Acme GmbH"
  country DE
  currency EUR
  bank "Commerzbank" iban "DE89 3704 0044 0532 0130 00" bic COBADEFFXXX
  reference rf

client initech "Initech, L.L.C."
  iban DE44500105175407324931

client globex "Globex Corporation"

client hooli "Hooli Inc"
  currency USD

2026-02-01 fx EUR USD 1.1000

2026-02-01 invoice INV-2026-0001 initech
  item "Consulting" 10 x 100.00

2026-02-02 invoice INV-2026-0002 globex
  item "Design" 5 x 100.00

2026-02-03 invoice INV-2026-0003 globex
  item "Hosting" 1 x 300.00

2026-02-04 invoice INV-2026-0004 initech
  item "Support" 2 x 100.00

2026-02-05 invoice INV-2026-0005 hooli
  item "Platform work" 1 x 1_100.00
"""


@pytest.fixture
def books(tmp_path) -> Path:
    folder = write_ledger(tmp_path / "books", LEDGER, company=False, config="out: build\n")
    for f in HERE.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return folder


def bank(folder: Path, statement: Path, *extra: str):
    return cli("import", "bank", statement, "-f", folder, *extra)


def figures(folder: Path) -> dict[str, tuple[str, str, str]]:
    return {n: (row["paid"], row["outstanding"], row["status"])
            for n, row in invoices_json(folder, "2026-03-31").items()}


def test_camt053_every_rule_and_every_non_match(books, tmp_path):
    r = bank(books, tmp_path / "statement-march.camt053.xml")
    assert r.code == 0, r
    written = (books / "payments.bill").read_text(encoding="utf-8")
    lines = [ln.split("  ;")[0] for ln in written.splitlines()]
    assert lines == [
        # rule 1: "inv 2026 0001" names INV-2026-0001, whoever pays
        '2026-03-02 payment initech 1000.00 EUR for INV-2026-0001 via bank-transfer ref "2026030200001"',
        # rule 1 by the RF reference of INV-2026-0003 (one transfer of a batch entry)
        '2026-03-03 payment globex 300.00 EUR for INV-2026-0003 via bank-transfer ref "2026030300002-1"',
        # rule 2: the payer's IBAN is initech's
        '2026-03-05 payment initech 150.00 EUR via bank-transfer ref "2026030500005"',
        # rule 2: "HOOLI, Inc." is "Hooli Inc"; in EUR, converted by the engine at 1.1
        '2026-03-06 payment hooli 1000.00 EUR via bank-transfer ref "2026030600006"',
        # rule 1, two numbers in the order named ("INV/2026/0002" is INV-2026-0002)
        ('2026-03-07 payment globex 600.00 EUR for INV-2026-0002 INV-2026-0003 via bank-transfer '
         'ref "2026030700007"'),
    ]
    assert '; GLOBEX CORPORATION: "RF59INV20260003"' in written  # the payer and remittance, for the reader
    # not written, listed: the unmatched credit with its likeliest invoice, the debit, the pending credit
    assert "2026030300002-2" in r.out  # its ref, for the line written by hand
    assert "Vandelay Industries" in r.out and "INV-2026-0002" in r.out.split("Vandelay")[1].split("\n")[0]
    assert "Account fee" in r.out and "debit" in r.out
    assert "pending" in r.out
    assert "imported 5 payments" in r.err and "1 unmatched" in r.err and "2 debits or pending" in r.err
    assert figures(books) == {
        "INV-2026-0001": ("1000.00", "0.00", "paid"),
        "INV-2026-0002": ("500.00", "0.00", "paid"),  # 500 of the 600
        "INV-2026-0003": ("300.00", "0.00", "paid"),
        "INV-2026-0004": ("150.00", "50.00", "overdue"),  # partial: 200 - 150; due 2026-03-06
        "INV-2026-0005": ("1100.00", "0.00", "paid"),  # 1000.00 EUR x 1.1
    }
    # the 100.00 left of the 600 is globex's credit: its statement closes at -100.00
    st = cli("statement", "globex", "-f", books, "--to", "2026-03-31", "--format", "json")
    assert st.code == 0, st
    assert st.json()["closing_balance"] == "-100.00"
    check = cli("check", books)
    assert check.code == 0 and "W164" in check.err  # the overpayment, a warning


def test_reimport_and_an_overlapping_statement_add_nothing_twice(books, tmp_path):
    first = bank(books, tmp_path / "statement-march.camt053.xml")
    assert first.code == 0, first
    before = (books / "payments.bill").read_text(encoding="utf-8")
    again = bank(books, tmp_path / "statement-march.camt053.xml")
    assert again.code == 0, again
    assert "imported 0 payments" in again.err and "5 already imported" in again.err
    assert (books / "payments.bill").read_text(encoding="utf-8") == before
    # fmt realigns the lines; the refs stay, so a third import still adds nothing
    assert cli("fmt", "-f", books).code == 0
    formatted = (books / "payments.bill").read_text(encoding="utf-8")
    ledger_text = (books / "ledger.bill").read_text(encoding="utf-8")
    assert "\n  reference rf\n" in ledger_text and "\n  iban DE44500105175407324931\n" in ledger_text
    assert cli("fmt", "--check", "-f", books).code == 0
    assert bank(books, tmp_path / "statement-march.camt053.xml").code == 0
    assert (books / "payments.bill").read_text(encoding="utf-8") == formatted
    # the April statement repeats 7 March and adds the rest of INV-2026-0004
    overlap = bank(books, tmp_path / "statement-overlap.camt053.xml")
    assert overlap.code == 0, overlap
    added = (books / "payments.bill").read_text(encoding="utf-8")[len(formatted):]
    assert added.startswith('2026-03-10 payment initech 50.00 EUR via bank-transfer ref "2026031000010"')
    assert added.count("\n") == 1
    assert figures(books)["INV-2026-0004"] == ("200.00", "0.00", "paid")


def test_dry_run_prints_and_writes_nothing(books, tmp_path):
    r = bank(books, tmp_path / "statement-march.camt053.xml", "--dry-run")
    assert r.code == 0, r
    assert r.out.count(" payment ") == 5 and "would import 5 payments" in r.err
    assert not (books / "payments.bill").exists()


def test_payments_go_to_payments_file_or_the_latest_payments_file(books, tmp_path):
    (books / "2026").mkdir()
    (books / "2026" / "older.bill").write_text(
        '2026-02-20 payment globex 1.00 EUR via card ref "counter"\n', encoding="utf-8")
    assert bank(books, tmp_path / "statement-march.camt053.xml").code == 0
    assert (books / "2026" / "older.bill").read_text(encoding="utf-8").count(" payment ") == 6
    (books / "textbill.yaml").write_text("out: build\npayments-file: bank/2026.bill\n", encoding="utf-8")
    assert bank(books, tmp_path / "statement-overlap.camt053.xml").code == 0
    assert (books / "bank" / "2026.bill").read_text(encoding="utf-8").count(" payment ") == 1


def test_a_statement_of_another_account_writes_nothing(books, tmp_path):
    other = (tmp_path / "statement-march.camt053.xml").read_text(encoding="utf-8")
    other = other.replace("<IBAN>DE89370400440532013000</IBAN>", "<IBAN>DE02120300000000202051</IBAN>")
    (tmp_path / "other.xml").write_text(other, encoding="utf-8")
    r = bank(books, tmp_path / "other.xml")
    assert r.code == 1
    assert "other.xml:10:" in r.err and "error[E262]" in r.err and "DE02120300000000202051" in r.err
    assert "nothing was imported" in r.err
    assert not (books / "payments.bill").exists()


def test_a_truncated_statement_is_located_and_writes_nothing(books, tmp_path):
    whole = (tmp_path / "statement-march.camt053.xml").read_text(encoding="utf-8")
    (tmp_path / "cut.xml").write_text(whole[: whole.index("HOOLI")], encoding="utf-8")
    r = bank(books, tmp_path / "cut.xml")
    assert r.code == 1, r
    assert "cut.xml:" in r.err and "error[E261]" in r.err and "not well-formed" in r.err
    assert not (books / "payments.bill").exists()


def test_an_entry_without_an_amount_is_named(books, tmp_path):
    whole = (tmp_path / "statement-march.camt053.xml").read_text(encoding="utf-8")
    broken = whole.replace('<Amt Ccy="EUR">150.00</Amt>', "", 1)
    (tmp_path / "broken.xml").write_text(broken, encoding="utf-8")
    r = bank(books, tmp_path / "broken.xml")
    assert r.code == 1, r
    line = broken[: broken.index("<AcctSvcrRef>2026030500005")].count("\n")  # the <Ntry> line, 1-based
    assert f"broken.xml:{line - 4}:" in r.err and "without an amount" in r.err
    assert not (books / "payments.bill").exists()


def test_a_wrong_format_option_is_a_usage_error(books, tmp_path):
    assert bank(books, tmp_path / "statement-march.camt053.xml", "--format", "qif").code == 2
    assert bank(books, tmp_path / "missing.xml").code == 2


def test_mt940_structured_and_unstructured_86(books, tmp_path):
    r = bank(books, tmp_path / "statement.mt940")
    assert r.code == 0, r
    lines = [ln.split("  ;")[0] for ln in (books / "payments.bill").read_text(encoding="utf-8").splitlines()]
    assert lines[:3] == [
        # structured :86: ?20.. SVWZ+ remittance names the invoice
        '2026-03-02 payment initech 1000.00 EUR for INV-2026-0001 via bank-transfer ref "0302GF0000001"',
        # structured :86: no number, ?31 is initech's IBAN
        '2026-03-03 payment initech 200.00 EUR via bank-transfer ref "0303GF0000002"',
        # unstructured :86: names two invoices of globex
        ('2026-03-04 payment globex 800.00 EUR for INV-2026-0002 INV-2026-0003 via bank-transfer '
         'ref "0304GF0000003"'),
    ]
    # SWIFT codes: /NAME/ Hooli Inc.; no reference in :61: (NONREF, no bank reference): a hash
    assert lines[3].startswith('2026-03-06 payment hooli 1000.00 EUR via bank-transfer ref "mt940-')
    assert len(lines) == 4
    assert "Unknown Payer" in r.out  # the structured credit that matches nothing
    assert figures(books)["INV-2026-0004"] == ("200.00", "0.00", "paid")


def test_ofx(books, tmp_path):
    r = bank(books, tmp_path / "statement.ofx")
    assert r.code == 0, r
    lines = [ln.split("  ;")[0] for ln in (books / "payments.bill").read_text(encoding="utf-8").splitlines()]
    assert lines == [
        '2026-03-02 payment globex 500.00 EUR for INV-2026-0002 via bank-transfer ref "FIT-20260302-01"',
        '2026-03-03 payment initech 1000.00 EUR via bank-transfer ref "FIT-20260303-02"',
    ]
    assert "debit" in r.out
    assert bank(books, tmp_path / "statement.ofx").err.count("imported 0 payments") == 1


POLISH_CSV = """\
bank-csv:
  date: "#Data operacji"
  amount: "#Kwota"
  payer: "#Nadawca/Odbiorca"
  iban: "#Rachunek"
  text: "#Tytuł"
  delimiter: ";"
  decimal: ","
  date-format: "%d-%m-%Y"
"""


def test_csv_of_a_polish_bank(books, tmp_path):
    (books / "textbill.yaml").write_text("out: build\n" + POLISH_CSV, encoding="utf-8")
    r = bank(books, tmp_path / "mbank.csv", "--format", "csv")
    assert r.code == 0, r
    lines = [ln.split("  ;")[0] for ln in (books / "payments.bill").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    assert lines[0].startswith("2026-03-02 payment globex 800.00 EUR for INV-2026-0002 INV-2026-0003 via "
                               'bank-transfer ref "csv-')
    assert lines[1].startswith("2026-03-05 payment initech 1000.00 EUR via bank-transfer ref \"csv-")
    assert "Opłata za prowadzenie" in r.out  # the fee, a debit, listed
    again = bank(books, tmp_path / "mbank.csv")  # detected as CSV; its rows hash to the same ids
    assert again.code == 0 and "imported 0 payments" in again.err, again


def test_a_csv_that_is_not_utf8_is_an_error_naming_the_file(books, tmp_path):
    (books / "textbill.yaml").write_text("out: build\n" + POLISH_CSV, encoding="utf-8")
    (tmp_path / "cp1250.csv").write_bytes((tmp_path / "mbank.csv").read_text(encoding="utf-8").encode("cp1250"))
    r = bank(books, tmp_path / "cp1250.csv")
    assert r.code == 1, r
    assert "cp1250.csv:" in r.err and "error[E261]" in r.err and "is not UTF-8" in r.err and "iconv" in r.err
    assert not (books / "payments.bill").exists()


def test_bank_csv_settings_are_checked(books):
    (books / "textbill.yaml").write_text("out: build\nbank-csv: {date: Datum, amout: Betrag}\n", encoding="utf-8")
    r = cli("check", books)
    assert r.code == 1 and "unknown bank-csv setting 'amout'" in r.err and "did you mean 'amount'" in r.err


def test_client_iban_is_validated_where_it_is_written(tmp_path):
    folder = write_ledger(tmp_path / "l", """\
        client initech "Initech"
          iban DE44500105175407324931
          iban DE44500105175407324932
        """)
    r = cli("check", folder)
    assert r.code == 1
    assert "ledger.bill:8:8: error[E201]: invalid IBAN 'DE44500105175407324932' of client 'initech'" in r.err


# ---------------------------------------------------------------------------- matching, rule by rule

def _matcher(books: Path):
    from datetime import date

    from textbill.pipeline import analyze
    from textbill.workflow.bank.matching import Matcher

    a = analyze(books)
    return Matcher(a.ledger, list(a.receivables(date.max).invoices.values()))


def _tx(text: str = "", payer: str = "", iban: str = "", amount: str = "100.00", currency: str = "EUR"):
    from datetime import date
    from decimal import Decimal

    from textbill.workflow.bank.statement import Transaction

    return Transaction("T1", date(2026, 3, 2), Decimal(amount), currency, True, True, payer, iban, text)


@pytest.mark.parametrize(("text", "named"), [
    ("inv 2026 0002", ("INV-2026-0002",)),
    ("INV20260002", ("INV-2026-0002",)),
    ("Re: inv-2026-0003, INV 2026 0002 and inv-2026-0003 again", ("INV-2026-0003", "INV-2026-0002")),
    ("INV-2026-00021", ()),  # another number, not a prefix match
    ("XINV-2026-0002", ()),  # a longer word
    ("RF86 INV2 0260 002", ("INV-2026-0002",)),  # its RF reference, grouped by four
    ("rf86inv20260002", ("INV-2026-0002",)),  # case does not matter
    ("RF92INV20260002", ()),  # wrong RF check digits name nothing
])
def test_invoice_numbers_and_rf_references_in_remittance(books, text, named):
    found = _matcher(books).match(_tx(text, payer="Nobody"))
    assert found.invoices == named
    assert found.client == ("globex" if named else None)


def test_numbers_of_two_clients_fall_through_to_the_payer(books):
    m = _matcher(books)
    found = m.match(_tx("INV-2026-0001 INV-2026-0002", payer="Globex Corporation"))
    assert (found.client, found.invoices, found.rule) == ("globex", (), "name")
    found = m.match(_tx("INV-2026-0001 INV-2026-0002", payer="Someone"))
    assert found.client is None and "several clients" in found.rule


def test_names_compare_without_case_punctuation_and_spacing(books):
    m = _matcher(books)
    for payer in ("Initech LLC", "INITECH, L.L.C.", "initech llc.", "Initech  L L C"):
        assert m.match(_tx("x", payer=payer)).client == "initech", payer
    assert m.match(_tx("x", payer="Initech Holding LLC")).client is None
    assert m.match(_tx("x", iban="de44 5001 0517 5407 3249 31")).client == "initech"


def test_candidates_are_same_amount_invoices_then_similar_names(books):
    found = _matcher(books).match(_tx("thanks", payer="Globex Corp", amount="300.00"))
    assert found.client is None
    assert found.candidates == ("INV-2026-0003 (globex, 300.00 EUR open)", "client globex")


def test_another_currency_without_a_rate_is_not_written(books):
    found = _matcher(books).match(_tx("x", payer="Hooli Inc", currency="PLN"))
    assert found.client is None and "no fx rate PLN/USD" in found.rule


def test_a_long_list_of_what_is_not_written_is_plain_lines(books, tmp_path):
    (books / "textbill.yaml").write_text("out: build\nbank-csv: {date: Date, amount: Amount, currency: EUR, "
                                         "payer: Name, text: Text}\n", encoding="utf-8")
    rows = [f"2026-03-{1 + i % 28:02d},-{i + 1}.00,Shop {i},\"receipt\tno. {i}\"" for i in range(501)]
    (tmp_path / "fees.csv").write_text("Date,Amount,Name,Text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    r = bank(books, tmp_path / "fees.csv")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "not written: date\tamount\tpayer\ttext\twhy\tcandidates\tref"
    assert lines[1].startswith("2026-03-01\t-1.00 EUR\tShop 0\treceipt no. 0\tdebit\t\tcsv-")  # tab -> space
    assert len(lines) == 502


def test_csv_with_the_spec_column_map_and_no_format_settings(books, tmp_path):
    (books / "textbill.yaml").write_text(
        "out: build\nbank-csv: {date: Date, amount: Amount, currency: Currency, payer: Name, iban: IBAN, "
        "text: Reference, id: Id}\n", encoding="utf-8")
    (tmp_path / "export.csv").write_text(
        "Id,Date,Amount,Currency,Name,IBAN,Reference\n"
        'B-1,2026-03-02T09:30:00,"1,000.00",EUR,Somebody,,Invoice INV-2026-0001\n'
        "B-2,05.03.2026,\"150,00\",EUR,Payroll,DE44500105175407324931,March\n"
        "B-3,2026-03-06,-20.00,EUR,Fee,,fee\n", encoding="utf-8")
    r = bank(books, tmp_path / "export.csv")
    assert r.code == 0, r
    lines = [ln.split("  ;")[0] for ln in (books / "payments.bill").read_text(encoding="utf-8").splitlines()]
    assert lines == ['2026-03-02 payment initech 1000.00 EUR for INV-2026-0001 via bank-transfer ref "B-1"',
                     '2026-03-05 payment initech 150.00 EUR via bank-transfer ref "B-2"']
    assert figures(books)["INV-2026-0004"] == ("150.00", "50.00", "overdue")


def test_statement_accounts_that_are_the_companys():
    from textbill.workflow.bank.matching import account_matches

    ours = "DE89 3704 0044 0532 0130 00"
    assert account_matches(ours, "DE89370400440532013000")
    assert account_matches(ours, "DE89370400440532013000EUR")  # an MT940 :25: with the currency after it
    assert account_matches(ours, "0532013000")  # the domestic account number only
    assert not account_matches(ours, "DE02120300000000202051")
    assert not account_matches(ours, "123")


def test_a_line_written_by_hand_with_the_ref_is_not_imported_again(books, tmp_path):
    (books / "payments.bill").write_text(
        '2026-03-03 payment globex 500.00 EUR for INV-2026-0002 via bank-transfer ref "2026030300002-2"\n',
        encoding="utf-8")
    r = bank(books, tmp_path / "statement-march.camt053.xml", "--dry-run")
    assert r.code == 0, r
    assert "Vandelay" not in r.out and "1 already imported" in r.err and "0 unmatched" in r.err


def test_an_mt942_interim_report_is_all_pending(books, tmp_path):
    r = bank(books, tmp_path / "interim.mt942")
    assert r.code == 0, r
    assert "pending" in r.out and "imported 0 payments" in r.err and "1 debits or pending" in r.err
    assert not (books / "payments.bill").exists()


def test_camt_transaction_ids(tmp_path):
    from textbill.workflow.bank.camt import read_camt

    entry = ('<Ntry><Amt Ccy="EUR">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
             "<BookgDt><Dt>2026-03-02</Dt></BookgDt>{ref}<NtryDtls>{txs}</NtryDtls></Ntry>")
    tx = ('<TxDtls><Refs>{ref}<EndToEndId>{e2e}</EndToEndId></Refs><Amt Ccy="EUR">1.00</Amt>'
          "<RmtInf><Ustrd>x</Ustrd></RmtInf></TxDtls>")
    entries = [
        entry.format(amt="1.00", ref="<AcctSvcrRef>ENTRY-1</AcctSvcrRef>",
                     txs=tx.format(ref="<AcctSvcrRef>TX-1</AcctSvcrRef>", e2e="E-1")),
        entry.format(amt="2.00", ref="<AcctSvcrRef>ENTRY-2</AcctSvcrRef>",
                     txs=tx.format(ref="<AcctSvcrRef>TX-2a</AcctSvcrRef>", e2e="E-2a") + tx.format(ref="", e2e="E-2b")),
        entry.format(amt="1.00", ref="", txs=tx.format(ref="", e2e="E-3")),
    ]
    (tmp_path / "s.xml").write_text(
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.05"><BkToCstmrStmt><Stmt>'
        + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>", encoding="utf-8")
    ids = [t.id for t in read_camt(tmp_path / "s.xml", "s.xml", lambda account: None)]
    assert ids == ["ENTRY-1", "TX-2a", "ENTRY-2/E-2b", "E-3"]


@pytest.mark.parametrize("name", ["statement.mt940", "statement.ofx", "mbank.csv", "statement-march.camt053.xml"])
def test_a_damaged_statement_is_an_error_never_a_crash(name, tmp_path):
    import random

    from textbill.workflow.bank.importing import transactions
    from textbill.workflow.bank.statement import StatementError

    csv_map = {"date": "#Data operacji", "amount": "#Kwota", "payer": "#Nadawca/Odbiorca", "text": "#Tytuł"}
    data = (HERE / name).read_bytes()
    rng = random.Random(name)
    for trial in range(60):
        damaged = bytearray(data[: rng.randint(0, len(data))])
        if trial % 2 and damaged:
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        (tmp_path / name).write_bytes(bytes(damaged))
        try:
            list(transactions(tmp_path / name, name, None, csv_map, lambda account: None))
        except StatementError as exc:
            assert exc.where.file == name and exc.where.line >= 1
