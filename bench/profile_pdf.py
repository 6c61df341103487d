"""One invoice through WeasyPrint: CPU milliseconds per document, split into parsing the page, the
cascade and layout (`render`), and writing the PDF (fonts subset, streams compressed).

    python bench/profile_pdf.py                    # bench_build.py's invoice, default theme
    python bench/profile_pdf.py --theme modern --runs 30
    python bench/profile_pdf.py --profile 40       # and cProfile's 40 costliest calls (cumulative)

The stylesheets and the font configuration are made once, as a build worker makes them, so the
figures are what every document after a worker's first costs.  It then lays out the same page
with none of the theme's CSS (WeasyPrint's defaults alone): the part of the cost no theme can cut.
It asserts nothing.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--theme", default="default")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--profile", type=int, metavar="N", default=0, help="print cProfile's N costliest calls")
    args = ap.parse_args()

    import weasyprint

    from textbill.incremental.render_memo import process_memo
    from textbill.pipeline import analyze
    from textbill.render import html as render_html
    from textbill.render import pdf
    from textbill.render.themes import theme_by_name

    ledger = Path(tempfile.mkdtemp(prefix="textbill-profile-pdf-")) / "ledger"
    generate(ledger, 20)
    analysis = analyze(ledger)
    theme = theme_by_name(ledger, args.theme)
    memo = process_memo()
    page = render_html.render_invoice(analysis, list(analysis.books.invoices.values())[1], theme=theme, memo=memo)
    pdf.html_to_pdf(page, base_url=str(ledger), theme=theme, memo=memo)  # fonts and stylesheets made

    start = time.process_time()
    for _ in range(args.runs):
        pdf.html_to_pdf(page, base_url=str(ledger), theme=theme, memo=memo)
    total = (time.process_time() - start) / args.runs * 1000

    body, theme_css = pdf._split_theme_style(page)
    fetcher = pdf._fetcher([*theme.dirs, ledger])
    sheets = [pdf._stylesheet(p, fetcher, memo) for p in theme.pdf_stylesheets()]
    sheets.append(pdf._inline_stylesheet(theme_css or "", None, fetcher, memo))
    phases = [0.0, 0.0, 0.0]
    for _ in range(args.runs):
        t0 = time.process_time()
        doc = weasyprint.HTML(string=body, url_fetcher=fetcher)
        t1 = time.process_time()
        rendered = doc.render(stylesheets=sheets, font_config=pdf._fonts(memo))
        t2 = time.process_time()
        rendered.write_pdf()
        t3 = time.process_time()
        for i, d in enumerate((t1 - t0, t2 - t1, t3 - t2)):
            phases[i] += d / args.runs * 1000
    print(f"theme {args.theme}: {len(page):,} characters of HTML; CPU ms per PDF {total:.1f} "
          f"(parse {phases[0]:.1f}, cascade and layout {phases[1]:.1f}, write {phases[2]:.1f})")
    # the same page with none of the theme's CSS, WeasyPrint's user-agent stylesheet alone: what
    # laying out this content costs whatever a theme asks for (no theme can make it cheaper)
    bare = 0.0
    for _ in range(args.runs):
        doc = weasyprint.HTML(string=body, url_fetcher=fetcher)
        t1 = time.process_time()
        doc.render(font_config=pdf._fonts(memo))
        bare += (time.process_time() - t1) / args.runs * 1000
    print(f"the same page without the theme's stylesheets: cascade and layout {bare:.1f}; "
          f"30 documents/s on 2 jobs leaves {2000 / 30:.1f} ms for all three")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.runs):
            pdf.html_to_pdf(page, base_url=str(ledger), theme=theme, memo=memo)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
