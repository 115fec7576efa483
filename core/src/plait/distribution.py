"""A distribution: a platform team's chosen set of plugins, enabled task types, plugin defaults
and default locations, read from a manifest (``plait-distribution.toml``).

The same format serves twice: as the manifest ``plait dist build`` reads (plugins may be local
paths), and as the configuration an installed distribution runs with (plugins pinned to the
exact versions built). The running core finds that configuration at ``PLAIT_DISTRIBUTION`` when
set (an empty value means none), else at ``<sys.prefix>/share/plait/distribution.toml``, where
the distribution's installer puts it; without either, every installed plugin loads.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plait.errors import PlaitError
from plait.flows.ids import did_you_mean
from plait.flows.model import COMMON_TASK_KEYS, PluginDefault

DISTRIBUTION_ENV = "PLAIT_DISTRIBUTION"
INSTALLED_CONFIG = Path("share", "plait", "distribution.toml")
"""Where an installed distribution's configuration lives, relative to the environment's prefix."""
MANIFEST_NAME = "plait-distribution.toml"
CORE_PACKAGES = ("plait",)
"""What ``core`` defaults to: the core from the package index (it brings plait-sdk along)."""

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(.*)$")
_WHEEL = re.compile(r"^([^-]+)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")
_KEYS = {
    "name",
    "version",
    "description",
    "core",
    "plugins",
    "taskTypes",
    "triggerTypes",
    "pluginDefaults",
    "home",
    "storage",
    "state",
}


BACKEND_KINDS = {"storage": "storage backend", "state": "execution repository"}
BUILTIN_OPTIONS = {"storage": {"local": {"root"}}, "state": {"sqlite": {"path"}}}
"""The options the core's own backends take; a plugin's backend takes the options it documents
(they are not checked here)."""


class DistributionError(PlaitError):
    """A distribution manifest or configuration is invalid; names the file and the key."""


def normalize_name(name: str) -> str:
    """A distribution name as packaging compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Package:
    """One package of a distribution: a requirement on the package index (``plait-http>=0.1``)
    or a local project directory or wheel file."""

    requirement: str | None = None
    path: Path | None = None

    @property
    def name(self) -> str:
        """The distribution name, read from the requirement, the wheel's file name or the
        project's ``pyproject.toml``."""
        if self.requirement is not None:
            match = _REQUIREMENT_NAME.match(self.requirement)
            assert match is not None  # checked when the manifest was read
            return normalize_name(match.group(1))
        assert self.path is not None
        return normalize_name(local_package_name(self.path))

    @property
    def pip_argument(self) -> str:
        return self.requirement if self.requirement is not None else str(self.path)

    def __str__(self) -> str:
        return self.pip_argument


@dataclass(frozen=True)
class Backend:
    """A storage backend or execution repository: its registered name and its options."""

    type: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    source: Path
    """The file it was read from."""
    description: str = ""
    core: tuple[Package, ...] = ()
    plugins: tuple[Package, ...] = ()
    task_types: tuple[str, ...] | None = None
    """Type ids, aliases or namespace prefixes flows may use; None: every loaded type."""
    trigger_types: tuple[str, ...] | None = None
    """The same for trigger types, a list of its own: a trigger is not a task (a Webhook opens
    an HTTP endpoint), and existing ``taskTypes`` lists keep their triggers."""
    plugin_defaults: tuple[PluginDefault, ...] = ()
    home: str | None = None
    storage: Backend | None = None
    state: Backend | None = None

    @property
    def label(self) -> str:
        return f"'{self.name}' {self.version}"

    def plugin_names(self) -> set[str]:
        return {package.name for package in self.plugins}

    def enables(self, names: Iterable[str]) -> bool:
        """Whether a task type known by ``names`` (its id and aliases) is enabled."""
        return _allowed(self.task_types, names)

    def enables_trigger(self, names: Iterable[str]) -> bool:
        """Whether a trigger type known by ``names`` (its id and aliases) is enabled."""
        return _allowed(self.trigger_types, names)


def _allowed(entries: tuple[str, ...] | None, names: Iterable[str]) -> bool:
    """Whether one of ``names`` matches one of ``entries`` (no list: everything is allowed)."""
    if entries is None:
        return True
    return any(type_matches(name, entry) for name in names for entry in entries)


def type_matches(type_name: str, entry: str) -> bool:
    """``entry`` is the type itself or a namespace prefix of it (matched at a dot)."""
    prefix = entry.rstrip(".*")
    return type_name == entry or type_name.startswith(prefix + ".")


def local_package_name(path: Path) -> str:
    """The distribution name of a wheel file or a project directory with a pyproject.toml."""
    if path.suffix == ".whl":
        match = _WHEEL.match(path.name)
        if match is None:
            raise DistributionError(f"{path}: not a wheel file name (NAME-VERSION-...-TAG.whl)")
        return match.group(1)
    pyproject = path / "pyproject.toml"
    import tomllib  # here, not at the top: most runs read no TOML

    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DistributionError(f"{path}: not a Python project directory ({exc})") from None
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise DistributionError(f"{pyproject}: no [project] name")
    return name


def config_path() -> Path | None:
    """The configuration of the running installation's distribution, if it has one."""
    raw = os.environ.get(DISTRIBUTION_ENV)
    if raw is not None:
        if not raw.strip():
            return None
        path = Path(raw).expanduser().resolve()
        if not path.is_file():
            raise DistributionError(f"{DISTRIBUTION_ENV} names {path}, which is not a file")
        return path
    installed = Path(sys.prefix) / INSTALLED_CONFIG
    return installed if installed.is_file() else None


def installed_distribution() -> Distribution | None:
    path = config_path()
    return load_distribution(path) if path is not None else None


def load_distribution(path: Path) -> Distribution:
    """Read and check a manifest or installed configuration; every problem is reported at once,
    each naming the key at fault."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DistributionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DistributionError(f"{path}: not UTF-8 text (at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DistributionError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays and tables
        raise DistributionError(f"{path}: invalid TOML: nested too deeply") from None
    reader = _Reader(path, data)
    distribution = reader.distribution()
    reader.check_backend_types(distribution)
    if reader.problems:
        raise DistributionError("\n".join(f"{path}: {p}" for p in reader.problems))
    return distribution


class _Reader:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.problems: list[str] = []

    def distribution(self) -> Distribution:
        data = self.data
        for key in sorted(set(data) - _KEYS):
            self.problems.append(f"unknown key '{key}' (known: {', '.join(sorted(_KEYS))})")
        name = self._text("name", required=True)
        if name and not _NAME.match(name):
            self.problems.append(f"name: '{name}' is not a valid name (letters, digits, .-_)")
        task_types = self._allowlist("taskTypes")
        trigger_types = self._allowlist("triggerTypes")
        return Distribution(
            name=name,
            version=self._text("version", required=True),
            source=self.path,
            description=self._text("description"),
            core=self._packages("core") if "core" in data else (),
            plugins=self._packages("plugins"),
            task_types=task_types,
            trigger_types=trigger_types,
            plugin_defaults=self._plugin_defaults(),
            home=self._text("home") or None,
            storage=self._backend("storage"),
            state=self._backend("state"),
        )

    def _text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problems.append(f"missing required key '{key}'")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problems.append(f"{key}: expected a non-empty string, got {value!r}")
            return ""
        return value

    def _allowlist(self, key: str) -> tuple[str, ...] | None:
        """A list of types (``taskTypes``, ``triggerTypes``); None when the key is absent."""
        return None if key not in self.data else tuple(self._texts(key))

    def _texts(self, key: str) -> list[str]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problems.append(f"{key}: expected a list of non-empty strings, got {value!r}")
            return []
        return value

    def _packages(self, key: str) -> tuple[Package, ...]:
        entries = self.data.get(key, [])
        if not isinstance(entries, list):
            self.problems.append(f"{key}: expected a list of requirements or {{ path = ... }}")
            return ()
        packages = []
        for index, entry in enumerate(entries):
            where = f"{key}[{index}]"
            if isinstance(entry, str):
                if not _REQUIREMENT_NAME.match(entry):
                    self.problems.append(f"{where}: '{entry}' is not a requirement like 'name>=1'")
                    continue
                packages.append(Package(requirement=entry.strip()))
            elif isinstance(entry, dict) and set(entry) == {"path"} and entry["path"]:
                path = (self.path.parent / Path(str(entry["path"])).expanduser()).resolve()
                if not path.exists():
                    self.problems.append(f"{where}: path {path} does not exist")
                    continue
                packages.append(Package(path=path))
            else:
                self.problems.append(
                    f"{where}: expected a requirement such as 'plait-http>=0.1' or a table "
                    f'{{ path = "plugins/my-plugin" }}, got {entry!r}'
                )
        names = [_safe_name(p, self.problems, key) for p in packages]
        for name in sorted({n for n in names if n and names.count(n) > 1}):
            self.problems.append(f"{key}: '{name}' is listed more than once")
        return tuple(packages)

    def _plugin_defaults(self) -> tuple[PluginDefault, ...]:
        entries = self.data.get("pluginDefaults", [])
        if not isinstance(entries, list):
            self.problems.append("pluginDefaults: expected an array of tables [[pluginDefaults]]")
            return ()
        defaults = []
        for index, entry in enumerate(entries):
            where = f"pluginDefaults[{index}]"
            if not isinstance(entry, dict):
                self.problems.append(f"{where}: expected a table with type and values")
                continue
            unknown = set(entry) - {"type", "values", "forced"}
            type_, values, forced = entry.get("type"), entry.get("values"), entry.get("forced")
            if unknown:
                self.problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
            elif not isinstance(type_, str) or not type_:
                self.problems.append(f"{where}: 'type' must be a task type or a prefix of one")
            elif not isinstance(values, dict):
                self.problems.append(f"{where}: 'values' must be a table of property values")
            elif forced is not None and not isinstance(forced, bool):
                self.problems.append(f"{where}: 'forced' must be true or false")
            else:
                defaults.append(PluginDefault(type=type_, values=values, forced=bool(forced)))
        return tuple(defaults)

    def _backend(self, key: str) -> Backend | None:
        table = self.data.get(key)
        if table is None:
            return None
        if not isinstance(table, dict) or not isinstance(table.get("type"), str):
            self.problems.append(f"{key}: expected a table with a 'type' and its options")
            return None
        options = {k: v for k, v in table.items() if k != "type"}
        known = sorted(BUILTIN_OPTIONS[key].get(table["type"], options))
        self.problems += [
            f"{key}: unknown option '{option}' for {table['type']} (known: "
            f"{', '.join(known)}){did_you_mean(option, known)}"
            for option in sorted(set(options) - set(known))
        ]
        return Backend(type=table["type"], options=options)

    def check_backend_types(self, distribution: Distribution) -> None:
        """The storage and state types must be registered by the core or one of the
        distribution's plugins. Checked only when all of those plugins are installed here:
        one that is not (a local project being built) may be the one that registers it."""
        chosen = {key: b for key in BACKEND_KINDS if (b := getattr(distribution, key))}
        if not chosen:
            return
        from plait.plugins import registered_backends  # plugins.py imports this module

        available, missing = registered_backends(distribution.plugin_names())
        if missing:
            return
        for key, backend in chosen.items():
            if backend.type not in available[key]:
                names = sorted(available[key])
                self.problems.append(
                    f"{key}: unknown {BACKEND_KINDS[key]} '{backend.type}' (available: "
                    f"{', '.join(names) or 'none'}){did_you_mean(backend.type, names)}; a plugin "
                    "of the distribution must register it"
                )


def _safe_name(package: Package, problems: list[str], key: str) -> str | None:
    try:
        return package.name
    except DistributionError as exc:
        problems.append(f"{key}: {exc}")
        return None


def expand_location(value: Any, home: Path) -> Any:
    """A location option as written (``~/x``, ``$VAR/x``, ``${PLAIT_HOME}/x``) made concrete;
    ``PLAIT_HOME`` means the home in use even when the variable is not set."""
    if not isinstance(value, str):
        return value
    expanded = value.replace("${PLAIT_HOME}", str(home)).replace("$PLAIT_HOME", str(home))
    return os.path.expanduser(os.path.expandvars(expanded))


def expand_options(options: Mapping[str, Any], home: Path) -> dict[str, Any]:
    return {key: expand_location(value, home) for key, value in options.items()}


def check_defaults(distribution: Distribution, task_types: Mapping[str, Any]) -> None:
    """A default naming one loaded task type exactly may only set that type's properties (a
    flow's own defaults are checked the same way when it is validated)."""
    problems = []
    for index, default in enumerate(distribution.plugin_defaults):
        cls = task_types.get(default.type)
        if cls is None:
            continue
        fields = [info.alias or name for name, info in cls.Properties.model_fields.items()]
        problems += [
            f"{distribution.source}: pluginDefaults[{index}]: unknown property '{key}' for "
            f"task type {cls.type}{did_you_mean(key, fields)}"
            for key in default.values
            if key not in COMMON_TASK_KEYS and key not in fields
        ]
    if problems:
        raise DistributionError("\n".join(problems))
