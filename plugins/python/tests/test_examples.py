"""Every example flow shown in the reference docs runs as printed."""

from __future__ import annotations

from typing import Any

import pytest
from plait_python.tasks import Commands, Script


def _cases() -> list[Any]:
    cases = []
    for task in (Script, Commands):
        for example in task.examples:
            in_docker = "docker" in example.flow or "containerImage" in example.flow
            marks = [pytest.mark.docker] if in_docker else []
            if "beforeCommands" in example.flow or "dependencies" in example.flow:
                marks.append(pytest.mark.slow)
            cases.append(pytest.param(example, in_docker, id=example.title, marks=marks))
    return cases


@pytest.mark.parametrize(("example", "in_docker"), _cases())
def test_example_runs(plait_runner: Any, request: pytest.FixtureRequest, example: Any, in_docker):
    if in_docker:
        request.getfixturevalue("docker_engine")
    result = plait_runner.run_flow(example.flow)
    assert result.state == "SUCCESS", {task_id: t.error for task_id, t in result.tasks.items()}
