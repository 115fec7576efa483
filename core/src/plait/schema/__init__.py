"""JSON Schemas for editors and the reference docs, generated only from what the installed
plugins declare. ``plait schema`` prints them, ``plait docs`` turns them into markdown, and the
web server serves the same :func:`flow_schema`."""

from __future__ import annotations

import json
from typing import Any

from plait_sdk.flowable import task_lists
from plait_sdk.schema import output_names, outputs_schema, properties_schema

from plait.plugins import TaskType
from plait.schema.flow import flow_schema
from plait.schema.tasks import any_task_definitions, with_task_lists


def task_schema(task: TaskType) -> dict[str, Any]:
    """One task type as ``plait schema task`` prints it; a flowable's child task lists hold
    tasks, described as in the flow schema (by the keys every task has, see
    :func:`plait.schema.tasks.any_task_definitions`)."""
    return {
        "type": task.type,
        "aliases": list(task.aliases),
        "title": task.title(),
        "properties": _properties(task),
        "outputs": outputs_schema(task),
        "outputNames": output_names(task),
    }


def _properties(task: TaskType) -> dict[str, Any]:
    props = with_task_lists(task, properties_schema(task))
    if task_lists(task):
        props["definitions"] = {**props.get("definitions", {}), **any_task_definitions()}
    return props


def to_json(schema: Any) -> str:
    """Stable text: the same schema always gives the same bytes (a file people commit and
    diff), ending with a newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


__all__ = ["flow_schema", "task_schema", "to_json"]
