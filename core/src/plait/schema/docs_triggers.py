"""Reference pages of trigger types, written from the same schemas editors use."""

from __future__ import annotations

from collections.abc import Sequence

from plait.plugins import TriggerType
from plait.schema.describe import summary_and_details
from plait.schema.docs_tasks import (
    common_keys_schema,
    examples_section,
    nested_sections,
    properties_section,
    properties_table,
    types_section,
)
from plait.schema.markdown import code, page, table
from plait.schema.triggers import (
    common_trigger_properties,
    trigger_kind,
    trigger_properties_schema,
)

COMMON_TRIGGER_KEYS_ANCHOR = "keys-every-trigger-accepts"


def trigger_page_path(trigger: TriggerType) -> str:
    return f"triggers/{trigger.type}.md"


def trigger_page(trigger: TriggerType, distribution: str) -> str:
    summary, details = summary_and_details(trigger.description())
    facts = [["Type", code(trigger.type)], ["Plugin", code(distribution)]]
    if trigger.aliases:
        facts.append(["Also written", ", ".join(code(alias) for alias in trigger.aliases)])
    if kind := trigger_kind(trigger):
        facts.append(["Fires", f"Under `plait server`, it {kind}."])
    schema = trigger_properties_schema(trigger)
    definitions = schema.get("definitions", {})
    intro = (
        "Properties are read as written (unless their description says they are rendered); "
        "the values of `inputs` may hold `{{ ... }}` "
        "expressions reading `{{ trigger.* }}`, rendered each time the trigger fires. Every "
        f"trigger also accepts the [keys every trigger accepts](../index.md#"
        f"{COMMON_TRIGGER_KEYS_ANCHOR}) (`id`, `type`, `description`, `disabled`)."
    )
    return page(
        f"# {summary}",
        details,
        table(["", ""], facts),
        *properties_section(schema, definitions, intro, kind="trigger"),
        *nested_sections(schema, definitions),
        examples_section(trigger),
    )


def common_trigger_keys_section() -> str:
    common = common_keys_schema(common_trigger_properties(), kind="trigger")
    return "\n\n".join(
        [
            "## Keys every trigger accepts",
            "Triggers fire while `plait server` runs; the triggers API lists them and can "
            "disable them without changing the flow.",
            properties_table(common, {}, dynamic_column=False),
        ]
    )


def trigger_types_section(triggers: Sequence[tuple[TriggerType, str]]) -> str:
    return types_section("## Trigger types", triggers, trigger_page_path)
