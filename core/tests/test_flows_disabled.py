"""Flow-level ``disabled`` (Kestra's ``Flow.disabled``): read as a boolean, a flow marked so is
valid but :func:`disabled_problem` says why it cannot be executed, located at the key (Kestra's
ExecutionController refuses "Cannot execute a disabled flow")."""

from __future__ import annotations

import pytest
from plait.errors import FlowValidationError
from plait.flows import parse_flow
from plait.flows.disabled import disabled_problem

TASKS = "tasks:\n  - id: t\n    type: plait.core.Log\n    message: hi\n"


def test_a_disabled_flow_is_valid_but_cannot_be_executed() -> None:
    flow = parse_flow(f"id: off\nnamespace: dev\ndisabled: true\n{TASKS}", file="flow.yml")
    assert flow.disabled is True
    assert str(disabled_problem(flow)) == (
        "flow.yml:3:11: flow 'dev.off' is disabled (`disabled: true`): it cannot be executed; "
        "remove `disabled` or set it to false to run it"
    )


@pytest.mark.parametrize("written", ["", "disabled: false\n"])
def test_an_enabled_flow_has_no_problem(written: str) -> None:
    flow = parse_flow(f"id: on\nnamespace: dev\n{written}{TASKS}", file="flow.yml")
    assert flow.disabled is False
    assert disabled_problem(flow) is None


def test_disabled_must_be_a_boolean() -> None:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(f"id: f\nnamespace: dev\ndisabled: yes please\n{TASKS}", file="flow.yml")
    assert [str(p) for p in info.value.problems] == [
        "flow.yml:3:11: 'disabled' must be true or false, got 'yes please'"
    ]


def test_a_subflow_of_a_disabled_flow_fails_the_calling_task(engine) -> None:
    """Kestra's ExecutableUtils refuses to start a subflow execution of a disabled flow."""
    engine.repository.save_flow("dev", "off", f"id: off\nnamespace: dev\ndisabled: true\n{TASKS}")
    execution = engine.run(
        engine.load(
            "id: caller\nnamespace: dev\ntasks:\n  - id: call\n    type: plait.core.Subflow\n"
            '    namespace: dev\n    flowId: "off"\n'
        )
    )
    assert str(execution.state) == "FAILED"
    assert "flow 'dev.off' is disabled" in str(execution.task_run("call").error)
    assert len(engine.repository.list()) == 1  # no child execution was created
