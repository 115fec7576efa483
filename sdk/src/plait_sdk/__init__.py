"""plait-sdk: what a plait plugin imports. Nothing here depends on the plait core.

A plugin module implements hooks from :mod:`plait_sdk.hookspecs` with :data:`hookimpl` and is
published with an entry point in the ``plait`` group.
"""

from plait_sdk.context import RunContext, SubflowRun, TaskLogger, TaskStorage
from plait_sdk.errors import (
    StateError,
    StateNotFound,
    StateUnavailable,
    TaskFailure,
    UnsafePathError,
    os_error_message,
    reporting_os_errors,
)
from plait_sdk.expressions import ExpressionServices, needs_context
from plait_sdk.flowable import (
    Branch,
    FlowableProperties,
    FlowableTask,
    Plan,
    TaskList,
    TaskListMap,
    tasks_prop,
)
from plait_sdk.hookspecs import hookimpl
from plait_sdk.state import STATE_CONTRACT, StateStore
from plait_sdk.task import Example, Task, TaskOutputs, TaskProperties, output, prop

SDK_MAJOR = 1
"""Plugins declare the SDK major they were built for (``PLAIT_SDK_MAJOR`` in the plugin module);
the kernel refuses plugins built for another major."""

__version__ = "1.3.0"

__all__ = [
    "SDK_MAJOR",
    "STATE_CONTRACT",
    "Branch",
    "Example",
    "ExpressionServices",
    "FlowableProperties",
    "FlowableTask",
    "Plan",
    "RunContext",
    "StateError",
    "StateNotFound",
    "StateStore",
    "StateUnavailable",
    "SubflowRun",
    "Task",
    "TaskFailure",
    "TaskList",
    "TaskListMap",
    "TaskLogger",
    "TaskOutputs",
    "TaskProperties",
    "TaskStorage",
    "UnsafePathError",
    "hookimpl",
    "needs_context",
    "os_error_message",
    "output",
    "prop",
    "reporting_os_errors",
    "tasks_prop",
]
