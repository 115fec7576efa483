"""Errors a task raises to fail cleanly: the message is shown to the flow author, no traceback.

Disk and I/O errors (a full disk, a file size limit, a read-only or forbidden folder) are the
machine's fault, not the task's: :func:`reporting_os_errors` turns them into one line naming
the file and the cause (``cannot write <file>: No space left on device``) wherever files are
written, so that the engine, the SDK and plugins word them alike.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class TaskFailure(Exception):
    """The task ran into a condition the flow author must fix or know about (bad status code,
    non-zero exit, missing file). The message is the whole story; no traceback is shown."""


class UnsafePathError(TaskFailure):
    """A file name or URI coming from a flow tried to reach outside its allowed root."""


MACHINE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EIO,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENAMETOOLONG,
    }
)
"""OS errors that describe the machine (space, quotas, size limits, permissions, a failing
device, exhausted file descriptors), not a bug in the code that met them: a clear line is the
whole story. Any other ``OSError`` keeps its traceback."""

_WRITE_ONLY_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def os_error_message(
    exc: OSError, path: str | os.PathLike[str] | None = None, action: str | None = None
) -> str | None:
    """``cannot <action> <file>: <cause>`` for an error in :data:`MACHINE_ERRNOS`, else None.

    ``path`` names the file as the flow author knows it (a ``plait://`` URI, a path in the
    working directory) and defaults to the file the OS names; when the OS names another one
    (the folder that could not be created, a temporary file) it follows in parentheses, for
    the operator. ``action`` defaults to "write" for errors only writing meets, else "access".
    """
    if exc.errno not in MACHINE_ERRNOS:
        return None
    verb = action or ("write" if exc.errno in _WRITE_ONLY_ERRNOS else "access")
    os_named = None if exc.filename is None else os.fsdecode(exc.filename)
    named = os_named if path is None else os.fspath(path)
    message = f"cannot {verb} {named or 'a file'}: {exc.strerror or os.strerror(exc.errno)}"
    if os_named is not None and os_named != named:
        message += f" ({os_named})"
    return message


@contextmanager
def reporting_os_errors(
    path: str | os.PathLike[str],
    *,
    action: str = "write",
    error: Callable[[str], Exception] = TaskFailure,
) -> Iterator[None]:
    """Within the block, an OS error of the machine (see :data:`MACHINE_ERRNOS`) becomes
    ``error("cannot write <path>: No space left on device")``; other errors pass unchanged.

    Wrap the code that writes one file (or creates one folder); cleaning up a partial file is
    still the block's job, in a ``finally`` or an ``except`` inside it."""
    try:
        yield
    except OSError as exc:
        message = os_error_message(exc, path, action)
        if message is None:
            raise
        raise error(message) from exc


class StateError(Exception):
    """A state store (``plait_sdk.state.StateStore``) could not do what was asked; the message
    is the whole story. The engine turns it into its own user-facing error (no traceback)."""


class StateNotFound(StateError):
    """No execution, flow revision or other record matches what was asked for (or an id prefix
    matches several executions)."""


class StateUnavailable(StateError):
    """The store's backend cannot be reached (a database server down for longer than the
    store retries); the message names the backend without credentials."""
