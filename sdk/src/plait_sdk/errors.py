"""Errors a task raises to fail cleanly: the message is shown to the flow author, no traceback."""

from __future__ import annotations


class TaskFailure(Exception):
    """The task ran into a condition the flow author must fix or know about (bad status code,
    non-zero exit, missing file). The message is the whole story; no traceback is shown."""


class UnsafePathError(TaskFailure):
    """A file name or URI coming from a flow tried to reach outside its allowed root."""
