"""Builds the plugin manager and the registry of everything plugins contribute.

A factory, not a module-level global: tests and embedded uses build as many independent
registries as they like. The kernel's own features are plugins too (``plait.builtin``), loaded
through the same hooks as the distributions found under the ``plait`` entry point group.

Given a directory for the plugin index (:mod:`plait.plugin_index`; engines give their home's
``cache/plugins``), a registry defers the plugins the index says register only task and trigger
types: each is imported when one of its names is first looked up, and everything that lists
types, plugins or hooks imports them all first, so what a registry holds never depends on it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import plait_sdk
import pluggy
from plait_sdk import hookspecs
from plait_sdk.flowable import task_lists
from plait_sdk.task import Task

from plait.distribution import (
    Distribution,
    installed_distribution,
    normalize_name,
)
from plait.errors import PluginError
from plait.plugin_hints import (
    LOAD_PLUGINS_ENV,
    excluded_type_message,
    unknown_task_type_message,
)
from plait.plugin_index import (
    CORE_DISTRIBUTION,
    EntryPointRef,
    Installed,
    TypesOnly,
    discover,
    entry_key,
    environment_key,
    forget_index,
    package_sources,
    read_index,
    source_stamp,
    write_index,
)
from plait.plugin_merge import (
    Contribution,
    Merged,
    PluginInfo,
    TaskType,
    TriggerType,
    contribution_of,
)
from plait.type_table import TypeTable

__all__ = [
    "BUILTINS",
    "CORE_DISTRIBUTION",
    "LOAD_PLUGINS_ENV",
    "SDK_MAJOR_ATTR",
    "PluginInfo",
    "Refused",
    "Registry",
    "TaskType",
    "TriggerType",
    "build_registry",
    "registered_backends",
]

SDK_MAJOR_ATTR = "PLAIT_SDK_MAJOR"
TYPE_HOOKS = {"register_task_types", "register_trigger_types"}
"""The hooks of a plugin the index may defer: what it registers is known by name alone."""


@dataclass
class Refused:
    """A plugin that was imported but not loaded, kept so that ``plait plugin check`` can still
    examine it and say why."""

    info: PluginInfo
    module: ModuleType
    reason: str
    check: str
    """The contract check the reason belongs to: ``sdk``, ``ids`` (a name another plugin
    already registered), ``load`` (a register hook raised) or ``schema`` (one type's models
    cannot be built: only that type is refused, the plugin stays loaded)."""
    classes: list[TaskType] = field(default_factory=list)


class _Deferred(NamedTuple):
    """An installed plugin the index says registers only types, not imported yet."""

    ref: EntryPointRef
    info: PluginInfo
    record: TypesOnly


@dataclass
class Registry:
    """Everything the loaded plugins registered, merged and checked for conflicts."""

    _pm: pluggy.PluginManager
    plugins: list[PluginInfo]
    task_types: TypeTable[TaskType]
    """Every id and alias -> task class."""
    trigger_types: TypeTable[TriggerType]
    """Every id and alias -> trigger class."""
    filters: dict[str, Callable[..., Any]]
    functions: dict[str, Callable[..., Any]]
    storage_backends: dict[str, Any]
    secret_providers: dict[str, Any]
    repositories: dict[str, Any]
    _merged: Merged = field(repr=False)
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
    excluded_triggers: dict[str, str] = field(default_factory=dict)
    """The same for trigger types (the distribution's ``triggerTypes``)."""
    _deferred: dict[str, _Deferred] = field(default_factory=dict, repr=False)
    _rebuild: Callable[[], Registry] | None = field(default=None, repr=False)
    """Builds the same registry without the index, for when a deferred plugin is not what the
    index says."""
    _learned: dict[str, TypesOnly | None] = field(default_factory=dict, repr=False)
    """What the index should now say of each installed plugin imported while building: its
    types, or None when it is not one the index may defer."""
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def pm(self) -> pluggy.PluginManager:
        """The plugin manager, with every plugin registered (deferred ones imported)."""
        self.load_all()
        return self._pm

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

    def excluded_type_message(self, name: str, kind: str) -> str | None:
        """Why a ``"task"`` or ``"trigger"`` type is unknown when the distribution leaves it
        out; None when it does not."""
        return excluded_type_message(self, name, kind)

    def load_all(self) -> None:
        """Import every deferred plugin."""
        with self._lock:
            while self._deferred:
                self._load(next(iter(self._deferred)))

    def __post_init__(self) -> None:
        for table in (self.task_types, self.trigger_types):
            table.load_all = self.load_all
            table.refuse = self._refuse
            table.lock = self._lock

    def _refuse(self, cls: Any, reason: str) -> None:
        """Take a type whose models cannot be built out: its names are unknown from now on, and
        ``skipped`` says why. (Ids are unique across task and trigger types.)"""
        self.skipped.append(reason)
        for table in (self.task_types, self.trigger_types):
            for name, registered in list(table.loaded.items()):
                if registered is cls:
                    table.discard(name)
        for info in self.plugins:
            if cls.type in info.task_types or cls.type in info.trigger_types:
                info.task_types.pop(cls.type, None)
                info.trigger_types.pop(cls.type, None)
                classes = [cls] if issubclass(cls, Task) else []
                module = self._pm.get_plugin(info.name)
                self.refused.append(Refused(info, module, reason, "schema", classes))

    def _defer(self, deferred: dict[str, _Deferred]) -> None:
        self._deferred = deferred
        for key, plugin in deferred.items():
            load = self._loader(key)
            for table, names in (
                (self.task_types, plugin.record.task_types),
                (self.trigger_types, plugin.record.trigger_types),
            ):
                table.pending.update(
                    (name, load)
                    for canonical, aliases in names.items()
                    for name in (canonical, *aliases)
                )

    def _loader(self, key: str) -> Callable[[], None]:
        return lambda: self._load(key)

    def _load(self, key: str) -> None:
        """Import a deferred plugin and merge what it registers; when that is not what the index
        said, become the registry built without the index. Its names stay pending until merged:
        a thread looking one up meanwhile waits for the lock instead of missing it."""
        with self._lock:
            plugin = self._deferred.pop(key, None)
            if plugin is None:
                return
            contribution = _load_deferred(self._pm, plugin)
            if contribution is None:
                self._become_rebuilt()
                return
            self._merged.add(plugin.info.owner, plugin.info, contribution)
            if self.distribution is not None:
                _restrict_plugin(self, plugin.info)
            for name in plugin.record.names():
                self.task_types.pending.pop(name, None)
                self.trigger_types.pending.pop(name, None)

    def _become_rebuilt(self) -> None:
        assert self._rebuild is not None
        full = self._rebuild()
        self.task_types.loaded, self.task_types.pending = full.task_types.loaded, {}
        self.trigger_types.loaded, self.trigger_types.pending = full.trigger_types.loaded, {}
        kept = {"task_types", "trigger_types", "_lock", "_rebuild"}
        for item in fields(self):
            if item.name not in kept:
                setattr(self, item.name, getattr(full, item.name))


BUILTINS = ("tasks", "flow_tasks", "loops", "kv", "triggers", "filters", "storage", "secrets")
"""The kernel's own plugins, ``plait.builtin.<name>``, in load order (before any other)."""


def _builtin_refs(core_version: str) -> list[EntryPointRef]:
    """The built-in plugins, described as installed plugins are (``builtin.tasks`` of the
    distribution ``plait``), so that the index defers those that register only types."""
    return [
        EntryPointRef(f"builtin.{name}", f"plait.builtin.{name}", CORE_DISTRIBUTION, core_version)
        for name in BUILTINS
    ]


def _builtin_modules() -> list[ModuleType]:
    return [ref.load() for ref in _builtin_refs("")]


def registered_backends(distributions: set[str]) -> tuple[dict[str, set[str]], set[str]]:
    """The storage backends (``storage``) and execution repositories (``state``) the core and
    the installed plugin distributions among ``distributions`` register, and which of
    ``distributions`` are not installed. For checking a distribution's manifest: a plugin that
    fails to load is skipped here and reported when the registry is built."""
    modules = _builtin_modules()
    found: set[str] = set()
    for ref in discover().entry_points:
        name = normalize_name(ref.distribution)
        if name not in distributions:
            continue
        found.add(name)
        try:
            modules.append(ref.load())
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
    index: Path | None = None,
) -> Registry:
    """Load the built-in plugins and the installed ones (all, or those named by ``load`` /
    ``PLAIT_LOAD_PLUGINS``), plus ``extra`` plugin modules not installed as distributions
    (a plugin under development, a test's plugin), and merge what they register.

    ``distribution`` (default: the installed one, if any) bounds what loads: only its plugins,
    and only the task types its ``taskTypes`` enable. With ``index`` (a directory, and no
    ``extra``), the plugin index kept there defers the plugins it can and is brought up to
    date."""
    distribution = distribution or installed_distribution()
    wanted = _requested(load)
    key = environment_key() if index is not None and not extra else None
    if index is None or key is None:
        return _build(discover(), wanted, extra, distribution)
    indexed = read_index(index, key)
    installed = indexed or discover()

    def without_index() -> Registry:
        forget_index(index)
        return _build(discover(), wanted, (), distribution)

    registry = _build(installed, wanted, (), distribution)
    registry._rebuild = without_index
    learned = dict(installed.types_only)
    for name, record in registry._learned.items():
        if record is None:
            learned.pop(name, None)
        else:
            learned[name] = record
    if indexed is None or learned != indexed.types_only:
        write_index(index, key, installed._replace(types_only=learned))
    return registry


@dataclass
class _Loading:
    """The plugins of one build so far, in load order."""

    installed: Installed
    pm: pluggy.PluginManager
    plugins: list[tuple[PluginInfo, ModuleType | None]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    deferred: dict[str, _Deferred] = field(default_factory=dict)
    imported: list[tuple[EntryPointRef, PluginInfo, ModuleType]] = field(default_factory=list)
    """The plugins imported (built-in or installed), for what the index learns of them."""

    def defer(self, ref: EntryPointRef, info: PluginInfo) -> bool:
        """Defer the plugin if the index knows it registers only types."""
        record = self.installed.types_only.get(entry_key(ref))
        if record is None:
            return False
        info.task_types = dict(record.task_types)
        info.trigger_types = dict(record.trigger_types)
        self.deferred[entry_key(ref)] = _Deferred(ref, info, record)
        self.plugins.append((info, None))
        return True

    def add(self, info: PluginInfo, module: ModuleType, ref: EntryPointRef | None) -> None:
        self.pm.register(module, name=info.name)
        self.plugins.append((info, module))
        if ref is not None:
            self.imported.append((ref, info, module))

    def refuse_sdk(self, info: PluginInfo, module: ModuleType, problem: str) -> None:
        """Keep a plugin built for another SDK major out, examinable by `plait plugin check`."""
        self.skipped.append(problem)
        self.refused.append(Refused(info, module, problem, "sdk"))


def _build(
    installed: Installed,
    wanted: set[str] | None,
    extra: Sequence[ModuleType],
    distribution: Distribution | None,
) -> Registry:
    """The registry of the built-in plugins, the installed ones selected and ``extra``; the
    plugins ``installed.types_only`` knows are deferred unless their names would clash."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    loading = _Loading(installed, pm)
    for ref in _builtin_refs(installed.core_version):
        info = PluginInfo(ref.name, ref.distribution, ref.version)
        if not loading.defer(ref, info):
            loading.add(info, ref.load(), ref)  # a built-in that fails to import is a bug

    allowed = distribution.plugin_names() if distribution else None
    found: set[str] = set()
    filtered_out: set[str] = set()
    for ref in installed.entry_points:
        name = _normalize(ref.distribution)
        found.add(name)
        if allowed is not None and name not in allowed:
            continue
        if wanted is not None and name not in wanted:
            filtered_out.add(name)
            continue
        info = PluginInfo(ref.name, ref.distribution, ref.version)
        if loading.defer(ref, info):
            continue
        try:
            module = ref.load()
        except Exception as exc:  # a broken plugin must not take the others down
            loading.skipped.append(
                f"plugin '{ref.name}' ({ref.distribution}) failed to import: {exc}"
            )
            continue
        if problem := _check_sdk_major(module, ref.name):
            loading.refuse_sdk(info, module, problem)
        elif not pm.is_registered(module):
            loading.add(info, module, ref)
    loading.skipped += _requested_gaps(wanted, found, distribution)
    for module in extra:
        info = PluginInfo(module.__name__, module.__name__, "local")
        if problem := _check_sdk_major(module, module.__name__):
            loading.refuse_sdk(info, module, problem)
        else:
            loading.add(info, module, None)
    registry = _merge(pm, loading.plugins, loading.skipped, loading.refused)
    if loading.deferred and _clash(registry, loading.deferred.values()):
        return _build(installed._replace(types_only={}), wanted, extra, distribution)
    registry._defer(loading.deferred)
    accepted = {id(info) for info in registry.plugins}
    registry._learned = {
        entry_key(ref): _types_record(pm, ref, info, module) if id(info) in accepted else None
        for ref, info, module in loading.imported
    }
    registry.filtered_out = filtered_out
    if distribution is not None:
        _restrict(registry, distribution)
    return registry


def _clash(registry: Registry, deferred: Iterable[_Deferred]) -> bool:
    """Whether deferred plugins take names already taken (by a loaded plugin or each other):
    which of them would be refused depends on what they really register, so none is deferred."""
    taken = set(registry._merged.type_owner)
    for plugin in deferred:
        names = plugin.record.names()
        if taken.intersection(names) or len(set(names)) != len(names):
            return True
        taken.update(names)
    return False


def _load_deferred(pm: pluggy.PluginManager, plugin: _Deferred) -> Contribution | None:
    """Import and register a deferred plugin; what it registers, or None when that is not what
    the index says (or it now fails)."""
    try:
        module = plugin.ref.load()
    except Exception:
        return None
    if _check_sdk_major(module, plugin.ref.name) or pm.is_registered(module):
        return None
    pm.register(module, name=plugin.ref.name)
    try:
        contribution = contribution_of(pm, module)
    except PluginError:
        return None
    registers = (
        {cls.type: tuple(cls.aliases) for cls in contribution.classes},
        {cls.type: tuple(cls.aliases) for cls in contribution.triggers},
    )
    if (
        not _hooks_only_types(pm, module)
        or any(contribution.named.values())
        or registers != (plugin.record.task_types, plugin.record.trigger_types)
    ):
        return None
    return contribution


def _hooks_only_types(pm: pluggy.PluginManager, module: ModuleType) -> bool:
    return {caller.name for caller in pm.get_hookcallers(module) or ()} <= TYPE_HOOKS


def _types_record(
    pm: pluggy.PluginManager, ref: EntryPointRef, info: PluginInfo, module: ModuleType
) -> TypesOnly | None:
    """What the index keeps of a plugin just loaded: its type names, if that is all it
    registers, with the stamp of its sources."""
    if info.provides or not _hooks_only_types(pm, module):
        return None
    sources = package_sources(ref)
    stamp = source_stamp(sources)
    if stamp is None:
        return None
    return TypesOnly(dict(info.task_types), dict(info.trigger_types), sources, stamp)


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
    for info in registry.plugins:
        _restrict_plugin(registry, info)


def _restrict_plugin(registry: Registry, info: PluginInfo) -> None:
    """``_restrict`` for one plugin's task and trigger types (by name: a deferred plugin is not
    imported)."""
    distribution = registry.distribution
    assert distribution is not None
    for types, table, excluded, enables in (
        (info.task_types, registry.task_types, registry.excluded, distribution.enables),
        (
            info.trigger_types,
            registry.trigger_types,
            registry.excluded_triggers,
            distribution.enables_trigger,
        ),
    ):
        for canonical, aliases in list(types.items()):
            names = (canonical, *aliases)
            if enables(names):
                continue
            for name in names:
                table.discard(name)
                excluded[name] = canonical
            del types[canonical]


def _merge(
    pm: pluggy.PluginManager,
    plugins: Sequence[tuple[PluginInfo, ModuleType | None]],
    skipped: list[str],
    refused: list[Refused],
) -> Registry:
    """Merge contributions plugin by plugin, in load order (built-ins first). A plugin whose
    register hook raises, or that registers a name an earlier plugin has, is refused whole,
    so that the others keep working and the reason can name both plugins. A deferred plugin
    (no module yet) keeps its place in the list; it is merged when imported."""
    merged = Merged()
    loaded = []
    for info, module in plugins:
        if module is None:
            loaded.append(info)
            continue
        owner = info.owner
        try:
            contribution = contribution_of(pm, module)
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
        _pm=pm,
        plugins=loaded,
        task_types=TypeTable(merged.task_types, "task type"),
        trigger_types=TypeTable(merged.trigger_types, "trigger type"),
        filters=merged.named["register_filters"],
        functions=merged.named["register_functions"],
        storage_backends=merged.named["register_storage_backends"],
        secret_providers=merged.named["register_secret_providers"],
        repositories=merged.named["register_repositories"],
        skipped=skipped,
        refused=refused,
        _merged=merged,
    )
