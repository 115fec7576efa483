"""Core flow-control task types (Kestra's ``io.kestra.plugin.core.flow.*``), registered through
the same hook as any plugin's: the flowables plan branches that the executor runs; Sleep and
Fail are ordinary tasks."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from plait_sdk import (
    Branch,
    Example,
    FlowableProperties,
    FlowableTask,
    Plan,
    RunContext,
    Task,
    TaskFailure,
    TaskList,
    TaskListMap,
    TaskOutputs,
    TaskProperties,
    hookimpl,
    output,
    prop,
    tasks_prop,
)
from plait_sdk.flowable import is_true
from plait_sdk.task import example_flow

_FLOW = "io.kestra.plugin.core.flow"
_LEGACY = "io.kestra.core.tasks.flows"


class SequentialProperties(FlowableProperties):
    tasks: TaskList = tasks_prop(description="The tasks, run one after the other.")


class Sequential(FlowableTask[SequentialProperties, TaskOutputs]):
    """Run a block of tasks one after the other.

    Groups tasks so that they share `errors` and `finally` handlers, or run as one branch of a
    Parallel."""

    type = "plait.core.flow.Sequential"
    aliases = (f"{_FLOW}.Sequential", f"{_LEGACY}.Sequential")
    Properties = SequentialProperties
    examples = (
        Example(
            "Two steps as one block",
            example_flow(
                "block",
                "  - id: block\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
                "      - id: first\n        type: plait.core.Return\n        format: one\n"
                "      - id: second\n        type: plait.core.Return\n"
                '        format: "{{ outputs.first.value }} two"\n',
            ),
        ),
    )

    def plan(self, props: SequentialProperties, ctx: RunContext) -> Plan:
        return Plan([Branch("tasks")])


class AllowFailure(Sequential):
    """Run a block of tasks; if one fails, the rest of the block is skipped and the flow
    carries on (the block ends WARNING)."""

    type = "plait.core.flow.AllowFailure"
    aliases = (f"{_FLOW}.AllowFailure", f"{_LEGACY}.AllowFailure")
    examples = (
        Example(
            "A failure that does not stop the flow",
            example_flow(
                "tolerant",
                "  - id: tolerant\n    type: io.kestra.plugin.core.flow.AllowFailure\n"
                "    tasks:\n      - id: boom\n        type: io.kestra.plugin.core.execution.Fail\n"
                "  - id: after\n    type: plait.core.Log\n    message: still running\n",
            ),
        ),
    )

    def plan(self, props: SequentialProperties, ctx: RunContext) -> Plan:
        return Plan([Branch("tasks")], allow_failure=True)


class ParallelProperties(FlowableProperties):
    tasks: TaskList = tasks_prop(description="The tasks, each started as its own branch.")
    concurrent: int = prop(
        0, description="How many tasks run at once; 0 runs them all at once.", ge=0
    )


class Parallel(FlowableTask[ParallelProperties, TaskOutputs]):
    """Run tasks at the same time.

    Each task is a branch (wrap several in a Sequential to keep their order). When one fails,
    no further branch starts and the Parallel fails once the running ones end."""

    type = "plait.core.flow.Parallel"
    aliases = (f"{_FLOW}.Parallel", f"{_LEGACY}.Parallel")
    Properties = ParallelProperties
    examples = (
        Example(
            "Two greetings at once",
            example_flow(
                "parallel",
                "  - id: both\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
                "      - id: hello\n        type: plait.core.Log\n        message: hello\n"
                "      - id: world\n        type: plait.core.Log\n        message: world\n",
            ),
        ),
    )

    def plan(self, props: ParallelProperties, ctx: RunContext) -> Plan:
        count = len(props.tasks)
        return Plan([Branch("tasks", index=i) for i in range(count)], concurrency=props.concurrent)


class IfProperties(FlowableProperties):
    condition: Any = prop(
        description="Rendered once; false when it renders to `false`, `0`, `-0` or nothing, "
        "true otherwise.",
        examples=["{{ inputs.enabled }}"],
    )
    then: TaskList = tasks_prop(description="The tasks run when the condition is true.")
    else_: TaskList | None = tasks_prop(
        None, alias="else", description="The tasks run when the condition is false."
    )


class IfOutputs(TaskOutputs):
    evaluationResult: bool = output(description="What the condition evaluated to.")


class If(FlowableTask[IfProperties, IfOutputs]):
    """Run `then` or `else` depending on a condition, evaluated once when the task starts."""

    type = "plait.core.flow.If"
    aliases = (f"{_FLOW}.If", f"{_LEGACY}.If")
    Properties = IfProperties
    Outputs = IfOutputs
    examples = (
        Example(
            "Branch on a value",
            example_flow(
                "branch",
                "  - id: check\n    type: io.kestra.plugin.core.flow.If\n"
                '    condition: "{{ 2 > 1 }}"\n    then:\n'
                "      - id: yes\n        type: plait.core.Log\n        message: bigger\n"
                "    else:\n      - id: no\n        type: plait.core.Log\n"
                "        message: smaller\n",
            ),
        ),
    )

    def plan(self, props: IfProperties, ctx: RunContext) -> Plan:
        result = is_true(props.condition)
        branches = [Branch("then")] if result else [Branch("else")] if props.else_ else []
        return Plan(branches, outputs=IfOutputs(evaluationResult=result))


class SwitchProperties(FlowableProperties):
    value: str = prop(description="Rendered, then compared with the keys of `cases`.")
    cases: TaskListMap = tasks_prop(
        description="Tasks to run, by the value that selects them.", kind="map"
    )
    defaults: TaskList | None = tasks_prop(
        None,
        description="The tasks run when no case matches the value. Without them, a value that "
        "matches no case fails the Switch, as in Kestra.",
    )


class SwitchOutputs(TaskOutputs):
    value: str = output(description="The rendered value.")
    defaults: bool = output(description="Whether no case matched (so `defaults` ran).")


class Switch(FlowableTask[SwitchProperties, SwitchOutputs]):
    """Run the tasks of the case that matches a value exactly, or `defaults`."""

    type = "plait.core.flow.Switch"
    aliases = (f"{_FLOW}.Switch", f"{_LEGACY}.Switch")
    Properties = SwitchProperties
    Outputs = SwitchOutputs
    examples = (
        Example(
            "Pick a case",
            example_flow(
                "switch",
                "  - id: pick\n    type: io.kestra.plugin.core.flow.Switch\n"
                "    value: b\n    cases:\n      a:\n"
                "        - id: case_a\n          type: plait.core.Log\n          message: A\n"
                "      b:\n        - id: case_b\n          type: plait.core.Log\n"
                "          message: B\n    defaults:\n"
                "      - id: other\n        type: plait.core.Log\n        message: other\n",
            ),
        ),
    )

    def plan(self, props: SwitchProperties, ctx: RunContext) -> Plan:
        value = props.value
        if value in props.cases:
            return Plan(
                [Branch(("cases", value))], outputs=SwitchOutputs(value=value, defaults=False)
            )
        if not props.defaults:  # Kestra fails it too (SwitchTest.switchImpossible)
            raise TaskFailure(f"no case matches '{value}' and there are no defaults")
        return Plan([Branch("defaults")], outputs=SwitchOutputs(value=value, defaults=True))


class SleepProperties(TaskProperties):
    duration: timedelta = prop(
        description="How long to wait, as an ISO-8601 duration such as `PT5S`.",
        examples=["PT1S"],
    )


class Sleep(Task[SleepProperties, TaskOutputs]):
    """Wait for a while (a kill or a timeout ends the wait at once)."""

    type = "plait.core.flow.Sleep"
    aliases = (f"{_FLOW}.Sleep",)
    Properties = SleepProperties
    examples = (
        Example(
            "Wait a tenth of a second",
            example_flow(
                "nap",
                "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.1S\n",
            ),
        ),
    )

    def run(self, props: SleepProperties, ctx: RunContext) -> TaskOutputs:
        deadline = time.monotonic() + props.duration.total_seconds()
        while (left := deadline - time.monotonic()) > 0:
            if ctx.cancelled():
                raise TaskFailure("sleep cancelled")
            time.sleep(min(left, 0.05))
        return TaskOutputs()


class FailProperties(TaskProperties):
    errorMessage: str = prop(
        "Task failure",
        description="The failure message.",
        examples=["no data for {{ inputs.day }}"],
    )
    condition: Any = prop(
        None,
        description="Fail only when this renders true (see If's condition); without it, "
        "always fail.",
    )


class Fail(Task[FailProperties, TaskOutputs]):
    """Fail the task (and so the flow, unless it is allowed to fail) with a message."""

    type = "plait.core.Fail"
    aliases = ("io.kestra.plugin.core.execution.Fail", "io.kestra.core.tasks.executions.Fail")
    Properties = FailProperties
    examples = (
        Example(
            "Fail when there is nothing to do",
            example_flow(
                "guard",
                "  - id: guard\n    type: io.kestra.plugin.core.execution.Fail\n"
                '    condition: "{{ 1 > 2 }}"\n    errorMessage: nothing to do\n',
            ),
        ),
    )

    def run(self, props: FailProperties, ctx: RunContext) -> TaskOutputs:
        if props.condition is None or is_true(props.condition):
            raise TaskFailure(props.errorMessage)
        return TaskOutputs()


@hookimpl
def register_task_types() -> list[type[Task[Any, Any]]]:
    return [
        Sequential,
        Parallel,
        If,
        Switch,
        AllowFailure,
        Sleep,
        Fail,
    ]
