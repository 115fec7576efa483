"""The ASGI application of ``plait server``: Kestra's REST API under ``/api/v1`` (and the
tenant form ``/api/v1/main`` of Kestra ≥ 1.0), ``/health``, an OpenAPI document, and
authentication when it is configured."""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from plait.server import executions_api, flows_api, kv_api, misc_api, triggers_api, ui
from plait.server.http import JSON, error, same_origin, to_response
from plait.server.runtime import ServerRuntime
from plait.server.scheduler import Scheduler

USERS_ENV = "PLAIT_SERVER_USERS"
"""Basic-auth accounts, ``user:password`` separated by commas."""
TOKENS_ENV = "PLAIT_SERVER_TOKENS"
"""Bearer tokens, separated by commas."""
TENANT = "main"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Auth:
    users: dict[str, str] = field(default_factory=dict)
    tokens: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> Auth:
        users = {}
        for item in filter(None, os.environ.get(USERS_ENV, "").split(",")):
            user, sep, password = item.partition(":")
            if sep and user:
                users[user.strip()] = password
        tokens = tuple(t.strip() for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip())
        return cls(users, tokens)

    @property
    def enabled(self) -> bool:
        return bool(self.users or self.tokens)

    def allows(self, header: str) -> bool:
        """Whether an ``Authorization`` header carries a known account or token (compared in
        constant time)."""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return any(hmac.compare_digest(value.encode(), t.encode()) for t in self.tokens)
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        expected = self.users.get(user)
        return expected is not None and hmac.compare_digest(password.encode(), expected.encode())


class AuthMiddleware:
    """Refuses API requests without valid credentials when authentication is configured
    (``/health`` stays open), and requests that change something sent by another site's page
    (its ``Origin`` is not this server), which would otherwise ride on a browser's stored
    credentials."""

    def __init__(self, app: ASGIApp, auth: Auth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        open_path = path == "/health" or path.startswith(WEBHOOK_PATHS)
        if scope["type"] == "http" and self.auth.enabled and not open_path:
            headers = dict(scope["headers"])
            header = headers.get(b"authorization", b"").decode("latin-1")
            if not self.auth.allows(header):
                response = error(401, "authentication required")
                response.headers["WWW-Authenticate"] = 'Basic realm="plait"'
                await response(scope, receive, send)
                return
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and not open_path:
            headers = dict(scope["headers"])
            origin, host = headers.get(b"origin"), headers.get(b"host")
            if not same_origin(origin and origin.decode("latin-1"), host and host.decode()):
                await error(403, "refused: the request was not sent from this server's pages")(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


def api_routes() -> list[BaseRoute]:
    return [
        *triggers_api.routes(),
        *executions_api.routes(),
        *flows_api.routes(),
        *kv_api.routes(),
        *misc_api.routes(),
    ]


WEBHOOK_PATHS = ("/api/v1/executions/webhook/", f"/api/v1/{TENANT}/executions/webhook/")
"""The only paths open without credentials, besides /health: a webhook's key is its secret."""


def openapi(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """An OpenAPI 3 document of the API: every path and method, summarised by its docstring."""
    paths: dict[str, dict[str, Any]] = {}
    for mount in routes:
        if not isinstance(mount, Mount) or mount.path != "/api/v1":
            continue
        for route in mount.routes:
            if not isinstance(route, Route):
                continue
            doc = (route.endpoint.__doc__ or "").strip().split("\n", 1)[0]
            for method in sorted((route.methods or set()) - {"HEAD"}):
                operation = {"summary": doc, "responses": {"200": {"description": "OK"}}}
                paths.setdefault("/api/v1" + route.path, {})[method.lower()] = operation
    return {"openapi": "3.0.3", "info": {"title": "plait", "version": "1"}, "paths": paths}


def build_app(
    runtime: ServerRuntime, auth: Auth | None = None, scheduler: Scheduler | None = None
) -> ASGIApp:
    async def openapi_document(request: Request) -> Response:
        return JSON(openapi(routes))

    routes: list[BaseRoute] = [
        Route("/", lambda request: RedirectResponse("/ui/"), methods=["GET"]),
        Route("/health", misc_api.health, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi_document, methods=["GET"]),
        Mount(f"/api/v1/{TENANT}", routes=api_routes()),
        Mount("/api/v1", routes=api_routes()),
        *ui.routes(),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        return to_response(exc)

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
    app.state.runtime = runtime
    app.state.scheduler = scheduler or Scheduler(runtime)
    return AuthMiddleware(app, auth or Auth())
