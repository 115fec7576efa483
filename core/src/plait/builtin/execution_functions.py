"""Functions that look at the execution in progress: its files, its logs, its loop iteration.

Kestra's ``fileSize``, ``errorLogs`` and ``currentEachOutput``. ``fileURI`` is left out: it
names a namespace file (``kestra:///<namespace>/_files/<path>``), which plait does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plait_sdk import ExpressionServices, needs_context


@needs_context
def file_size(services: ExpressionServices, path: str) -> int:
    """The size in bytes of an internal-storage file of the current execution.

    Example: ``{{ fileSize(outputs.download.uri) }}``
    """
    return services.file_size(str(path))


@needs_context
def error_logs(services: ExpressionServices) -> list[dict[str, Any]]:
    """The execution's ERROR logs so far (oldest first, at most 25), for an ``errors`` branch.

    Each entry has ``taskId``, ``taskRunId``, ``level``, ``message`` and ``timestamp`` (and
    ``namespace``, ``flowId``, ``executionId``); a failed task's error is among them. Loop
    over them with ``{% for log in errorLogs() %}{{ log.taskId }}: {{ log.message }}{% endfor %}``.

    Example: ``{{ errorLogs()[0].message ?? 'no error' }}``
    """
    return services.error_logs()


@needs_context
def current_each_output(services: ExpressionServices, outputs: Any) -> Any:
    """In a loop (ForEach, EachSequential...), the outputs of the current iteration of a task.

    ``currentEachOutput(outputs.x)`` is ``outputs.x`` indexed by the values of the enclosing
    loops, outermost first, then by the current one.
    Example: ``{{ currentEachOutput(outputs.fetch).value }}``
    """
    if not isinstance(outputs, Mapping):
        raise TypeError(f"expects the outputs of a task in a loop (a map), got {outputs!r}")
    variables = services.variables()
    taskrun = variables.get("taskrun")
    if not isinstance(taskrun, Mapping):
        raise ValueError("is only available in a task run")
    outer = [parent["taskrun"]["value"] for parent in reversed(variables.get("parents", []))]
    keys = [value for value in (*outer, taskrun.get("value")) if value is not None]
    node: Any = outputs
    for depth, key in enumerate(keys):
        if not isinstance(node, Mapping) or (key not in node and depth < len(keys) - 1):
            raise ValueError(f"the outputs have no entry for the iteration value {key!r}")
        node = node.get(key)
    return node


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "fileSize": file_size,
    "errorLogs": error_logs,
    "currentEachOutput": current_each_output,
}
