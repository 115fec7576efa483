"""The Outputs tab in a real browser: the guide's flow (its PROCESS-runner copy, against the
products stand-in) ends with a stored query result that previews as a table and downloads as
the API serves it; the Render expression box shows a value and, for a typo, the error with a
caret under it; inside a ForEach iteration an expression sees that iteration's value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from support.browser import UiServer
from support.dummyjson import products_api

pytestmark = pytest.mark.browser

GUIDE_FLOW = Path(__file__).resolve().parents[2] / "core/tests/data/flows"
GUIDE_FLOW /= "guide_getting_started_process.yml"
LOOPS = """\
id: loops
namespace: ui.outputs
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", {"k": 1}]
    tasks:
      - id: child
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}!"
"""


@dataclass(frozen=True)
class Ran:
    execution: dict[str, Any]

    @property
    def outputs_path(self) -> str:
        e = self.execution
        return f"/ui/executions/{e['namespace']}/{e['flowId']}/{e['id']}/outputs"

    def run(self, task_id: str, value: str | None = None) -> dict[str, Any]:
        return next(
            run
            for run in self.execution["taskRunList"]
            if run["taskId"] == task_id and (value is None or run["value"] == value)
        )


@pytest.fixture(scope="module")
def guide(ui_server: UiServer) -> Ran:
    """One execution of the guide's flow (its Python task installs polars: tens of seconds
    on a fresh home)."""
    flow = ui_server.deploy(GUIDE_FLOW.read_text())
    with products_api().serve_products() as base_url:
        execution = ui_server.run(
            flow["namespace"], flow["id"], inputs={"api_url": f"{base_url}/products"}, timeout=600
        )
    assert execution["state"]["current"] == "SUCCESS", execution
    return Ran(execution)


@pytest.fixture(scope="module")
def loops(ui_server: UiServer) -> Ran:
    ui_server.deploy(LOOPS)
    execution = ui_server.run("ui.outputs", "loops")
    assert execution["state"]["current"] == "SUCCESS", execution
    return Ran(execution)


def test_guide_query_result_previews_as_a_table_and_downloads(
    page: Page, ui_server: UiServer, guide: Ran
) -> None:
    query = guide.run("sqlQuery")
    uri = query["outputs"]["uri"]
    name = uri.rsplit("/", 1)[-1]
    page.goto(guide.outputs_path)
    page.locator(".outputs-tree").get_by_role("link", name="sqlQuery", exact=True).click()
    expect(page).to_have_url(re.compile(rf"taskrun={query['id']}"))
    page.get_by_role("link", name=f"Preview {name}").click()
    preview = page.locator("#file-preview")
    expect(preview.locator("thead th")).to_have_text(["#", "brand", "avg_price"])
    rows = preview.locator("tbody tr")
    expect(rows).to_have_count(query["outputs"]["size"])
    expect(page).to_have_url(re.compile(r"[?&]file=plait"))  # the preview is a deep link
    api = ui_server.client.get(
        f"/api/v1/executions/{guide.execution['id']}/file", params={"path": uri}
    )
    assert api.status_code == 200
    first = api.text.splitlines()[0]
    assert str(rows.first.locator("td").nth(1).inner_text()) in first  # first row's brand
    with page.expect_download() as started:
        preview.get_by_role("link", name="Download").click()
    download = started.value
    assert download.suggested_filename == name
    assert Path(download.path()).read_bytes() == api.content


def test_expression_box_renders_a_value_and_points_at_a_typo(page: Page, guide: Ran) -> None:
    query = guide.run("sqlQuery")
    page.goto(f"{guide.outputs_path}?taskrun={query['id']}")
    box = page.get_by_label("Render expression")
    box.fill("{{ outputs.sqlQuery.size }}")
    page.get_by_role("button", name="Render").click()
    result = page.locator("#expression-result")
    expect(result.locator(".v-number")).to_have_text(str(query["outputs"]["size"]))
    expect(page).to_have_url(re.compile(r"expression=%7B%7B"))
    box.fill("{{ outputs.sqlQuery.size | upperr }}")
    box.press("Control+Enter")  # the keyboard way to render
    alert = result.get_by_role("alert")
    expect(alert).to_contain_text("No filter named 'upperr'")
    fault = alert.locator("pre.fault").inner_text()
    line, caret = fault.splitlines()[:2]
    assert caret.strip() == "^" * len("upperr")
    assert line.index("upperr") == caret.index("^")


def test_foreach_iterations_are_grouped_and_an_expression_sees_the_iteration(
    page: Page, loops: Ran
) -> None:
    page.goto(loops.outputs_path)
    labels = page.locator(".outputs-tree .iteration-value")
    expect(labels).to_have_text(["a", "b", "k: 1"])
    iteration = page.locator(".outputs-tree details:has(> summary:has-text('#2'))")
    iteration.get_by_role("link", name="child").click()
    expect(page).to_have_url(re.compile(rf"taskrun={loops.run('child', 'b')['id']}"))
    expect(page.locator("#outputs-title")).to_contain_text("b")
    both = "{{ taskrun.value }} / {{ outputs.child[taskrun.value].value }}"
    page.get_by_label("Render expression").fill(both)
    page.get_by_role("button", name="Render").click()
    expect(page.locator("#expression-result .v-string")).to_have_text("b / b!")


SLOW = """\
id: slow
namespace: ui.outputs
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: pause
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: two
"""


def test_the_tree_of_a_running_execution_fills_in_without_a_reload(
    page: Page, ui_server: UiServer
) -> None:
    ui_server.deploy(SLOW)
    started = Ran(ui_server.run("ui.outputs", "slow", wait=False))
    page.goto(started.outputs_path)
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again
    tree = page.locator("#outputs-tree")
    expect(tree.get_by_role("status")).to_contain_text("task runs appear here as they end")
    expect(tree.get_by_role("link", name="last")).to_be_visible(timeout=30_000)
    expect(tree.get_by_role("status")).to_have_count(0)  # ended: the refreshing stops
    assert page.evaluate("window.loadedOnce") is True  # the same page, never reloaded
