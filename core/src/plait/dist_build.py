"""``plait dist build``: turn a manifest into an artifact that installs with no network.

The artifact is a folder:

- ``wheelhouse/``: a wheel of plait, plait-sdk, every plugin and every dependency, as pip
  resolved them for the Python and platform running the build;
- ``requirements.lock``: each of those wheels as ``name==version`` with its sha256;
- ``plait-distribution.toml``: the manifest, as given;
- ``distribution.toml``: the configuration the installed core reads, which is the manifest with
  its packages pinned to the versions built (local paths mean nothing on the target machine);
- ``install.sh``: creates a virtual environment, installs the lock from the wheelhouse only,
  with hash checking, and puts ``distribution.toml`` where the core finds it.

The same manifest, package index state and Python give the same lock (names, versions and
hashes are sorted; no dates or paths are written); hatchling builds local projects
reproducibly, so their hashes hold too.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from plait.distribution import (
    CORE_PACKAGES,
    INSTALLED_CONFIG,
    MANIFEST_NAME,
    Distribution,
    DistributionError,
    Package,
    load_distribution,
    local_package_name,
    normalize_name,
)

WHEELHOUSE = "wheelhouse"
LOCK = "requirements.lock"
CONFIG = "distribution.toml"
INSTALLER = "install.sh"


@dataclass(frozen=True)
class Wheel:
    file: str
    name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class BuildResult:
    output: Path
    distribution: Distribution
    wheels: tuple[Wheel, ...]
    pins: dict[str, str]
    """Normalized name of each core and plugin package -> ``name==version``."""


def build(manifest: Path, output: Path, *, python: str = sys.executable) -> BuildResult:
    """Build the artifact of ``manifest`` into ``output`` (which must not exist or be empty).
    Everything is written to a temporary folder beside ``output`` first and moved into place
    at the end: a failed build leaves nothing behind."""
    distribution = load_distribution(manifest)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise DistributionError(f"{output} already exists and is not empty: choose a new folder")
    output.parent.mkdir(parents=True, exist_ok=True)
    packages = (*core_packages(distribution), *distribution.plugins)
    version = _python_version(python)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's folder is private; the artifact is meant to be shared
        wheels = _wheelhouse(packages, staging / WHEELHOUSE, python)
        by_name = {wheel.name: wheel for wheel in wheels}
        pins = {package.name: _pin(package, by_name) for package in packages}
        shutil.copyfile(manifest, staging / MANIFEST_NAME)
        (staging / LOCK).write_text(lock_text(distribution, wheels, version), encoding="utf-8")
        (staging / CONFIG).write_text(config_text(distribution, pins), encoding="utf-8")
        installer = staging / INSTALLER
        installer.write_text(installer_text(distribution, version), encoding="utf-8")
        installer.chmod(0o755)
        if output.exists():
            output.rmdir()
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(output=output, distribution=distribution, wheels=wheels, pins=pins)


def core_packages(distribution: Distribution) -> tuple[Package, ...]:
    """Where plait itself comes from: the manifest's ``core``, else plait from the index."""
    return distribution.core or tuple(Package(requirement=name) for name in CORE_PACKAGES)


def _wheelhouse(packages: Iterable[Package], target: Path, python: str) -> tuple[Wheel, ...]:
    """Let pip resolve the packages and their dependencies and leave a wheel of each."""
    target.mkdir(parents=True)
    command = [python, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(target)]
    command += [package.pip_argument for package in packages]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise DistributionError(
            f"pip could not build the wheelhouse (exit {done.returncode}): "
            f"{shlex.join(command)}\n{tail}"
        )
    wheels = []
    for path in sorted(target.glob("*.whl")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        name = normalize_name(local_package_name(path))
        wheels.append(Wheel(path.name, name, path.name.split("-")[1], digest))
    return tuple(sorted(wheels, key=lambda w: w.name))


def _pin(package: Package, wheels: Mapping[str, Wheel]) -> str:
    wheel = wheels.get(package.name)
    if wheel is None:  # pip succeeded, so the package was built under another name
        raise DistributionError(f"'{package}' is not among the wheels pip built")
    return f"{wheel.name}=={wheel.version}"


def _python_version(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def lock_text(distribution: Distribution, wheels: Iterable[Wheel], python_version: str) -> str:
    lines = [
        f"# The plait distribution {distribution.name} {distribution.version}: every package "
        "with its exact version and hash.",
        f"# Built by `plait dist build` for Python {python_version} on {sys.platform}; "
        f"install with {INSTALLER}.",
    ]
    for wheel in wheels:
        lines += [f"{wheel.name}=={wheel.version} \\", f"    --hash=sha256:{wheel.sha256}"]
    return "\n".join(lines) + "\n"


def config_text(distribution: Distribution, pins: Mapping[str, str]) -> str:
    """The installed configuration: the manifest's settings, packages pinned as built."""
    top: dict[str, Any] = {
        "name": distribution.name,
        "version": distribution.version,
        "description": distribution.description or None,
        "core": [pins[p.name] for p in core_packages(distribution)],
        "plugins": [pins[p.name] for p in distribution.plugins],
        "taskTypes": None if distribution.task_types is None else list(distribution.task_types),
        "triggerTypes": None
        if distribution.trigger_types is None
        else list(distribution.trigger_types),
        "home": distribution.home,
    }
    lines = [
        f"# The plait distribution {distribution.name} {distribution.version}, as built by "
        "`plait dist build`",
        f"# from {MANIFEST_NAME}; {INSTALLER} copies it to <venv>/{INSTALLED_CONFIG.as_posix()}.",
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in top.items() if value is not None]
    for key, backend in (("storage", distribution.storage), ("state", distribution.state)):
        if backend is not None:
            lines += ["", f"[{key}]", f"type = {toml_value(backend.type)}"]
            lines += [f"{_key(k)} = {toml_value(v)}" for k, v in backend.options.items()]
    for default in distribution.plugin_defaults:
        lines += ["", "[[pluginDefaults]]", f"type = {toml_value(default.type)}"]
        if default.forced:
            lines.append("forced = true")
        lines.append(f"values = {toml_value(default.values)}")
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """A TOML value on one line (tables inline), for the plain data a manifest holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _basic_string(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise DistributionError(f"cannot write {value!r} in TOML")


def _basic_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        escaped = escaped.replace(char, escape)
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else _basic_string(key)


def installer_text(distribution: Distribution, version: str) -> str:
    major, minor = version.split(".")
    name = distribution.name
    return f"""#!/bin/sh
# Installs the plait distribution {name} {distribution.version} into a virtual environment,
# from this folder only (no package index is used):
#     sh install.sh [VENV]        VENV defaults to ./{name}
# The wheels are for Python {version}: run with that python3, or set PYTHON to one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${{1:-{name}}}
python=${{PYTHON:-python3}}
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != ({major}, {minor}))' || {{
    echo "install.sh: this distribution was built for Python {version}; set PYTHON to one" >&2
    exit 1
}}
"$python" -m venv "$venv"
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CONSTRAINT PIP_REQUIREMENT
PIP_CONFIG_FILE={os.devnull} PIP_NO_INDEX=1 "$venv/bin/python" -m pip install --quiet \\
    --no-index --find-links "$here/{WHEELHOUSE}" --require-hashes --only-binary :all: \\
    -r "$here/{LOCK}"
mkdir -p "$venv/{INSTALLED_CONFIG.parent.as_posix()}"
cp "$here/{CONFIG}" "$venv/{INSTALLED_CONFIG.as_posix()}"
echo "installed {name} {distribution.version} in $venv: try $venv/bin/plait dist info"
"""
