"""HTML documents from Jinja2 themes.  (Stub: replaced by the rendering work.)"""
from __future__ import annotations


def render_invoice(analysis, doc, state=None, draft: bool = False) -> str:
    raise NotImplementedError


def render_credit_note(analysis, credit) -> str:
    raise NotImplementedError


def render_statement(analysis, st) -> str:
    raise NotImplementedError


def render_overdue_report(analysis, rec, items) -> str:
    raise NotImplementedError
