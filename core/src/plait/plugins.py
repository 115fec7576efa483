"""Builds the plugin manager and the registry of everything plugins contribute.

A factory, not a module-level global: tests and embedded uses build as many independent
registries as they like. The kernel's own features are plugins too (``plait.builtin``), loaded
through the same hooks as the distributions found under the ``plait`` entry point group.
"""

from __future__ import annotations

import importlib.metadata as md
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import plait_sdk
import pluggy
from plait_sdk import hookspecs
from plait_sdk.flowable import task_lists
from plait_sdk.task import Task
from plait_sdk.trigger import Trigger

from plait.distribution import (
    Distribution,
    installed_distribution,
    normalize_name,
)
from plait.errors import PluginError
from plait.plugin_hints import LOAD_PLUGINS_ENV, unknown_task_type_message

ENTRY_POINT_GROUP = "plait"
SDK_MAJOR_ATTR = "PLAIT_SDK_MAJOR"
CORE_DISTRIBUTION = "plait"

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


@dataclass
class Refused:
    """A plugin that was imported but not loaded, kept so that ``plait plugin check`` can still
    examine it and say why."""

    info: PluginInfo
    module: ModuleType
    reason: str
    check: str
    """The contract check the reason belongs to: ``sdk``, ``ids`` (a name another plugin
    already registered) or ``load`` (a register hook raised)."""
    classes: list[TaskType] = field(default_factory=list)


@dataclass
class Registry:
    """Everything the loaded plugins registered, merged and checked for conflicts."""

    pm: pluggy.PluginManager
    plugins: list[PluginInfo]
    task_types: dict[str, TaskType]
    """Every id and alias -> task class."""
    trigger_types: dict[str, TriggerType]
    """Every id and alias -> trigger class."""
    filters: dict[str, Callable[..., Any]]
    functions: dict[str, Callable[..., Any]]
    storage_backends: dict[str, Any]
    secret_providers: dict[str, Any]
    repositories: dict[str, Any]
    skipped: list[str] = field(default_factory=list)
    """Why plugins that were found were not loaded (incompatible SDK, import error, a failing
    register hook, a name another plugin registered first)."""
    refused: list[Refused] = field(default_factory=list)
    """The plugins among ``skipped`` that could be imported."""
    filtered_out: set[str] = field(default_factory=set)
    """Installed plugin distributions (normalized names) that PLAIT_LOAD_PLUGINS leaves out."""
    distribution: Distribution | None = None
    """The installed distribution whose plugin list and enabled task types were applied."""
    excluded: dict[str, str] = field(default_factory=dict)
    """Ids and aliases of task types a loaded plugin offers but the distribution leaves out
    (name -> canonical id)."""

    @property
    def canonical_types(self) -> dict[str, TaskType]:
        return {cls.type: cls for cls in self.task_types.values()}

    def owner_of(self, type_id: str) -> PluginInfo | None:
        cls = self.task_types.get(type_id)
        for plugin in self.plugins:
            if cls is not None and cls.type in plugin.task_types:
                return plugin
        return None

    def find_task_type(self, name: str) -> TaskType | None:
        return self.task_types.get(name)

    def task_lists(self, name: str) -> dict[str, str]:
        """The properties of task type ``name`` that hold child tasks (none if unknown)."""
        cls = self.task_types.get(name)
        return dict(task_lists(cls)) if cls is not None else {}

    def unknown_task_type_message(self, name: str) -> str:
        """Explain an unknown type: close matches, what is installed, and how to get more."""
        return unknown_task_type_message(self, name)


def _builtin_modules() -> list[ModuleType]:
    from plait.builtin import filters, flow_tasks, kv, loops, secrets, storage, tasks, triggers

    return [tasks, flow_tasks, loops, kv, triggers, filters, storage, secrets]


def registered_backends(distributions: set[str]) -> tuple[dict[str, set[str]], set[str]]:
    """The storage backends (``storage``) and execution repositories (``state``) the core and
    the installed plugin distributions among ``distributions`` register, and which of
    ``distributions`` are not installed. For checking a distribution's manifest: a plugin that
    fails to load is skipped here and reported when the registry is built."""
    modules = _builtin_modules()
    found: set[str] = set()
    for ep in _entry_points():
        name = normalize_name(ep.dist.name if ep.dist else ep.name)
        if name not in distributions:
            continue
        found.add(name)
        try:
            modules.append(ep.load())
        except Exception:  # reported by build_registry
            continue
    names: dict[str, set[str]] = {"storage": set(), "state": set()}
    hooks = {"storage": "register_storage_backends", "state": "register_repositories"}
    for module in modules:
        for key, hook in hooks.items():
            register = getattr(module, hook, None)
            try:
                names[key] |= set(register() or {}) if register else set()
            except Exception:  # reported by build_registry
                continue
    return names, distributions - found


def _requested(load: Sequence[str] | None) -> set[str] | None:
    """Distribution names to load, from the argument or ``PLAIT_LOAD_PLUGINS``; None = all."""
    if load is not None:
        return {_normalize(n) for n in load}
    raw = os.environ.get(LOAD_PLUGINS_ENV)
    if raw is None:
        return None
    return {_normalize(n) for n in raw.split(",") if n.strip()}


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _check_sdk_major(module: ModuleType, plugin_name: str) -> str | None:
    major = getattr(module, SDK_MAJOR_ATTR, plait_sdk.SDK_MAJOR)
    if major != plait_sdk.SDK_MAJOR:
        return (
            f"plugin '{plugin_name}' was built for plait-sdk {major}.x but this installation "
            f"has plait-sdk {plait_sdk.__version__}; upgrade the plugin or install a matching plait"
        )
    return None


def build_registry(
    load: Sequence[str] | None = None,
    extra: Sequence[ModuleType] = (),
    *,
    distribution: Distribution | None = None,
) -> Registry:
    """Load the built-in plugins and the installed ones (all, or those named by ``load`` /
    ``PLAIT_LOAD_PLUGINS``), plus ``extra`` plugin modules not installed as distributions
    (a plugin under development, a test's plugin), and merge what they register.

    ``distribution`` (default: the installed one, if any) bounds what loads: only its plugins,
    and only the task types its ``taskTypes`` enable."""
    distribution = distribution or installed_distribution()
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    plugins: list[tuple[PluginInfo, ModuleType]] = []
    skipped: list[str] = []
    refused: list[Refused] = []
    core_version = md.version(CORE_DISTRIBUTION)
    for module in _builtin_modules():
        info = PluginInfo(module.__name__.removeprefix("plait."), CORE_DISTRIBUTION, core_version)
        pm.register(module, name=info.name)  # builtin.tasks, builtin.filters...
        plugins.append((info, module))

    wanted = _requested(load)
    allowed = distribution.plugin_names() if distribution else None
    found: set[str] = set()
    filtered_out: set[str] = set()
    for ep in _entry_points():
        dist_name = ep.dist.name if ep.dist else ep.name
        found.add(_normalize(dist_name))
        if allowed is not None and _normalize(dist_name) not in allowed:
            continue
        if wanted is not None and _normalize(dist_name) not in wanted:
            filtered_out.add(_normalize(dist_name))
            continue
        try:
            module = ep.load()
        except Exception as exc:  # a broken plugin must not take the others down
            skipped.append(f"plugin '{ep.name}' ({dist_name}) failed to import: {exc}")
            continue
        version = ep.dist.version if ep.dist else "unknown"
        info = PluginInfo(ep.name, dist_name, version)
        if problem := _check_sdk_major(module, ep.name):
            skipped.append(problem)
            refused.append(Refused(info, module, problem, "sdk"))
            continue
        if pm.is_registered(module):
            continue
        pm.register(module, name=ep.name)
        plugins.append((info, module))
    skipped += _requested_gaps(wanted, found, distribution)
    for module in extra:
        info = PluginInfo(module.__name__, module.__name__, "local")
        if problem := _check_sdk_major(module, module.__name__):
            skipped.append(problem)
            refused.append(Refused(info, module, problem, "sdk"))
            continue
        pm.register(module, name=module.__name__)
        plugins.append((info, module))
    registry = _merge(pm, plugins, skipped, refused)
    registry.filtered_out = filtered_out
    if distribution is not None:
        _restrict(registry, distribution)
    return registry


def _requested_gaps(
    wanted: set[str] | None, found: set[str], distribution: Distribution | None
) -> list[str]:
    """What PLAIT_LOAD_PLUGINS asks for that is not here, and what the distribution promises
    but cannot load here."""
    own = distribution.plugin_names() if distribution else set()
    gaps = [
        f"plugin distribution '{name}' of the distribution {distribution.label} is not installed"
        for name in sorted(own - found)
        if distribution is not None
    ]
    for name in sorted(wanted or ()):
        if distribution is not None and name not in own:
            gaps.append(
                f"{LOAD_PLUGINS_ENV} names '{name}', which the distribution "
                f"{distribution.label} does not contain"
            )
        elif name not in found and name not in own:  # own: reported as not installed above
            gaps.append(f"{LOAD_PLUGINS_ENV} names '{name}', which is not installed")
    return gaps


def _restrict(registry: Registry, distribution: Distribution) -> None:
    """Leave out the task types the distribution does not enable, remembering their names so
    that a flow using one is told why."""
    registry.distribution = distribution
    for cls in list(registry.canonical_types.values()):
        names = (cls.type, *cls.aliases)
        if distribution.enables(names):
            continue
        for name in names:
            registry.task_types.pop(name, None)
            registry.excluded[name] = cls.type
        for info in registry.plugins:
            info.task_types.pop(cls.type, None)


def _entry_points() -> Iterable[md.EntryPoint]:
    return sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


_NAMED_HOOKS = {
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
class _Contribution:
    classes: list[TaskType]
    named: dict[str, Mapping[str, Any]]
    triggers: list[TriggerType] = field(default_factory=list)

    def typed(self) -> list[tuple[str, type[Any]]]:
        """Task and trigger classes with what each is called in a message."""
        return [("task type", c) for c in self.classes] + [
            ("trigger type", c) for c in self.triggers
        ]


def _contribution(pm: pluggy.PluginManager, module: ModuleType) -> _Contribution:
    """Everything one plugin registers; raises PluginError naming the hook that failed."""
    results: dict[str, Any] = {}
    for hook in ("register_task_types", "register_trigger_types", *_NAMED_HOOKS):
        try:
            results[hook] = _call(pm, module, hook)
        except Exception as exc:
            raise PluginError(f"{hook} raised {type(exc).__name__}: {exc}") from exc
    return _Contribution(
        classes=list(results.pop("register_task_types") or []),
        triggers=list(results.pop("register_trigger_types") or []),
        named={hook: dict(value or {}) for hook, value in results.items()},
    )


@dataclass
class _Merged:
    """The contributions accepted so far, with the plugin that registered each name."""

    task_types: dict[str, TaskType] = field(default_factory=dict)
    trigger_types: dict[str, TriggerType] = field(default_factory=dict)
    type_owner: dict[str, str] = field(default_factory=dict)
    named: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {hook: {} for hook in _NAMED_HOOKS}
    )
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def conflicts(self, owner: str, contribution: _Contribution) -> list[str]:
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
                f"{_NAMED_HOOKS[hook]} '{key}' is registered by both plugin "
                f"'{self.owners[hook, key]}' and plugin '{owner}'"
                for key in contributed
                if key in self.named[hook]
            ]
        return found

    def add(self, owner: str, info: PluginInfo, contribution: _Contribution) -> None:
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


def _merge(
    pm: pluggy.PluginManager,
    plugins: list[tuple[PluginInfo, ModuleType]],
    skipped: list[str],
    refused: list[Refused],
) -> Registry:
    """Merge contributions plugin by plugin, in load order (built-ins first). A plugin whose
    register hook raises, or that registers a name an earlier plugin has, is refused whole,
    so that the others keep working and the reason can name both plugins."""
    merged = _Merged()
    loaded = []
    for info, module in plugins:
        owner = f"{info.name} ({info.distribution})"
        try:
            contribution = _contribution(pm, module)
        except PluginError as exc:
            reason = f"plugin '{owner}' failed to register: {exc}"
            skipped.append(reason)
            refused.append(Refused(info, module, reason, "load"))
            pm.unregister(module)
            continue
        if conflicts := merged.conflicts(owner, contribution):
            reason = f"plugin '{owner}' refused: " + "; ".join(conflicts)
            skipped.append(reason)
            refused.append(Refused(info, module, reason, "ids", contribution.classes))
            pm.unregister(module)
            continue
        merged.add(owner, info, contribution)
        loaded.append(info)
    return Registry(
        pm=pm,
        plugins=loaded,
        task_types=merged.task_types,
        trigger_types=merged.trigger_types,
        filters=merged.named["register_filters"],
        functions=merged.named["register_functions"],
        storage_backends=merged.named["register_storage_backends"],
        secret_providers=merged.named["register_secret_providers"],
        repositories=merged.named["register_repositories"],
        skipped=skipped,
        refused=refused,
    )
