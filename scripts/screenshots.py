"""Screenshots of the web UI's main views, for docs/ui.md and the README.

Starts a ``plait server`` on a fresh temporary home (the same way the browser tests do, through
tests/support/browser.py) and the bundled products API, deploys the user guide's flows
(examples/getting_started.yml, and the guide's Docker flow, deployed but not run) and a
ForEach flow, runs the PROCESS one and the ForEach one, then saves 1280x800 PNGs of the views
into ``docs/screenshots/``. Debian's chromium drives the pages (scripts/ensure-chromium.sh). The
guide's flow installs polars with pip on its first run (PyPI must be reachable).

A view that does not answer 200, logs a console error or lacks the element a shot waits for is
reported and the script exits 1 after taking the other shots.

    .venv/bin/python scripts/screenshots.py [--output-dir docs/screenshots] [--only NAME...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402
from support.browser import (  # noqa: E402
    DESKTOP,
    UiServer,
    launch,
    new_context,
    settle,
    start_ui_server,
    watch,
)
from support.dummyjson import products_api  # noqa: E402

GUIDE_FLOWS = (
    REPO / "examples" / "getting_started.yml",
    REPO / "core" / "tests" / "data" / "flows" / "guide_getting_started_output.yml",
)
FOREACH_FLOW = """\
id: regions_report
namespace: dev
description: One extract and one summary per region, the regions side by side.
inputs:
  - id: owner
    type: STRING
    description: Who receives the report.
  - id: regions
    type: MULTISELECT
    description: The regions to report on.
    values: ["eu-west", "us-east", "ap-south", "sa-east"]
    defaults: ["eu-west", "us-east", "ap-south"]
  - id: day
    type: DATE
    required: false
    description: The day to report on (today when empty).
  - id: days
    type: INT
    defaults: 7
    description: How many days of orders.
  - id: notify
    type: BOOLEAN
    defaults: false
  - id: targets
    type: FILE
    required: false
    description: A CSV of targets per region.
tasks:
  - id: regions
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ inputs.regions }}"
    concurrencyLimit: 0
    tasks:
      - id: extract
        type: io.kestra.plugin.jdbc.duckdb.Query
        sql: |
          SELECT '{{ taskrun.value }}' AS region, range AS day, (range * 37) % 101 AS orders
          FROM range({{ inputs.days }})
        store: true
      - id: summary
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}: {{ inputs.days }} days extracted"
triggers:
  - id: weekday_mornings
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 7 * * 1-5"
    inputs:
      owner: ops
"""
EXPRESSION = (
    "{{ outputs.api.body | jq('.products | length') | first }} products, "
    "{{ outputs.sqlQuery.size }} brands"
)


@dataclass(frozen=True)
class Shot:
    name: str
    """The PNG's name under the output directory, without ``.png``."""
    path: str
    ready: str | None = None
    """A CSS selector that must be visible before the shot."""
    prepare: Callable[[Page], None] | None = None
    """What to do on the page before the shot (open a completion...)."""


@dataclass(frozen=True)
class Scene:
    guide_execution: dict
    foreach_execution: dict

    def task_run(self, task_id: str) -> dict:
        runs = self.guide_execution["taskRunList"]
        return next(run for run in runs if run["taskId"] == task_id)


def set_scene(server: UiServer, api_url: str) -> Scene:
    """Deploy the flows and run the two executions the shots show, after one that fails (a
    wrong API address) and one more of the ForEach, so that the executions list has a history."""
    for path in GUIDE_FLOWS:
        server.deploy(path.read_text())
    server.deploy(FOREACH_FLOW)
    server.run("dev", "getting_started", inputs={"api_url": f"{api_url}/nowhere"}, timeout=600)
    server.run("dev", "regions_report", inputs={"owner": "ops", "days": "3"})
    guide = server.run("dev", "getting_started", inputs={"api_url": api_url}, timeout=600)
    foreach = server.run("dev", "regions_report", inputs={"owner": "data-team"})
    for execution in (guide, foreach):
        if execution["state"]["current"] != "SUCCESS":
            raise SystemExit(f"{execution['flowId']} ended {execution['state']['current']}")
    return Scene(guide, foreach)


def completion_at(line: str, delete: str, tail: str = "") -> Callable[[Page], None]:
    """In the editor of examples/getting_started.yml, go to the line holding ``line`` (with the
    keyboard: the editor only draws the lines in sight), delete ``delete`` where it ends just
    before ``tail`` at the line's end, and ask for the completion there (Ctrl+Space)."""
    source = GUIDE_FLOWS[0].read_text().splitlines()
    number = next(i for i, text in enumerate(source) if line in text)

    def prepare(page: Page) -> None:
        page.locator(".cm-content").click()
        page.keyboard.press("Control+Home")
        for _ in range(number):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("End")
        for _ in tail:
            page.keyboard.press("ArrowLeft")
        for _ in delete:
            page.keyboard.press("Backspace")
        page.keyboard.press("Control+Space")
        page.locator(".cm-tooltip-autocomplete").wait_for()

    return prepare


def scroll_to(selector: str) -> Callable[[Page], None]:
    """Scroll the page so that ``selector``'s element is in the middle of the window."""

    def prepare(page: Page) -> None:
        page.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'center'})")

    return prepare


def shots(scene: Scene) -> list[Shot]:
    guide = f"/ui/executions/dev/getting_started/{scene.guide_execution['id']}"
    foreach = f"/ui/executions/dev/regions_report/{scene.foreach_execution['id']}"
    query = scene.task_run("sqlQuery")

    def outputs(**params: str) -> str:
        return f"{guide}/outputs?{urlencode({'taskrun': query['id'], **params})}"

    return [
        Shot("executions", "/ui/executions"),
        Shot("execution-gantt", guide),
        Shot("foreach-gantt", foreach),
        Shot(
            "outputs-preview",
            outputs(file=query["outputs"]["uri"]),
            ready="#file-preview table",
            prepare=scroll_to("#file-preview"),
        ),
        Shot(
            "outputs-expression",
            outputs(expression=EXPRESSION),
            ready="#expression-result",
            prepare=scroll_to("#expression-result"),
        ),
        Shot("flow-topology", "/ui/flows/dev/regions_report"),
        Shot("execute-form", "/ui/flows/dev/regions_report/execute", ready="main form"),
        Shot(
            "editor-completion",
            "/ui/flows/dev/getting_started/edit",
            ready=".cm-editor",
            prepare=completion_at("type: io.kestra.plugin.fs.http.Request", "fs.http.Request"),
        ),
        Shot(
            "editor-outputs-completion",
            "/ui/flows/dev/getting_started/edit",
            ready=".cm-editor",
            prepare=completion_at(
                "outputs.python.outputFiles", "outputFiles['products.csv']", ' }}"'
            ),
        ),
    ]


def take(browser: Browser, server: UiServer, shot: Shot, output: Path) -> str | None:
    """Save one shot; what went wrong, if anything (the PNG is saved all the same)."""
    context = new_context(browser, viewport=DESKTOP, base_url=server.url)
    page = context.new_page()
    errors = watch(page)
    try:
        response = page.goto(shot.path)
        if response is None or response.status != 200:
            return f"{shot.path} answered {response.status if response else 'nothing'}"
        if shot.ready:
            page.locator(shot.ready).first.wait_for(timeout=10_000)
        settle(page)
        if shot.prepare:
            shot.prepare(page)
        page.screenshot(path=output / f"{shot.name}.png")
        problems = errors.problems()
        return "; ".join(problems) if problems else None
    except Exception as exc:  # one broken view must not stop the other shots
        page.screenshot(path=output / f"{shot.name}.png")
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", nargs="*", help="take only these shots (names without .png)")
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    failures = []
    with (
        tempfile.TemporaryDirectory(prefix="plait-screenshots-") as folder,
        products_api().serve_products() as base_url,
        start_ui_server(Path(folder) / "home") as server,
    ):
        started = time.monotonic()
        scene = set_scene(server, f"{base_url}/products")
        print(f"flows run in {time.monotonic() - started:.1f}s")
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for shot in shots(scene):
                if args.only and shot.name not in args.only:
                    continue
                problem = take(browser, server, shot, args.output_dir)
                print(f"{shot.name}.png  {shot.path}")
                if problem:
                    print(f"  PROBLEM: {problem}")
                    failures.append(shot.name)
            browser.close()
    if failures:
        print(f"{len(failures)} shot(s) with problems: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
