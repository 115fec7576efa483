"""Working directories, ``inputFiles`` and ``outputFiles``: written once for every task type that
runs something over local files (scripts, queries, commands).

File names come from flows, so every one goes through :func:`safe_join`: no name can reach outside
the working directory, whether by ``..``, an absolute path, or a symbolic link. A disk error while
writing one (a full disk, a read-only folder) fails the task with a line naming the file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from plait_sdk.context import RunContext
from plait_sdk.errors import UnsafePathError, reporting_os_errors
from plait_sdk.task import TaskOutputs, TaskProperties, output, prop

STORAGE_SCHEME = "plait://"
OUTPUT_DIR_NAME = "_outputs"
"""Name of the folder under the working directory whose every file becomes an output file."""


def safe_join(root: Path, name: str) -> Path:
    """Resolve ``name`` inside ``root``, refusing anything that would land elsewhere."""
    if not name or "\x00" in name:
        raise UnsafePathError(f"invalid file name {name!r}")
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
        raise UnsafePathError(
            f"file name {name!r} must be a relative path inside the working directory"
        )
    root_resolved = root.resolve()
    candidate = root_resolved.joinpath(*pure.parts)
    resolved = candidate.resolve()
    if resolved != root_resolved and root_resolved not in resolved.parents:
        raise UnsafePathError(f"file name {name!r} leads outside the working directory")
    if resolved == root_resolved:
        raise UnsafePathError(f"file name {name!r} names the working directory itself")
    return candidate


class FilesProperties(TaskProperties):
    """Properties shared by tasks that run over a working directory."""

    inputFiles: dict[str, str] | None = prop(
        None,
        description=(
            "Files to create in the working directory before the run: a map of relative file "
            "name to either inline content or a `plait://` URI from the internal storage."
        ),
        examples=[{"data.csv": "{{ outputs.extract.uri }}", "query.sql": "SELECT 1"}],
    )
    outputFiles: list[str] | None = prop(
        None,
        description=(
            "Glob patterns, relative to the working directory, of files to upload to the "
            "internal storage after the run. Every file written under `{{ outputDir }}` is "
            "uploaded too."
        ),
        examples=[["*.csv", "reports/**/*.json"]],
    )


class FilesOutputs(TaskOutputs):
    """Outputs shared by tasks that run over a working directory."""

    outputFiles: dict[str, str] = output(
        default_factory=dict,
        description="Map of each output file's path, relative to the working directory "
        "(or to `outputDir`), to its `plait://` URI in the internal storage.",
    )


@dataclass(frozen=True)
class Workspace:
    """A task run's working directory and its output directory, as the host sees them."""

    root: Path

    @property
    def output_dir(self) -> Path:
        return self.root / OUTPUT_DIR_NAME

    @classmethod
    def create(cls, ctx: RunContext) -> Workspace:
        workspace = cls(ctx.working_dir())
        with reporting_os_errors(workspace.output_dir, action="create"):
            workspace.output_dir.mkdir(parents=True, exist_ok=True)
        return workspace

    def variables(self, root_as_seen: str | None = None) -> dict[str, Any]:
        """``workingDir``/``outputDir`` expression variables, optionally as seen elsewhere
        (e.g. inside a container where the root is bind-mounted)."""
        root = root_as_seen or str(self.root)
        return {"workingDir": root, "outputDir": f"{root.rstrip('/')}/{OUTPUT_DIR_NAME}"}

    def environment(self, root_as_seen: str | None = None) -> dict[str, str]:
        """The same locations as ``WORKING_DIR``/``OUTPUT_DIR`` environment variables."""
        names = self.variables(root_as_seen)
        return {"WORKING_DIR": names["workingDir"], "OUTPUT_DIR": names["outputDir"]}

    def write_input_files(self, ctx: RunContext, files: Mapping[str, str] | None) -> list[Path]:
        """Create ``inputFiles``: URIs are streamed from storage, other values written as text."""
        written: list[Path] = []
        for name, value in (files or {}).items():
            target = safe_join(self.root, name)
            if target.is_dir():
                raise UnsafePathError(f"input file name {name!r} names a directory")
            with reporting_os_errors(target):
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(value, str) and value.startswith(STORAGE_SCHEME):
                    ctx.storage.download(value, target)
                else:
                    target.write_text(value if isinstance(value, str) else str(value), "utf-8")
            written.append(target)
        return written

    def collect_output_files(
        self, ctx: RunContext, patterns: Sequence[str] | None = None
    ) -> dict[str, str]:
        """Upload the files matching ``patterns`` and everything under ``outputDir``.

        Keys are paths relative to the working directory for glob matches and relative to
        ``outputDir`` for its files (as ``outputFiles['products.csv']`` in Kestra's guide).
        """
        found: dict[str, Path] = {}
        for pattern in patterns or ():
            try:
                safe_join(self.root, pattern.replace("*", "x").replace("?", "x"))
            except UnsafePathError:
                raise UnsafePathError(
                    f"output file pattern {pattern!r} must stay inside the working directory"
                ) from None
            for path in sorted(self.root.glob(pattern)):
                if path.is_file() and not path.is_symlink() and self._inside(path):
                    found[path.relative_to(self.root).as_posix()] = path
        if self.output_dir.is_dir():
            for path in sorted(self.output_dir.rglob("*")):
                if path.is_file() and not path.is_symlink() and self._inside(path):
                    found[path.relative_to(self.output_dir).as_posix()] = path
        uploaded: dict[str, str] = {}
        for name, path in found.items():
            if problem := _unstorable(name):
                ctx.log.warning(f"output file {name!r} is not kept: its name {problem}")
                continue
            uploaded[name] = ctx.storage.put_file(path, name)
        return uploaded

    def _inside(self, path: Path) -> bool:
        root = self.root.resolve()
        return root in path.resolve().parents

    def clean(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _unstorable(name: str) -> str | None:
    """Why internal storage refuses a file name that is legal on disk, so that one oddly named
    file a script wrote is skipped (with a warning) instead of failing the whole task."""
    if "\\" in name:
        return "contains a backslash"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "contains a control character such as a newline"
    return None


def host_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The engine's environment plus ``extra``: the base for processes that tasks start."""
    env = dict(os.environ)
    env.update(extra or {})
    return env
