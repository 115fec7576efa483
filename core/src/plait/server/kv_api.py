"""Kestra's KV store API (``/namespaces/{namespace}/kv``): list, read, put (JSON or text
body, ``ttl`` header), delete one key or several. Status codes as Kestra answers: 404 for a key
without a value, 410 for an expired one, 422 for a key that breaks the key rule."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plait.errors import NotFoundError, PlaitError
from plait.flows import limits
from plait.server.http import bounded_body, endpoint, error, json_body, runtime, with_body
from plait.state.kv import KVKeyError, NamespaceKV, parse_ttl, value_from_text


def _store(request: Request) -> NamespaceKV:
    return NamespaceKV(runtime(request).engine.repository, request.path_params["namespace"])


@endpoint
def list_keys(request: Request) -> Any:
    """GET /namespaces/{namespace}/kv: the keys that have not expired, with their dates."""
    store = _store(request)
    return [entry.to_document() for entry in store.entries()]


@endpoint
def get_value(request: Request) -> Any:
    """GET /namespaces/{namespace}/kv/{key}: ``{type, value}``."""
    store = _store(request)
    key = request.path_params["key"]
    entry = store.entry(key)
    if entry is None:
        raise NotFoundError(f"no value for key '{key}' in namespace '{store.namespace}'")
    if entry.expired():
        return error(410, f"the value of key '{key}' in namespace '{store.namespace}' expired")
    return {"type": entry.type, "value": entry.value}


def _put(request: Request, body: str) -> Any:
    ttl_header = request.headers.get("ttl")
    try:
        ttl = None if ttl_header is None else parse_ttl(ttl_header)
    except PlaitError as exc:
        raise PlaitError(f"the ttl header: {exc}") from None
    value, kind = value_from_text(body)
    _store(request).put(request.path_params["key"], value, ttl=ttl, kv_type=kind)
    return Response(status_code=200)


@endpoint
def delete_value(request: Request) -> Any:
    """DELETE /namespaces/{namespace}/kv/{key}: true when the key held a value."""
    return _store(request).delete(request.path_params["key"])


def _delete_keys(request: Request, payload: Any) -> Any:
    keys = payload.get("keys") if isinstance(payload, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise PlaitError('expected {"keys": ["key", ...]}')
    store = _store(request)
    return {"keys": [key for key in keys if _deleted(store, key)]}


def _deleted(store: NamespaceKV, key: str) -> bool:
    """Bulk deletion skips what it cannot delete, as Kestra's does."""
    try:
        return store.delete(key)
    except KVKeyError:
        return False


async def put_value(request: Request) -> Response:
    """PUT /namespaces/{namespace}/kv/{key}: store the body (JSON, else text); a ``ttl`` header
    (ISO-8601 duration) makes it expire."""
    return await with_body(request, _value_body, lambda body: _put(request, body))


async def _value_body(request: Request) -> str:
    data = await bounded_body(request, limits.INPUT_BYTES, "the value")
    return data.decode("utf-8", errors="replace")


async def delete_values(request: Request) -> Response:
    """DELETE /namespaces/{namespace}/kv ``{keys: [...]}``: ``{keys}`` actually deleted."""
    return await with_body(request, json_body, lambda payload: _delete_keys(request, payload))


def routes() -> list[Route]:
    base = "/namespaces/{namespace}/kv"
    return [
        Route(base, list_keys, methods=["GET"]),
        Route(base, delete_values, methods=["DELETE"]),
        Route(base + "/{key}", get_value, methods=["GET"]),
        Route(base + "/{key}", put_value, methods=["PUT"]),
        Route(base + "/{key}", delete_value, methods=["DELETE"]),
    ]
