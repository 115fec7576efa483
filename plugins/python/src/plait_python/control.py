"""Kestra's control lines: a script talks to the engine by printing ``::{...}::`` on a line.

``::{"outputs": {"rows": 3}}::`` adds to the task's ``vars`` output and
``::{"logs": [{"level": "INFO", "message": "hi"}]}::`` writes task log lines.
``::{"metrics": [{"name": "rows", "type": "counter", "value": 3, "tags": {}}]}::`` reports a
metric (Kestra's ``counter``, ``timer`` in seconds, ``gauge``); plait keeps no metric store and
logs them at DEBUG. Any other line, including a malformed control line, is ordinary output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PREFIX, SUFFIX = "::{", "}::"
LOG_LEVELS = {
    "TRACE": "debug",
    "DEBUG": "debug",
    "INFO": "info",
    "WARN": "warning",
    "WARNING": "warning",
    "ERROR": "error",
}


@dataclass(frozen=True)
class LogEntry:
    level: str
    """Method name on the task logger: debug, info, warning or error."""
    message: str


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str
    """counter, timer or gauge."""
    value: Any
    tags: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        tags = "".join(f" {key}={value}" for key, value in sorted(self.tags.items()))
        return f"metric {self.kind} {self.name} = {self.value}{tags}"


@dataclass(frozen=True)
class ControlLine:
    outputs: Mapping[str, Any] = field(default_factory=dict)
    logs: tuple[LogEntry, ...] = ()
    metrics: tuple[Metric, ...] = ()


def parse_control_line(line: str) -> ControlLine | None:
    """The control message on ``line``, or None when it is ordinary output."""
    text = line.strip()
    if not (text.startswith(PREFIX) and text.endswith(SUFFIX)):
        return None
    try:
        payload = json.loads(text[2:-2])
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    outputs = payload.get("outputs", {})
    logs = payload.get("logs", [])
    metrics = payload.get("metrics", [])
    shapes_ok = isinstance(outputs, dict) and isinstance(logs, list) and isinstance(metrics, list)
    if not shapes_ok:
        return None
    return ControlLine(
        outputs=outputs,
        logs=tuple(_log_entry(item) for item in logs),
        metrics=tuple(_metric(item) for item in metrics if isinstance(item, dict)),
    )


def _log_entry(item: Any) -> LogEntry:
    if not isinstance(item, dict):
        return LogEntry("info", str(item))
    level = LOG_LEVELS.get(str(item.get("level", "INFO")).upper(), "info")
    return LogEntry(level, str(item.get("message", "")))


def _metric(item: Mapping[str, Any]) -> Metric:
    tags = item.get("tags")
    return Metric(
        name=str(item.get("name", "")),
        kind=str(item.get("type", "")),
        value=item.get("value"),
        tags=tags if isinstance(tags, dict) else {},
    )
