"""Disk errors as one line naming the file and the cause (``plait_sdk.errors``), and the
working directory's files on a real full disk (a tiny tmpfs, which needs root)."""

from __future__ import annotations

import errno
from pathlib import Path
from types import SimpleNamespace

import pytest
from plait_sdk import TaskFailure, os_error_message, reporting_os_errors
from plait_sdk.files import Workspace
from plait_sdk.testing import tiny_filesystem

CAPACITY = 256 * 1024


def test_a_full_disk_becomes_one_line_naming_the_file(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "disk", CAPACITY) as disk:
        target = disk / "big.bin"
        with pytest.raises(TaskFailure) as raised, reporting_os_errors(target):
            target.write_bytes(b"x" * 4 * CAPACITY)

    assert str(raised.value) == f"cannot write {target}: No space left on device"
    assert isinstance(raised.value.__cause__, OSError)


def test_other_os_errors_pass_unchanged(tmp_path: Path) -> None:
    """A missing file is a bug or a mistake of the task's, not the machine's: its traceback
    stays."""
    with pytest.raises(FileNotFoundError), reporting_os_errors(tmp_path / "x"):
        (tmp_path / "missing").read_bytes()


@pytest.mark.parametrize(
    ("error", "path", "action", "expected"),
    [
        (
            OSError(errno.EFBIG, "File too large"),
            "plait:///f",
            None,
            "cannot write plait:///f: File too large",
        ),
        (
            OSError(errno.EACCES, "Permission denied", "/a"),
            None,
            None,
            "cannot access /a: Permission denied",
        ),
        (
            OSError(errno.EACCES, "Permission denied", "/a"),
            "/a/b",
            "create",
            "cannot create /a/b: Permission denied (/a)",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            None,
            None,
            "cannot write a file: No space left on device",
        ),
        (OSError(errno.EISDIR, "Is a directory", "/a"), "/a", None, None),
    ],
)
def test_message_wording(
    error: OSError, path: str | None, action: str | None, expected: str | None
) -> None:
    """Named as given, else as the OS names it (then also in parentheses when it differs);
    the verb is the caller's, else "write" for errors only writing meets."""
    assert os_error_message(error, path, action) == expected


def test_input_file_on_a_full_working_directory(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "work", CAPACITY) as work:
        ctx = SimpleNamespace(working_dir=lambda: work)
        workspace = Workspace.create(ctx)  # type: ignore[arg-type]

        with pytest.raises(TaskFailure) as raised:
            workspace.write_input_files(ctx, {"data/big.txt": "x" * 4 * CAPACITY})  # type: ignore[arg-type]

    assert str(raised.value) == f"cannot write {work / 'data/big.txt'}: No space left on device"
