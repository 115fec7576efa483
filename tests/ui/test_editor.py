"""The flow editor in a real browser: completion from the flow schema (task types, and
``outputs.<task id>.<output>`` of the tasks written before the cursor, ``inputs.<id>`` of the
flow's inputs), problems at their line, saving a new revision, running from the editor."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from support.browser import UiServer

pytestmark = pytest.mark.browser

FLOW = """\
id: edited
namespace: ui.editor
tasks:
  - id: first
    type: plait.core.Return
    format: "one"
  - id: later
    type: plait.core.Return
    format: "two"
"""
NEW_TASK_LINE = 7
"""Where the tests type a task: between ``first`` and ``later`` (line 7 is ``- id: later``)."""


def open_editor(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator(".cm-content")).to_be_visible()
    # The schema has arrived once the editor's first check has run.
    expect(page.locator("#editor-problems-count")).to_have_text("No problems")


def completions(page: Page) -> list[str]:
    """The labels of the open completion list."""
    options = page.locator(".cm-tooltip-autocomplete li .cm-completionLabel")
    expect(options.first).to_be_visible()
    return options.all_inner_texts()


def go_to_line_start(page: Page, line: int) -> None:
    page.locator(".cm-line").nth(line - 1).click()
    page.keyboard.press("Home")
    page.keyboard.press("Home")  # past the indentation too


def replace_text(page: Page, text: str) -> None:
    page.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)


def test_completes_task_types_and_outputs_of_earlier_tasks(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(FLOW)
    open_editor(page, "/ui/flows/ui.editor/edited/edit")
    go_to_line_start(page, NEW_TASK_LINE)
    page.keyboard.insert_text("  - id: middle\n    type: plait.core.Ret\n")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")
    page.keyboard.press("Control+Space")
    assert "plait.core.Return" in completions(page)
    # Each type comes with its description.
    expect(
        page.locator(".cm-tooltip-autocomplete li", has_text="plait.core.Return")
    ).to_contain_text("Return a value")
    page.get_by_role("option", name=re.compile("^plait.core.Return")).click()
    page.keyboard.insert_text('\n    format: "{{ outputs.')
    page.keyboard.press("Control+Space")
    # Only the task written before the cursor: not 'later', not the task being written.
    assert completions(page) == ["first"]
    page.get_by_role("option", name=re.compile("^first")).click()
    page.keyboard.insert_text(".")
    page.keyboard.press("Control+Space")
    assert completions(page) == ["value"]


def test_server_problem_and_wrong_output_at_their_line(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(FLOW.replace("edited", "flagged"))
    open_editor(page, "/ui/flows/ui.editor/flagged/edit")
    go_to_line_start(page, NEW_TASK_LINE)
    page.keyboard.insert_text(
        '  - id: middle\n    type: plait.core.Log\n    message: "{{ outputs.first.valu }}"\n'
    )
    # Line 9: the wrong output property is flagged, its expression underlined.
    problem = page.locator(".editor-problem", has_text="Line 9")
    expect(problem).to_contain_text("has no output 'valu'")
    flagged = page.locator(".cm-lintRange-error")
    expect(flagged).to_have_text("{{ outputs.first.valu }}")
    assert (
        "message:"
        in flagged.locator(
            "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' cm-line ')]"
        ).inner_text()
    )
    # A mistake only the server knows: a duration that does not read, on line 5.
    go_to_line_start(page, 6)
    page.keyboard.insert_text("    timeout: soon\n")
    expect(page.locator(".editor-problem", has_text="Line 6")).to_contain_text("timeout")
    # Clicking a problem puts the cursor on it.
    page.locator(".editor-problem", has_text="Line 6").click()
    expect(page.locator(".cm-activeLine")).to_contain_text("timeout: soon")


def test_completes_declared_inputs_and_flags_an_undeclared_one(
    ui_server: UiServer, page: Page
) -> None:
    flow = FLOW.replace("edited", "inputs").replace(
        "tasks:", "inputs:\n  - id: city\n    type: STRING\n    defaults: Paris\ntasks:"
    )
    ui_server.deploy(flow)
    open_editor(page, "/ui/flows/ui.editor/inputs/edit")
    go_to_line_start(page, NEW_TASK_LINE + 4)  # `- id: later`, below the 4 lines of inputs
    page.keyboard.insert_text('  - id: middle\n    type: plait.core.Log\n    message: "{{ inputs.')
    page.keyboard.press("Control+Space")
    assert completions(page) == ["city"]
    expect(page.locator(".cm-tooltip-autocomplete li", has_text="city")).to_contain_text("STRING")
    page.get_by_role("option", name=re.compile("^city")).click()
    expect(page.locator(".editor-problem")).to_have_count(0)
    page.keyboard.insert_text(' }} {{ inputs.town }}"\n')
    # Line 13 (the message): the input the flow does not declare, underlined.
    problem = page.locator(".editor-problem", has_text="Line 13")
    expect(problem).to_contain_text("declares no input 'town'")
    expect(page.locator(".cm-lintRange-error")).to_have_text("inputs.town")


def test_saves_a_new_revision_and_keeps_the_text_on_errors(ui_server: UiServer, page: Page) -> None:
    ui_server.deploy(FLOW.replace("edited", "saved"))
    open_editor(page, "/ui/flows/ui.editor/saved/edit")
    expect(page.locator("#editor-revision")).to_have_text("revision 1")
    changed = FLOW.replace("edited", "saved").replace('"two"', '"three"')
    replace_text(page, changed)
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator("#editor-status")).to_have_text("Saved revision 2.")
    stored = ui_server.client.get("/api/v1/flows/ui.editor/saved").json()
    assert (stored["revision"], stored["source"]) == (2, changed)
    # An invalid flow is not saved; its text and the problem stay on screen.
    broken = changed.replace("plait.core.Return", "plait.core.Nope", 1)
    replace_text(page, broken)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#editor-status")).to_contain_text("Not saved")
    expect(page.locator(".editor-problem", has_text="Line 5")).to_contain_text("plait.core.Nope")
    assert page.locator(".cm-content").inner_text().count("plait.core.Nope") == 1
    assert ui_server.client.get("/api/v1/flows/ui.editor/saved").json()["revision"] == 2


def test_runs_a_new_flow_from_the_editor(ui_server: UiServer, page: Page) -> None:
    open_editor(page, "/ui/flows/new")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/ui/executions/company\.team/hello/[^/]+$"))
    execution_id = page.url.rsplit("/", 1)[1]
    stored = ui_server.client.get(f"/api/v1/executions/{execution_id}").json()
    assert (stored["namespace"], stored["flowId"]) == ("company.team", "hello")
    # The starter again: saving it must not quietly make it that flow's next revision.
    open_editor(page, "/ui/flows/new")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#editor-status")).to_contain_text("exists already")
    assert ui_server.client.get("/api/v1/flows/company.team/hello").json()["revision"] == 1


def test_run_needs_the_execute_form_for_required_inputs(ui_server: UiServer, page: Page) -> None:
    flow = FLOW.replace("edited", "asks").replace(
        "tasks:", "inputs:\n  - id: who\n    type: STRING\ntasks:"
    )
    ui_server.deploy(flow)
    open_editor(page, "/ui/flows/ui.editor/asks/edit")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/ui/flows/ui.editor/asks/execute")


def test_tab_indents_and_esc_then_tab_leaves_the_editor(ui_server: UiServer, page: Page) -> None:
    open_editor(page, "/ui/flows/new")
    go_to_line_start(page, 1)
    page.keyboard.press("Tab")
    expect(page.locator(".cm-line").first).to_have_text("  id: hello")
    assert page.evaluate("document.activeElement.classList.contains('cm-content')")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("!document.activeElement.closest('.cm-editor')")
