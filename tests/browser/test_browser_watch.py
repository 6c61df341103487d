"""`textbill watch` in a real browser: an open page follows edits, shows errors, and recovers."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example-ledger"


@pytest.fixture
def watching(tmp_path):
    ledger = tmp_path / "ledger"
    shutil.copytree(EXAMPLE, ledger, ignore=shutil.ignore_patterns("build", ".textbill"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "textbill", "watch", str(ledger), "--port", "0", "--no-open", "--as-of", "2026-04-15"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        first = proc.stderr.readline()
        match = re.search(r"http://(?:localhost|127\.0\.0\.1):\d+/", first)
        assert match, first
        url = match.group(0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url + "__textbill/status", timeout=5) as resp:
                if json.load(resp)["build"] >= 1:
                    break
            time.sleep(0.1)
        yield ledger, url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err


def body_text(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "body").text


def wait_text(browser, text: str, timeout: float) -> None:
    """Until the page shows text; a page being reloaded meanwhile is no failure (Chrome may
    also answer a read during the navigation with "unhandled inspector error": asked again)."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(b) -> bool:
        try:
            return text in body_text(b)
        except WebDriverException as exc:
            if "inspector" not in str(exc):
                raise
            return False

    WebDriverWait(browser, timeout, poll_frequency=0.05,
                  ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(shown)


def test_edit_break_fix(browser, watching):
    from selenium.webdriver.common.by import By

    ledger, url = watching
    browser.get(url + "clients/globex.html")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Globex Corporation"
    # the page is connected to the event stream before we save
    time.sleep(0.3)

    bill = ledger / "clients" / "globex.bill"
    good = bill.read_text()
    assert "78.0 h" in body_text(browser)  # hours used of the SOW's cap
    # new work (issued invoices are locked, so the edit is an entry not invoiced yet)
    edited = good + '\n2026-04-07 time globex/web-2026 2h "Browser test"\n'
    bill.write_text(edited)
    wait_text(browser, "80.0 h", timeout=2)  # saved -> refreshed in under two seconds
    assert "not yet invoiced" in body_text(browser)

    # break it: the page shows the error where it happened, with the source line
    bill.write_text(edited.replace("hourly 150.00 USD", "hourly 150.00 USD\n  hourly 160.00 USD"))
    wait_text(browser, "error[", timeout=10)
    errors = browser.find_element(By.ID, "textbill-errors").text
    assert re.search(r"globex\.bill:\d+:\d+", errors), errors
    assert "hourly 160.00 USD" in errors

    # fix it: the page comes back
    bill.write_text(good)
    wait_text(browser, "78.0 h", timeout=10)
    assert browser.find_elements(By.ID, "textbill-errors") == []
    assert browser.find_element(By.TAG_NAME, "h1").text == "Globex Corporation"
