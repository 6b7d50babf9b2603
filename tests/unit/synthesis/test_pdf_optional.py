"""The PDF renderer is an extra (palabre[pdf]): without it, a .pdf export is refused with a problem that
says so, and the Markdown export still works."""

import importlib.util

import pytest

from services.synthesis import api
from shared.http import Problem


def test_a_pdf_export_without_the_renderer_is_a_501_problem(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "weasyprint" else real_find_spec(name, *args))
    with pytest.raises(Problem) as refused:
        api._format("pdf")
    assert refused.value.status == 501 and "palabre[pdf]" in refused.value.detail
    assert api._format("md") == "md"


def test_a_pdf_export_with_the_renderer_is_accepted():
    assert importlib.util.find_spec("weasyprint") is not None, "the test extra installs palabre[pdf]"
    assert api._format("pdf") == "pdf"
