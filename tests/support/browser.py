"""A real headless browser on the web UI: Debian's ``chromium`` driven through Playwright's Python
API (``executable_path``; Playwright's own browser download is never used), a ``plait server``
with the bundled plugins to point it at, and a watch on every page that turns a console error or
an uncaught exception into a test failure (a page that "works" while logging errors is broken).

Used by ``tests/ui`` (fixtures in tests/ui/conftest.py), ``scripts/screenshots.py`` and
``benchmarks/ui_render.py``."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright
from playwright.sync_api import Error as PlaywrightError

from support.server import TERMINAL_STATES, Server, running_server

REPO = Path(__file__).resolve().parents[2]
PLUGINS_ENV = {"PLAIT_LOAD_PLUGINS": "plait-http,plait-python,plait-duckdb"}
"""The server loads the three bundled plugins, whatever else is installed beside them."""
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
"""A phone-sized window: the UI must stay readable on it."""
ColorScheme = Literal["light", "dark"]
YAML = {"Content-Type": "application/x-yaml"}


@functools.cache
def chromium_path() -> str:
    """Debian's chromium, installed by scripts/ensure-chromium.sh if missing (idempotent, quick
    when present), so a plain ``pytest tests/ui`` works on a fresh machine."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "ensure-chromium.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/ensure-chromium.sh failed:\n{done.stderr}")
    return done.stdout.strip()


def launch(playwright: Playwright) -> Browser:
    """Headless chromium. As root its sandbox cannot start, hence ``--no-sandbox``; /dev/shm is
    small in containers, hence ``--disable-dev-shm-usage``."""
    args = ["--disable-dev-shm-usage"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)


@dataclass
class ErrorWatch:
    """Console errors and uncaught exceptions of one page, as they come. Chromium reports a
    failed subresource (a 404 script or stylesheet) as a console error too."""

    page: Page
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Tolerate errors whose text matches the regular expression ``pattern`` (searched):
        for a test that provokes an error on purpose."""
        self.allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        """The errors seen so far that no ``allow`` pattern matches. A round trip to the page
        first, so that events it sent before are delivered."""
        if not self.page.is_closed():
            with contextlib.suppress(PlaywrightError):  # navigating or crashed: nothing to flush
                self.page.evaluate("0")
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "the page logged errors:\n" + "\n".join(problems)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            source = f" ({where})" if where else ""
            self.errors.append(f"console error: {message.text}{source} on {self.page.url}")

    def _page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught exception: {error} on {self.page.url}")


def watch(page: Page) -> ErrorWatch:
    """Start recording ``page``'s console errors and uncaught exceptions."""
    errors = ErrorWatch(page)
    page.on("console", errors._console)
    page.on("pageerror", errors._page_error)
    return errors


def settle(page: Page, timeout_ms: float = 5000) -> None:
    """Wait up to ``timeout_ms`` for the htmx requests a page makes as it starts (``hx-trigger=
    "load"``...) to end, then for the next frame, so that what they swap in and the errors they
    log are there. Event streams are not waited for: a page following one never idles."""
    with contextlib.suppress(PlaywrightError):
        page.wait_for_function(
            "!document.querySelector('.htmx-request')", timeout=timeout_ms, polling="raf"
        )


def new_context(
    browser: Browser,
    *,
    viewport: Mapping[str, int] = DESKTOP,
    color_scheme: ColorScheme = "light",
    base_url: str | None = None,
) -> BrowserContext:
    """A fresh context (cookies, storage) with the window size and the emulated
    ``prefers-color-scheme``; relative ``page.goto`` paths resolve against ``base_url``."""
    return browser.new_context(
        viewport={"width": viewport["width"], "height": viewport["height"]},
        color_scheme=color_scheme,
        base_url=base_url,
        accept_downloads=True,
    )


@dataclass
class UiServer:
    """A running ``plait server`` and the REST calls UI tests set their scene with."""

    server: Server

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        return self.server.url

    @property
    def client(self) -> httpx.Client:
        return self.server.client

    def deploy(self, source: str) -> dict[str, Any]:
        """Store a flow (or a new revision of it) through ``POST /api/v1/flows``; its
        document."""
        response = self.client.post("/api/v1/flows", content=source, headers=YAML)
        if response.status_code != 200:
            raise AssertionError(f"deploying failed ({response.status_code}):\n{response.text}")
        return response.json()

    def run(
        self,
        namespace: str,
        flow_id: str,
        *,
        inputs: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        wait: bool = True,
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        """Start an execution through ``POST /api/v1/executions/{namespace}/{flow_id}`` (inputs
        and FILE inputs as the form Kestra's API takes). With ``wait``, the execution's document
        once it has ended, whatever its final state (check it); without, as just created."""
        response = self.client.post(
            f"/api/v1/executions/{namespace}/{flow_id}",
            params={"wait": "true"} if wait else {},
            data=dict(inputs or {}),
            files=dict(files or {}),
            timeout=timeout,
        )
        if response.status_code != 200:
            raise AssertionError(f"running {namespace}.{flow_id} failed:\n{response.text}")
        execution = response.json()
        if wait and execution["state"]["current"] not in TERMINAL_STATES:
            raise AssertionError(f"{namespace}.{flow_id} still {execution['state']['current']}")
        return execution

    def kill(self, execution_id: str) -> None:
        """Kill an execution (``DELETE /api/v1/executions/{id}/kill``) if it still runs."""
        self.client.delete(f"/api/v1/executions/{execution_id}/kill")


@contextlib.contextmanager
def start_ui_server(home: Path) -> Iterator[UiServer]:
    """``plait server`` on a free port with its own ``PLAIT_HOME`` and the bundled plugins."""
    with running_server(home, env=PLUGINS_ENV, timeout=60) as server:
        yield UiServer(server)
