"""Core loop task types: ForEach, and Kestra's deprecated EachSequential and EachParallel.

Registered like any plugin's task types. Loop values are computed as Kestra computes them, and
the children's outputs are keyed by value (``loops = True``)."""

from __future__ import annotations

import json
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
    TaskOutputs,
    hookimpl,
    prop,
    tasks_prop,
)
from plait_sdk.task import example_flow

_FLOW = "io.kestra.plugin.core.flow"
_LEGACY = "io.kestra.core.tasks.flows"


def loop_values(values: Any, task_id: str) -> list[str]:
    """The values a loop runs for, as Kestra computes them: a JSON list (text) or a list,
    nulls refused, every value as text (non-text values as compact JSON), duplicates once."""
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except json.JSONDecodeError as exc:
            raise TaskFailure(
                f"task '{task_id}': 'values' must be a list or the JSON text of a list; "
                f"got {values[:80]!r} ({exc.msg})"
            ) from None
    if not isinstance(values, list):
        raise TaskFailure(f"task '{task_id}': 'values' must be a list, got {type(values).__name__}")
    nulls = sum(1 for value in values if value is None)
    if nulls:
        raise TaskFailure(f"task '{task_id}': found {nulls} null values in 'values'")
    texts = [
        v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), ensure_ascii=False)
        for v in values
    ]
    return list(dict.fromkeys(texts))


class ForEachProperties(FlowableProperties):
    values: str | list[Any] = prop(
        description="The values to loop over: a list, or an expression rendering the JSON "
        "text of a list. Each value is text (others become JSON); duplicates run once.",
        examples=[["a", "b"], "{{ outputs.api.body | jq('.ids') | first }}"],
    )
    tasks: TaskList = tasks_prop(
        description="The tasks run for each value, in order; they read it as `{{ taskrun.value }}`."
    )
    concurrencyLimit: int = prop(
        1,
        description="How many values run at once; 1 runs them one after the other, 0 all at once.",
        ge=0,
    )


class ForEach(FlowableTask[ForEachProperties, TaskOutputs]):
    """Run a list of tasks for each of a list of values.

    Inside the loop a task reads the value as `{{ taskrun.value }}` and an earlier task of the
    same iteration as `{{ outputs.first[taskrun.value].name }}`; after the loop, the outputs of
    each iteration are keyed by value: `{{ outputs.first['a'].name }}`."""

    type = "plait.core.flow.ForEach"
    aliases = (f"{_FLOW}.ForEach",)
    loops = True
    Properties = ForEachProperties
    examples = (
        Example(
            "Loop over values",
            example_flow(
                "loop",
                "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
                "    values: [a, b, c]\n    tasks:\n"
                "      - id: upper\n        type: plait.core.Return\n"
                '        format: "{{ taskrun.value | upper }}"\n'
                "  - id: after\n    type: plait.core.Log\n"
                "    message: \"{{ outputs.upper['b'].value }}\"\n",
            ),
        ),
    )

    def plan(self, props: ForEachProperties, ctx: RunContext) -> Plan:
        values = loop_values(props.values, ctx.task_id)
        branches = [Branch("tasks", value=value) for value in values]
        return Plan(branches, concurrency=props.concurrencyLimit)


class EachSequentialProperties(FlowableProperties):
    value: str | list[Any] = prop(description="The values to loop over (see ForEach's values).")
    tasks: TaskList = tasks_prop(description="The tasks run for each value, in order.")


class EachSequential(FlowableTask[EachSequentialProperties, TaskOutputs]):
    """Kestra's deprecated loop, one value after the other: use ForEach."""

    type = "plait.core.flow.EachSequential"
    aliases = (f"{_FLOW}.EachSequential", f"{_LEGACY}.EachSequential")
    loops = True
    Properties = EachSequentialProperties
    examples = (
        Example(
            "The deprecated sequential loop",
            example_flow(
                "legacy_loop",
                "  - id: each\n    type: io.kestra.plugin.core.flow.EachSequential\n"
                "    value: [1, 2]\n    tasks:\n"
                "      - id: show\n        type: plait.core.Log\n"
                '        message: "{{ taskrun.value }}"\n',
                namespace="dev",
            ),
        ),
    )

    def plan(self, props: EachSequentialProperties, ctx: RunContext) -> Plan:
        values = loop_values(props.value, ctx.task_id)
        concurrency = getattr(props, "concurrent", 1)
        return Plan([Branch("tasks", value=value) for value in values], concurrency=concurrency)


class EachParallelProperties(EachSequentialProperties):
    concurrent: int = prop(0, description="How many values run at once; 0: all.", ge=0)


class EachParallel(EachSequential):
    """Kestra's deprecated loop, values at the same time: use ForEach with concurrencyLimit."""

    type = "plait.core.flow.EachParallel"
    aliases = (f"{_FLOW}.EachParallel", f"{_LEGACY}.EachParallel")
    Properties = EachParallelProperties
    examples = (
        Example(
            "The deprecated parallel loop",
            example_flow(
                "legacy_parallel_loop",
                "  - id: each\n    type: io.kestra.plugin.core.flow.EachParallel\n"
                "    value: [a, b]\n    tasks:\n"
                "      - id: show\n        type: plait.core.Log\n"
                '        message: "{{ taskrun.value }}"\n',
                namespace="dev",
            ),
        ),
    )


@hookimpl
def register_task_types() -> list[type[Task[Any, Any]]]:
    return [ForEach, EachSequential, EachParallel]
