"""Entry point module of plait-http: registers its task types through the SDK hooks."""

from __future__ import annotations

from typing import Any

from plait_sdk import SDK_MAJOR, Task, hookimpl

from plait_http.download import Download
from plait_http.request import Request

PLAIT_SDK_MAJOR = SDK_MAJOR


@hookimpl
def register_task_types() -> list[type[Task[Any, Any]]]:
    return [Request, Download]
