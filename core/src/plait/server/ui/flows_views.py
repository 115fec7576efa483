"""Flows in the UI: the list with its search, and a flow's page with its tabs: Topology (tasks
nested as they run, triggers, inputs, outputs), Revisions (a diff between any two) and Execute
(a form generated from the flow's inputs). The Edit tab is the editor's
(:mod:`plait.server.ui.editor_views`).

The URL is the state: the search, the page and the two revisions compared are query
parameters. The Execute form starts executions exactly as the API's create does
(:func:`plait.server.executions_api.start_execution`)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from plait.errors import ConflictError, FlowValidationError, NotFoundError, PlaitError
from plait.flows import Flow
from plait.server.executions_api import form_items, parse_labels, start_execution
from plait.server.http import runtime
from plait.server.ui import execute_form, timefmt, topology
from plait.server.ui.line_diff import line_diff
from plait.server.ui.markdown_html import markdown_html
from plait.server.ui.pages import not_found, page, templates
from plait.state.model import Execution, StoredFlow

SECTION = "flows"
PAGE_SIZE = 50

templates.env.filters.setdefault("when", timefmt.when)


# -- the list ------------------------------------------------------------------------------------


@dataclass
class FlowRow:
    """One flow of the list: its latest revision, read (or why it no longer reads), and its
    latest execution."""

    stored: StoredFlow
    flow: Flow | None
    problem: str | None
    last: Execution | None = None

    def matches(self, words: list[str]) -> bool:
        """Every word appears in the namespace, the id or the description."""
        description = self.flow.description if self.flow and self.flow.description else ""
        text = f"{self.stored.namespace}.{self.stored.flow_id} {description}".lower()
        return all(word in text for word in words)

    @property
    def task_count(self) -> int | None:
        return sum(1 for _ in self.flow.walk()) if self.flow else None


def _read(request: Request, stored: StoredFlow) -> tuple[Flow | None, FlowValidationError | None]:
    """The revision as the engine reads it, or why it cannot (a plugin it uses was removed)."""
    try:
        return runtime(request).stored_flow(stored), None
    except FlowValidationError as exc:
        return None, exc


def flows(request: Request) -> Response:
    """GET /ui/flows?q=&page=: every flow whose namespace, id or description holds every word
    of ``q``, 50 a page, each with its latest execution."""
    query = request.query_params.get("q", "").strip()
    wanted = request.query_params.get("page", "1")
    number = int(wanted) if wanted.isascii() and wanted.isdigit() and int(wanted) > 0 else 1
    repository = runtime(request).engine.repository
    rows = []
    for stored in repository.list_flows():
        flow, problem = _read(request, stored)
        rows.append(FlowRow(stored, flow, str(problem) if problem else None))
    found = [row for row in rows if row.matches(query.lower().split())]
    shown = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    for row in shown:
        latest = repository.list(
            namespace=row.stored.namespace, flow_id=row.stored.flow_id, limit=1
        )
        row.last = latest[0] if latest else None
    context = {
        "section": SECTION,
        "q": query,
        "rows": shown,
        "total": len(found),
        "stored_count": len(rows),
        "page_number": number,
        "pages": max(1, -(-len(found) // PAGE_SIZE)),
    }
    return page(request, "flows.html", context)


# -- a flow's page -------------------------------------------------------------------------------


def _flow_context(request: Request, tab: str) -> dict[str, Any]:
    return {
        "section": SECTION,
        "namespace": request.path_params["namespace"],
        "flow_id": request.path_params["flow_id"],
        "tab": tab,
    }


def flow(request: Request) -> Response:
    """GET /ui/flows/{namespace}/{flow_id}[?revision=N]: the topology of the latest revision
    (or of revision N)."""
    context = _flow_context(request, "topology")
    engine = runtime(request).engine
    wanted = request.query_params.get("revision", "")
    try:
        if wanted and not (wanted.isascii() and wanted.isdigit()):
            raise NotFoundError(f"there is no revision {wanted!r}: a revision is a number")
        stored = engine.repository.get_flow(
            context["namespace"], context["flow_id"], int(wanted) if wanted else None
        )
    except NotFoundError as exc:
        return not_found(request, str(exc), SECTION)
    loaded, problem = _read(request, stored)
    context.update(stored=stored, flow=loaded, problem=problem, chosen=bool(wanted))
    if loaded is not None:
        registry = engine.registry
        context.update(
            description=markdown_html(loaded.description or ""),
            branches=topology.branches(loaded.children, registry),
            triggers=[(t, topology.settings(t.properties)) for t in loaded.triggers],
            inputs=[(i, topology.input_constraints(i)) for i in loaded.inputs],
            short=topology.short,
            trigger_types=registry.trigger_types,
        )
    return page(request, "flow_topology.html", context)


def _revision_param(request: Request, name: str, numbers: list[int], default: int) -> int:
    value = request.query_params.get(name, "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) not in numbers:
        raise NotFoundError(
            f"flow '{request.path_params['namespace']}.{request.path_params['flow_id']}' has "
            f"no revision {value!r} ({name}); its revisions are {numbers[0]} to {numbers[-1]}"
        )
    return int(value)


def flow_revisions(request: Request) -> Response:
    """GET /ui/flows/{namespace}/{flow_id}/revisions?left=N&right=M: every revision, and the
    diff from ``left`` (default: the one before ``right``) to ``right`` (default: the
    latest)."""
    context = _flow_context(request, "revisions")
    repository = runtime(request).engine.repository
    try:
        revisions = repository.flow_revisions(context["namespace"], context["flow_id"])
        numbers = [r.revision for r in revisions]
        right = _revision_param(request, "right", numbers, numbers[-1])
        before = [n for n in numbers if n < right]
        left = _revision_param(request, "left", numbers, before[-1] if before else right)
    except NotFoundError as exc:
        return not_found(request, str(exc), SECTION)
    by_number = {r.revision: r for r in revisions}
    context.update(
        revisions=list(reversed(revisions)),
        left=by_number[left],
        right=by_number[right],
        rows=line_diff(by_number[left].source, by_number[right].source),
    )
    return page(request, "flow_revisions.html", context)


# -- the Execute form ----------------------------------------------------------------------------


def _execute_page(
    request: Request,
    flow: Flow,
    fields: list[execute_form.InputField],
    *,
    labels: str = "",
    labels_error: str | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    context = _flow_context(request, "execute")
    context.update(
        flow=flow,
        fields=fields,
        labels=labels,
        labels_error=labels_error,
        errors=errors or [],
        labels_field=execute_form.LABELS_FIELD,
        description=markdown_html(flow.description or ""),
    )
    return page(request, "flow_execute.html", context, status=status)


def _executable(request: Request) -> Flow | Response:
    """The latest revision, read; or the page saying why there is none to execute (no such
    flow, or a revision that no longer reads with the installed plugins)."""
    server = runtime(request)
    try:
        stored = server.engine.repository.get_flow(
            request.path_params["namespace"], request.path_params["flow_id"]
        )
        return server.stored_flow(stored)
    except NotFoundError as exc:
        return not_found(request, str(exc), SECTION)
    except FlowValidationError as exc:
        return not_found(request, f"the flow's latest revision no longer reads: {exc}", SECTION)


def flow_execute_form(request: Request) -> Response:
    """GET /ui/flows/{namespace}/{flow_id}/execute: a field per input, defaults filled in."""
    loaded = _executable(request)
    if isinstance(loaded, Response):
        return loaded
    return _execute_page(request, loaded, execute_form.blank_fields(loaded))


async def flow_execute_submit(request: Request) -> Response:
    """POST /ui/flows/{namespace}/{flow_id}/execute (multipart): start an execution and go to
    its page (303), or show the form again with each problem next to its field (422)."""
    with tempfile.TemporaryDirectory(prefix="plait-upload-") as folder:
        try:
            items = await form_items(request, Path(folder))
        except Exception as exc:  # a malformed body: said on the form, as the API says it
            items, unreadable = [], f"could not read the form: {exc}"
        else:
            unreadable = None
        return await run_in_threadpool(_submit, request, items, Path(folder), unreadable)


def _submit(
    request: Request, items: list[tuple[str, str]], uploads: Path, unreadable: str | None
) -> Response:
    loaded = _executable(request)
    if isinstance(loaded, Response):
        return loaded
    fields = execute_form.submitted_fields(loaded, items)
    lines = execute_form.label_lines(items)

    def again(status: int = 422, **problems: Any) -> Response:
        """The form as submitted, with its problems."""
        text = "\n".join(lines)
        return _execute_page(request, loaded, fields, labels=text, status=status, **problems)

    if unreadable:
        return again(errors=[unreadable])
    try:
        labels = parse_labels(lines)
    except PlaitError as exc:
        return again(labels_error=str(exc))
    inputs = execute_form.form_inputs(loaded, items)
    try:
        execution = start_execution(runtime(request), loaded, inputs, labels, uploads)
    except ConflictError as exc:  # the flow is disabled
        return again(409, errors=[str(exc)])
    except FlowValidationError as exc:
        return again(errors=execute_form.place_problems(fields, exc.problems))
    target = request.app.url_path_for(
        "ui:execution",
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        execution_id=execution.id,
    )
    return RedirectResponse(str(target), status_code=303)


def routes() -> list[BaseRoute]:
    one = "/flows/{namespace}/{flow_id}"
    return [
        Route("/flows", flows, name="flows"),
        Route(one, flow, name="flow"),
        Route(one + "/revisions", flow_revisions, name="flow_revisions"),
        Route(one + "/execute", flow_execute_form, methods=["GET"], name="flow_execute"),
        Route(one + "/execute", flow_execute_submit, methods=["POST"]),
    ]
