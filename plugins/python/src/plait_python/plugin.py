"""Entry point module of plait-python: registers its task types through the SDK hooks."""

from __future__ import annotations

from plait_sdk import SDK_MAJOR, Task, hookimpl

from plait_python.tasks import Commands, Script

PLAIT_SDK_MAJOR = SDK_MAJOR


@hookimpl
def register_task_types() -> list[type[Task]]:
    return [Script, Commands]
