"""JSON in and out, and errors as JSON with the right status: a user mistake is a message,
never a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from plait.errors import (
    ConflictError,
    FlowValidationError,
    NotFoundError,
    PlaitError,
    StorageError,
)
from plait.flows import limits
from plait.state.kv import KVKeyError
from plait.state.model import json_default
from plait.storage.internal import StorageNotFoundError

if TYPE_CHECKING:
    from plait.server.runtime import ServerRuntime

log = logging.getLogger("plait.server")

Handler = Callable[[Request], Awaitable[Response]]


class JSON(JSONResponse):
    """JSON written as Kestra writes it (dates ISO-8601, durations PT...)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=json_default, ensure_ascii=False).encode("utf-8")


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a request comes from a page of this server: browsers send ``Origin`` with every
    POST, PUT and DELETE, so another site's form or script (which would ride on the user's
    Basic credentials to create, kill or delete) is told apart from ours. No ``Origin``: not a
    browser (a client, curl, Kestra's SDKs)."""
    return origin is None or urlsplit(origin).netloc == host


def runtime(request: Request) -> ServerRuntime:
    """The server's runtime (engine, running executions), set on the app by ``build_app``."""
    return request.app.state.runtime  # type: ignore[no-any-return]


def error(status: int, message: str, **extra: Any) -> JSON:
    return JSON({"message": message, **extra}, status_code=status)


def problem_document(exc: FlowValidationError) -> list[dict[str, Any]]:
    return [
        {"message": p.message, "file": p.file, "line": p.line, "column": p.column}
        for p in exc.problems
    ]


class BodyTooLarge(PlaitError):
    """A request body over its limit: refused before it is read whole."""


def to_response(exc: Exception) -> JSON:
    """The JSON error for an exception raised while handling a request."""
    if isinstance(exc, BodyTooLarge):
        return error(413, str(exc))
    if isinstance(exc, KVKeyError):  # a key that breaks the key rule, as Kestra answers
        return error(422, str(exc))
    if isinstance(exc, FlowValidationError):
        return error(422, str(exc), problems=problem_document(exc))
    if isinstance(exc, NotFoundError | StorageNotFoundError):
        return error(404, str(exc))
    if isinstance(exc, ConflictError):
        return error(409, str(exc))
    if isinstance(exc, PlaitError | StorageError):
        return error(400, str(exc))
    if isinstance(exc, HTTPException):
        return error(exc.status_code, str(exc.detail))
    log.exception("internal error")
    return error(500, f"internal error ({type(exc).__name__}); see the server's log")


def endpoint(fn: Callable[[Request], Any]) -> Handler:
    """A synchronous handler (the engine blocks) run in a thread, its errors as JSON."""

    async def handle(request: Request) -> Response:
        try:
            result = await run_in_threadpool(fn, request)
        except Exception as exc:  # every error becomes a JSON answer
            return to_response(exc)
        return result if isinstance(result, Response) else JSON(result)

    handle.__name__ = fn.__name__
    handle.__doc__ = fn.__doc__
    return handle


async def bounded_body(request: Request, limit: limits.Limit, what: str) -> bytes:
    """The request's body, refused (:class:`BodyTooLarge`) as soon as it is known to be over
    ``limit``: from its declared length, else while it streams in."""
    allowed = limit.value()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > allowed:
        raise BodyTooLarge(limits.size_problem(what, int(declared), limit))
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > allowed:
            raise BodyTooLarge(limits.size_problem(what, None, limit))
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    """The request's JSON body, bounded like an input text; None when the body is empty or is
    not JSON (the handler then says what it expected)."""
    data = await bounded_body(request, limits.INPUT_BYTES, "the JSON body")
    text = data.decode("utf-8", errors="replace")
    try:
        return limits.load_json(text) if text.strip() else None
    except limits.JsonLimitError as exc:
        raise PlaitError(f"the JSON body: {exc}") from None
    except json.JSONDecodeError:
        return None


async def with_body(
    request: Request, read: Callable[[Request], Awaitable[Any]], handle: Callable[[Any], Any]
) -> Response:
    """Read the body with ``read`` (async, bounded), then ``handle`` it as an :func:`endpoint`;
    a body refused while reading is a JSON error too."""
    try:
        body = await read(request)
    except Exception as exc:
        return to_response(exc)
    return await endpoint(lambda _: handle(body))(request)


def int_param(
    request: Request, name: str, default: int, *, low: int = 1, high: int = 10_000
) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise PlaitError(f"query parameter '{name}' must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise PlaitError(f"query parameter '{name}' must be between {low} and {high}, got {value}")
    return value


def flag(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    return default if raw is None else raw.lower() in ("true", "1", "yes")


FOLLOW_POLL_SECONDS = 0.25
"""How often a follow stream looks at the store (a `plait run` beside the server writes there)."""


def sse(name: str, data: str) -> str:
    """One server-sent event, named as Kestra names them (``progress``, ``end``)."""
    return f"id: {name}\nevent: {name}\ndata: {data}\n\n"


def paged(results: list[Any], total: int) -> dict[str, Any]:
    """Kestra's ``PagedResults``."""
    return {"results": results, "total": total}
