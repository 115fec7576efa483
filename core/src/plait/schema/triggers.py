"""The ``triggers`` part of the flow schema, assembled from every installed trigger type and
layered like tasks are (see :mod:`plait.schema.tasks`):

- ``flow.trigger`` (one entry of ``triggers``) knows the keys every trigger has (``id``,
  ``type``, ``description``, ``disabled``), with ``type`` an enum of every trigger type id and
  alias;
- for each trigger type, an ``if`` its ``type`` is one of the type's names ``then`` the entry
  must match the type's own definition: the common keys plus its properties, nothing else.

A trigger's properties are validated as written (only the values of ``inputs`` are rendered,
with ``{{ trigger.* }}``, when it fires), so unlike a task's dynamic properties they do not
also accept an expression in place of their value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plait_sdk.schema import model_schema, without_ref_siblings
from plait_sdk.task import DYNAMIC_KEY
from plait_sdk.trigger import ExecutionTrigger, PollingTrigger, ScheduleTrigger, WebhookTrigger

from plait.flows.flow_extras_reader import COMMON_TRIGGER_KEYS
from plait.flows.ids import TASK_ID
from plait.flows.model import CONCURRENCY_BEHAVIORS
from plait.plugins import TriggerType
from plait.schema.describe import (
    Definitions,
    summary_and_details,
)
from plait.schema.tasks import (
    PATTERN_MESSAGE,
    identifier,
    layered_item_schema,
    merge_definitions,
    typed_definition,
)

TRIGGER_DEFINITION = "flow.trigger"

TRIGGER_KINDS: tuple[tuple[type[Any], str], ...] = (
    (
        ScheduleTrigger,
        "fires at the dates it computes, each date once, even across a restart",
    ),
    (
        ExecutionTrigger,
        "fires when an execution of another flow ends and matches it",
    ),
    (
        WebhookTrigger,
        "fires on a `GET`, `POST` or `PUT` request to "
        "`/api/v1/executions/webhook/{namespace}/{flowId}/{key}` with its key; that URL needs "
        "no credentials",
    ),
    (PollingTrigger, "looks at regular intervals for something to start an execution for"),
)
"""What each kind of trigger the server runs does, in words."""

CONCURRENCY_BEHAVIOR_DESCRIPTIONS = {
    "QUEUE": "An execution over the limit waits until another one ends.",
    "CANCEL": "An execution over the limit ends CANCELLED without running.",
    "FAIL": "An execution over the limit ends FAILED without running.",
}
"""One line per :data:`plait.flows.model.CONCURRENCY_BEHAVIORS`."""


def trigger_kind(trigger: TriggerType) -> str:
    """When a trigger of this type fires (one of :data:`TRIGGER_KINDS`), or an empty text."""
    for base, text in TRIGGER_KINDS:
        if issubclass(trigger, base):
            return text
    return ""


_DATA_KEYS = ("default", "examples", "enum", "const")
"""Keywords whose values are data, not schemas."""


def _without_dynamic(node: Any) -> Any:
    """``node`` without the ``x-dynamic`` markers: a trigger's properties are never rendered
    (its ``inputs`` values are, as their description says)."""
    if isinstance(node, list):
        return [_without_dynamic(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: value if key in _DATA_KEYS else _without_dynamic(value)
        for key, value in node.items()
        if key != DYNAMIC_KEY
    }


def trigger_properties_schema(trigger: TriggerType) -> dict[str, Any]:
    """What a flow may write in a trigger of this type, besides the keys every trigger has,
    with the nested models it uses under ``definitions``."""
    schema = model_schema(trigger.Properties)
    schema["title"] = trigger.type
    schema["description"] = trigger.description()
    schema["properties"] = {
        name: prop
        for name, prop in schema.get("properties", {}).items()
        if name not in COMMON_TRIGGER_KEYS  # the reader takes these keys for itself
    }
    schema["required"] = [
        name for name in schema.get("required", []) if name not in COMMON_TRIGGER_KEYS
    ]
    if not schema["required"]:
        del schema["required"]
    return without_ref_siblings(_without_dynamic(schema))


def common_trigger_properties() -> dict[str, dict[str, Any]]:
    """The keys every trigger accepts (:data:`plait.flows.flow_extras_reader.COMMON_TRIGGER_KEYS`),
    but ``type``."""
    return {
        "id": {
            **identifier(
                TASK_ID,
                "Identifier of the trigger, unique among the flow's triggers (the triggers API "
                "and an execution's `trigger.id` name it). Letters, digits, `_` and `-`.",
            ),
            PATTERN_MESSAGE: f"Not a valid trigger id: it {TASK_ID.allowed}.",
        },
        "description": {"type": "string", "description": "What the trigger is for."},
        "disabled": {
            "type": "boolean",
            "default": False,
            "description": "The trigger never fires (the flow can still be run otherwise).",
        },
    }


def trigger_markdown(trigger: TriggerType) -> str:
    """What a person hovering over a trigger's ``type`` reads: what it does and when it fires."""
    summary, details = summary_and_details(trigger.description())
    parts = [f"**{summary}**"]
    if details:
        parts.append(details)
    names = f"Type `{trigger.type}`"
    if trigger.aliases:
        names += ", also written " + ", ".join(f"`{alias}`" for alias in trigger.aliases)
    parts.append(names + ".")
    if kind := trigger_kind(trigger):
        parts.append(f"Under `plait server`, it {kind}.")
    return "\n\n".join(parts)


def trigger_definition(trigger: TriggerType, definitions: dict[str, Any]) -> dict[str, Any]:
    """The definition a trigger of this type must match: common keys, then the type's own."""
    props = merge_definitions(definitions, trigger.type, trigger_properties_schema(trigger))
    markdown = trigger_markdown(trigger)
    required = list(props.get("required", []))
    own = props.get("properties", {})
    return typed_definition(
        trigger, markdown, common_trigger_properties(), own, required, definitions
    )


def canonical_triggers(trigger_types: Mapping[str, TriggerType]) -> list[tuple[str, TriggerType]]:
    """Each trigger type once, by id."""
    return sorted({cls.type: cls for cls in trigger_types.values()}.items())


def trigger_item_schema(trigger_types: Mapping[str, TriggerType]) -> dict[str, Any]:
    """The schema of one entry of ``triggers``: the base layer and one ``if``/``then`` per
    type (the base ``type`` has no description, so hovering shows the type's own)."""
    return layered_item_schema(trigger_types, common_trigger_properties())


def trigger_definitions(
    trigger_types: Mapping[str, TriggerType], definitions: Definitions
) -> dict[str, Any]:
    """Every definition the ``triggers`` part needs, by name (the trigger item under
    :data:`TRIGGER_DEFINITION`), nested models merged with ``definitions`` (those already
    there, such as the tasks'), which are returned too."""
    merged = dict(definitions)
    for type_id, cls in canonical_triggers(trigger_types):
        merged[type_id] = trigger_definition(cls, merged)
    merged[TRIGGER_DEFINITION] = trigger_item_schema(trigger_types)
    return merged


def concurrency_schema() -> dict[str, Any]:
    """The flow's ``concurrency`` (:data:`plait.flows.flow_extras_reader.CONCURRENCY_KEYS`)."""
    behaviors = list(CONCURRENCY_BEHAVIORS)
    return {
        "type": "object",
        "description": "How many executions of the flow may run at once, and what happens to "
        "one over the limit.",
        "required": ["limit"],
        "additionalProperties": False,
        "properties": {
            "limit": {
                "type": "integer",
                "minimum": 1,
                "description": "Most executions of the flow running at the same time.",
            },
            "behavior": {
                "enum": behaviors,
                "default": "QUEUE",
                "description": "What happens to an execution over the limit: it waits "
                "(`QUEUE`), or ends without running, `CANCELLED` (`CANCEL`) or `FAILED` "
                "(`FAIL`).",
                "markdownEnumDescriptions": [
                    CONCURRENCY_BEHAVIOR_DESCRIPTIONS[behavior] for behavior in behaviors
                ],
            },
        },
    }


def core_trigger_types() -> dict[str, TriggerType]:
    """The kernel's trigger types by every id and alias, as the registry holds them."""
    from plait.builtin.triggers import register_trigger_types

    return {name: cls for cls in register_trigger_types() for name in (cls.type, *cls.aliases)}
