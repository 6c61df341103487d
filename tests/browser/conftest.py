"""Real headless Chromium (Debian's chromium + chromium-driver) driven by Selenium.

The `browser` fixture of the browser tests.  tests/browser is a package (its __init__.py), so
pytest imports this file as browser.conftest and it does not shadow tests/conftest.py for
`from conftest import ...`.  Every test using the fixture is skipped, with the reason, when
Chromium or its driver is not installed.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()),
                shutil.which("chromium"))
CHROMEDRIVER = next((p for p in ("/usr/bin/chromedriver",) if Path(p).exists()), shutil.which("chromedriver"))


def _skip_reason() -> str | None:
    if not CHROMIUM:
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if not CHROMEDRIVER:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="textbill-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
