"""What the flow editor knows besides the flow JSON Schema: each task type's outputs, and the
expression functions (completed inside ``{{ }}`` with their usage, as ``plait docs`` shows them).

The flow schema (``GET /api/v1/plugins/schemas/flow``) describes what a flow may write; what a
task *outputs* is only in its markdown there. The editor completes ``outputs.<task id>.<name>``
and flags a wrong name before the flow is saved, so the page embeds this small map, built from
the same declarations as ``plait schema task`` and the server's own reference check
(:func:`plait_sdk.schema.output_names`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plait_sdk.schema import output_names, outputs_schema

from plait.plugins import TaskType
from plait.schema.docs_expressions import function_usage, summary
from plait.schema.tasks import TASK_DEFINITION


def output_catalog(task: TaskType) -> list[dict[str, str]]:
    """A task type's outputs, in declaration order, with their descriptions."""
    properties = outputs_schema(task).get("properties", {})
    return [
        {"name": name, "description": str(properties.get(name, {}).get("description", ""))}
        for name in output_names(task)
    ]


def editor_catalog(
    task_types: Mapping[str, TaskType], functions: Mapping[str, Callable[..., Any]]
) -> dict[str, Any]:
    """Every task type id and alias mapped to its outputs and whether it is a loop (whose
    children's outputs are keyed by loop value, as the server's reference check requires), and
    the registered expression functions with their usage and summary."""
    return {
        "taskDefinition": TASK_DEFINITION,
        "taskTypes": {
            name: {"outputs": output_catalog(cls), "loops": bool(getattr(cls, "loops", False))}
            for name, cls in sorted(task_types.items())
        },
        "functions": [
            {"name": name, "usage": function_usage(name, fn), "description": summary(fn)}
            for name, fn in sorted(functions.items())
        ],
    }
