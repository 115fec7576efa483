"""JSON Schemas for editors and the reference docs, generated only from what the installed
plugins declare. ``plait schema`` prints them, ``plait docs`` turns them into markdown, and the
web server serves the same :func:`flow_schema`."""

from __future__ import annotations

import json
from typing import Any

from plait_sdk.schema import output_names, outputs_schema, properties_schema

from plait.plugins import TaskType
from plait.schema.flow import flow_schema


def task_schema(task: TaskType) -> dict[str, Any]:
    """One task type as ``plait schema task`` prints it."""
    return {
        "type": task.type,
        "aliases": list(task.aliases),
        "title": task.title(),
        "properties": properties_schema(task),
        "outputs": outputs_schema(task),
        "outputNames": output_names(task),
    }


def to_json(schema: Any) -> str:
    """Stable text: the same schema always gives the same bytes (a file people commit and
    diff), ending with a newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


__all__ = ["flow_schema", "task_schema", "to_json"]
