"""The watch that fails a browser test on a page's errors sees each kind of error a broken page
shows, and lets through exactly the ones a test allows: without it the "no console errors"
checks of every UI test would pass vacuously."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from support.browser import new_context, watch

pytestmark = pytest.mark.browser

BROKEN = """<!doctype html><title>broken</title>
<script>console.error("a console error"); console.warn("only a warning");</script>
<script>setTimeout(() => { throw new Error("thrown later"); });</script>
<script src="/missing.js"></script>
"""


def test_console_errors_exceptions_and_failed_loads_are_caught(browser: Browser) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        page.route("**/missing.js", lambda route: route.fulfill(status=404, body="nope"))
        page.route(
            "http://plait.test/", lambda route: route.fulfill(body=BROKEN, content_type="text/html")
        )
        errors = watch(page)
        page.goto("http://plait.test/")
        page.wait_for_timeout(100)
        problems = errors.problems()
        assert any("a console error" in p for p in problems), problems
        assert any(p.startswith("uncaught exception: ") and "thrown later" in p for p in problems)
        assert any("404" in p and "missing.js" in p for p in problems), problems
        assert not any("only a warning" in p for p in problems)
        with pytest.raises(AssertionError, match="a console error"):
            errors.assert_clean()
        errors.allow("a console error|thrown later|missing\\.js")
        assert errors.problems() == []
        errors.assert_clean()
    finally:
        context.close()
