"""PDF rendering: the right figures in the text, reproducible bytes, a sandbox for resources.

PDFs take a quarter of a second each, so these tests render only a handful.
"""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from textbill.render.html import render_invoice
from textbill.render.pdf import html_to_pdf
from textbill.render.themes import load_theme

sys.path.insert(0, str(Path(__file__).parent))
from test_render_html import LEDGER, PNG, clean, make_ledger


def pdf_text(data: bytes) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - poppler instead
        out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
        return " ".join(out.stdout.decode("utf-8").split())
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def embedded_files(data: bytes) -> list:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return list(reader.attachments)


@pytest.fixture(scope="module")
def invoice_pdf(tmp_path_factory):
    folder = make_ledger(tmp_path_factory.mktemp("pdf") / "ledger")
    a = clean(folder)
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    return a, html, html_to_pdf(html, base_url=str(a.root), theme=load_theme(a.ledger))


def test_pdf_text_has_the_totals(invoice_pdf):
    _, _, data = invoice_pdf
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in ["INVOICE", "FV/2026/0001", "Globex & Sons <GmbH>", "Design", "250.00", "Net total",
                     "397.50", "80.67", "3.74", "Total due", "EUR 481.91", "Four hundred and eighty-one euro",
                     "PL61 1090 1014 0000 0712 1981 2874"]:
        assert expected in text, expected


def test_pdf_is_byte_reproducible_and_dated_by_the_document(invoice_pdf):
    a, html, data = invoice_pdf
    again = html_to_pdf(html, base_url=str(a.root), theme=load_theme(a.ledger))
    assert again == data
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.creation_date.date().isoformat() == "2026-01-31"
    assert reader.metadata.modification_date.date().isoformat() == "2026-01-31"
    from textbill.render.pdf import pdf_identifier

    expected = pdf_identifier(html, load_theme(a.ledger).pdf_stylesheets())
    assert bytes(reader.trailer["/ID"][0].original_bytes) == expected


def test_pdf_embeds_the_bundled_fonts(invoice_pdf):
    _, _, data = invoice_pdf
    from pypdf import PdfReader

    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts and all("textbill" in f.replace(" ", "") or "NotoSans" in f for f in fonts), fonts


def test_html_to_pdf_without_a_theme_finds_it_from_the_document(invoice_pdf):
    a, html, data = invoice_pdf
    assert html_to_pdf(html, base_url=str(a.root)) == data


def test_sandbox_refuses_files_outside_the_ledger_and_the_network(tmp_path):
    root = tmp_path / "ledger"
    root.mkdir()
    (root / "ok.png").write_bytes(PNG)
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    html = f"""<!doctype html><html><head><meta charset="utf-8">
<link rel="attachment" href="file:///etc/passwd" title="passwd">
<link rel="attachment" href="{secret.as_uri()}">
<link rel="stylesheet" href="http://127.0.0.1:9/x.css">
</head><body><p>hello</p>
<img src="ok.png"><img src="../secret.txt"><img src="https://example.invalid/logo.png">
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAIAAAUAAWJVMogAAAAASUVORK5CYII=">
</body></html>"""
    refused: list[str] = []
    data = html_to_pdf(html, base_url=str(root), refused=refused)
    assert "hello" in pdf_text(data)
    assert embedded_files(data) == []
    assert b"top secret" not in data and b"root:" not in data
    joined = " ".join(refused)
    for url in ("file:///etc/passwd", secret.as_uri(), "http://127.0.0.1:9/x.css", "https://example.invalid/logo.png"):
        assert url in joined, url
    assert not any(u.endswith("ok.png") or u.startswith("data:") for u in refused)


def test_a_hostile_client_name_embeds_nothing(tmp_path):
    evil = '<link rel="attachment" href="file:///etc/passwd">'
    ledger = LEDGER.replace('"Globex & Sons <GmbH>"', '"' + evil.replace('"', '\\"') + '"')
    a = clean(make_ledger(tmp_path / "l", ledger))
    data = html_to_pdf(render_invoice(a, a.books.invoices["FV/2026/0001"]), base_url=str(a.root))
    assert embedded_files(data) == []
    assert 'rel="attachment"' in pdf_text(data)  # shown as text


def test_a_symlink_out_of_the_ledger_is_refused(tmp_path):
    root = tmp_path / "ledger"
    root.mkdir()
    outside = tmp_path / "outside.png"
    outside.write_bytes(PNG)
    (root / "logo.png").symlink_to(outside)
    refused: list[str] = []
    html_to_pdf('<html><body><img src="logo.png">x</body></html>', base_url=str(root), refused=refused)
    assert any(u.endswith("logo.png") for u in refused)
