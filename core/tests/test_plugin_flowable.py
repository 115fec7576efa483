"""A plugin's own flowable task type, written as docs/plugins/writing-a-plugin.md shows: its
child list is read as tasks, the executor runs its branches, children's outputs are keyed by
its loop values, and the flow schema recurses into it."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from plait.api import Engine
from plait.errors import FlowValidationError
from plait.schema import flow_schema
from plait_sdk import (
    Branch,
    FlowableProperties,
    FlowableTask,
    Plan,
    TaskList,
    TaskOutputs,
    hookimpl,
    prop,
    tasks_prop,
)


class RepeatProperties(FlowableProperties):
    times: int = prop(2, description="How many times to run the tasks.", ge=1)
    tasks: TaskList = tasks_prop(description="The tasks, run `times` times in a row.")


class Repeat(FlowableTask[RepeatProperties, TaskOutputs]):
    """Run a block of tasks several times, one round after the other."""

    type = "plait.acme.Repeat"
    loops = True

    Properties = RepeatProperties

    def plan(self, props: RepeatProperties, ctx) -> Plan:
        return Plan([Branch("tasks", value=str(n)) for n in range(props.times)])


def _plugin() -> types.ModuleType:
    module = types.ModuleType("acme_flowable")

    @hookimpl
    def register_task_types():
        return [Repeat]

    module.register_task_types = register_task_types
    return module


@pytest.fixture
def engine(tmp_path: Path):
    engine = Engine.create(home=tmp_path / "home", load_plugins=[], extra_plugins=[_plugin()])
    yield engine
    engine.close()


FLOW = """\
id: rounds
namespace: dev
tasks:
  - id: again
    type: plait.acme.Repeat
    times: 3
    tasks:
      - id: round
        type: plait.core.Return
        format: "round {{ taskrun.value }}"
  - id: after
    type: plait.core.Return
    format: "{{ outputs.round['2'].value }}"
"""


def test_a_plugin_flowable_runs_its_branches(engine: Engine) -> None:
    execution = engine.run(FLOW)
    assert str(execution.state) == "SUCCESS"
    rounds = [r for r in execution.task_runs if r.task_id == "round"]
    assert [(r.value, r.outputs) for r in rounds] == [
        (str(n), {"value": f"round {n}"}) for n in range(3)
    ]
    assert execution.task_run("after").outputs == {"value": "round 2"}


def test_its_children_are_validated_and_in_the_schema(engine: Engine) -> None:
    with pytest.raises(FlowValidationError) as info:
        engine.load(FLOW.replace('format: "round', 'formt: "round'))
    assert "unknown property 'formt'" in str(info.value.problems[0])
    with pytest.raises(FlowValidationError) as info:
        engine.load(FLOW.replace("{{ outputs.round['2'].value }}", "{{ outputs.round.value }}"))
    assert "runs inside the loop 'again'" in str(info.value.problems[0])
    schema = flow_schema(engine.registry.task_types)
    tasks = schema["definitions"]["plait.acme.Repeat"]["properties"]["tasks"]
    assert "flow.task" in str(tasks)
