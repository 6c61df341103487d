"""The dashboard site (render/dashboard.py): figures, links, escaping, charts, themes."""
from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import cli, write_ledger

from textbill.core.paths import slug
from textbill.pipeline import analyze
from textbill.render.dashboard import DocRef, nice_step, render_site
from textbill.render.templating import href

EXAMPLE = Path(__file__).resolve().parent.parent / "example-ledger"
AS_OF = date(2026, 4, 15)


def doc_refs(analysis, rec) -> list[DocRef]:
    """What `build` would hand over: every invoice, credit note, statement and the report."""
    docs = [DocRef("invoice", n, s.client, f"invoices/{slug(n)}.html", f"invoices/{slug(n)}.pdf")
            for n, s in rec.invoices.items()]
    docs += [DocRef("credit-note", n, c.invoice.invoice.client, f"credit-notes/{slug(n)}.html",
                    f"credit-notes/{slug(n)}.pdf") for n, c in analysis.books.credits.items()]
    docs += [DocRef("statement", cid, cid, f"statements/{cid}.html", f"statements/{cid}.pdf")
             for cid in analysis.ledger.clients]
    docs.append(DocRef("report", "overdue", None, "reports/overdue.html", "reports/overdue.pdf"))
    return docs


@pytest.fixture(scope="module")
def example():
    analysis = analyze(EXAMPLE)
    rec = analysis.receivables(AS_OF)
    docs = doc_refs(analysis, rec)
    files = render_site(analysis, rec, docs)
    return analysis, rec, docs, files


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.srcs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("href") is not None:
            self.hrefs.append(a["href"])
        if a.get("src") is not None:
            self.srcs.append(a["src"])


def links_of(page: bytes) -> Links:
    p = Links()
    p.feed(page.decode("utf-8"))
    return p


def test_site_files(example):
    analysis, _, _, files = example
    assert set(files) == {"index.html", "site.css", "site.js",
                          *(f"clients/{cid}.html" for cid in analysis.ledger.clients)}
    assert all(isinstance(v, bytes) for v in files.values())


def test_output_is_deterministic(example):
    analysis, rec, docs, files = example
    assert render_site(analysis, rec, docs) == files


def test_every_document_is_linked(example):
    _, _, docs, files = example
    index = links_of(files["index.html"]).hrefs
    everywhere = set(index)
    for name, page in files.items():
        if name.startswith("clients/"):
            everywhere |= {h.removeprefix("../") for h in links_of(page).hrefs}
    for d in docs:
        assert d.html in everywhere, d
        assert d.pdf in everywhere or d.kind == "report", d
    # and every client page is reachable from the dashboard
    for name in files:
        if name.startswith("clients/"):
            assert name in index


def test_links_resolve_inside_the_site(example):
    """Relative links only; from a client page they climb one folder."""
    _, _, _, files = example
    for name, page in files.items():
        if not name.endswith(".html"):
            continue
        links = links_of(page)
        for target in links.hrefs + links.srcs:
            if target.startswith(("#", "mailto:")):
                continue
            assert not re.match(r"^[a-z]+:", target), (name, target)
            if name.startswith("clients/"):
                assert target.startswith("../"), (name, target)


def test_no_network(example):
    """Offline from file://: no CDN, no remote script, font or stylesheet."""
    _, _, _, files = example
    for name, data in files.items():
        text = data.decode("utf-8")
        assert "http://" not in text and "https://" not in text.replace("https://www.w3.org", ""), name
        assert "//cdn" not in text


def test_figures_come_from_the_engine(example):
    """The table's sort values are the engine's amounts (as `textbill invoices --format json`)."""
    _, _, _, files = example
    r = cli("invoices", "-f", EXAMPLE, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert r.code == 0, r
    index = files["index.html"].decode("utf-8")
    for row in r.json():
        tr = re.search(r'<tr data-client="[^"]*" data-client-name="[^"]*" data-status="([^"]*)" '
                       r'data-currency="([^"]*)" data-number="' + re.escape(row["number"]) + r'">(.*?)</tr>',
                       index, re.DOTALL)
        assert tr, row["number"]
        assert tr.group(1) == row["status"] and tr.group(2) == row["currency"]
        values = re.findall(r'class="num[^"]*" data-v="([^"]*)"', tr.group(3))
        assert values == [row[k] for k in ("net", "tax", "total", "paid", "credited", "outstanding")]  # issue 13: + credited


def test_key_figures_of_the_example(example):
    _, _, _, files = example
    index = files["index.html"].decode("utf-8")
    # outstanding per currency (as of 2026-04-15: see `textbill invoices`)
    for shown in ("$6,167.00", "PLN8,537.85", "€14,082.50"):
        assert shown in index
    # the overdue KPI, the aging chart and the monthly chart
    assert "$3,842.00" in index and "PLN4,920.00" in index
    assert index.count('<svg class="stack"') == 3
    assert index.count('<svg class="chart"') == 3
    # the Globex cap: 200h, 78h used (all of it invoiced)
    assert "78.0 h" in index and "200.0 h" in index
    # fixed fee by milestones invoiced, retainer by months invoiced
    assert "2 of 3 milestones invoiced" in index and "€16,800.00" in index
    assert "3 months</strong> of 12" in index
    globex = files["clients/globex.html"].decode("utf-8")
    assert "Globex Corporation" in globex and "$6,167.00" in globex
    assert "FV/2026/0004" in globex and "FV/2026/0002" not in globex


def test_chart_geometry_is_sane(example):
    _, _, _, files = example
    index = files["index.html"].decode("utf-8")
    for m in re.finditer(r'<rect class="bar [a-z]+" x="([-\d.]+)" y="([-\d.]+)" width="([-\d.]+)" height="([-\d.]+)"',
                         index):
        _, y, w, h = map(float, m.groups())
        assert w > 0 and h >= 0 and y >= 0 and y + h <= 300.01


def test_nice_steps():
    from decimal import Decimal as D

    assert nice_step(D(4707)) == D(1000)
    assert nice_step(D(13968)) == D(5000)
    assert nice_step(D("0.5")) == D("0.1")
    assert nice_step(D(0)) == D(1)


def test_href_encodes_schemes_and_spaces():
    assert href("invoices/FV-2026-0001.html") == "invoices/FV-2026-0001.html"
    assert href("javascript:alert(1)") == "javascript%3Aalert%281%29"
    assert href("a b/\"x\".html") == "a%20b/%22x%22.html"
    assert href(None) == ""


HOSTILE = '''
client evil "<script>alert('x')</script> & \\"Co\\""
  currency USD
  contact "</textarea><img src=x onerror=alert(1)>" a@b.example

sow evil/s1 "Work </script><script>alert(2)</script>"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00
  cap 10h

2026-01-05 time evil/s1 2h "x"
2026-01-31 invoice INV-2026-0001 evil
2026-02-01 payment evil 50.00 ref "<b>ref</b>"
'''


def test_ledger_text_is_escaped(tmp_path):
    folder = write_ledger(tmp_path / "l", HOSTILE)
    analysis = analyze(folder)
    rec = analysis.receivables(date(2026, 3, 1))
    docs = [DocRef("invoice", "INV-2026-0001", "evil", 'invoices/"onmouseover=alert(1).html', None)]
    files = render_site(analysis, rec, docs)
    for name, data in files.items():
        if not name.endswith(".html"):
            continue
        text = data.decode("utf-8")
        assert "<script>alert" not in text, name
        assert "<img src=x" not in text, name
        assert "<b>ref</b>" not in text, name
        assert '"onmouseover' not in text, name
        # scripts: only our own file, and JSON data that cannot close its element
        for body in re.findall(r"<script[^>]*>(.*?)</script>", text, re.DOTALL):
            assert "<" not in body, (name, body)
    index = files["index.html"].decode("utf-8")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;Co&#34;" in index
    assert 'href="invoices/%22onmouseover%3Dalert%281%29.html"' in index
    assert "&lt;b&gt;ref&lt;/b&gt;" in files["clients/evil.html"].decode("utf-8")


def test_empty_ledger_renders(tmp_path):
    folder = write_ledger(tmp_path / "l", "")
    analysis = analyze(folder)
    files = render_site(analysis, analysis.receivables(date(2026, 1, 1)), [])
    index = files["index.html"].decode("utf-8")
    assert "Nothing is outstanding." in index and "No invoices or payments yet." in index


def test_a_user_theme_overrides_one_template(tmp_path):
    folder = write_ledger(tmp_path / "l", 'client c "C"\n')
    (folder / "textbill.yaml").write_text("theme: mytheme\n")
    (folder / "mytheme").mkdir()
    (folder / "mytheme" / "site.css").write_text("body { color: rebeccapurple }\n")
    analysis = analyze(folder)
    files = render_site(analysis, analysis.receivables(date(2026, 1, 1)), [])
    assert files["site.css"] == b"body { color: rebeccapurple }\n"
    assert b"site.js" in files["index.html"] and b"(function" in files["site.js"]


def test_a_broken_user_template_names_itself(tmp_path):
    from textbill.render.themes import ThemeError

    folder = write_ledger(tmp_path / "l", 'client c "C"\n')
    (folder / "textbill.yaml").write_text("theme: mytheme\n")
    (folder / "mytheme").mkdir()
    (folder / "mytheme" / "client.html").write_text("{% if %}\n")
    analysis = analyze(folder)
    with pytest.raises(ThemeError, match="client.html"):
        render_site(analysis, analysis.receivables(date(2026, 1, 1)), [])
