"""Writing generated files so that an interrupted run never leaves one half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from plait.errors import PlaitError


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``
    (creating missing folders). Raises :class:`PlaitError` naming the path when it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise PlaitError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            # mkstemp makes the file private (0600); a generated file is as public as any other
            os.fchmod(stream.fileno(), 0o666 & ~_umask())
            stream.write(text)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise PlaitError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_tree(root: Path, files: Mapping[str, str], owned: tuple[str, ...] = ()) -> list[Path]:
    """Write ``files`` (relative path -> text) under ``root``; in each ``owned`` folder, remove
    the markdown files no longer generated (a task type that was removed). Returns the paths
    written, in order."""
    written = []
    for relative, text in files.items():
        path = root / relative
        write_atomically(path, text)
        written.append(path)
    for folder in owned:
        for stale in sorted((root / folder).glob("*.md")):
            if stale.relative_to(root).as_posix() not in files:
                stale.unlink()
    return written
