"""What one plugin contributes through the register hooks, and the merge of contributions:
every name owned by the plugin that registered it first, the conflicts a later plugin would
cause named with both plugins (:func:`plait.plugins.build_registry` refuses such a plugin)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy
from plait_sdk.task import Task
from plait_sdk.trigger import Trigger

from plait.errors import PluginError

TaskType = type[Task[Any, Any]]
TriggerType = type[Trigger[Any]]


@dataclass
class PluginInfo:
    """One loaded plugin, as ``plait plugins list`` shows it."""

    name: str
    distribution: str
    version: str
    task_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical task type id -> aliases."""
    trigger_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical trigger type id -> aliases."""
    provides: dict[str, list[str]] = field(default_factory=dict)
    """What else it registers: kind (filters, functions, storage backends...) -> names."""

    @property
    def owner(self) -> str:
        """How messages name it: ``builtin.tasks (plait)``."""
        return f"{self.name} ({self.distribution})"


NAMED_HOOKS = {
    "register_filters": "filter",
    "register_functions": "function",
    "register_storage_backends": "storage backend",
    "register_secret_providers": "secret provider",
    "register_repositories": "repository",
}
"""The hooks that register things by name, and what one such thing is called."""


def _kinds(hook: str) -> str:
    return hook.removeprefix("register_").replace("_", " ")


def _call(pm: pluggy.PluginManager, module: ModuleType, hook: str) -> Any:
    """Call one plugin's implementation of a hook (results must be attributed to plugins)."""
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if impl.plugin is module:
            return impl.function()
    return None


@dataclass
class Contribution:
    classes: list[TaskType]
    named: dict[str, Mapping[str, Any]]
    triggers: list[TriggerType] = field(default_factory=list)

    def typed(self) -> list[tuple[str, type[Any]]]:
        """Task and trigger classes with what each is called in a message."""
        return [("task type", c) for c in self.classes] + [
            ("trigger type", c) for c in self.triggers
        ]


def contribution_of(pm: pluggy.PluginManager, module: ModuleType) -> Contribution:
    """Everything one plugin registers; raises PluginError naming the hook that failed."""
    results: dict[str, Any] = {}
    for hook in ("register_task_types", "register_trigger_types", *NAMED_HOOKS):
        try:
            results[hook] = _call(pm, module, hook)
        except Exception as exc:
            raise PluginError(f"{hook} raised {type(exc).__name__}: {exc}") from exc
    return Contribution(
        classes=list(results.pop("register_task_types") or []),
        triggers=list(results.pop("register_trigger_types") or []),
        named={hook: dict(value or {}) for hook, value in results.items()},
    )


@dataclass
class Merged:
    """The contributions accepted so far, with the plugin that registered each name."""

    task_types: dict[str, TaskType] = field(default_factory=dict)
    trigger_types: dict[str, TriggerType] = field(default_factory=dict)
    type_owner: dict[str, str] = field(default_factory=dict)
    named: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {hook: {} for hook in NAMED_HOOKS}
    )
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def conflicts(self, owner: str, contribution: Contribution) -> list[str]:
        """Why the plugin ``owner`` cannot be added: every name it takes that is taken."""
        found = []
        seen: set[str] = set()
        for kind, cls in contribution.typed():
            for name in (cls.type, *cls.aliases):
                if name in seen:
                    found.append(
                        f"{kind} '{name}' is registered twice by plugin '{owner}': {kind} "
                        "ids and aliases must be unique"
                    )
                elif name in self.type_owner:
                    found.append(
                        f"{kind} '{name}' is registered by both plugin "
                        f"'{self.type_owner[name]}' and plugin '{owner}'"
                    )
                seen.add(name)
        for hook, contributed in contribution.named.items():
            found += [
                f"{NAMED_HOOKS[hook]} '{key}' is registered by both plugin "
                f"'{self.owners[hook, key]}' and plugin '{owner}'"
                for key in contributed
                if key in self.named[hook]
            ]
        return found

    def add(self, owner: str, info: PluginInfo, contribution: Contribution) -> None:
        for cls in contribution.classes:
            info.task_types[cls.type] = tuple(cls.aliases)
            for name in (cls.type, *cls.aliases):
                self.type_owner[name] = owner
                self.task_types[name] = cls
        for trigger in contribution.triggers:
            info.trigger_types[trigger.type] = tuple(trigger.aliases)
            for name in (trigger.type, *trigger.aliases):
                self.type_owner[name] = owner
                self.trigger_types[name] = trigger
        for hook, contributed in contribution.named.items():
            if contributed:
                info.provides[_kinds(hook)] = sorted(contributed)
            for key, value in contributed.items():
                self.owners[hook, key] = owner
                self.named[hook][key] = value
