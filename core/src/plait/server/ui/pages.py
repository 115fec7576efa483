"""Rendering a UI page: the shared Jinja environment and what every template can use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
"""Autoescaping is on for .html templates: values from flows and outputs are user data."""


@pass_context
def path_for(context: Context, name: str, /, **params: Any) -> str:
    """A route's path (``ui:flow``...), not its absolute URL: links keep working behind a
    proxy that rewrites the host."""
    request: Request = context["request"]
    return str(request.app.url_path_for(name, **params))


templates.env.globals["path_for"] = path_for


def is_fragment(request: Request) -> bool:
    """An htmx request wants the part of the page it swaps in, not the whole page."""
    return request.headers.get("HX-Request") == "true"


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A rendered template; ``context`` adds to what every page gets (the request, the
    section of the navigation that is current)."""
    return templates.TemplateResponse(request, template, context or {}, status_code=status)


def not_found(request: Request, message: str, section: str | None = None) -> HTMLResponse:
    """The 404 page of a view whose flow, execution or type does not exist: the engine's
    message (which names what is missing and why) as HTML, never the API's JSON."""
    context = {"message": message, "section": section}
    return page(request, "not_found.html", context, status=404)
