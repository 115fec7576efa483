"""An execution's Outputs tab: the tree of its task runs (loops grouped by value), the chosen
run's outputs rendered by type, a file's preview, and the Render expression box.

All of it is in the URL (``?taskrun=&file=&rows=&expression=``), so a preview or an
expression's result is a link one can paste. The preview and the expression answer htmx
requests with their own part of the page (the request's ``HX-Target``), the URL updated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from plait.errors import NotFoundError, PlaitError
from plait.executor.variables import chain_of
from plait.server.executions_api import execution_file
from plait.server.http import runtime
from plait.server.ui import file_preview
from plait.server.ui.executions_views import with_execution
from plait.server.ui.expression_box import Rendered, render_expression
from plait.server.ui.output_tree import (
    RunNode,
    build_tree,
    find_run,
    output_expression,
    readable_value,
)
from plait.server.ui.output_values import file_name, long_text, summary, value_kind
from plait.server.ui.pages import is_fragment, not_found, page
from plait.state.model import Execution
from plait.storage.internal import InternalStorage

FRAGMENTS = {
    "file-preview": "outputs_preview.html",
    "expression-result": "outputs_expression.html",
}
"""The parts of the page an htmx request may ask for, by the id of the element it swaps."""

API_PREFIX = "/api/v1"
"""Where the REST API is mounted (its routes have no names to look up)."""
OPEN_SUBTREE = 50
"""A run whose subtree holds at most this many task runs starts unfolded."""
OPEN_ITERATIONS = 10
"""A loop with at most this many iterations shows them unfolded."""


@dataclass(frozen=True)
class Links:
    """This tab's URLs, each keeping the state that still applies."""

    base: str
    api: str
    taskrun: str | None
    file: str | None
    rows: int

    def _url(self, **params: str | int | None) -> str:
        kept = {k: v for k, v in params.items() if v is not None and v != ""}
        return f"{self.base}?{urlencode(kept)}" if kept else self.base

    def select(self, taskrun_id: str | None) -> str:
        """Another task run (None: the execution itself); its preview and expression close."""
        return self._url(taskrun=taskrun_id)

    def preview(self, uri: str) -> str:
        return self._url(taskrun=self.taskrun, file=uri)

    def rows_of(self, rows: int) -> str:
        return self._url(taskrun=self.taskrun, file=self.file, rows=rows)

    def close_preview(self) -> str:
        return self._url(taskrun=self.taskrun)

    def download(self, uri: str) -> str:
        return f"{self.api}/file?{urlencode({'path': uri})}"


def task_types(request: Request, execution: Execution) -> dict[str, str]:
    """Each task's type, short (``ForEach``), by task id; empty if the flow revision is gone."""
    server = runtime(request)
    repository = server.engine.repository
    try:
        stored = repository.get_flow(
            execution.namespace, execution.flow_id, execution.flow_revision
        )
        flow = server.stored_flow(stored)
    except PlaitError:
        return {}
    return {task.id: task.type.rsplit(".", 1)[-1] for task in flow.walk()}


def trail(execution: Execution, node: RunNode) -> list[tuple[str, str | None]]:
    """The selected run's place: each ancestor's task id and its loop value (readable)."""
    runs = {run.id: run for run in execution.task_runs}
    return [
        (run.task_id, readable_value(run.value) if run.value is not None else None)
        for run in chain_of(runs, node.run)
    ]


def prefill(node: RunNode | None) -> str:
    """What the expression box starts with: the run's first output as a flow would read it
    (loop keys included), so evaluating it at once shows something."""
    if node is None:
        return "{{ execution.id }}"
    outputs = node.run.outputs or {}
    if outputs:
        first = next(iter(outputs))
        return "{{ " + output_expression(node.run.task_id, node.keys, [first]) + " }}"
    return "{{ taskrun.value }}" if node.run.value is not None else "{{ task.id }}"


@with_execution
def execution_outputs(request: Request, execution: Execution) -> Response:
    """GET /ui/executions/{namespace}/{flow_id}/{id}/outputs?taskrun=&file=&rows=&expression="""
    params = request.query_params
    taskrun_id = params.get("taskrun") or None
    tree = build_tree(execution, task_types(request, execution))
    selected: RunNode | None = None
    path: list[str] = []
    if taskrun_id:
        found = find_run(tree, taskrun_id)
        if found is None:
            message = f"execution {execution.id} has no task run '{taskrun_id}'"
            return not_found(request, message, "executions")
        selected, path = found
    base = str(request.url.path)
    api_root = f"{API_PREFIX}/executions/{execution.id}"  # as path_for: a path, no host
    rows = file_preview.row_limit(params.get("rows"))
    links = Links(base, api_root, taskrun_id, params.get("file") or None, rows)
    context: dict[str, Any] = {
        "section": "executions",
        "execution": execution,
        "tab": "outputs",
        "tree": tree,
        "selected": selected,
        "open": set(path),
        "trail": trail(execution, selected) if selected else [],
        "outputs": (selected.run.outputs if selected else execution.outputs) or {},
        "links": links,
        "fragment": is_fragment(request),
        "OPEN_SUBTREE": OPEN_SUBTREE,
        "OPEN_ITERATIONS": OPEN_ITERATIONS,
        **_helpers(runtime(request).engine.storage, execution),
    }
    context["preview"], context["preview_error"], status = _preview(request, execution, links)
    expression = params.get("expression")
    context["expression"] = expression if expression is not None else prefill(selected)
    context["rendered"] = _render(request, execution, taskrun_id, expression)
    target = request.headers.get("HX-Target", "")
    if is_fragment(request) and target in FRAGMENTS:
        return page(request, FRAGMENTS[target], context)
    return page(request, "outputs.html", context, status)


def file_state(storage: InternalStorage, execution: Execution, uri: str) -> str:
    """Whether a file output can be previewed here: ``ok``; ``missing`` (purged, or the
    storage was emptied: no Preview leading to an error, kestra-io/kestra#4208); ``foreign``
    (another execution's file, e.g. a subflow's: this execution's links cannot serve it)."""
    try:
        own = execution_file(execution, uri)
    except PlaitError:
        return "foreign"
    return "ok" if storage.exists(own) else "missing"


def _helpers(storage: InternalStorage, execution: Execution) -> Mapping[str, Any]:
    """Functions the templates call to show values."""
    return {
        "file_state": lambda uri: file_state(storage, execution, uri),
        "kind": value_kind,
        "summary": summary,
        "long_text": long_text,
        "file_name": file_name,
        "readable": readable_value,
        "output_expression": output_expression,
    }


def _preview(
    request: Request, execution: Execution, links: Links
) -> tuple[file_preview.Preview | None, str | None, int]:
    """The preview of ``file=`` (None without one), or why there is none, and the page's
    status: a file of another execution or outside the storage is refused (400), a missing
    one is a 404; an htmx request gets 200 so that the message is swapped in."""
    if links.file is None:
        return None, None, 200
    storage = runtime(request).engine.storage
    try:
        uri = execution_file(execution, links.file)
        return file_preview.preview(storage, uri, links.rows), None, 200
    except NotFoundError as exc:
        status = 404
        message = str(exc)
    except PlaitError as exc:
        status = 400
        message = str(exc)
    return None, message, 200 if is_fragment(request) else status


def _render(
    request: Request, execution: Execution, taskrun_id: str | None, expression: str | None
) -> Rendered | None:
    if expression is None or not expression.strip():
        return None
    return render_expression(runtime(request).engine, execution.id, taskrun_id, expression)


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/executions/{namespace}/{flow_id}/{execution_id}/outputs",
            execution_outputs,
            name="execution_outputs",
        )
    ]
