"""Core trigger types (Kestra's ``io.kestra.plugin.core.trigger.*``): Schedule, Flow and
Webhook, registered through the same hook as a plugin's triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plait_sdk import Example, hookimpl, prop
from plait_sdk.task import example_flow
from plait_sdk.trigger import (
    EndedExecution,
    ExecutionTrigger,
    ScheduleTrigger,
    Trigger,
    TriggerProperties,
    WebhookTrigger,
)
from pydantic import BaseModel, ConfigDict, Field

_TRIGGER = "io.kestra.plugin.core.trigger"
TERMINAL_STATES = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED")


def _example(flow_id: str, triggers: str) -> str:
    tasks = '  - id: hello\n    type: plait.core.Log\n    message: "{{ trigger }}"\n'
    return example_flow(flow_id, tasks, namespace="dev") + f"\ntriggers:\n{triggers}"


class ScheduleProperties(TriggerProperties):
    cron: str = prop(
        description="When to fire: a cron expression (`0 9 * * MON`, `@hourly`); with "
        "`withSeconds`, six fields, seconds first.",
        dynamic=False,
        examples=["*/15 * * * *"],
    )
    withSeconds: bool = prop(False, description="The cron has a seconds field.", dynamic=False)
    timezone: str = prop("UTC", description="Time zone the cron reads in.", dynamic=False)
    recoverMissedSchedules: Literal["ALL", "LAST", "NONE"] = prop(
        "ALL",
        description="Dates missed while no server ran: fire each (`ALL`), the latest only "
        "(`LAST`) or none (`NONE`).",
        dynamic=False,
    )


class Schedule(ScheduleTrigger[ScheduleProperties]):
    """Start an execution on a cron schedule.

    `{{ trigger.date }}` is the scheduled date, `{{ trigger.next }}` and `{{ trigger.previous }}`
    the neighbouring ones."""

    type = "plait.core.trigger.Schedule"
    aliases = (f"{_TRIGGER}.Schedule", "io.kestra.core.models.triggers.types.Schedule")
    Properties = ScheduleProperties
    examples = (
        Example(
            "Every day at 9",
            _example(
                "daily", f"  - id: morning\n    type: {_TRIGGER}.Schedule\n    cron: 0 9 * * *\n"
            ),
        ),
    )

    def check(self, props: ScheduleProperties) -> str | None:
        try:
            ZoneInfo(props.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return f"unknown timezone '{props.timezone}'"
        from croniter import croniter  # loaded only by flows with a Schedule trigger

        fields = len(props.cron.split())
        if not croniter.is_valid(props.cron, second_at_beginning=props.withSeconds):
            return f"invalid cron expression '{props.cron}'"
        if not props.cron.startswith("@") and fields != (6 if props.withSeconds else 5):
            want = (
                "six fields (seconds first) with withSeconds"
                if props.withSeconds
                else ("five fields (or set withSeconds: true for six)")
            )
            return f"cron '{props.cron}' has {fields} fields: expected {want}"
        return None

    def next_date(self, props: ScheduleProperties, after: dt.datetime) -> dt.datetime | None:
        from croniter import croniter

        local = after.astimezone(ZoneInfo(props.timezone))
        found = croniter(props.cron, local, second_at_beginning=props.withSeconds)
        return found.get_next(dt.datetime).astimezone(dt.UTC)

    def recover_missed(self, props: ScheduleProperties) -> str:
        return props.recoverMissedSchedules


class UpstreamFlow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(description="Namespace of the upstream flow.")
    flowId: str | None = Field(None, description="Its id (any flow of the namespace if unset).")
    states: list[str] | None = Field(None, description="End states that fire (default: any).")


class Preconditions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="A name for the preconditions.")
    flows: list[UpstreamFlow] = Field(description="Upstream flows; any of them fires.")


class Condition(BaseModel):
    """Kestra's older conditions: ExecutionFlow, ExecutionStatus and ExecutionNamespace (by
    Kestra's names and their aliases, `...ExecutionFlowCondition` and
    `io.kestra.core.models.conditions.types.ExecutionFlowCondition`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionFlow",
        "io.kestra.plugin.core.condition.ExecutionStatus",
        "io.kestra.plugin.core.condition.ExecutionNamespace",
        "io.kestra.plugin.core.condition.ExecutionFlowCondition",
        "io.kestra.plugin.core.condition.ExecutionStatusCondition",
        "io.kestra.plugin.core.condition.ExecutionNamespaceCondition",
        "io.kestra.core.models.conditions.types.ExecutionFlowCondition",
        "io.kestra.core.models.conditions.types.ExecutionStatusCondition",
        "io.kestra.core.models.conditions.types.ExecutionNamespaceCondition",
    ] = Field(description="The kind of condition.")
    namespace: str | None = Field(None, description="The upstream namespace.")
    flowId: str | None = Field(None, description="The upstream flow id.")
    in_: list[str] | None = Field(None, alias="in", description="End states that fire.")
    notIn: list[str] | None = Field(None, description="End states that do not fire.")


class FlowTriggerProperties(TriggerProperties):
    preconditions: Preconditions | None = prop(
        None,
        description="Which upstream executions fire it (namespace, flowId, states).",
        dynamic=False,
    )
    conditions: list[Condition] | None = prop(
        None, description="Kestra's older form of the same: all must hold.", dynamic=False
    )
    states: list[str] = prop(
        list(TERMINAL_STATES),
        description="End states of the upstream execution that fire it.",
        dynamic=False,
    )


def _condition_holds(condition: Condition, execution: EndedExecution) -> bool:
    if condition.type.rsplit(".", 1)[-1].removesuffix("Condition") == "ExecutionStatus":
        ok = condition.in_ is None or execution.state in condition.in_
        return ok and (condition.notIn is None or execution.state not in condition.notIn)
    if condition.namespace is not None and condition.namespace != execution.namespace:
        return False
    return condition.flowId is None or condition.flowId == execution.flow_id


class Flow(ExecutionTrigger[FlowTriggerProperties]):
    """Start an execution when an execution of another flow ends.

    `{{ trigger.executionId }}`, `namespace`, `flowId`, `state` and `outputs` (its flow
    outputs) describe the upstream execution; pass them on with `inputs`."""

    type = "plait.core.trigger.Flow"
    aliases = (f"{_TRIGGER}.Flow", "io.kestra.core.models.triggers.types.Flow")
    Properties = FlowTriggerProperties
    examples = (
        Example(
            "After another flow succeeds",
            _example(
                "downstream",
                f"  - id: after_upstream\n    type: {_TRIGGER}.Flow\n    preconditions:\n"
                "      flows:\n        - namespace: dev\n          flowId: upstream\n"
                "          states: [SUCCESS]\n",
            ),
        ),
    )

    def check(self, props: FlowTriggerProperties) -> str | None:
        if props.preconditions is None and not props.conditions:
            return "a Flow trigger needs 'preconditions' (or 'conditions') naming upstream flows"
        return None

    def matches(self, props: FlowTriggerProperties, execution: EndedExecution) -> bool:
        if execution.state not in props.states:
            return False
        if props.conditions and not all(_condition_holds(c, execution) for c in props.conditions):
            return False
        if props.preconditions is None:
            return bool(props.conditions)
        return any(
            upstream.namespace == execution.namespace
            and upstream.flowId in (None, execution.flow_id)
            and (upstream.states is None or execution.state in upstream.states)
            for upstream in props.preconditions.flows
        )


class WebhookProperties(TriggerProperties):
    key: str = prop(
        description="The secret part of the webhook URL "
        "`/api/v1/executions/webhook/{namespace}/{flowId}/{key}`; rendered on each request "
        "with `flow.id`, `flow.namespace`, `secret()` and `kv()` "
        "(`{{ secret('WEBHOOK_KEY') }}`).",
        dynamic=True,
        min_length=8,
    )


class Webhook(WebhookTrigger[WebhookProperties]):
    """Start an execution on an HTTP request to the flow's webhook URL.

    `{{ trigger.body }}` is the request body (decoded when it is JSON); `{{ trigger.headers }}`
    and `{{ trigger.parameters }}` map each header (lower-cased) and query parameter to the list
    of its values, as in Kestra: `{{ trigger.parameters.name[0] }}`."""

    type = "plait.core.trigger.Webhook"
    aliases = (f"{_TRIGGER}.Webhook", "io.kestra.core.models.triggers.types.Webhook")
    Properties = WebhookProperties
    examples = (
        Example(
            "A webhook",
            _example(
                "hooked", f"  - id: hook\n    type: {_TRIGGER}.Webhook\n    key: 4wjtkzwVGBM9\n"
            ),
        ),
    )

    def key(self, props: WebhookProperties) -> str:
        return props.key


@hookimpl
def register_trigger_types() -> list[type[Trigger[Any]]]:
    return [Schedule, Flow, Webhook]
