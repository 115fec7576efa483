"""Entry point module of plait-duckdb: registers its task types through the SDK hooks."""

from __future__ import annotations

from plait_sdk import SDK_MAJOR, Task, hookimpl

from plait_duckdb.query import Query

PLAIT_SDK_MAJOR = SDK_MAJOR


@hookimpl
def register_task_types() -> list[type[Task]]:
    return [Query]
