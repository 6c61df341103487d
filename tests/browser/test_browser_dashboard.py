"""The dashboard of a built ledger in a real browser, from file://: filter, sort, group, follow links."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from textbill.building.run import build
from textbill.pipeline import analyze

EXAMPLE = Path(__file__).resolve().parents[2] / "example-ledger"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    ledger = folder / "ledger"
    shutil.copytree(EXAMPLE, ledger, ignore=shutil.ignore_patterns("build", ".textbill"))
    analysis = analyze(ledger)
    assert analysis.ok
    build(analysis, folder / "out", date(2026, 4, 15), formats=("html",), jobs=1)
    return folder / "out"


def rows(browser):
    from selenium.webdriver.common.by import By

    return [r for r in browser.find_elements(By.CSS_SELECTOR, "#invoice-table tbody tr:not(.group-row)")
            if r.is_displayed()]


def numbers(browser):
    return [r.get_attribute("data-number") for r in rows(browser)]


def column(browser, key):
    from selenium.webdriver.common.by import By

    th = browser.find_element(By.CSS_SELECTOR, f'#invoice-table th[data-key="{key}"]')
    index = [h.get_attribute("data-key") for h in
             browser.find_elements(By.CSS_SELECTOR, "#invoice-table thead th")].index(key)
    return th, [r.find_elements(By.TAG_NAME, "td")[index].get_attribute("data-v") for r in rows(browser)]


def test_filter_sort_group_and_follow_a_link(browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get((site / "index.html").as_uri())
    assert "Receivables" in browser.title
    assert len(rows(browser)) == 8
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] \
        if hasattr(browser, "get_log") else []
    assert not errors, errors

    # filter by client: only Globex's three invoices, and the footer sums only them
    Select(browser.find_element(By.CSS_SELECTOR, '[data-filter="client"]')).select_by_value("globex")
    assert numbers(browser) == ["FV/2026/0001", "FV/2026/0004", "FV/2026/0006"]
    foot = browser.find_elements(By.CSS_SELECTOR, "#invoice-table tfoot tr")
    assert len(foot) == 1 and foot[0].get_attribute("data-currency") == "USD"
    assert foot[0].find_element(By.CSS_SELECTOR, '[data-sum="outstanding"]').text == "6,167.00"

    # and by status
    Select(browser.find_element(By.CSS_SELECTOR, '[data-filter="status"]')).select_by_value("overdue")
    assert numbers(browser) == ["FV/2026/0004"]
    Select(browser.find_element(By.CSS_SELECTOR, '[data-filter="client"]')).select_by_value("")
    assert numbers(browser) == ["FV/2026/0003", "FV/2026/0004", "FV/2026/0007"]
    assert "3 of 8" in browser.find_element(By.CSS_SELECTOR, ".shown-count").text
    Select(browser.find_element(By.CSS_SELECTOR, '[data-filter="status"]')).select_by_value("")
    assert len(rows(browser)) == 8

    # sort by outstanding: largest first, then smallest first
    th, _ = column(browser, "outstanding")
    th.find_element(By.TAG_NAME, "button").click()
    th, values = column(browser, "outstanding")
    assert th.get_attribute("aria-sort") == "descending"
    assert [float(v) for v in values] == sorted((float(v) for v in values), reverse=True)
    assert numbers(browser)[0] == "FV/2026/0008"
    th.find_element(By.TAG_NAME, "button").click()
    th, values = column(browser, "outstanding")
    assert th.get_attribute("aria-sort") == "ascending"
    assert [float(v) for v in values] == sorted(float(v) for v in values)

    # sort by due date, then by client name
    th, _ = column(browser, "due")
    th.find_element(By.TAG_NAME, "button").click()
    _, values = column(browser, "due")
    assert values == sorted(values)
    th, _ = column(browser, "client")
    th.find_element(By.TAG_NAME, "button").click()
    _, values = column(browser, "client")
    assert values == sorted(values)

    # group by client: a heading row per client, each followed by its invoices
    browser.find_element(By.CSS_SELECTOR, '[data-group="client"]').click()
    groups = browser.find_elements(By.CSS_SELECTOR, "#invoice-table tbody tr.group-row")
    assert [g.text.split("\n")[0][:5] for g in groups] == ["Bauer", "Globe", "Kowal"]
    assert "outstanding EUR 14,082.50" in groups[0].text
    # the view is in the address, so it can be bookmarked
    assert "group=1" in browser.current_url and "sort=client" in browser.current_url

    # search
    search = browser.find_element(By.CSS_SELECTOR, '[data-filter="text"]')
    search.send_keys("0005")
    assert numbers(browser) == ["FV/2026/0005"]

    # follow the link to the invoice
    link = browser.find_element(By.CSS_SELECTOR, '#invoice-table tr[data-number="FV/2026/0005"] td.number a')
    link.click()
    assert browser.current_url.endswith("/invoices/FV-2026-0005.html")
    assert "FV/2026/0005" in browser.find_element(By.TAG_NAME, "body").text


def test_state_in_the_address_is_restored(browser, site):
    browser.get((site / "index.html").as_uri() + "#invoices?status=open&sort=-total")
    assert numbers(browser) == ["FV/2026/0008", "FV/2026/0005", "FV/2026/0006"]


def test_client_page_and_currency_tabs(browser, site):
    from selenium.webdriver.common.by import By

    browser.get((site / "index.html").as_uri())
    panels = browser.find_elements(By.CSS_SELECTOR, "#monthly .tab-panel")
    assert [p.is_displayed() for p in panels] == [True, False, False]
    browser.find_element(By.CSS_SELECTOR, '#monthly .tab[data-tab="monthly-USD"]').click()
    assert [p.is_displayed() for p in panels] == [False, False, True]
    browser.find_element(By.CSS_SELECTOR, '#by-client a[href="clients/globex.html"]').click()
    assert browser.current_url.endswith("/clients/globex.html")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Globex Corporation"
    assert numbers(browser) == ["FV/2026/0001", "FV/2026/0004", "FV/2026/0006"]
    # back to the dashboard through the breadcrumb; the statement link resolves
    href = browser.find_element(By.CSS_SELECTOR, ".head-actions a").get_attribute("href")
    assert href.endswith("/statements/globex.html") and Path(href.removeprefix("file://")).is_file()
    browser.find_element(By.CSS_SELECTOR, ".crumbs a").click()
    assert browser.current_url.endswith("/index.html")
