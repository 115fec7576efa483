"""Reading tasks: their common keys, and the tree they form (the child task lists of flowable
task types nest tasks at any depth)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plait.durations import parse_duration
from plait.flows import ids
from plait.flows.model import COMMON_TASK_FIELDS, COMMON_TASK_KEYS, ListKey, TaskDef
from plait.flows.reader import Reader, describe
from plait.flows.yaml_positions import PathKey

UNSUPPORTED_TASK_KEYS = frozenset(
    {
        "workerGroup",
        "version",
        "pluginDefaultsRef",
        "assets",
    }
)
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
RETRY_TYPES = ("constant", "exponential", "random")
TASK_CACHE_KEYS = ("enabled", "ttl")
TaskListLookup = Callable[[str], Mapping[str, str]]
"""A task type name -> its properties holding child tasks (``{"then": "list", "cases": "map"}``);
the registry provides it, so plugins' flowables nest like the core's."""


def check_common_key(key: str, value: Any, path: PathKey, reader: Reader, where: str) -> Any:
    """Check a key every task accepts (in a task or in a plugin default); None if invalid."""
    if key in ("disabled", "allowFailure", "allowWarning", "logToFile"):
        return reader.kind(value, bool, path, key, where)
    if key == "taskCache":
        return _task_cache(value, path, reader, where)
    if key == "runIf" and isinstance(value, bool):
        return "true" if value else "false"
    if key == "retry":
        retry = reader.kind(value, dict, path, key, where)
        kind = retry.get("type") if retry else None
        if retry is not None and kind not in RETRY_TYPES:
            reader.problem(
                (*path, "type") if "type" in retry else path,
                f"{where}retry 'type' must be one of {', '.join(RETRY_TYPES)}, "
                f"got {describe(kind)}",
            )
            return None
        return retry
    text = reader.kind(value, str, path, key, where)
    if text is None or key == "description":
        return text
    if key == "timeout" and parse_duration(text) is None:
        reader.problem(
            path,
            f"{where}'timeout' must be an ISO-8601 duration such as PT5M, got {describe(text)}",
        )
        return None
    if key == "logLevel" and text not in LOG_LEVELS:
        reader.problem(
            path,
            f"{where}'logLevel' must be one of {', '.join(LOG_LEVELS)}, got {describe(text)}"
            + ids.did_you_mean(text, LOG_LEVELS),
        )
        return None
    return text


def _task_cache(value: Any, path: PathKey, reader: Reader, where: str) -> dict[str, Any] | None:
    """Kestra's ``taskCache``: ``enabled`` (required) and an optional ``ttl`` duration."""
    cache = reader.kind(value, dict, path, "taskCache", where)
    if cache is None:
        return None
    before = len(reader.problems)
    reader.unknown_keys(cache, path, TASK_CACHE_KEYS, "taskCache")
    if not isinstance(cache.get("enabled"), bool):
        reader.problem(
            (*path, "enabled") if "enabled" in cache else path,
            f"{where}taskCache 'enabled' must be true or false, got "
            f"{describe(cache.get('enabled'))}",
        )
    ttl = cache.get("ttl")
    if ttl is not None and (not isinstance(ttl, str) or parse_duration(ttl) is None):
        reader.problem(
            (*path, "ttl"),
            f"{where}taskCache 'ttl' must be an ISO-8601 duration such as PT1H, got "
            f"{describe(ttl)}",
        )
    return cache if len(reader.problems) == before else None


class TaskTree:
    """Reads task lists, descending into the child lists of flowable task types; task ids are
    unique in the whole tree."""

    def __init__(self, reader: Reader, task_lists: TaskListLookup) -> None:
        self.reader = reader
        self.task_lists = task_lists
        self.first_seen: dict[str, int] = {}

    def tasks(self, value: Any, path: PathKey, name: str) -> list[TaskDef]:
        return [
            self.task(raw, (*path, index), index)
            for index, raw in self.reader.items(value, path, name)
        ]

    def task(self, raw: dict[str, Any], path: PathKey, index: int) -> TaskDef:
        reader = self.reader
        task_id = reader.identifier(
            raw.get("id"), ids.TASK_ID, (*path, "id"), "id", f"task #{index + 1}: "
        )
        where = f"task '{task_id}': " if task_id else f"task #{index + 1}: "
        if task_id is not None and task_id in self.first_seen:
            reader.problem(
                (*path, "id"),
                f"duplicate task id '{task_id}' (first used at line {self.first_seen[task_id]}); "
                "task ids must be unique in a flow, nested tasks included",
            )
        elif task_id is not None:
            self.first_seen[task_id] = (reader.map.value((*path, "id")) or (0, 0))[0]
        task_type = raw.get("type")
        if task_type is None:
            reader.problem(path, f"{where}missing required 'type'")
        elif not isinstance(task_type, str) or not task_type.strip():
            reader.problem(
                (*path, "type"), f"{where}'type' must be a task type id, got {describe(task_type)}"
            )
            task_type = None
        for key in raw:
            if key in UNSUPPORTED_TASK_KEYS:
                reader.problem(
                    (*path, key),
                    f"{where}'{key}' is a Kestra task property that plait does not support",
                    at_key=True,
                )
        common = {
            COMMON_TASK_FIELDS[key]: check_common_key(key, raw[key], (*path, key), reader, where)
            for key in COMMON_TASK_FIELDS
            if key in raw
        }
        line, column = reader.map.value(path) or (0, 0)
        kinds = self.task_lists(task_type) if task_type else {}
        children = self.children(raw, path, kinds, where)
        return TaskDef(
            id=task_id or "",
            type=task_type or "",
            properties={
                k: v
                for k, v in raw.items()
                if k not in COMMON_TASK_KEYS
                and k not in UNSUPPORTED_TASK_KEYS
                and not (k in kinds and v is None)  # a null task list is an absent one
            },
            line=line,
            column=column,
            property_positions={key: pos for key in raw if (pos := reader.map.key((*path, key)))},
            raw=raw,
            path=path,
            children=children,
            **{k: v for k, v in common.items() if v is not None},
        )

    def children(
        self, raw: dict[str, Any], path: PathKey, kinds: Mapping[str, str], where: str
    ) -> dict[ListKey, list[TaskDef]]:
        """The child task lists of a flowable, each empty list or wrong shape reported.

        A list written as null (``defaults: null``, ``then:``) is absent, as Kestra reads it:
        the task type's own validation says whether it is required. The names of a map of lists
        become text (``1:`` is the case ``"1"``), in ``raw`` too, so validation and the run
        see the same keys."""
        found: dict[ListKey, list[TaskDef]] = {}
        for key, kind in kinds.items():
            value = raw.get(key)
            if value is None:
                continue
            if kind == "list":
                found[(key,)] = self._list(value, (*path, key), key, where)
                continue
            if not isinstance(value, dict) or not value:
                self.reader.problem(
                    (*path, key),
                    f"{where}'{key}' must be a mapping of names to lists of tasks, "
                    f"got {describe(value)}",
                )
                continue
            for name, tasks in value.items():
                if (key, str(name)) in found:
                    self.reader.problem(
                        (*path, key, name),
                        f"{where}'{key}' has the name '{name}' twice",
                        at_key=True,
                    )
                found[(key, str(name))] = self._list(
                    tasks, (*path, key, name), f"{key}.{name}", where
                )
            raw[key] = {str(name): tasks for name, tasks in value.items()}
        return found

    def _list(self, value: Any, path: PathKey, name: str, where: str) -> list[TaskDef]:
        if value == []:
            self.reader.problem(path, f"{where}'{name}' must contain at least one task")
        return self.tasks(value, path, name)
