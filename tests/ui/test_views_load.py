"""Every view of the UI's URL scheme loads in a real browser without console errors or uncaught
exceptions, at 1280x800 and on a phone-sized window, in the light and the dark scheme, without
the page scrolling sideways on the narrow window, and is keyboard navigable: the first Tab
reaches the skip link, which moves focus to the content, and Tab reaches the main navigation.

The scene is one flow with two revisions, inputs, a trigger, a ForEach, a log line and a stored
query result, one ended execution of it, and an execution still running (its pages refresh
themselves): enough for each view to have something to show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page
from support.browser import DESKTOP, NARROW, ColorScheme, UiServer, settle

pytestmark = pytest.mark.browser

NAMESPACE, FLOW_ID = "ui.views", "tour"
FLOW = """\
id: tour
namespace: ui.views
description: {description}
labels:
  team: ui
inputs:
  - id: who
    type: STRING
    defaults: world
  - id: rows
    type: INT
    defaults: 3
  - id: when
    type: DATETIME
    required: false
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "hello {{{{ inputs.who }}}}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: child
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ taskrun.value }}}}!"
  - id: query
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: SELECT range AS n, 'row ' || range AS label FROM range({{{{ inputs.rows }}}})
    store: true
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
    disabled: true
"""
SLEEPY = """\
id: sleepy
namespace: ui.views
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: going to sleep
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT10M
"""
PLUGIN_TYPE = "plait.core.Return"
LOOKS: list[tuple[str, dict[str, int], ColorScheme]] = [
    ("desktop-light", DESKTOP, "light"),
    ("desktop-dark", DESKTOP, "dark"),
    ("narrow-light", NARROW, "light"),
    ("narrow-dark", NARROW, "dark"),
]


@dataclass(frozen=True)
class Scene:
    execution_id: str
    query_run_id: str
    query_uri: str
    running_id: str
    """An execution of ``sleepy``, running while the module's tests do."""

    @property
    def execution(self) -> str:
        return f"/ui/executions/{NAMESPACE}/{FLOW_ID}/{self.execution_id}"

    def outputs(self, **params: str) -> str:
        return f"{self.execution}/outputs" + (f"?{urlencode(params)}" if params else "")


@pytest.fixture(scope="module")
def scene(ui_server: UiServer) -> Iterator[Scene]:
    ui_server.deploy(FLOW.format(description="A flow touching every view."))
    ui_server.deploy(FLOW.format(description="A flow touching every view of the UI."))
    ui_server.deploy(SLEEPY)
    execution = ui_server.run(NAMESPACE, FLOW_ID, inputs={"who": "browser"})
    assert execution["state"]["current"] == "SUCCESS", execution
    query = next(run for run in execution["taskRunList"] if run["taskId"] == "query")
    running = ui_server.run(NAMESPACE, "sleepy", wait=False)
    yield Scene(execution["id"], query["id"], query["outputs"]["uri"], running["id"])
    ui_server.kill(running["id"])


flow = f"/ui/flows/{NAMESPACE}/{FLOW_ID}"
VIEWS = {
    "flows": lambda s: "/ui/flows",
    "flows-search": lambda s: "/ui/flows?q=tour",
    "flow": lambda s: flow,
    "flow-revisions": lambda s: f"{flow}/revisions?left=1&right=2",
    "flow-execute": lambda s: f"{flow}/execute",
    "flow-edit": lambda s: f"{flow}/edit",
    "flow-new": lambda s: "/ui/flows/new",
    "plugins": lambda s: "/ui/plugins",
    "plugin": lambda s: f"/ui/plugins/{PLUGIN_TYPE}",
    "plugin-expressions": lambda s: "/ui/plugins/expressions",
    "executions": lambda s: "/ui/executions",
    "executions-filtered": lambda s: f"/ui/executions?namespace={NAMESPACE}&state=SUCCESS",
    "execution-gantt": lambda s: s.execution,
    "execution-logs": lambda s: f"{s.execution}/logs?level=INFO",
    "running-gantt": lambda s: f"/ui/executions/{NAMESPACE}/sleepy/{s.running_id}",
    "running-logs": lambda s: f"/ui/executions/{NAMESPACE}/sleepy/{s.running_id}/logs?q=sleep",
    "execution-outputs": lambda s: s.outputs(),
    "outputs-file-preview": lambda s: s.outputs(taskrun=s.query_run_id, file=s.query_uri),
    "outputs-expression": lambda s: s.outputs(
        taskrun=s.query_run_id, expression="{{ outputs.query.size }}"
    ),
}


def load(page: Page, path: str) -> None:
    """Open ``path``; it must answer 200 with an HTML page; let it settle."""
    response = page.goto(path)
    assert response is not None, path
    assert response.status == 200, f"{path} answered {response.status}"
    assert "text/html" in response.headers.get("content-type", ""), path
    settle(page)


def check_look(page: Page, look: str, scheme: ColorScheme, width: int) -> None:
    """The scheme asked for is the one shown; nothing makes the page scroll sideways."""
    background = page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    luminance = sum(background) / (3 * 255)
    assert (luminance < 0.5) == (scheme == "dark"), f"{look}: body background {background}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{look}: the page scrolls sideways by {overflow}px at {width}px"


def focused(page: Page) -> dict[str, str | bool]:
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            return {id: e.id, skip: (e.textContent || '').trim() === 'Skip to content',
                    nav: !!e.closest('nav[aria-label="Main"]'), main: !!e.closest('main')};
        }"""
    )


def press_until(page: Page, key: str, wanted: str, presses: int = 4) -> bool:
    """Press ``key`` up to ``presses`` times until the focused element is ``wanted``."""
    for _ in range(presses):
        page.keyboard.press(key)
        if focused(page)[wanted]:
            return True
    return False


def check_keyboard(page: Page) -> None:
    """The first Tab reaches the skip link and the next ones the main navigation; the skip link
    moves focus to the content, where the next Tab stays."""
    assert press_until(page, "Tab", "skip", 1), "the first Tab misses the skip link"
    assert press_until(page, "Tab", "nav"), "Tab from the skip link never reaches the main nav"
    assert press_until(page, "Shift+Tab", "skip"), "Shift+Tab does not go back to the skip link"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main", "the skip link does not move focus to the content"
    if page.locator("main a[href], main button, main input, main select, main textarea").count():
        assert press_until(page, "Tab", "main", 1), "Tab after the skip link leaves the content"


@pytest.mark.parametrize("view", VIEWS)
def test_view_loads_and_is_keyboard_navigable(page: Page, scene: Scene, view: str) -> None:
    path = VIEWS[view](scene)
    for look, viewport, scheme in LOOKS:
        page.set_viewport_size(dict(viewport))
        page.emulate_media(color_scheme=scheme)
        load(page, path)
        check_look(page, look, scheme, viewport["width"])
    page.set_viewport_size(dict(DESKTOP))
    page.emulate_media(color_scheme="light")
    load(page, path)
    check_keyboard(page)


@pytest.mark.parametrize(
    "path",
    [
        f"/ui/flows/{NAMESPACE}/missing",
        f"/ui/executions/{NAMESPACE}/{FLOW_ID}/0000000000000000missing",
        "/ui/plugins/no.such.Type",
    ],
)
def test_missing_things_are_html_404_pages(page: Page, allow_console_error, path: str) -> None:
    allow_console_error(r"status of 404")  # chromium logs the document's own 404
    response = page.goto(path)
    assert response is not None and response.status == 404
    assert "text/html" in response.headers.get("content-type", "")
    assert page.locator('nav[aria-label="Main"]').is_visible()
    assert "Traceback" not in page.content()
