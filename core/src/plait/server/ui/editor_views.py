"""The flow editor: ``/ui/flows/new`` (a starter flow) and ``/ui/flows/{namespace}/{flow_id}/edit``.

The page is a CodeMirror 6 editor (``static/bundle/editor.js``, built from ``tools/ui/src``)
over the REST API the CLI's clients use: it completes from ``GET /api/v1/plugins/schemas/flow``,
validates with ``POST /api/v1/flows/validate``, saves with ``POST``/``PUT /api/v1/flows`` and
runs with ``POST /api/v1/executions/{namespace}/{flow_id}``. The page itself only embeds what the
schema lacks (each task type's outputs, :mod:`plait.server.ui.editor_catalog`) and where to go
after saving or running."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from plait.errors import NotFoundError
from plait.server.http import runtime
from plait.server.ui.editor_catalog import editor_catalog
from plait.server.ui.pages import not_found, page

STARTER_FLOW = """\
id: hello
namespace: company.team

inputs:
  - id: name
    type: STRING
    defaults: world

tasks:
  - id: greet
    type: plait.core.Return
    format: "Hello, {{ inputs.name }}!"

  - id: log
    type: plait.core.Log
    message: "{{ outputs.greet.value }}"
"""
"""What ``/ui/flows/new`` starts from: a flow that runs as is and shows the ``outputs.`` syntax."""

NAMESPACE, FLOW_ID, EXECUTION_ID = "__namespace__", "__flow_id__", "__execution_id__"
"""Placeholders in the URL templates the page gives its script (a new flow has no id yet)."""


def _url_template(request: Request, name: str, **params: str) -> str:
    """The path of a UI route with placeholder parameters."""
    return str(request.app.url_path_for(name, **params))


def _editor_data(request: Request, flow: dict[str, Any] | None) -> dict[str, Any]:
    """Everything the editor's script reads from the page (as JSON in a script element)."""
    engine = runtime(request).engine
    api = request.base_url.path.rstrip("/") + "/api/v1"  # the app's root, not the UI mount
    one = {"namespace": NAMESPACE, "flow_id": FLOW_ID}
    return {
        **editor_catalog(engine.registry.task_types, engine.registry.functions),
        "api": api,
        "schemaUrl": api + "/plugins/schemas/flow",
        "flow": flow,
        "urls": {
            "edit": _url_template(request, "ui:flow_edit", **one),
            "execute": _url_template(request, "ui:flow_execute", **one),
            "execution": _url_template(request, "ui:execution", **one, execution_id=EXECUTION_ID),
        },
        "placeholders": {"namespace": NAMESPACE, "flowId": FLOW_ID, "executionId": EXECUTION_ID},
    }


def flow_new(request: Request) -> Response:
    """GET /ui/flows/new: the editor on a starter flow, saved as a new flow."""
    context = {"section": "flows", "source": STARTER_FLOW, "data": _editor_data(request, None)}
    return page(request, "editor.html", context)


def flow_edit(request: Request) -> Response:
    """GET /ui/flows/{namespace}/{flow_id}/edit[?revision=N]: the latest revision (or revision
    N, whose text becomes the next revision once saved) in the editor."""
    namespace, flow_id = request.path_params["namespace"], request.path_params["flow_id"]
    wanted = request.query_params.get("revision", "")
    if wanted and not (wanted.isascii() and wanted.isdigit()):
        return not_found(request, f"no revision {wanted!r}: a revision is a number", "flows")
    repository = runtime(request).engine.repository
    try:
        stored = repository.get_flow(namespace, flow_id, int(wanted) if wanted else None)
        latest = repository.get_flow(namespace, flow_id).revision if wanted else stored.revision
    except NotFoundError as exc:
        return not_found(request, str(exc), "flows")
    context = {
        "section": "flows",
        "namespace": namespace,
        "flow_id": flow_id,
        "tab": "edit",
        "source": stored.source,
        "revision": stored.revision,
        "latest": latest,
        "data": _editor_data(request, {"namespace": namespace, "id": flow_id, "revision": latest}),
    }
    return page(request, "editor.html", context)


def routes() -> list[BaseRoute]:
    """``/flows/new`` has one segment after ``/flows``, so no ``/flows/{namespace}/{flow_id}``
    pattern takes it, whatever the order of ``VIEW_MODULES`` (tests/test_ui_editor.py checks)."""
    return [
        Route("/flows/new", flow_new, name="flow_new"),
        Route("/flows/{namespace}/{flow_id}/edit", flow_edit, name="flow_edit"),
    ]
