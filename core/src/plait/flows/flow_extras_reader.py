"""Reading a flow's ``triggers`` and ``concurrency`` (structure only: a trigger's properties are
checked against its type by :mod:`plait.flows.validate`), and the flow keys Kestra users write
that only need a check: ``revision``, ``taskDefaults``, ``logToFile``."""

from __future__ import annotations

from typing import Any

from plait.flows import ids
from plait.flows.model import CONCURRENCY_BEHAVIORS, Concurrency, TriggerDef
from plait.flows.reader import Reader, describe
from plait.flows.yaml_positions import PathKey

COMMON_TRIGGER_KEYS = frozenset({"id", "type", "description", "disabled"})
CONCURRENCY_KEYS = ("limit", "behavior")


def read_triggers(value: Any, reader: Reader) -> list[TriggerDef]:
    triggers: list[TriggerDef] = []
    seen: dict[str, int] = {}
    for index, raw in reader.items(value, ("triggers",), "triggers"):
        path: PathKey = ("triggers", index)
        trigger_id = reader.identifier(
            raw.get("id"), ids.TASK_ID, (*path, "id"), "id", f"trigger #{index + 1}: "
        )
        where = f"trigger '{trigger_id}': " if trigger_id else f"trigger #{index + 1}: "
        if trigger_id is not None and trigger_id in seen:
            reader.problem(
                (*path, "id"),
                f"duplicate trigger id '{trigger_id}' (first used at line {seen[trigger_id]})",
            )
        elif trigger_id is not None:
            seen[trigger_id] = (reader.map.value((*path, "id")) or (0, 0))[0]
        kind = raw.get("type")
        if not isinstance(kind, str) or not kind.strip():
            reader.problem(
                (*path, "type") if "type" in raw else path,
                f"{where}'type' must be a trigger type id, got {describe(kind)}",
            )
            kind = ""
        disabled = reader.kind(raw.get("disabled"), bool, (*path, "disabled"), "disabled", where)
        description = reader.kind(
            raw.get("description"), str, (*path, "description"), "description", where
        )
        line, column = reader.map.value(path) or (0, 0)
        triggers.append(
            TriggerDef(
                id=trigger_id or "",
                type=kind,
                properties={k: v for k, v in raw.items() if k not in COMMON_TRIGGER_KEYS},
                description=description,
                disabled=bool(disabled),
                line=line,
                column=column,
                path=path,
            )
        )
    return triggers


def read_concurrency(value: Any, reader: Reader) -> Concurrency | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        reader.problem(("concurrency",), f"'concurrency' must be a mapping, got {describe(value)}")
        return None
    reader.unknown_keys(value, ("concurrency",), CONCURRENCY_KEYS, "concurrency")
    limit = value.get("limit")
    behavior = value.get("behavior", "QUEUE")
    ok = True
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        where = ("concurrency", "limit") if "limit" in value else ("concurrency",)
        reader.problem(
            where,
            f"concurrency 'limit' must be a whole number of at least 1, got {describe(limit)}",
        )
        ok = False
    if behavior not in CONCURRENCY_BEHAVIORS:
        reader.problem(
            ("concurrency", "behavior"),
            f"concurrency 'behavior' must be one of {', '.join(CONCURRENCY_BEHAVIORS)}, got "
            f"{describe(behavior)}{ids.did_you_mean(behavior, CONCURRENCY_BEHAVIORS)}",
        )
        ok = False
    return Concurrency(limit, behavior) if ok else None


def check_revision(data: dict[Any, Any], reader: Reader) -> None:
    """``revision`` is accepted and otherwise ignored: Kestra sets it when it stores the flow,
    and so does plait (``flow.revision`` is the stored revision). A written one must still be a
    revision number, as Kestra's validation requires."""
    value = data.get("revision")
    if "revision" in data and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        reader.problem(
            ("revision",),
            f"'revision' must be a whole number of at least 1, got {describe(value)} (it is set "
            "when the flow is stored and may be left out)",
        )


def plugin_defaults_key(data: dict[Any, Any], reader: Reader) -> str:
    """Which key holds the plugin defaults: ``pluginDefaults``, or Kestra's older name
    ``taskDefaults``. Both at once is refused (Kestra keeps whichever it reads last)."""
    if "taskDefaults" not in data:
        return "pluginDefaults"
    if "pluginDefaults" in data:
        reader.problem(
            ("taskDefaults",),
            "'taskDefaults' is the older name of 'pluginDefaults'; write one of them, not both",
            at_key=True,
        )
        return "pluginDefaults"
    return "taskDefaults"


def read_log_to_file(data: dict[Any, Any], reader: Reader) -> bool:
    """The flow's ``logToFile``: the default of every task's."""
    return bool(reader.kind(data.get("logToFile"), bool, ("logToFile",), "logToFile"))
