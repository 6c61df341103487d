"""Tests in a real browser (a package, so that its conftest.py is browser.conftest)."""
