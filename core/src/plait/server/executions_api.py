"""Kestra's executions API: create (multipart inputs, files, labels, ``wait``), get, search,
follow over SSE, kill, restart, replay, eval on a task run, and the execution's files."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams, UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from plait.errors import (
    ConflictError,
    FlowValidationError,
    NotFoundError,
    PlaitError,
    Problem,
    StorageError,
)
from plait.executor.runner import ExecutionRun
from plait.executor.services import EngineServices
from plait.flows import Flow, limits
from plait.flows.disabled import disabled_problem
from plait.preview import IMAGE_SUFFIXES, file_rows, json_text, text_head
from plait.server.http import (
    FOLLOW_POLL_SECONDS,
    JSON,
    bounded_body,
    endpoint,
    error,
    flag,
    int_param,
    paged,
    runtime,
    sse,
    with_body,
)
from plait.state.model import Execution, format_datetime, json_default, parse_datetime
from plait.storage import uris
from plait.storage.internal import InternalStorage

if TYPE_CHECKING:
    from plait.server.runtime import ServerRuntime

PREVIEW_ROWS = 100
PREVIEW_MAX_ROWS = 5000
PREVIEW_MAX_BYTES = 2 * 1024 * 1024


def document(execution: Execution) -> dict[str, Any]:
    """Kestra's Execution, with the fields Kestra always writes and its clients' models
    require: ``deleted``, ``metadata.originalCreatedDate``, and on each task run the
    execution, namespace and flow it belongs to."""
    doc = execution.to_document()
    doc["deleted"] = False
    doc["metadata"] = {
        **(doc.get("metadata") or {}),
        "originalCreatedDate": format_datetime(execution.created),
    }
    for run in doc.get("taskRunList") or []:
        run.setdefault("executionId", execution.id)
        run.setdefault("namespace", execution.namespace)
        run.setdefault("flowId", execution.flow_id)
    return doc


async def form_items(request: Request, folder: Path) -> list[tuple[str, str]]:
    """The fields of a multipart (or urlencoded) body in order, repeated names kept (the UI's
    multi-selects repeat theirs); file parts are saved under ``folder`` and given as local
    paths, which FILE inputs upload into the execution's storage. A file part without a file
    name is a file input left empty in a browser form: it is no value."""
    if "form" not in request.headers.get("content-type", ""):
        return []
    items: list[tuple[str, str]] = []
    # Text fields (not file parts, which go to disk) are input values: at most INPUT_BYTES.
    async with request.form(max_part_size=limits.INPUT_BYTES.value()) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if not value.filename:
                    continue
                target = folder / name
                target.mkdir(parents=True, exist_ok=True)
                path = target / Path(value.filename).name
                with path.open("wb") as out:
                    await run_in_threadpool(shutil.copyfileobj, value.file, out)
                items.append((name, str(path)))
            else:
                items.append((name, value))
    return items


FILTER = re.compile(r"filters\[(\w+)\]\[(\w+)\]")
"""Kestra's search filters as its clients send them: ``filters[FIELD][OPERATION]=VALUE``."""


def query_filters(request: Request, supported: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """The values of Kestra's flat search filters (``IN`` takes a comma-separated list), by
    field; a filter on another field, or with another operation, is refused rather than
    ignored (an ignored filter would answer with what was not asked for)."""
    found: dict[str, list[str]] = {}
    for key, raw in request.query_params.multi_items():
        if not key.startswith("filters["):
            continue
        match = FILTER.fullmatch(key)
        if not match or match[2] not in supported.get(match[1], ()):
            allowed = "; ".join(f"{f} with {' or '.join(ops)}" for f, ops in supported.items())
            raise PlaitError(f"unsupported search filter {key!r}: plait filters on {allowed}")
        values = raw.split(",") if match[2] == "IN" else [raw]
        found.setdefault(match[1], []).extend(v for v in values if v)
    return found


def single(filters: dict[str, list[str]], field: str, default: str | None) -> str | None:
    """The one value of a filter (or ``default`` when it is not given)."""
    values = filters.get(field)
    if not values:
        return default
    if len(values) > 1:
        raise PlaitError(f"the search filter on {field} takes one value, got {values}")
    return values[0]


def parse_labels(items: Iterable[str]) -> dict[str, str]:
    """Labels written ``key:value`` (the API's ``labels`` parameters, the UI's labels field);
    system labels are the engine's own, except the correlation id a client may set."""
    labels = {}
    for item in items:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise PlaitError(f"label {item!r} must be written key:value")
        if key.startswith("system.") and key != "system.correlationId":
            raise PlaitError(f"label {key!r} is a system label, which only the engine sets")
        labels[key] = value
    return labels


async def create(request: Request) -> Response:
    """POST /executions/{namespace}/{flowId}: start an execution of the latest revision."""
    namespace, flow_id = request.path_params["namespace"], request.path_params["flow_id"]
    with tempfile.TemporaryDirectory(prefix="plait-upload-") as folder:
        try:
            inputs = dict(await form_items(request, Path(folder)))
        except Exception as exc:  # a malformed body
            return error(400, f"could not read the request's inputs: {exc}")
        uploads = Path(folder)
        return await endpoint(lambda _: _create(request, namespace, flow_id, inputs, uploads))(
            request
        )


def _check_file_inputs(flow: Flow, inputs: dict[str, Any], uploads: Path) -> None:
    """A FILE input is an uploaded file part (or a ``plait://`` URI, checked later): a text
    value would name a file on the server's own disk, which a client must never reach."""
    problems = []
    for definition in flow.inputs:
        value = inputs.get(definition.id)
        if definition.type != "FILE" or value is None or uris.is_uri(value):
            continue
        if not Path(str(value)).resolve().is_relative_to(uploads.resolve()):
            problems.append(
                Problem(
                    f"input '{definition.id}': a FILE input must be sent as a file part of "
                    "the multipart body, not as text",
                    flow.file,
                    definition.line,
                    definition.column,
                )
            )
    if problems:
        raise FlowValidationError(problems)


def start_execution(
    server: ServerRuntime,
    flow: Flow,
    inputs: dict[str, Any],
    labels: dict[str, str],
    uploads: Path,
) -> Execution:
    """Start an execution of ``flow`` (a stored revision) with the inputs of a form whose files
    were saved under ``uploads``; the API's create and the UI's Execute form both start here.
    Raises ConflictError for a disabled flow, FlowValidationError naming each bad input."""
    if problem := disabled_problem(flow):
        raise ConflictError(str(problem))  # as Kestra: 409
    _check_file_inputs(flow, inputs, uploads)
    return server.create(flow, inputs, labels)


def _create(
    request: Request, namespace: str, flow_id: str, inputs: dict[str, Any], uploads: Path
) -> Any:
    server = runtime(request)
    flow = server.stored_flow(server.engine.repository.get_flow(namespace, flow_id))
    labels = parse_labels(request.query_params.getlist("labels"))
    execution = start_execution(server, flow, inputs, labels, uploads)
    if flag(request, "wait"):
        execution = server.wait(execution.id)
    # Kestra's ExecutionResponse adds where to see the execution: here, its API resource.
    prefix = str(request.url).split("?", 1)[0].split("/executions/", 1)[0]
    return {**document(execution), "url": f"{prefix}/executions/{execution.id}"}


@endpoint
def get(request: Request) -> Any:
    """GET /executions/{executionId}."""
    return document(runtime(request).engine.repository.get(request.path_params["execution_id"]))


@endpoint
def search(request: Request) -> Any:
    """GET /executions/search (and GET /executions?namespace&flowId&state&startDate&endDate&
    labels=key:value, or Kestra's ``filters[namespace|flowId|state][EQUALS]``): newest
    first, paged."""
    params = request.query_params
    filters = query_filters(
        request, {"namespace": ("EQUALS",), "flowId": ("EQUALS",), "state": ("EQUALS", "IN")}
    )
    found, total = runtime(request).engine.repository.search(
        namespace=single(filters, "namespace", params.get("namespace")),
        flow_id=single(filters, "flowId", params.get("flowId")),
        states=[*params.getlist("state"), *filters.get("state", [])],
        page=int_param(request, "page", 1),
        size=int_param(request, "size", 10, high=1000),
        started_from=date_param(params, "startDate"),
        started_to=date_param(params, "endDate"),
        labels=label_filters(params.getlist("labels")),
    )
    return paged([document(e) for e in found], total)


TO_PRECISION = {10: dt.timedelta(days=1), 16: dt.timedelta(minutes=1), 19: dt.timedelta(seconds=1)}
"""An upper bound written to the day, minute or second (by its length) covers all of it."""


def date_param(params: QueryParams, name: str, *, whole: bool = False) -> dt.datetime | None:
    """A date-time query parameter (API and UI), in UTC when it has no offset; ``whole``: the
    end of the day, minute or second it names."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        raise PlaitError(
            f"'{name}' must be a date and time such as 2026-12-01T09:30 (UTC), got {raw!r}"
        ) from None
    if whole and len(raw) in TO_PRECISION:
        value += TO_PRECISION[len(raw)] - dt.timedelta(microseconds=1)
    return value


def label_filters(items: Iterable[str]) -> dict[str, str]:
    """Label filters written ``key:value`` (blank ones ignored): every one must match."""
    labels = {}
    for item in filter(str.strip, items):
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise PlaitError(f"label filter {item!r} must be written key:value")
        labels[key.strip()] = value.strip()
    return labels


@endpoint
def kill(request: Request) -> Any:
    """DELETE /executions/{executionId}/kill: 202 and the execution KILLING; whichever process
    drives it (this server or a `plait run` on the same home) ends it KILLED."""
    return JSON(document(runtime(request).kill(request.path_params["execution_id"])), 202)


@endpoint
def restart(request: Request) -> Any:
    """POST /executions/{executionId}/restart: same id, from where it failed."""
    return document(runtime(request).restart(request.path_params["execution_id"]))


@endpoint
def replay(request: Request) -> Any:
    """POST /executions/{executionId}/replay?taskRunId=: a new execution."""
    start = request.query_params.get("taskRunId")
    return document(runtime(request).replay(request.path_params["execution_id"], start))


async def evaluate(request: Request) -> Response:
    """POST /executions/{executionId}/eval/{taskRunId} (text/plain expression): the value as
    that task run sees it, ``{result, error}``; an expression error is a 200 with ``error``."""
    return await with_body(request, _expression, lambda text: _evaluate(request, text))


async def _expression(request: Request) -> str:
    data = await bounded_body(request, limits.INPUT_BYTES, "the expression")
    return data.decode("utf-8", errors="replace")


def _evaluate(request: Request, expression: str) -> Any:
    found = evaluate_on(
        runtime(request).engine,
        request.path_params["execution_id"],
        request.path_params.get("taskrun_id"),
        expression,
    )
    if found.error is not None:
        return {"result": None, "error": found.error, "stackTrace": None}
    value = found.value
    if not isinstance(value, str):
        value = json.dumps(value, default=json_default, ensure_ascii=False)
    return {"result": value, "error": None, "stackTrace": None}


@dataclass(frozen=True)
class Evaluation:
    """An expression's value as a task run sees it (secrets masked), or why it failed: the
    masked message, and the error itself for where it points (line, column, name)."""

    value: Any = None
    error: str | None = None
    exception: PlaitError | None = None


def evaluate_on(
    engine: EngineServices, execution_id: str, taskrun_id: str | None, expression: str
) -> Evaluation:
    """Evaluate ``expression`` with the variables task run ``taskrun_id`` had (inside a loop:
    its iteration's ``taskrun.value``, ``parent``...), or the execution's when None; the eval
    endpoint and the UI's Render expression box answer the same."""
    execution = engine.repository.get(execution_id)
    view = ExecutionRun.stored(engine, execution)
    run = view.index.runs.get(taskrun_id) if taskrun_id else None
    if taskrun_id and run is None:
        raise NotFoundError(f"execution {execution.id} has no task run '{taskrun_id}'")
    variables = view.variables_for(run) if run else view.base_variables()
    try:
        value = view.evaluate(expression, variables, task_id=run.task_id if run else None)
    except PlaitError as exc:
        return Evaluation(error=view.masker.mask(str(exc)), exception=exc)
    return Evaluation(value=view.masker.mask_value(value))


def _file_uri(request: Request) -> tuple[Execution, str]:
    """The execution and the ``path`` it was asked for, which must be one of its own files."""
    engine = runtime(request).engine
    execution = engine.repository.get(request.path_params["execution_id"])
    return execution, execution_file(execution, request.query_params.get("path", ""))


def execution_file(execution: Execution, path: str) -> str:
    """The ``plait:///`` URI of ``path`` (Kestra's ``kestra:///`` accepted), which must name a
    file of ``execution`` (not another execution's, nothing outside the storage)."""
    uri = path.replace("kestra:///", uris.URI_PREFIX, 1)
    try:
        uris.key_in_execution(uri, execution.namespace, execution.flow_id, execution.id)
    except StorageError as exc:
        raise PlaitError(f"invalid path {path!r}: {exc}") from None
    return uri


@endpoint
def download(request: Request) -> Any:
    """GET /executions/{executionId}/file?path=: the file, as an attachment."""
    _, uri = _file_uri(request)
    storage = runtime(request).engine.storage
    size = storage.size(uri)
    name = uri.rsplit("/", 1)[-1]

    def chunks() -> Any:
        with storage.open(uri) as stream:
            while chunk := stream.read(1024 * 1024):
                yield chunk

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(size),
        },
    )


@endpoint
def metas(request: Request) -> Any:
    """GET /executions/{executionId}/file/metas?path=: ``{size}``."""
    _, uri = _file_uri(request)
    return {"size": runtime(request).engine.storage.size(uri)}


@endpoint
def preview(request: Request) -> Any:
    """GET /executions/{executionId}/file/preview?path=&maxRows=&encoding=: Kestra's
    FileRender; rows of JSON lines, CSV and Parquet files as a LIST of records."""
    _, uri = _file_uri(request)
    rows = int_param(request, "maxRows", PREVIEW_ROWS, high=PREVIEW_MAX_ROWS)
    encoding = request.query_params.get("encoding", "UTF-8")
    try:
        "".encode(encoding)
    except LookupError:
        raise PlaitError(f"Unable to preview using encoding '{encoding}'") from None
    found = preview_document(runtime(request).engine.storage, uri, rows, encoding)
    if found["type"] == "LIST":
        return Response(json_text(found), media_type="application/json")
    return found


def preview_document(
    storage: InternalStorage, uri: str, rows: int, encoding: str
) -> dict[str, Any]:
    """Kestra's FileRender of a stored file: an IMAGE (base64), MARKDOWN text, a LIST of the
    first ``rows`` records (JSON lines, CSV, Parquet: ``truncated`` when more follow), else
    TEXT (the first ``rows`` lines). Shared by the API and the UI's preview."""
    suffix = Path(uri).suffix.lower()
    with storage.open(uri) as stream:
        if suffix in IMAGE_SUFFIXES:
            content = base64.b64encode(stream.read(PREVIEW_MAX_BYTES + 1)).decode("ascii")
            return _render(suffix, "IMAGE", content, truncated=len(content) > PREVIEW_MAX_BYTES)
        if suffix == ".md":
            text = stream.read(PREVIEW_MAX_BYTES).decode("utf-8", errors="replace")
            return _render(suffix, "MARKDOWN", text)
        found = file_rows(uri, stream, rows)
    if found is not None:
        records, more = found
        return _render(suffix, "LIST", records, more)
    with storage.open(uri) as stream:
        text = text_head(stream, rows, encoding)
    return _render(suffix, "TEXT", text, truncated=text.endswith("…"))


def _render(suffix: str, kind: str, content: Any, truncated: bool = False) -> dict[str, Any]:
    return {
        "extension": suffix.lstrip("."),
        "type": kind,
        "content": content,
        "truncated": truncated,
    }


async def follow(request: Request) -> Response:
    """GET /executions/{executionId}/follow: server-sent events, ``progress`` with the
    execution at each change, then ``end`` once it is terminal."""
    engine = runtime(request).engine
    execution_id = request.path_params["execution_id"]
    try:
        await run_in_threadpool(engine.repository.get, execution_id)
    except NotFoundError as exc:
        return error(404, str(exc))

    async def events() -> AsyncIterator[str]:
        last = None
        while True:
            execution = await run_in_threadpool(engine.repository.get, execution_id)
            text = json.dumps(document(execution), default=json_default, ensure_ascii=False)
            ended = execution.state.is_terminal
            if text != last:
                last = text
                name = "end" if ended else "progress"
                yield sse(name, text)
            if ended or await request.is_disconnected():
                return
            await anyio.sleep(FOLLOW_POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream")


def routes() -> list[Route]:
    """Kestra's paths, and Kestra ≥ 1.0's ``/actions/`` forms of the actions."""
    base = "/executions"
    one = base + "/{execution_id}"
    return [
        Route(base + "/search", search, methods=["GET"]),
        Route(base, search, methods=["GET"]),
        Route(one + "/follow", follow, methods=["GET"]),
        Route(one + "/file", download, methods=["GET"]),
        Route(one + "/file/metas", metas, methods=["GET"]),
        Route(one + "/file/preview", preview, methods=["GET"]),
        Route(one + "/kill", kill, methods=["DELETE", "POST"]),
        Route(one + "/actions/kill", kill, methods=["DELETE", "POST"]),
        Route(one + "/restart", restart, methods=["POST"]),
        Route(one + "/actions/restart", restart, methods=["POST"]),
        Route(one + "/replay", replay, methods=["POST"]),
        Route(one + "/actions/replay", replay, methods=["POST"]),
        Route(one + "/eval/{taskrun_id}", evaluate, methods=["POST"]),
        Route(one + "/actions/eval/{taskrun_id}", evaluate, methods=["POST"]),
        Route(one + "/eval", evaluate, methods=["POST"]),
        Route(one + "/actions/eval", evaluate, methods=["POST"]),
        Route(base + "/trigger/{namespace}/{flow_id}", create, methods=["POST"]),
        Route(base + "/{namespace}/{flow_id}", create, methods=["POST"]),
        Route(one, get, methods=["GET"]),
    ]
