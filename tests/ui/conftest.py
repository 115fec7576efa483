"""Fixtures for the web UI's browser tests: a real ``plait server`` per test module, one headless
chromium per session, and pages whose console errors and uncaught exceptions fail the test.

    def test_x(ui_server, page):
        ui_server.deploy(FLOW)
        execution = ui_server.run("ns", "flow_id")
        page.goto(f"/ui/executions/ns/flow_id/{execution['id']}")   # relative to the server

Each test module marks itself ``pytestmark = pytest.mark.browser``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from support.browser import (
    DESKTOP,
    ColorScheme,
    ErrorWatch,
    UiServer,
    launch,
    new_context,
    start_ui_server,
    watch,
)

OpenPage = Callable[..., Page]


@dataclass
class WatchedPages:
    """The pages one test opened, with what they logged, checked when the test body ends."""

    watches: list[ErrorWatch] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def add(self, context: BrowserContext, page: Page) -> None:
        errors = watch(page)
        for pattern in self.allowed:
            errors.allow(pattern)
        self.contexts.append(context)
        self.watches.append(errors)

    def allow(self, pattern: str) -> None:
        self.allowed.append(pattern)
        for errors in self.watches:
            errors.allow(pattern)

    def problems(self) -> list[str]:
        return [problem for errors in self.watches for problem in errors.problems()]


PAGES = pytest.StashKey[WatchedPages]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose pages logged console errors or threw, once its body has passed (when
    it failed already, list the errors beside its failure)."""
    try:
        result = yield
    except BaseException:
        pages = item.stash.get(PAGES, None)
        if pages and (problems := pages.problems()):
            item.add_report_section("call", "browser errors", "\n".join(problems))
        raise
    pages = item.stash.get(PAGES, None)
    if pages and (problems := pages.problems()):
        pytest.fail("the page logged errors:\n" + "\n".join(problems), pytrace=False)
    return result


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless, shared by every test of the session."""
    started = launch(playwright)
    yield started
    started.close()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """A ``plait server`` (bundled plugins, private ``PLAIT_HOME``) shared by a module's tests."""
    with start_ui_server(tmp_path_factory.mktemp("ui") / "home") as server:
        yield server


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest, browser: Browser, ui_server: UiServer
) -> Iterator[OpenPage]:
    """``open_page(viewport=NARROW, color_scheme="dark")``: a page in a fresh context (its
    own cookies), relative URLs resolving against ``ui_server``; watched like ``page``."""
    pages = request.node.stash.setdefault(PAGES, WatchedPages())

    def open_one(
        *, viewport: Mapping[str, int] = DESKTOP, color_scheme: ColorScheme = "light"
    ) -> Page:
        context = new_context(
            browser, viewport=viewport, color_scheme=color_scheme, base_url=ui_server.url
        )
        page = context.new_page()
        pages.add(context, page)
        return page

    yield open_one
    for context in pages.contexts:
        context.close()


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A 1280x800 light page on ``ui_server``: the test fails if it logs a console error
    (a failed subresource included) or throws an uncaught exception."""
    return open_page()


@pytest.fixture
def allow_console_error(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``allow_console_error(regex)``: this test's pages may log errors matching ``regex``
    (searched in "console error: TEXT (SOURCE URL) on PAGE URL" / "uncaught exception: TEXT on
    PAGE URL")."""
    return request.node.stash.setdefault(PAGES, WatchedPages()).allow
