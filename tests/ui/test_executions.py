"""The executions views in a real browser: the list's filters, a live execution page turning
from RUNNING to SUCCESS without a reload, ForEach iterations grouped in the Gantt, the logs'
live tail under a level filter, and the Kill and Restart buttons."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from support.browser import UiServer
from support.execution_flows import FAILING, SLEEPING
from support.server import wait_for

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 20_000

LOOP = """\
id: loop
namespace: ui.exec.loops
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["north", "south", "east"]
    tasks:
      - id: visit
        type: plait.core.Return
        format: "{{ taskrun.value }}"
"""

SLOW = """\
id: slow
namespace: ui.exec.live
tasks:
  - id: first
    type: plait.core.Log
    level: DEBUG
    message: warming up
  - id: wait
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT3S
  - id: late
    type: plait.core.Log
    level: WARN
    message: the late warning
  - id: chatter
    type: plait.core.Log
    message: an info line
"""


def start(ui_server: UiServer, namespace: str, flow_id: str) -> str:
    response = ui_server.client.post(f"/api/v1/executions/{namespace}/{flow_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_list_filters(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(LOOP)
    ui_server.deploy(FAILING)
    loop = ui_server.run("ui.exec.loops", "loop")
    failed = ui_server.run("uiexec.fail", "failing")
    assert failed["state"]["current"] == "FAILED"

    page.goto("/ui/executions")
    rows = page.locator("#execution-rows tr")
    expect(rows.filter(has=page.get_by_title(loop["id"]))).to_have_count(1)
    page.get_by_label("Namespace").fill("uiexec")
    page.locator("input[name=state][value=FAILED]").check()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"namespace=uiexec.*state=FAILED"))
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_title(failed["id"])).to_be_visible()
    expect(page.get_by_label("Namespace")).to_have_value("uiexec")  # the form shows the URL

    page.get_by_title(failed["id"]).click()
    expect(page.get_by_role("heading", name=failed["id"])).to_be_visible()


def test_live_state_changes_without_reload(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(SLOW)
    execution_id = start(ui_server, "ui.exec.live", "slow")
    page.goto(f"/ui/executions/ui.exec.live/slow/{execution_id}")
    state = page.locator("#execution-state")
    expect(state).to_have_text("RUNNING")
    page.evaluate("window.sameDocument = true")

    expect(state).to_have_text("SUCCESS", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.sameDocument === true")  # no reload happened
    expect(page.locator(".gantt-row", has_text="chatter")).to_have_count(1)
    expect(page.get_by_role("button", name="Kill")).to_have_count(0)


def test_foreach_iterations_are_grouped(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(LOOP)
    execution = ui_server.run("ui.exec.loops", "loop")
    page.goto(f"/ui/executions/ui.exec.loops/loop/{execution['id']}")
    groups = page.locator("details.gantt-group")
    expect(groups).to_have_count(3)
    expect(groups.locator("summary .gantt-value")).to_have_text(["north", "south", "east"])
    for index in range(3):
        expect(groups.nth(index).get_by_role("link", name="visit")).to_be_visible()
    groups.first.locator("summary").click()  # folds, by keyboard-reachable summary
    expect(groups.first.get_by_role("link", name="visit")).to_be_hidden()
    expect(groups.nth(1).get_by_role("link", name="visit")).to_be_visible()


def test_logs_tail_live_under_a_level_filter(
    ui_server: UiServer, page: Page, open_page: Callable[..., Page]
) -> None:
    ui_server.deploy(SLOW)
    execution_id = start(ui_server, "ui.exec.live", "slow")
    wait_for(ui_server.client, execution_id, states={"RUNNING"})
    logs_path = f"/ui/executions/ui.exec.live/slow/{execution_id}/logs"
    page.goto(logs_path + "?level=WARN")
    warn = page.locator("#logs tbody tr")
    expect(page.locator("#log-status")).to_have_text("Following new lines…")
    everything = open_page()  # beside it, every level: the lines it had are not sent twice
    everything.goto(logs_path + "?level=TRACE")
    all_lines = everything.locator("#logs tbody tr")
    expect(all_lines.filter(has_text="warming up")).to_have_count(1)

    expect(warn.filter(has_text="the late warning")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    for shown in (page, everything):
        expect(shown.locator("#log-status")).to_have_text(
            "Execution ended SUCCESS.", timeout=LIVE_TIMEOUT_MS
        )
    expect(warn).to_have_count(1)  # neither the DEBUG nor the INFO line was appended
    expect(all_lines).to_have_text(
        [re.compile("warming up"), re.compile("the late warning"), re.compile("an info line")]
    )

    page.get_by_label("Minimum level").select_option("DEBUG")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"level=DEBUG"))
    expect(warn).to_have_count(3)


def test_kill_a_running_execution(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(SLEEPING)
    execution_id = start(ui_server, "uiexec.live", "sleeping")
    wait_for(ui_server.client, execution_id, states={"RUNNING"})
    page.goto(f"/ui/executions/uiexec.live/sleeping/{execution_id}")
    page.get_by_role("button", name="Kill").click()
    expect(page.locator("#execution-state")).to_have_text("KILLED", timeout=LIVE_TIMEOUT_MS)
    assert wait_for(ui_server.client, execution_id)["state"]["current"] == "KILLED"


def test_restart_a_failed_execution(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(FAILING)
    failed = ui_server.run("uiexec.fail", "failing")
    path = f"/ui/executions/uiexec.fail/failing/{failed['id']}"
    page.goto(path)
    expect(page.get_by_role("button", name="Kill")).to_have_count(0)
    page.get_by_role("button", name="Restart").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("#execution-state")).to_have_text("FAILED", timeout=LIVE_TIMEOUT_MS)
    expect(page.get_by_text("Attempt", exact=True)).to_be_visible()
    restarted = wait_for(ui_server.client, failed["id"])
    assert restarted["metadata"]["attemptNumber"] == 2
