"""The web UI under ``/ui/``: server-rendered pages (Jinja templates, htmx for the parts that
refresh) over the same runtime as the REST API, so a page shows exactly what the API returns.

Every view and state has its own URL (an execution's Outputs tab with one file's preview open is
a link one can paste): state lives in the path and the query string, never only in the browser.
Each group of views is a module with a ``routes()`` function; this package mounts them."""

from __future__ import annotations

from importlib import import_module

from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from plait.server.ui.pages import STATIC_DIR

VIEW_MODULES: tuple[str, ...] = (
    "flows_views",
    "plugins_views",
    "executions_views",
    "outputs_views",
    "editor_views",
)
"""Modules under ``plait.server.ui`` contributing views (each has ``routes() -> list``)."""


def routes() -> list[BaseRoute]:
    """The UI's routes, mounted at ``/ui`` by the application."""
    views: list[BaseRoute] = []
    for name in VIEW_MODULES:
        views.extend(import_module(f"plait.server.ui.{name}").routes())
    home = Route("/", lambda request: RedirectResponse(request.app.url_path_for("ui:executions")))
    return [
        Mount(
            "/ui",
            routes=[
                home,
                Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
                *views,
            ],
            name="ui",
        ),
    ]
