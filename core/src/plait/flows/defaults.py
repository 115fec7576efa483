"""Plugin defaults: values applied to every task whose type starts with a given prefix.

Kestra's semantics: a default whose ``type`` is a prefix of the task's type applies to it;
non-forced values only fill what the task leaves out (maps are merged key by key), forced values
override the task's own. plait also matches the task's canonical type and its aliases, so a
default written for ``io.kestra.plugin.core.log`` applies to a task written ``plait.core.Log``.

Precedence, lowest first: global defaults (from a distribution's configuration), the flow's
defaults, the task itself, the flow's forced defaults, global forced defaults (an administrator's
enforcement cannot be bypassed by a flow). Within one level a longer prefix beats a shorter one,
and an earlier entry beats a later one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from plait.flows.model import COMMON_TASK_FIELDS, COMMON_TASK_KEYS, PluginDefault, TaskDef


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``; maps present in both are merged recursively."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(merged.get(key), Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def matching_defaults(
    type_names: Iterable[str], defaults: Sequence[PluginDefault]
) -> list[PluginDefault]:
    """The defaults applying to a task known by ``type_names``, most important first."""
    names = [n for n in type_names if n]
    matching = [
        (index, d) for index, d in enumerate(defaults) if any(n.startswith(d.type) for n in names)
    ]
    matching.sort(key=lambda item: (-len(item[1].type), item[0]))
    return [d for _, d in matching]


def _layers(
    task: TaskDef,
    canonical_type: str,
    defaults: Sequence[PluginDefault],
    aliases: Iterable[str],
    global_defaults: Sequence[PluginDefault],
) -> list[PluginDefault | None]:
    """Every applying default, highest precedence first; None stands for the task itself."""
    names = [task.type, canonical_type, *aliases]
    flow = matching_defaults(names, defaults)
    globals_ = matching_defaults(names, global_defaults)
    return [
        *(d for d in globals_ if d.forced),
        *(d for d in flow if d.forced),
        None,
        *(d for d in flow if not d.forced),
        *(d for d in globals_ if not d.forced),
    ]


def with_plugin_defaults(
    task: TaskDef,
    canonical_type: str,
    defaults: Sequence[PluginDefault],
    *,
    aliases: Iterable[str] = (),
    global_defaults: Sequence[PluginDefault] = (),
) -> TaskDef:
    """The task as it runs: its properties and common keys (timeout, retry...) with defaults."""
    merged: dict[str, Any] = {}
    for layer in reversed(_layers(task, canonical_type, defaults, aliases, global_defaults)):
        merged = deep_merge(
            merged, {**task.properties, **task.raw} if layer is None else layer.values
        )
    common = {field: merged[key] for key, field in COMMON_TASK_FIELDS.items() if key in merged}
    # The task's own keys keep their status (unsupported ones were left out when it was read).
    properties = {
        k: v
        for k, v in merged.items()
        if k not in COMMON_TASK_KEYS and (k in task.properties or k not in task.raw)
    }
    return dataclasses.replace(task, properties=properties, raw=merged, **common)


def apply_plugin_defaults(
    task: TaskDef,
    canonical_type: str,
    defaults: Sequence[PluginDefault],
    *,
    aliases: Iterable[str] = (),
    global_defaults: Sequence[PluginDefault] = (),
) -> dict[str, Any]:
    """The task's properties once the plugin defaults that match its type are applied."""
    return with_plugin_defaults(
        task, canonical_type, defaults, aliases=aliases, global_defaults=global_defaults
    ).properties


def value_source(
    key: str,
    task: TaskDef,
    canonical_type: str,
    defaults: Sequence[PluginDefault],
    *,
    aliases: Iterable[str] = (),
    global_defaults: Sequence[PluginDefault] = (),
) -> PluginDefault | None:
    """Which plugin default gave property ``key`` its value (None: the task itself or nobody),
    so that a problem with that value can point where it was written."""
    for layer in _layers(task, canonical_type, defaults, aliases, global_defaults):
        if layer is None and (key in task.raw or key in task.properties):
            return None
        if layer is not None and key in layer.values:
            return layer
    return None
