"""The flow pages in a real browser: the guide's flow started from its Execute form runs to the
end, a FILE input is uploaded from the form, a refused value is shown next to its field, and
the Revisions tab shows what changed between two revisions; each by keyboard where a person
would use one."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from support.browser import UiServer
from support.dummyjson import products_api
from support.server import TERMINAL_STATES

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
GUIDE_FLOW = REPO / "core/tests/data/flows/guide_getting_started_process.yml"
"""The guide's getting-started flow (PROCESS runner), verbatim: its one input is the API URL."""

UPLOAD = """\
id: upload
namespace: ui.flows.browser
inputs:
  - id: data
    type: FILE
  - id: rows
    type: INT
    defaults: 2
    min: 1
    max: 5
tasks:
  - id: content
    type: plait.core.Return
    format: "{{ read(inputs.data) }}"
"""
EXECUTION_PATH = re.compile(r".*/ui/executions/([^/]+)/([^/]+)/(\w+)$")


def ended(ui_server: UiServer, execution_id: str, timeout: float = 600) -> dict[str, Any]:
    """The execution once it has ended (the page shows it live; the test reads the API)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = ui_server.client.get(f"/api/v1/executions/{execution_id}").json()
        if execution["state"]["current"] in TERMINAL_STATES:
            return execution
        time.sleep(0.5)
    raise AssertionError(f"execution {execution_id} did not end within {timeout}s")


def submitted(page: Page) -> str:
    """The id of the execution the form started: the page it redirected to says it."""
    page.wait_for_url(EXECUTION_PATH)
    match = EXECUTION_PATH.match(page.url)
    assert match, page.url
    return match[3]


def test_the_guide_flow_started_from_the_execute_form_completes(
    ui_server: UiServer, page: Page
) -> None:
    ui_server.deploy(GUIDE_FLOW.read_text())
    page.goto("/ui/flows/dev/getting_started/execute")
    field = page.get_by_label("api_url")
    expect(field).to_have_value("https://dummyjson.com/products")  # its default
    with products_api().serve_products() as base_url:
        field.fill(f"{base_url}/products")
        field.press("Enter")  # submits the form, as a keyboard user would
        execution_id = submitted(page)
        execution = ended(ui_server, execution_id)
    assert execution["state"]["current"] == "SUCCESS", execution
    assert execution["inputs"]["api_url"] == f"{base_url}/products"
    runs = {run["taskId"]: run for run in execution["taskRunList"]}
    assert runs["sqlQuery"]["outputs"]["size"] > 0
    page.reload()
    expect(page.get_by_text("SUCCESS").first).to_be_visible()


def test_a_file_input_is_uploaded_from_the_form(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(UPLOAD)
    page.goto("/ui/flows/ui.flows.browser/upload/execute")
    page.get_by_label("data").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"uploaded from the UI"}]
    )
    page.get_by_role("button", name="Execute").click()
    execution = ended(ui_server, submitted(page), timeout=60)
    assert execution["state"]["current"] == "SUCCESS", execution
    assert execution["inputs"]["data"].endswith("/inputs/data/notes.txt")
    (run,) = execution["taskRunList"]
    assert run["outputs"]["value"] == "uploaded from the UI"


def test_a_refused_value_is_shown_next_to_its_field(
    ui_server: UiServer, page: Page, allow_console_error: Callable[[str], None]
) -> None:
    # The form comes back with status 422, which chromium logs for the page itself.
    allow_console_error(r"status of 422 \(Unprocessable Entity\) \(\S+/execute\)")
    ui_server.deploy(UPLOAD)
    page.goto("/ui/flows/ui.flows.browser/upload/execute")
    page.get_by_label("rows").fill("9")
    page.get_by_role("button", name="Execute").click()
    rows = page.locator("[data-input=rows]")
    expect(rows.locator(".field-error")).to_have_text("input 'rows': expected INT <= 5, got 9")
    expect(page.get_by_label("rows")).to_have_value("9")  # what was typed is kept
    expect(page.get_by_label("rows")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-input=data] .field-error")).to_contain_text("is required")
    expect(page.get_by_label("data")).to_be_focused()  # the first field to fix
    # The message is the field's description for assistive technologies.
    described = page.get_by_label("rows").get_attribute("aria-describedby") or ""
    assert rows.locator(".field-error").get_attribute("id") in described.split()
    assert re.search(r"/ui/flows/ui\.flows\.browser/upload/execute$", page.url)


def test_revisions_show_the_changes_between_two_revisions(ui_server: UiServer, page: Page) -> None:
    first = ui_server.deploy(UPLOAD.replace("id: upload", "id: revised"))
    ui_server.deploy(UPLOAD.replace("id: upload", "id: revised").replace("max: 5", "max: 50"))
    third = ui_server.deploy(
        UPLOAD.replace("id: upload", "id: revised").replace("max: 5", "max: 500")
    )
    page.goto("/ui/flows/ui.flows.browser/revised")
    page.get_by_role("link", name="Revisions").click()
    diff = page.locator("table.diff")
    expect(diff.locator("tr.diff-removed .diff-text")).to_have_text(re.compile(r"max: 50$"))
    expect(diff.locator("tr.diff-added .diff-text")).to_have_text(re.compile(r"max: 500$"))
    # Another pair, chosen with the keyboard: the URL holds the choice.
    page.get_by_label("From", exact=True).select_option(str(first["revision"]))
    page.get_by_label("to", exact=True).focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"left={first['revision']}&right={third['revision']}"))
    expect(diff.locator("tr.diff-removed .diff-text")).to_have_text(re.compile(r"max: 5$"))
    expect(diff.locator("tr.diff-added .diff-text")).to_have_text(re.compile(r"max: 500$"))
