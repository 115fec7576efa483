"""example_flow: the flow text plugins show as examples, assembled from its sections."""

from __future__ import annotations

import yaml
from plait_sdk.task import example_flow

TASKS = "  - id: hello\n    type: plait.core.Log\n    message: hi\n"


def test_sections_are_laid_out_as_written_by_hand() -> None:
    inputs = "  - id: name\n    type: STRING\n"
    variables = "  greeting: hello\n"

    flow = example_flow("hello", TASKS, namespace="dev", inputs=inputs, variables=variables)

    assert flow == (
        f"id: hello\nnamespace: dev\n\ninputs:\n{inputs}\nvariables:\n{variables}\ntasks:\n{TASKS}"
    )
    assert yaml.safe_load(flow) == {
        "id": "hello",
        "namespace": "dev",
        "inputs": [{"id": "name", "type": "STRING"}],
        "variables": {"greeting": "hello"},
        "tasks": [{"id": "hello", "type": "plait.core.Log", "message": "hi"}],
    }


def test_absent_sections_leave_no_trace() -> None:
    assert example_flow("hello", TASKS) == f"id: hello\nnamespace: company.team\n\ntasks:\n{TASKS}"
