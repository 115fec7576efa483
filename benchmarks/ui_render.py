"""The web UI in a real browser: time to first render of an execution page with 1,000 task runs
and of an Outputs tab previewing 5,000 rows, measured in the page itself.

Against a real ``plait server`` (fresh temporary ``PLAIT_HOME``, the bundled plugins; started as
the browser tests start it, tests/support/browser.py) and Debian's chromium, headless, 1280x800:

- Gantt: a ForEach over 1,000 values, one ``Return`` child each (1,000 child task runs plus the
  ForEach's own), opened at ``/ui/executions/{ns}/{flow}/{id}``; rendered = every task run's
  row (its link to the run's outputs, ``section.gantt a[href*="taskrun="]``) is in the document;
- preview: a DuckDB query storing 5,000 rows (4 columns) as the task's result file, opened in
  the Outputs tab with that file's preview and ``rows=5000`` (the most the UI shows, the API's
  ``maxRows`` bound); rendered = every row of the preview table is in the document.

Each page is opened ``--repeat`` times, each time in a fresh browser context (empty cache). A
MutationObserver installed before the page's first byte notes ``performance.now()`` (ms from the
navigation's start) when the rows are all there, then the next frame after that ("painted");
Navigation Timing gives the server's answer (responseStart), the end of the download
(responseEnd), DOMContentLoaded and load; Paint Timing the first contentful paint. Medians are
printed, with the minimum and maximum; no figure is asserted.

    .venv/bin/python benchmarks/ui_render.py [--repeat 5] [--runs 1000] [--rows 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402
from support.browser import DESKTOP, UiServer, launch, new_context, start_ui_server  # noqa: E402

NAMESPACE = "bench.ui"
READY_SCRIPT = """
(() => {
  const selector = %s, wanted = %d;
  const observer = new MutationObserver(() => {
    if (document.querySelectorAll(selector).length < wanted) return;
    observer.disconnect();
    window.__ready = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__painted = performance.now(); }));
  });
  observer.observe(document, {childList: true, subtree: true});
})();
"""
FIGURES_SCRIPT = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    response_start: nav.responseStart, response_end: nav.responseEnd,
    dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    first_contentful_paint: fcp ? fcp.startTime : null,
    ready: window.__ready, painted: window.__painted, html_bytes: nav.encodedBodySize,
  };
}
"""
FIGURES = {
    "response_start": "server's first byte",
    "response_end": "HTML downloaded",
    "first_contentful_paint": "first contentful paint",
    "dom_content_loaded": "DOMContentLoaded",
    "ready": "all rows in the document",
    "painted": "next frame painted",
    "load": "load event",
}


def foreach_flow(values: int) -> str:
    listed = ", ".join(str(i) for i in range(values))
    return f"""\
id: many_runs
namespace: {NAMESPACE}
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [{listed}]
    tasks:
      - id: ret
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ taskrun.value }}}}"
"""


def rows_flow(rows: int) -> str:
    return f"""\
id: many_rows
namespace: {NAMESPACE}
tasks:
  - id: query
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: |
      SELECT range AS n, 'row ' || range AS label, range * 1.5 AS price,
             range % 7 = 0 AS flagged
      FROM range({rows})
    store: true
"""


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    rows: str
    """CSS selector of one rendered row."""
    expected: int


def prepare(server: UiServer, runs: int, rows: int) -> list[Page]:
    """Deploy and run the two flows; the pages to open."""
    server.deploy(foreach_flow(runs))
    server.deploy(rows_flow(rows))
    many_runs = server.run(NAMESPACE, "many_runs", timeout=600)
    many_rows = server.run(NAMESPACE, "many_rows", timeout=600)
    for execution in (many_runs, many_rows):
        assert execution["state"]["current"] == "SUCCESS", execution["state"]
    query = many_rows["taskRunList"][0]
    base = f"/ui/executions/{NAMESPACE}"
    outputs = (
        f"{base}/many_rows/{many_rows['id']}/outputs?taskrun={query['id']}"
        f"&file={query['outputs']['uri']}&rows={rows}"
    )
    return [
        Page(
            f"execution page, {len(many_runs['taskRunList']):,} task runs",
            f"{base}/many_runs/{many_runs['id']}",
            'section.gantt a[href*="taskrun="]',
            len(many_runs["taskRunList"]),
        ),
        Page(f"Outputs preview, {rows:,} rows", outputs, "#file-preview table tbody tr", rows),
    ]


def measure(browser: Browser, server: UiServer, page: Page) -> dict[str, float]:
    """Open the page in a fresh context; its timing figures (ms from the navigation start)."""
    context = new_context(browser, viewport=DESKTOP, base_url=server.url)
    context.add_init_script(READY_SCRIPT % (json.dumps(page.rows), page.expected))
    tab = context.new_page()
    try:
        response = tab.goto(page.path)
        assert response is not None and response.status == 200, page.path
        tab.wait_for_function("window.__painted !== undefined", timeout=120_000)
        return tab.evaluate(FIGURES_SCRIPT)
    except Exception:
        shown = tab.locator(page.rows).count()
        raise SystemExit(
            f"{page.label}: {shown} of {page.expected} rows rendered ({page.path})"
        ) from None
    finally:
        context.close()


def report(page: Page, samples: list[dict[str, float]]) -> None:
    print(f"{page.label}: {samples[0]['html_bytes'] / 1e6:.2f} MB of HTML")
    for key, label in FIGURES.items():
        values = [sample[key] for sample in samples if sample[key] is not None]
        if values:
            print(
                f"  {label:<26} median {statistics.median(values):7.0f} ms "
                f"(min {min(values):.0f}, max {max(values):.0f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="page loads per page (median)")
    parser.add_argument("--runs", type=int, default=1000, help="ForEach values")
    parser.add_argument("--rows", type=int, default=5000, help="rows of the previewed file")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="plait-ui-bench-") as folder,
        start_ui_server(Path(folder) / "home") as server,
        sync_playwright() as playwright,
    ):
        pages = prepare(server, args.runs, args.rows)
        browser = launch(playwright)
        print(f"chromium {browser.version}, headless, {DESKTOP['width']}x{DESKTOP['height']}")
        print(f"{args.repeat} loads per page, each in a fresh context; ms from navigation start")
        for page in pages:
            measure(browser, server, page)  # warm-up: server caches, chromium's code paths
            report(page, [measure(browser, server, page) for _ in range(args.repeat)])
        browser.close()


if __name__ == "__main__":
    main()
