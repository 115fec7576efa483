"""Core task types: Log, Return and Subflow, registered like any plugin's task types."""

from __future__ import annotations

from typing import Any, Literal

from plait_sdk import (
    Example,
    RunContext,
    Task,
    TaskFailure,
    TaskOutputs,
    TaskProperties,
    hookimpl,
    output,
    prop,
)


class LogProperties(TaskProperties):
    message: str | list[str] = prop(
        description="The message to log; a list logs one line per item.",
        examples=["Hello from {{ flow.id }}"],
    )
    level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] = prop(
        "INFO", description="The level of the log line.", dynamic=False
    )


class Log(Task[LogProperties, TaskOutputs]):
    """Log a message in the execution's logs.

    Useful to trace values while a flow is being written: every expression is rendered first.
    """

    type = "plait.core.Log"
    aliases = ("io.kestra.plugin.core.log.Log", "io.kestra.core.tasks.log.Log")
    Properties = LogProperties
    Outputs = TaskOutputs
    examples = (
        Example(
            "Log a greeting",
            "id: hello\nnamespace: dev\ntasks:\n  - id: log\n    type: plait.core.Log\n"
            "    message: Hello from {{ flow.id }}\n",
        ),
    )

    def run(self, props: LogProperties, ctx: RunContext) -> TaskOutputs:
        lines = props.message if isinstance(props.message, list) else [props.message]
        emit = {
            "TRACE": ctx.log.debug,
            "DEBUG": ctx.log.debug,
            "INFO": ctx.log.info,
            "WARN": ctx.log.warning,
            "ERROR": ctx.log.error,
        }[props.level]
        for line in lines:
            emit(str(line))
        return TaskOutputs()


class ReturnProperties(TaskProperties):
    format: str | None = prop(
        None,
        description="The value to return, usually an expression rendered as text.",
        examples=["{{ outputs.api.code }}"],
    )


class ReturnOutputs(TaskOutputs):
    value: str | None = output(None, description="The rendered `format`.")


class Return(Task[ReturnProperties, ReturnOutputs]):
    """Return a value computed from expressions, as the output `value`.

    Handy to debug an expression or to name an intermediate result for later tasks.
    """

    type = "plait.core.Return"
    aliases = ("io.kestra.plugin.core.debug.Return", "io.kestra.core.tasks.debugs.Return")
    Properties = ReturnProperties
    Outputs = ReturnOutputs
    examples = (
        Example(
            "Return a computed value",
            "id: compute\nnamespace: dev\ntasks:\n  - id: answer\n    type: plait.core.Return\n"
            '    format: "{{ 6 * 7 }}"\n',
        ),
    )

    def run(self, props: ReturnProperties, ctx: RunContext) -> ReturnOutputs:
        return ReturnOutputs(value=props.format)


class SubflowProperties(TaskProperties):
    namespace: str = prop(description="Namespace of the flow to run.", examples=["dev"])
    flowId: str = prop(description="Id of the flow to run.", examples=["child"])
    inputs: dict[str, Any] | None = prop(
        None, description="Inputs passed to the subflow, by input id."
    )
    wait: bool = prop(
        True,
        description="Wait for the subflow to end; its outputs are only known when waiting.",
        dynamic=False,
    )
    transmitFailed: bool = prop(
        True,
        description="Fail this task when the subflow ends FAILED or KILLED (needs `wait`).",
        dynamic=False,
    )
    inheritLabels: bool = prop(
        False,
        description="Give the subflow's execution every label of this execution (without it, "
        "only the system ones such as `system.correlationId`). A label the subflow declares "
        "itself keeps its own value.",
        dynamic=False,
    )
    labels: dict[str, Any] | list[dict[str, Any]] | None = prop(
        None,
        description="Labels added to the subflow's execution: a map, or Kestra's list of "
        "`{key, value}`.",
        examples=[{"source": "{{ flow.id }}"}],
    )


class SubflowOutputs(TaskOutputs):
    executionId: str = output(description="Id of the subflow's execution.")
    state: str = output(description="State of the subflow's execution when this task ended.")
    outputs: dict[str, Any] = output(
        default_factory=dict, description="The subflow's flow outputs (when waited for)."
    )


def label_map(labels: dict[str, Any] | list[dict[str, Any]] | None) -> dict[str, str]:
    """Labels written as a map or as Kestra's list of ``{key, value}``, values as text."""
    if isinstance(labels, list):
        pairs = []
        for item in labels:
            if set(item) != {"key", "value"}:
                raise TaskFailure(f"a label in a list needs a 'key' and a 'value', got {item}")
            pairs.append((item["key"], item["value"]))
    else:
        pairs = list((labels or {}).items())
    system = [str(k) for k, _ in pairs if str(k).startswith("system.")]
    if system:
        raise TaskFailure(f"labels {system} are system labels, which only the engine sets")
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in pairs}


class Subflow(Task[SubflowProperties, SubflowOutputs]):
    """Run another flow, found by namespace and id, as a child execution.

    The flow must have been run or deployed before (`plait flows deploy`), so that it is stored.
    """

    type = "plait.core.Subflow"
    aliases = ("io.kestra.plugin.core.flow.Subflow", "io.kestra.core.tasks.flows.Subflow")
    Properties = SubflowProperties
    Outputs = SubflowOutputs
    examples = (
        Example(
            "Call a child flow and use its outputs",
            "id: parent\nnamespace: dev\ntasks:\n  - id: child\n    type: plait.core.Subflow\n"
            "    namespace: dev\n    flowId: child\n    inputs:\n      name: world\n"
            "  - id: log\n    type: plait.core.Log\n"
            '    message: "{{ outputs.child.outputs }}"\n',
        ),
    )

    def run(self, props: SubflowProperties, ctx: RunContext) -> SubflowOutputs:
        child = ctx.run_subflow(
            props.namespace,
            props.flowId,
            props.inputs or {},
            wait=props.wait,
            labels=label_map(props.labels),
            inherit_labels=props.inheritLabels,
        )
        if props.wait and props.transmitFailed and child.state in ("FAILED", "KILLED"):
            raise TaskFailure(
                f"subflow {props.namespace}.{props.flowId} (execution {child.execution_id}) "
                f"ended {child.state}"
            )
        return SubflowOutputs(
            executionId=child.execution_id, state=child.state, outputs=dict(child.outputs)
        )


@hookimpl
def register_task_types() -> list[type[Task[Any, Any]]]:
    return [Log, Return, Subflow]
