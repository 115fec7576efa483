"""safe_join and Workspace: flow-provided file names never escape the working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plait_sdk.errors import UnsafePathError
from plait_sdk.files import Workspace, safe_join


@pytest.mark.parametrize(
    "name",
    ["../x", "a/../../x", "/etc/passwd", "C:\\windows", "..\\x", "", "a\x00b", "a/b/../../../c"],
)
def test_unsafe_names_are_refused(tmp_path: Path, name: str):
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, name)


def test_symlink_leading_outside_is_refused(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(UnsafePathError):
        safe_join(root, "link/file.txt")


def test_nested_relative_names_are_allowed(tmp_path: Path):
    assert safe_join(tmp_path, "a/b/c.csv") == tmp_path.resolve() / "a" / "b" / "c.csv"
    assert safe_join(tmp_path, "./a.csv") == tmp_path.resolve() / "a.csv"


class _Storage:
    """A real on-disk stand-in for the engine's storage (the engine is not needed here)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(exist_ok=True)

    def put_file(self, path: Path, name: str | None = None, *, move: bool = False) -> str:
        target = self.root / (name or path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        return f"plait:///test/{name}"

    def download(self, uri: str, path: Path) -> Path:
        path.write_bytes((self.root / uri.removeprefix("plait:///test/")).read_bytes())
        return path


class _Context:
    def __init__(self, tmp_path: Path) -> None:
        self.storage = _Storage(tmp_path / "storage")
        self._wd = tmp_path / "wd"

    def working_dir(self) -> Path:
        self._wd.mkdir(exist_ok=True)
        return self._wd


def test_workspace_inputs_outputs_round_trip(tmp_path: Path):
    ctx = _Context(tmp_path)
    (ctx.storage.root / "in.csv").write_text("a,b\n1,2\n")
    workspace = Workspace.create(ctx)  # type: ignore[arg-type]
    workspace.write_input_files(
        ctx,  # type: ignore[arg-type]
        {"data/in.csv": "plait:///test/in.csv", "query.sql": "SELECT 1"},
    )
    assert (workspace.root / "data" / "in.csv").read_text() == "a,b\n1,2\n"
    assert (workspace.root / "query.sql").read_text() == "SELECT 1"
    (workspace.output_dir / "products.csv").write_text("x\n")
    (workspace.root / "report.json").write_text("{}")
    (workspace.root / "ignored.txt").write_text("")
    found = workspace.collect_output_files(ctx, ["*.json"])  # type: ignore[arg-type]
    assert found == {
        "report.json": "plait:///test/report.json",
        "products.csv": "plait:///test/products.csv",
    }
    assert workspace.variables()["outputDir"] == f"{workspace.root}/_outputs"
    assert workspace.environment("/app") == {"WORKING_DIR": "/app", "OUTPUT_DIR": "/app/_outputs"}


def test_output_globs_cannot_escape(tmp_path: Path):
    ctx = _Context(tmp_path)
    workspace = Workspace.create(ctx)  # type: ignore[arg-type]
    with pytest.raises(UnsafePathError):
        workspace.collect_output_files(ctx, ["../*"])  # type: ignore[arg-type]


def test_inputs_cannot_name_the_working_or_output_directory(tmp_path: Path):
    ctx = _Context(tmp_path)
    workspace = Workspace.create(ctx)  # type: ignore[arg-type]
    for name in (".", "_outputs", "a/.."):
        with pytest.raises(UnsafePathError):
            workspace.write_input_files(ctx, {name: "x"})  # type: ignore[arg-type]


def test_unsafe_output_pattern_is_named_as_written(tmp_path: Path):
    ctx = _Context(tmp_path)
    workspace = Workspace.create(ctx)  # type: ignore[arg-type]
    with pytest.raises(UnsafePathError, match=r"'\.\./\*'"):
        workspace.collect_output_files(ctx, ["../*"])  # type: ignore[arg-type]


class _Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def test_output_files_storage_cannot_name_are_skipped_with_a_warning(tmp_path: Path):
    ctx = _Context(tmp_path)
    ctx.log = _Log()  # type: ignore[attr-defined]
    workspace = Workspace.create(ctx)  # type: ignore[arg-type]
    (workspace.output_dir / "back\\slash.txt").write_text("x")
    (workspace.output_dir / "new\nline.txt").write_text("x")
    (workspace.output_dir / "kept.txt").write_text("x")
    found = workspace.collect_output_files(ctx)  # type: ignore[arg-type]
    assert found == {"kept.txt": "plait:///test/kept.txt"}
    assert sorted(ctx.log.warnings) == [  # type: ignore[attr-defined]
        "output file 'back\\\\slash.txt' is not kept: its name contains a backslash",
        "output file 'new\\nline.txt' is not kept: its name contains a control character "
        "such as a newline",
    ]
