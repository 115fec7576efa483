"""The plugin index: which plugins are installed and which task and trigger types each one
registers, remembered between runs so that a run imports only the plugins it uses.

Finding plugins (``importlib.metadata`` reads every installed distribution) and importing them
all is most of what a one-task ``plait run`` spends beyond the core itself. The index keeps,
per Python environment, in ``<PLAIT_HOME>/cache/plugins``: the ``plait`` entry points, the
core's version, and, for each plugin (built-in or installed) that registers task and trigger
types and nothing else (no filter, function, backend, secret provider or command), their ids
and aliases. With it the registry imports such a plugin only when one of its names is looked
up (see :func:`plait.plugins.build_registry`); without it (none yet, unreadable, or stale) the
registry is built as it always was and the index written for the next run.

An index describes one state of the environment and is used only in that state:

- the interpreter, ``sys.path`` and, in each of its entries, the names and modification times
  of the distributions' ``.dist-info`` (or ``.egg-info``) folders: installing, upgrading,
  reinstalling or removing a distribution creates, renames or removes its folder;
- for each plugin it defers, the times of the files of the package its module belongs to,
  because an editable install's sources are edited in place.

Files changed less than :data:`RACY_SECONDS` before the index would be written are not trusted
(a second change in the same tick of the file system's clock would leave the times as they
were): the index, or that plugin's entry, is not written until they are older.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

ENTRY_POINT_GROUP = "plait"
CORE_DISTRIBUTION = "plait"
FORMAT = 1
"""Bumped whenever the file's layout changes: an index of another format is not read."""
RACY_SECONDS = 2.0
"""How old the files an index relies on must be before it is written (see above)."""
METADATA_SUFFIXES = (".dist-info", ".egg-info")
"""The folders (or files) ``importlib.metadata`` reads a distribution's entry points from."""
MAX_SOURCE_ENTRIES = 2000
"""A plugin whose package holds more files than this is not indexed (always imported): reading
their times would cost more than the import saves."""

Names = dict[str, tuple[str, ...]]
"""Canonical type id -> aliases."""

# Named tuples rather than dataclasses: a frozen dataclass costs a run half a millisecond to
# define, and this module is imported by every run.


class EntryPointRef(NamedTuple):
    """One entry point of the ``plait`` group, as ``importlib.metadata`` reports it."""

    name: str
    value: str
    """``module`` or ``module:attribute``, as in the distribution's ``entry_points.txt``."""
    distribution: str
    version: str

    @property
    def module_name(self) -> str:
        return self.value.partition(":")[0].strip()

    def load(self) -> Any:
        """Import the module and resolve the attribute, as ``EntryPoint.load`` does."""
        loaded: Any = importlib.import_module(self.module_name)
        attribute = self.value.partition(":")[2].split("[")[0].strip()
        for part in attribute.split(".") if attribute else ():
            loaded = getattr(loaded, part)
        return loaded


class TypesOnly(NamedTuple):
    """What a plugin that registers only task and trigger types registers."""

    task_types: Names
    trigger_types: Names
    sources: tuple[str, ...]
    """The folder (or file) of the package the plugin's module belongs to."""
    stamp: tuple[int, int]
    """Their number and newest modification time (ns) when the entry was written."""

    def names(self) -> list[str]:
        return [
            name
            for table in (self.task_types, self.trigger_types)
            for canonical, aliases in table.items()
            for name in (canonical, *aliases)
        ]


class Installed(NamedTuple):
    """The installed plugins: every entry point, and what the plugins registering only types
    register (by :func:`entry_key`), from the index or from a full load."""

    core_version: str
    entry_points: list[EntryPointRef]
    types_only: dict[str, TypesOnly]


def entry_key(ref: EntryPointRef) -> str:
    """How the index names a plugin: another version of its distribution is another plugin."""
    return f"{ref.distribution} {ref.version} {ref.name}={ref.value}"


def discover() -> Installed:
    """The installed plugins as ``importlib.metadata`` finds them (nothing known of what they
    register)."""
    import importlib.metadata as md

    refs = [
        EntryPointRef(
            ep.name,
            ep.value,
            ep.dist.name if ep.dist else ep.name,
            ep.dist.version if ep.dist else "unknown",
        )
        for ep in md.entry_points(group=ENTRY_POINT_GROUP)
    ]
    return Installed(md.version(CORE_DISTRIBUTION), sorted(refs, key=lambda ref: ref.name), {})


def environment_key() -> list[Any] | None:
    """What the installed distributions depend on, as plain data: for each entry of
    ``sys.path``, the names and modification times of the distributions' metadata folders in it
    (or the time of a zip file). None when distributions may come from somewhere else (an
    import hook that lists distributions), whose changes it cannot see."""
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and finder is not importlib.machinery.PathFinder:
            return None
    return [FORMAT, sys.version, sys.prefix, [_metadata_times(entry) for entry in sys.path]]


def _metadata_times(entry: str) -> list[Any]:
    path = os.path.abspath(entry or os.curdir)
    try:
        with os.scandir(path) as children:
            found = sorted(
                [child.name, child.stat().st_mtime_ns]
                for child in children
                if child.name.endswith(METADATA_SUFFIXES)
            )
        return [path, found]
    except NotADirectoryError:
        return [path, _mtime(path)]
    except OSError:
        return [path, None]


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _key_times(key: list[Any]) -> Iterator[int]:
    for _, found in key[3]:
        if isinstance(found, int):
            yield found
        for _, mtime in found if isinstance(found, list) else ():
            yield mtime


def source_stamp(sources: Iterable[str]) -> tuple[int, int] | None:
    """The number of files and folders under ``sources`` (bytecode caches left out) and the
    newest modification time among them; None if one is missing or there are too many."""
    count, newest = 0, 0
    pending = list(sources)
    while pending:
        path = pending.pop()
        try:
            info = os.stat(path)
            if stat.S_ISDIR(info.st_mode):
                with os.scandir(path) as entries:
                    pending += [e.path for e in entries if e.name != "__pycache__"]
        except OSError:
            return None
        count += 1
        newest = max(newest, info.st_mtime_ns)
        if count > MAX_SOURCE_ENTRIES:
            return None
    return count, newest


def package_sources(ref: EntryPointRef) -> tuple[str, ...]:
    """Where an imported plugin module's package lives (subpackages included), or the module's
    file for a module outside any package."""
    name = ref.module_name
    module = sys.modules.get(name)
    if getattr(module, "__path__", None) is None and "." in name:
        module = sys.modules.get(name.rpartition(".")[0])
    locations = getattr(module, "__path__", None) or [getattr(module, "__file__", None)]
    return tuple(str(location) for location in locations if location)


def index_file(directory: Path) -> Path:
    """One file per Python environment: homes are shared between environments."""
    tag = hashlib.sha256(f"{sys.prefix}\0{sys.executable}".encode()).hexdigest()[:16]
    return directory / f"plugins-{tag}.json"


def read_index(directory: Path, key: list[Any]) -> Installed | None:
    """The index written for the environment as it is now; None if there is none, it describes
    another state, or it cannot be read. Plugins whose sources changed are left out."""
    try:
        data = json.loads(index_file(directory).read_text(encoding="utf-8"))
        if data["key"] != key:
            return None
        installed = Installed(
            str(data["core"]), [EntryPointRef(*map(str, ref)) for ref in data["entryPoints"]], {}
        )
        stamps: dict[tuple[str, ...], tuple[int, int] | None] = {}  # plugins share packages
        for name, entry in data["typesOnly"].items():
            record = TypesOnly(
                _names(entry["taskTypes"]),
                _names(entry["triggerTypes"]),
                tuple(map(str, entry["sources"])),
                (int(entry["stamp"][0]), int(entry["stamp"][1])),
            )
            if record.sources not in stamps:
                stamps[record.sources] = source_stamp(record.sources)
            if stamps[record.sources] == record.stamp:
                installed.types_only[str(name)] = record
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return None  # no index, or not one this version wrote: rebuilt from the environment
    return installed


def _names(table: Mapping[str, list[str]]) -> Names:
    return {str(canonical): tuple(map(str, aliases)) for canonical, aliases in table.items()}


def write_index(directory: Path, key: list[Any], installed: Installed) -> None:
    """Write the index atomically; skipped (silently: it is only a cache) when the environment
    changed moments ago or the home is not writable."""
    racy = time.time_ns() - int(RACY_SECONDS * 1e9)
    if any(mtime > racy for mtime in _key_times(key)):
        return
    data = {
        "key": key,
        "core": installed.core_version,
        "entryPoints": [
            [ref.name, ref.value, ref.distribution, ref.version] for ref in installed.entry_points
        ],
        "typesOnly": {
            name: {
                "taskTypes": record.task_types,
                "triggerTypes": record.trigger_types,
                "sources": record.sources,
                "stamp": record.stamp,
            }
            for name, record in installed.types_only.items()
            if record.stamp[1] <= racy
        },
    }
    path = index_file(directory)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def forget_index(directory: Path) -> None:
    """Remove the index (it turned out wrong about a plugin): the next run rebuilds it."""
    with contextlib.suppress(OSError):
        index_file(directory).unlink(missing_ok=True)
