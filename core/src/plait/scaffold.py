"""``plait plugin new``: a plugin project generated from the template shipped in this package
(``plait/templates/plugin``).

Template files end in ``.tmpl``; ``@@name@@``-style tokens in their text and paths are replaced,
and a leading ``dot-`` in a path part becomes ``.`` (so ``.github`` survives packaging).
"""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from plait.errors import PlaitError

TEMPLATE_SUFFIX = ".tmpl"
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
_TOKEN = re.compile(r"@@(\w+)@@")
RESERVED = {
    "sdk": "the plugin contract, plait-sdk (module plait_sdk)",
    "core": "the core's own task types (plait.core.*)",
    "http": "the plait project's plugin plait-http",
    "python": "the plait project's plugin plait-python",
    "duckdb": "the plait project's plugin plait-duckdb",
}
"""Names whose distribution, module or task type namespace plait itself uses."""


@dataclass(frozen=True)
class PluginNames:
    """How one plugin is named in each place: ``plait plugin new my-thing`` gives the
    distribution ``plait-my-thing``, the module ``plait_my_thing``, the entry point ``my-thing``
    and task type ids ``plait.my_thing.<Name>``."""

    name: str
    distribution: str
    module: str
    namespace: str

    @classmethod
    def of(cls, name: str) -> PluginNames:
        short = name.removeprefix("plait-").removeprefix("plait_")
        if not _NAME.match(short):
            raise PlaitError(
                f"'{name}' is not a valid plugin name: use lower-case letters, digits and "
                "single dashes, starting with a letter (e.g. acme or my-tools)"
            )
        namespace = short.replace("-", "_")
        names = cls(short, f"plait-{short}", f"plait_{namespace}", namespace)
        if namespace in RESERVED:
            raise PlaitError(
                f"'{name}' is taken: {names.distribution} would collide with "
                f"{RESERVED[namespace]}; choose another name"
            )
        if _installed(names.distribution):
            raise PlaitError(
                f"'{name}' is taken: a distribution {names.distribution} is already installed "
                "here (`pip show " + names.distribution + "`); choose another name"
            )
        return names


def _installed(distribution: str) -> bool:
    try:
        md.distribution(distribution)
    except md.PackageNotFoundError:
        return False
    return True


def create_plugin(name: str, parent: Path) -> tuple[PluginNames, Path]:
    """Write a new plugin project in ``parent/plait-<name>``; refuses to touch an existing one.
    Written to a temporary folder first: an error leaves nothing half-written."""
    names = PluginNames.of(name)
    target = parent / names.distribution
    if target.exists():
        raise PlaitError(f"{target} already exists: choose another name or folder")
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{names.distribution}-", dir=parent))
    try:
        _render(resources.files("plait") / "templates" / "plugin", staging, asdict(names))
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return names, target


def _render(source: Traversable, target: Path, tokens: dict[str, str]) -> None:
    for entry in source.iterdir():
        name = _substitute(entry.name, tokens)
        if name.startswith("dot-"):
            name = "." + name.removeprefix("dot-")
        if entry.is_dir():
            (target / name).mkdir()
            _render(entry, target / name, tokens)
        elif name.endswith(TEMPLATE_SUFFIX):
            text = _substitute(entry.read_text(encoding="utf-8"), tokens)
            (target / name.removesuffix(TEMPLATE_SUFFIX)).write_text(text, encoding="utf-8")


def _substitute(text: str, tokens: dict[str, str]) -> str:
    return _TOKEN.sub(lambda match: tokens[match.group(1)], text)
