"""Builds the plugin manager and the registry of everything plugins contribute.

A factory, not a module-level global: tests and embedded uses build as many independent
registries as they like. The kernel's own features are plugins too (``plait.builtin``), loaded
through the same hooks as the distributions found under the ``plait`` entry point group.
"""

from __future__ import annotations

import difflib
import importlib.metadata as md
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import plait_sdk
import pluggy
from plait_sdk import hookspecs
from plait_sdk.task import Task

from plait.distribution import Distribution, installed_distribution, type_matches
from plait.errors import PluginError

ENTRY_POINT_GROUP = "plait"
LOAD_PLUGINS_ENV = "PLAIT_LOAD_PLUGINS"
SDK_MAJOR_ATTR = "PLAIT_SDK_MAJOR"
CORE_DISTRIBUTION = "plait"

TaskType = type[Task[Any, Any]]


@dataclass
class PluginInfo:
    """One loaded plugin, as ``plait plugins list`` shows it."""

    name: str
    distribution: str
    version: str
    task_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical task type id -> aliases."""


@dataclass
class Registry:
    """Everything the loaded plugins registered, merged and checked for conflicts."""

    pm: pluggy.PluginManager
    plugins: list[PluginInfo]
    task_types: dict[str, TaskType]
    """Every id and alias -> task class."""
    filters: dict[str, Callable[..., Any]]
    functions: dict[str, Callable[..., Any]]
    storage_backends: dict[str, Any]
    secret_providers: dict[str, Any]
    repositories: dict[str, Any]
    skipped: list[str] = field(default_factory=list)
    """Why plugins that were found were not loaded (incompatible SDK, import error)."""
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

    def unknown_task_type_message(self, name: str) -> str:
        """Explain an unknown type: close matches, what is installed, and how to get more."""
        if name in self.excluded and self.distribution is not None:
            canonical = self.excluded[name]
            enabled = ", ".join(self.distribution.task_types or ())
            return (
                f"task type '{name}'"
                + (f" ({canonical})" if canonical != name else "")
                + f" is excluded by the distribution {self.distribution.label}: its taskTypes "
                f"({enabled}) do not enable it; see `plait dist info`"
            )
        provider = known_provider(name)
        loaded = {_normalize(info.distribution) for info in self.plugins}
        typo = provider in loaded  # its plugin is here: not a missing plugin
        close = difflib.get_close_matches(name, list(self.task_types), n=3, cutoff=0.6)
        message = f"unknown task type '{name}'"
        if close:
            message += f"; did you mean {', '.join(repr(c) for c in close)}?"
        else:
            message += "."
        installed = ", ".join(sorted(self.canonical_types)) or "none"
        message += f" Installed task types: {installed}."
        if self.skipped:
            message += " Not loaded: " + "; ".join(self.skipped) + "."
        if typo:
            return message
        if self.distribution is not None:
            plugins = ", ".join(sorted(self.distribution.plugin_names())) or "none"
            return message + (
                f" This installation is the distribution {self.distribution.label}, which "
                f"excludes every plugin but its own ({plugins}): "
                + (f"'{name}' comes from {provider}; " if provider else "")
                + "to use the type, add the plugin that provides it to the distribution's "
                "manifest and rebuild it (`plait dist info` shows what it contains)."
            )
        if provider:
            message += f" It is provided by {provider}: `pip install {provider}`."
        message += (
            " A task type comes from a plugin distribution: install it (e.g. `pip install "
            "plait-<name>`), check `plait plugins list`, and check "
            f"{LOAD_PLUGINS_ENV} if it is set."
        )
        return message


KNOWN_PROVIDERS = {
    "plait.http": "plait-http",
    "io.kestra.plugin.core.http": "plait-http",
    "io.kestra.plugin.fs.http": "plait-http",
    "plait.python": "plait-python",
    "io.kestra.plugin.scripts.python": "plait-python",
    "plait.duckdb": "plait-duckdb",
    "io.kestra.plugin.jdbc.duckdb": "plait-duckdb",
}
"""Namespaces of the plait project's own plugins, so that a flow written for one that is not
installed is told which distribution to install."""


def known_provider(type_name: str) -> str | None:
    for prefix, distribution in KNOWN_PROVIDERS.items():
        if type_matches(type_name, prefix):
            return distribution
    return None


def _builtin_modules() -> list[ModuleType]:
    from plait.builtin import filters, secrets, storage, tasks

    return [tasks, filters, storage, secrets]


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
    core_version = md.version(CORE_DISTRIBUTION)
    for module in _builtin_modules():
        pm.register(module, name=f"plait.builtin.{module.__name__.rsplit('.', 1)[-1]}")
        plugins.append((PluginInfo(module.__name__, CORE_DISTRIBUTION, core_version), module))

    wanted = _requested(load)
    allowed = distribution.plugin_names() if distribution else None
    found: set[str] = set()
    for ep in _entry_points():
        dist_name = ep.dist.name if ep.dist else ep.name
        found.add(_normalize(dist_name))
        if allowed is not None and _normalize(dist_name) not in allowed:
            continue
        if wanted is not None and _normalize(dist_name) not in wanted:
            continue
        try:
            module = ep.load()
        except Exception as exc:  # a broken plugin must not take the others down
            skipped.append(f"plugin '{ep.name}' ({dist_name}) failed to import: {exc}")
            continue
        if problem := _check_sdk_major(module, ep.name):
            skipped.append(problem)
            continue
        if pm.is_registered(module):
            continue
        pm.register(module, name=ep.name)
        version = ep.dist.version if ep.dist else "unknown"
        plugins.append((PluginInfo(ep.name, dist_name, version), module))
    if distribution is not None:
        skipped += _distribution_gaps(distribution, found, wanted)
    for module in extra:
        if problem := _check_sdk_major(module, module.__name__):
            skipped.append(problem)
            continue
        pm.register(module, name=module.__name__)
        plugins.append((PluginInfo(module.__name__, module.__name__, "local"), module))
    registry = _merge(pm, plugins, skipped)
    if distribution is not None:
        _restrict(registry, distribution)
    return registry


def _distribution_gaps(
    distribution: Distribution, found: set[str], wanted: set[str] | None
) -> list[str]:
    """What the distribution promises but cannot load here, and what PLAIT_LOAD_PLUGINS asks
    for beyond it."""
    own = distribution.plugin_names()
    gaps = [
        f"plugin distribution '{name}' of the distribution {distribution.label} is not installed"
        for name in sorted(own - found)
    ]
    gaps += [
        f"{LOAD_PLUGINS_ENV} names '{name}', which the distribution {distribution.label} "
        "does not contain"
        for name in sorted((wanted or set()) - own)
    ]
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


def _call(pm: pluggy.PluginManager, module: ModuleType, hook: str) -> Any:
    """Call one plugin's implementation of a hook (results must be attributed to plugins)."""
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if impl.plugin is module:
            return impl.function()
    return None


def _merge(
    pm: pluggy.PluginManager, plugins: list[tuple[PluginInfo, ModuleType]], skipped: list[str]
) -> Registry:
    """Merge contributions plugin by plugin, so a conflict can name both plugins."""
    task_types: dict[str, TaskType] = {}
    type_owner: dict[str, str] = {}
    named: dict[str, dict[str, Any]] = {
        "register_filters": {},
        "register_functions": {},
        "register_storage_backends": {},
        "register_secret_providers": {},
        "register_repositories": {},
    }
    owners: dict[tuple[str, str], str] = {}
    for info, module in plugins:
        for cls in _call(pm, module, "register_task_types") or []:
            names = (cls.type, *cls.aliases)
            info.task_types[cls.type] = tuple(cls.aliases)
            for name in names:
                owner = f"{info.name} ({info.distribution})"
                if type_owner.get(name) == owner:
                    raise PluginError(
                        f"task type '{name}' is registered twice by plugin '{owner}': task type "
                        "ids and aliases must be unique"
                    )
                if name in type_owner:
                    raise PluginError(
                        f"task type '{name}' is registered by both plugin "
                        f"'{type_owner[name]}' and plugin '{owner}'"
                    )
                type_owner[name] = owner
                task_types[name] = cls
        for hook, merged in named.items():
            contributed: Mapping[str, Any] = _call(pm, module, hook) or {}
            for key, value in contributed.items():
                if key in merged:
                    raise PluginError(
                        f"{hook.removeprefix('register_').replace('_', ' ')} '{key}' is "
                        f"registered by both plugin '{owners[hook, key]}' and plugin "
                        f"'{info.name}' ({info.distribution})"
                    )
                owners[hook, key] = f"{info.name} ({info.distribution})"
                merged[key] = value
    return Registry(
        pm=pm,
        plugins=[info for info, _ in plugins],
        task_types=task_types,
        filters=named["register_filters"],
        functions=named["register_functions"],
        storage_backends=named["register_storage_backends"],
        secret_providers=named["register_secret_providers"],
        repositories=named["register_repositories"],
        skipped=skipped,
    )
