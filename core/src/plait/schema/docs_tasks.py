"""Reference pages of task types, written from the same schemas editors use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from plait_sdk.schema import is_dynamic, outputs_schema, properties_schema

from plait.flows.model import COMMON_TASK_KEYS
from plait.plugins import TaskType, TriggerType
from plait.schema.describe import (
    Definitions,
    literal,
    referenced_definitions,
    summary_and_details,
    type_label,
)
from plait.schema.markdown import code, page, table, yaml_block
from plait.schema.tasks import (
    RETRY_DEFINITION,
    common_task_properties,
    retry_definition,
)

COMMON_KEYS_ANCHOR = "keys-every-task-accepts"


def task_page_path(task: TaskType) -> str:
    return f"tasks/{task.type}.md"


def _default(schema: Mapping[str, Any], required: bool) -> str:
    if required or "default" not in schema:
        return ""
    return code(literal(schema["default"]))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def properties_table(
    schema: Mapping[str, Any], definitions: Definitions, *, dynamic_column: bool
) -> str:
    required = set(schema.get("required", []))
    headers = ["Property", "Type", "Default", "Required", "Description"]
    if dynamic_column:
        headers.insert(3, "Dynamic")
    rows = []
    for name, prop in schema.get("properties", {}).items():
        row = [
            code(name),
            type_label(prop, definitions),
            _default(prop, name in required),
            _yes(name in required),
            prop.get("description", ""),
        ]
        if dynamic_column:
            row.insert(3, _yes(is_dynamic(prop)))
        rows.append(row)
    return table(headers, rows)


def nested_sections(schema: Mapping[str, Any], definitions: Definitions) -> list[str]:
    """One section per object the properties are made of (``options`` -> ``HttpOptions``)."""
    sections = []
    for name in referenced_definitions(schema.get("properties", {}), definitions):
        nested = definitions[name]
        title = nested.get("title", name)
        text = [f"### {code(title)}"]
        if nested.get("description"):
            text.append(nested["description"])
        text.append(properties_table(nested, definitions, dynamic_column=False))
        sections.append("\n\n".join(text))
    return sections


def _outputs_section(task: TaskType) -> str:
    schema = outputs_schema(task)
    definitions = schema.get("definitions", {})
    names = list(schema.get("properties", {}))
    if not names:
        return "## Outputs\n\nThis task type has no outputs."
    required = set(schema.get("required", []))
    rows = [
        [
            code(name),
            type_label(prop, definitions) + ("" if name in required else " (may be null)"),
            prop.get("description", ""),
        ]
        for name, prop in schema["properties"].items()
    ]
    first = names[0]
    return "\n\n".join(
        [
            "## Outputs",
            f"Later tasks read them as {code('{{ outputs.<task id>.' + first + ' }}')}.",
            table(["Output", "Type", "Description"], rows),
        ]
    )


def examples_section(declared: TaskType | TriggerType) -> str:
    """The example flows a task or trigger type declares."""
    if not declared.examples:
        return ""
    parts = ["## Examples"]
    for example in declared.examples:
        parts.extend([f"### {example.title}", yaml_block(example.flow)])
    return "\n\n".join(parts)


def properties_section(
    schema: Mapping[str, Any], definitions: Definitions, intro: str, *, kind: str
) -> list[str]:
    """The ``## Properties`` section of a task (with its dynamic column) or trigger page."""
    if not schema.get("properties"):
        return ["## Properties", intro, f"This {kind} type has no properties of its own."]
    table_text = properties_table(schema, definitions, dynamic_column=kind == "task")
    return ["## Properties", intro, table_text]


def common_keys_schema(properties: dict[str, Any], *, kind: str) -> dict[str, Any]:
    """The keys every task (or trigger) accepts, as a schema to print: ``id`` and ``type`` first."""
    return {
        "properties": {
            "id": properties.pop("id"),
            "type": {"type": "string", "description": f"The {kind} type: an id or an alias."},
            **properties,
        },
        "required": ["id", "type"],
    }


def types_section(
    title: str,
    declared: Sequence[tuple[Any, str]],
    page_path: Callable[[Any], str],
) -> str:
    """The index's table of task (or trigger) types, each linked to its page."""
    rows = [
        [
            f"[{code(one.type)}]({page_path(one)})",
            code(distribution),
            summary_and_details(one.description())[0],
            ", ".join(code(alias) for alias in one.aliases),
        ]
        for one, distribution in declared
    ]
    return "\n\n".join([title, table(["Type", "Plugin", "What it does", "Also written"], rows)])


def task_page(task: TaskType, distribution: str) -> str:
    summary, details = summary_and_details(task.description())
    facts = [["Type", code(task.type)], ["Plugin", code(distribution)]]
    if task.aliases:
        facts.append(["Also written", ", ".join(code(alias) for alias in task.aliases)])
    schema = properties_schema(task)
    schema["properties"] = {
        name: prop
        for name, prop in schema.get("properties", {}).items()
        if name not in COMMON_TASK_KEYS  # the kernel reads those itself, as in the flow schema
    }
    definitions = schema.get("definitions", {})
    intro = (
        "Dynamic properties may hold `{{ ... }}` expressions, rendered when the task runs. "
        f"Every task also accepts the [keys every task accepts](../index.md#{COMMON_KEYS_ANCHOR}) "
        "(`id`, `type`, `timeout`...)."
    )
    return page(
        f"# {summary}",
        details,
        table(["", ""], facts),
        *properties_section(schema, definitions, intro, kind="task"),
        *nested_sections(schema, definitions),
        _outputs_section(task),
        examples_section(task),
    )


def common_keys_section() -> str:
    common = common_keys_schema(common_task_properties(), kind="task")
    definitions = {RETRY_DEFINITION: retry_definition()}
    return "\n\n".join(
        [
            "## Keys every task accepts",
            "The kernel reads these keys itself; a plugin default may set all but `id` and `type`.",
            properties_table(common, definitions, dynamic_column=False),
            *nested_sections(common, definitions),
        ]
    )


def task_types_section(tasks: Sequence[tuple[TaskType, str]]) -> str:
    return types_section("## Task types", tasks, task_page_path)
