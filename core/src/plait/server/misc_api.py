"""Kestra's logs and plugins APIs, and the server's health and configuration."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from plait_sdk.schema import outputs_schema, properties_schema
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from plait.errors import NotFoundError, PlaitError
from plait.executor.context import LEVELS
from plait.server.http import (
    FOLLOW_POLL_SECONDS,
    endpoint,
    int_param,
    runtime,
    sse,
    to_response,
)
from plait.state.model import LogEntry, format_datetime

LEVEL_ALIASES = {"WARNING": "WARN"}
MAX_LOG_OFFSET = 2**63 - 1
"""``after`` is a count of stored lines: any whole number from 0 (a database's integer)."""


def log_document(entry: LogEntry, execution: Any) -> dict[str, Any]:
    """Kestra's LogEntry."""
    return {
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "executionId": entry.execution_id,
        "taskId": entry.task_id,
        "taskRunId": entry.taskrun_id,
        "timestamp": format_datetime(entry.timestamp),
        "level": entry.level,
        "message": entry.message,
    }


def at_least(entries: list[LogEntry], level: str) -> list[LogEntry]:
    """The lines at ``level`` or above (``WARNING`` is ``WARN``); an unknown level is the
    user's mistake, named with the levels there are."""
    level = LEVEL_ALIASES.get(level.upper(), level.upper())
    if level not in LEVELS:
        raise PlaitError(f"unknown log level {level!r} (levels: {', '.join(LEVELS)})")
    threshold = LEVELS.index(level)
    return [e for e in entries if LEVELS.index(e.level) >= threshold]


def _selected(request: Request) -> tuple[Any, list[LogEntry]]:
    """The execution and its log lines, filtered by ``minLevel``, ``taskId``, ``taskRunId``,
    without the first ``after`` (plait's parameter) of the task's stored lines."""
    repository = runtime(request).engine.repository
    execution = repository.get(request.path_params["execution_id"])
    params = request.query_params
    after = int_param(request, "after", 0, low=0, high=MAX_LOG_OFFSET)
    return execution, _filtered(
        request, repository.logs(execution.id, task_id=params.get("taskId"), after=after)
    )


def _filtered(request: Request, entries: list[LogEntry]) -> list[LogEntry]:
    params = request.query_params
    level = params.get("minLevel")
    if level:
        entries = at_least(entries, level)
    if params.get("taskRunId"):
        entries = [e for e in entries if e.taskrun_id == params["taskRunId"]]
    return entries


@endpoint
def logs(request: Request) -> Any:
    """GET /logs/{executionId}?minLevel&taskId&taskRunId&after: the lines, in order (``after``,
    plait's: without the first N stored lines of the selection by task)."""
    execution, entries = _selected(request)
    return [log_document(entry, execution) for entry in entries]


@endpoint
def download(request: Request) -> Any:
    """GET /logs/{executionId}/download: the lines as text, an attachment."""
    execution, entries = _selected(request)
    text = "".join(
        f"{format_datetime(e.timestamp)} {e.level:<5} "
        f"{'[' + e.task_id + '] ' if e.task_id else ''}{e.message}\n"
        for e in entries
    )
    return PlainTextResponse(
        text, headers={"Content-Disposition": f'attachment; filename="{execution.id}.log"'}
    )


async def follow(request: Request) -> Response:
    """GET /logs/{executionId}/follow: every stored line, then new ones as they come (server-
    sent events ``progress``; the client closes the stream, as with Kestra)."""
    try:
        execution, _ = await run_in_threadpool(_selected, request)
    except PlaitError as exc:  # no such execution (404), an unknown level (400)
        return to_response(exc)

    repository = runtime(request).engine.repository
    task_id = request.query_params.get("taskId")

    async def events() -> AsyncIterator[str]:
        read = 0  # stored lines read so far: each poll asks for the new ones only
        while not await request.is_disconnected():
            entries = await run_in_threadpool(
                repository.logs, execution.id, task_id=task_id, after=read
            )
            read += len(entries)
            for entry in _filtered(request, entries):
                data = json.dumps(log_document(entry, execution), ensure_ascii=False)
                yield sse("progress", data)
            await anyio.sleep(FOLLOW_POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream")


@endpoint
def plugins(request: Request) -> Any:
    """GET /plugins: the loaded plugins and their task types."""
    registry = runtime(request).engine.registry
    return [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "tasks": sorted(info.task_types),
            "aliases": {k: list(v) for k, v in info.task_types.items()},
            "provides": info.provides,
        }
        for info in registry.plugins
    ]


@endpoint
def plugin_type(request: Request) -> Any:
    """GET /plugins/{type}: a task type's documentation and schemas."""
    name = request.path_params["type"]
    registry = runtime(request).engine.registry
    cls = registry.find_task_type(name)
    if cls is None:
        raise NotFoundError(registry.unknown_task_type_message(name))
    return {
        "markdown": cls.description(),
        "schema": {"properties": properties_schema(cls), "outputs": outputs_schema(cls)},
    }


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


def routes() -> list[Route]:
    return [
        Route("/logs/{execution_id}/download", download, methods=["GET"]),
        Route("/logs/{execution_id}/follow", follow, methods=["GET"]),
        Route("/logs/{execution_id}", logs, methods=["GET"]),
        Route("/plugins", plugins, methods=["GET"]),
        Route("/plugins/{type}", plugin_type, methods=["GET"]),
    ]
