"""Kestra's flows API: create and update from YAML, get (with source), revisions, delete,
search, validate; the flow schema for editors."""

from __future__ import annotations

import re
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plait.errors import FlowValidationError, PlaitError, Problem
from plait.flows import limits
from plait.flows.flow_file import decode_flow
from plait.server.executions_api import query_filters, single
from plait.server.http import (
    JSON,
    bounded_body,
    endpoint,
    int_param,
    paged,
    problem_document,
    runtime,
    with_body,
)
from plait.state.model import StoredFlow

BODY_FILE = "<request body>"

YAML_DOCUMENTS = re.compile(r"\n+---\n*?")
"""How Kestra splits a multi-document YAML body (``POST /flows/validate``)."""


def flow_document(stored: StoredFlow, *, source: bool = True) -> dict[str, Any]:
    """Kestra's FlowWithSource: the flow's keys as written, its revision and its source."""
    try:
        parsed = yaml.safe_load(stored.source)
    except yaml.YAMLError:
        parsed = None
    document = dict(parsed) if isinstance(parsed, dict) else {}
    # Kestra always writes these flags; its clients' Flow models require them.
    document.setdefault("disabled", False)
    document.setdefault("draft", False)
    for item in document.get("inputs") or []:
        # An input written with the deprecated ``name`` is given its ``id``, as Kestra does.
        if isinstance(item, dict) and "id" not in item and item.get("name"):
            item["id"] = item["name"]
    document.update(
        id=stored.flow_id,
        namespace=stored.namespace,
        revision=stored.revision,
        deleted=stored.deleted,
        updated=stored.created,
    )
    if source:
        document["source"] = stored.source
    return document


async def _yaml_body(request: Request) -> str:
    """The flow in the body: within the flow size limit, and UTF-8 (a bad byte is reported at
    its line and column)."""
    data = await bounded_body(request, limits.FLOW_BYTES, "the flow")
    text = decode_flow(data, BODY_FILE)
    if isinstance(text, Problem):
        raise FlowValidationError([text])
    return text


def _save(request: Request, text: str, expected: tuple[str, str] | None) -> Any:
    engine = runtime(request).engine
    flow = engine.load(text, file=BODY_FILE)
    if expected is not None and (flow.namespace, flow.id) != expected:
        namespace, flow_id = expected
        message = (
            f"the body is flow '{flow.namespace}.{flow.id}', the path names "
            f"'{namespace}.{flow_id}'; a flow's namespace and id cannot change"
        )
        raise FlowValidationError([Problem(message, BODY_FILE, 1, 1)])
    if expected is not None:
        engine.repository.get_flow(*expected)  # 404 when there is nothing to update
    engine.repository.save_flow(flow.namespace, flow.id, text)
    return flow_document(engine.repository.get_flow(flow.namespace, flow.id))


async def create(request: Request) -> Response:
    """POST /flows (application/x-yaml): store a new flow (or a new revision)."""
    return await with_body(request, _yaml_body, lambda text: _save(request, text, None))


async def update(request: Request) -> Response:
    """PUT /flows/{namespace}/{id} (application/x-yaml): a new revision of a stored flow."""
    key = (request.path_params["namespace"], request.path_params["flow_id"])
    return await with_body(request, _yaml_body, lambda text: _save(request, text, key))


@endpoint
def get(request: Request) -> Any:
    """GET /flows/{namespace}/{id}?revision=&source=."""
    revision = request.query_params.get("revision")
    if revision and not (revision.isascii() and revision.isdigit()):
        raise PlaitError(f"query parameter 'revision' must be a whole number, got {revision!r}")
    stored = runtime(request).engine.repository.get_flow(
        request.path_params["namespace"],
        request.path_params["flow_id"],
        int(revision) if revision else None,
    )
    return flow_document(stored, source=request.query_params.get("source", "true") != "false")


@endpoint
def revisions(request: Request) -> Any:
    """GET /flows/{namespace}/{id}/revisions: every revision, oldest first."""
    found = runtime(request).engine.repository.flow_revisions(
        request.path_params["namespace"], request.path_params["flow_id"]
    )
    return [flow_document(stored) for stored in found]


@endpoint
def delete(request: Request) -> Any:
    """DELETE /flows/{namespace}/{id}: 204; its executions keep their revisions."""
    runtime(request).engine.repository.delete_flow(
        request.path_params["namespace"], request.path_params["flow_id"]
    )
    return Response(status_code=204)


@endpoint
def search(request: Request) -> Any:
    """GET /flows/search?q=&namespace=&page=&size= (or Kestra's
    ``filters[namespace|q][EQUALS]``)."""
    params = request.query_params
    filters = query_filters(request, {"namespace": ("EQUALS",), "q": ("EQUALS",)})
    found = runtime(request).engine.repository.list_flows(
        namespace=single(filters, "namespace", params.get("namespace")),
        q=single(filters, "q", params.get("q")),
    )
    page = int_param(request, "page", 1)
    size = int_param(request, "size", 10, high=1000)
    chosen = found[(page - 1) * size : page * size]
    return paged([flow_document(stored, source=False) for stored in chosen], len(found))


@endpoint
def namespace_flows(request: Request) -> Any:
    """GET /flows/{namespace}: the flows of a namespace."""
    namespace = request.path_params["namespace"]
    found = runtime(request).engine.repository.list_flows(namespace=namespace)
    return [flow_document(s, source=False) for s in found if s.namespace == namespace]


async def validate(request: Request) -> Response:
    """POST /flows/validate (YAML, several documents split by ``---``): one report each,
    ``constraints`` holding every problem (empty when valid)."""
    return await with_body(request, _yaml_body, lambda text: _validate(request, text))


def _validate(request: Request, text: str) -> Any:
    engine = runtime(request).engine
    reports = []
    for index, source in enumerate(d for d in YAML_DOCUMENTS.split(text) if d.strip()):
        report: dict[str, Any] = {"index": index, "deprecationPaths": [], "warnings": []}
        try:
            flow = engine.load(source, file=f"<document {index + 1}>")
        except FlowValidationError as exc:
            report.update(constraints=str(exc), problems=problem_document(exc))
        else:
            report.update(flow=flow.id, namespace=flow.namespace, constraints=None, problems=[])
        reports.append(report)
    return reports


@endpoint
def flow_schema(request: Request) -> Any:
    """GET /plugins/schemas/flow: the JSON Schema editors bind to."""
    from plait.schema import flow_schema as build

    registry = runtime(request).engine.registry
    schema = build(registry.task_types, registry.trigger_types)
    return JSON(schema, headers={"Cache-Control": "public, max-age=3600"})


def routes() -> list[Route]:
    one = "/flows/{namespace}/{flow_id}"
    return [
        Route("/flows", create, methods=["POST"]),
        Route("/flows/search", search, methods=["GET"]),
        Route("/flows/validate", validate, methods=["POST"]),
        Route(one + "/revisions", revisions, methods=["GET"]),
        Route(one, get, methods=["GET"]),
        Route(one, update, methods=["PUT"]),
        Route(one, delete, methods=["DELETE"]),
        Route("/flows/{namespace}", namespace_flows, methods=["GET"]),
        Route("/plugins/schemas/flow", flow_schema, methods=["GET"]),
    ]
