"""Executions in the UI: the list with its filters, an execution's page (header, Gantt, the
kill / restart / replay actions) and its logs.

The URL is the state: filters, the log level and the log search are query parameters, so any
view can be pasted. What is live refreshes itself: the list's rows and the execution's page
are polled as htmx fragments (the same URL, answered without the page around it) while
something shown is unfinished, and the logs are tailed over the API's server-sent events."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from plait.errors import ConflictError, NotFoundError, PlaitError
from plait.executor.context import LEVELS
from plait.server.execution_search import ExecutionQuery, search_executions
from plait.server.executions_api import date_param, label_filters
from plait.server.http import int_param, runtime
from plait.server.misc_api import at_least
from plait.server.runtime import ServerRuntime
from plait.server.ui import timefmt
from plait.server.ui.gantt import gantt
from plait.server.ui.pages import is_fragment, not_found, page, templates
from plait.state.model import Execution, LogEntry, State, json_default

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
DEFAULT_LEVEL = "INFO"
"""The logs' default minimum level, as Kestra's UI shows them."""
RESTARTABLE = (State.FAILED, State.KILLED)
ExecutionView = Callable[[Request, Execution], Response]


def pretty(value: Any) -> str:
    """An input or output value as text: strings as they are, the rest as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, default=json_default, ensure_ascii=False)


templates.env.filters.update(
    when=timefmt.when,
    clock=timefmt.clock,
    duration=timefmt.duration,
    lasted=timefmt.lasted,
    pretty=pretty,
)


# -- the list ------------------------------------------------------------------------------------


def list_query(params: QueryParams) -> ExecutionQuery:
    """The list's filters from its query string; a value that cannot be read is the user's
    mistake, named (:class:`PlaitError`)."""
    states = tuple(s.strip().upper() for v in params.getlist("state") for s in v.split(",") if s)
    unknown = [s for s in states if s not in State.__members__]
    if unknown:
        raise PlaitError(f"unknown state {unknown[0]!r} (states: {', '.join(State)})")
    labels = label_filters(params.getlist("label"))
    return ExecutionQuery(
        namespace=params.get("namespace", "").strip() or None,
        flow_id=params.get("flow", "").strip() or None,
        states=states,
        started_from=date_param(params, "from"),
        started_to=date_param(params, "to", whole=True),
        labels=labels,
    )


def _with_page(request: Request, number: int) -> str:
    """This list's path and query with another page number."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return f"{request.url.path}?{urlencode([*params, ('page', str(number))])}"


def executions(request: Request) -> Response:
    """GET /ui/executions: the filtered list, newest first; an htmx request gets its rows."""
    params = request.query_params
    context: dict[str, Any] = {
        "section": "executions",
        "params": params,
        "labels": [v for v in params.getlist("label") if v.strip()],
        "states": list(State),
        "chosen_states": set(params.getlist("state")),
        "found": None,
        "error": None,
    }
    try:
        query = list_query(params)
        number = int_param(request, "page", 1)
        size = int_param(request, "size", PAGE_SIZE, high=MAX_PAGE_SIZE)
        found = search_executions(runtime(request).engine.repository, query, page=number, size=size)
    except PlaitError as exc:
        context["error"] = str(exc)
        return page(request, "executions.html", context, status=400)
    context.update(
        found=found,
        live=any(not e.state.is_terminal for e in found.executions),
        previous=_with_page(request, number - 1) if number > 1 else None,
        next=_with_page(request, number + 1) if found.has_more else None,
    )
    template = "executions_rows.html" if is_fragment(request) else "executions.html"
    return page(request, template, context)


# -- one execution -------------------------------------------------------------------------------


def execution_path(request: Request, execution: Execution) -> str:
    return str(
        request.app.url_path_for(
            "ui:execution",
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            execution_id=execution.id,
        )
    )


def with_execution(view: ExecutionView) -> Callable[[Request], Response]:
    """The view of the execution the path names: the 404 page when there is none; a GET on
    an id prefix, or under another flow, is sent to the execution's own URL."""

    def handle(request: Request) -> Response:
        asked = request.path_params
        try:
            execution = runtime(request).engine.repository.get(asked["execution_id"])
        except NotFoundError as exc:
            return not_found(request, str(exc), "executions")
        where = (execution.namespace, execution.flow_id, execution.id)
        if where != (asked["namespace"], asked["flow_id"], asked["execution_id"]):
            if request.method != "GET":
                return not_found(request, f"no execution {asked['execution_id']} here")
            base = request.app.url_path_for("ui:execution", **asked)
            suffix = request.url.path.removeprefix(str(base))  # /logs, or nothing
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(execution_path(request, execution) + suffix + query)
        return view(request, execution)

    handle.__name__ = view.__name__
    handle.__doc__ = view.__doc__
    return handle


def _execution_context(execution: Execution, error: str | None = None) -> dict[str, Any]:
    return {
        "section": "executions",
        "execution": execution,
        "tab": "gantt",
        "items": gantt(execution),
        "live": not execution.state.is_terminal,
        "can_restart": execution.state in RESTARTABLE,
        "can_replay": execution.state.is_terminal,
        "error": error,
    }


@with_execution
def execution(request: Request, execution: Execution) -> Response:
    """GET /ui/executions/{namespace}/{flow_id}/{id}: the header, the actions and the Gantt;
    an htmx request (the page polling itself while unfinished) gets that part alone."""
    template = "execution_live.html" if is_fragment(request) else "execution.html"
    return page(request, template, _execution_context(execution))


Action = Callable[[ServerRuntime, Execution, str | None], Execution]
"""An action on an execution, given the task run chosen (replay's ``taskrun``) if any; returns
the execution to show next."""


def action(perform: Action) -> Callable[[Request], Awaitable[Response]]:
    """A POST from the execution page's buttons: done, then the browser is sent (303) to the
    execution it leads to; refused, the page again with the reason in place. The task run
    comes from ``?taskrun=`` or from the form (a Gantt row's replay button names it)."""

    async def handle(request: Request) -> Response:
        async with request.form(max_fields=10, max_files=0) as form:
            chosen = request.query_params.get("taskrun") or form.get("taskrun")
        taskrun = chosen if isinstance(chosen, str) and chosen else None

        def act(request: Request, execution: Execution) -> Response:
            try:
                result = perform(runtime(request), execution, taskrun)
            except PlaitError as exc:
                error, status = str(exc), 409 if isinstance(exc, ConflictError) else 400
            else:
                return RedirectResponse(execution_path(request, result), status_code=303)
            context = _execution_context(execution, error)
            return page(request, "execution.html", context, status)

        return await run_in_threadpool(with_execution(act), request)

    handle.__name__ = perform.__name__
    return handle


def kill(server: ServerRuntime, execution: Execution, taskrun: str | None) -> Execution:
    server.kill(execution.id)
    return execution


def restart(server: ServerRuntime, execution: Execution, taskrun: str | None) -> Execution:
    return server.restart(execution.id)


def replay(server: ServerRuntime, execution: Execution, taskrun: str | None) -> Execution:
    """A new execution; from ``taskrun`` (it and what follows it run again), or whole."""
    return server.replay(execution.id, taskrun)


# -- logs ----------------------------------------------------------------------------------------


def matches(entry: LogEntry, text: str) -> bool:
    """The log search: ``text`` in the message or the task id, ignoring case (the page's
    script applies the same rule to the lines it tails)."""
    text = text.lower()
    return text in entry.message.lower() or text in (entry.task_id or "").lower()


@with_execution
def execution_logs(request: Request, execution: Execution) -> Response:
    """GET .../logs?level=&q=: the lines at ``level`` or above that contain ``q``; while the
    execution runs, the page's script appends new ones from the follow stream."""
    level = request.query_params.get("level") or DEFAULT_LEVEL
    text = request.query_params.get("q", "")
    context: dict[str, Any] = {
        "section": "executions",
        "execution": execution,
        "tab": "logs",
        "levels": LEVELS,
        "level": level,
        "q": text,
        "entries": [],
        "error": None,
        "live": not execution.state.is_terminal,
    }
    try:
        leveled = at_least(runtime(request).engine.repository.logs(execution.id), level)
    except PlaitError as exc:
        context["error"] = str(exc)
        return page(request, "execution_logs.html", context, status=400)
    context["entries"] = [e for e in leveled if not text or matches(e, text)]
    context["sent"] = len(leveled)  # what the follow stream sends first, again: skipped there
    return page(request, "execution_logs.html", context)


def routes() -> list[BaseRoute]:
    one = "/executions/{namespace}/{flow_id}/{execution_id}"
    return [
        Route("/executions", executions, name="executions"),
        Route(one, execution, name="execution"),
        Route(one + "/logs", execution_logs, name="execution_logs"),
        Route(one + "/kill", action(kill), methods=["POST"], name="execution_kill"),
        Route(one + "/restart", action(restart), methods=["POST"], name="execution_restart"),
        Route(one + "/replay", action(replay), methods=["POST"], name="execution_replay"),
    ]
