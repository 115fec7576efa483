"""Kestra's webhook endpoint and triggers API: list triggers with their state, enable and
disable them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plait.errors import NotFoundError, PlaitError
from plait.flows import limits
from plait.server.http import bounded_body, endpoint, json_body, paged, with_body
from plait.server.scheduler import Scheduler

WEBHOOK_BYTES = limits.Limit("PLAIT_MAX_WEBHOOK_BYTES", 10 * 1024 * 1024)


def scheduler(request: Request) -> Scheduler:
    return request.app.state.scheduler  # type: ignore[no-any-return]


async def webhook(request: Request) -> Response:
    """GET|POST|PUT /executions/webhook/{namespace}/{flowId}/{key}: start an execution of
    the flow whose Webhook trigger has this key (404 and nothing started otherwise)."""
    return await with_body(
        request,
        lambda r: bounded_body(r, WEBHOOK_BYTES, "the webhook's body"),
        lambda body: _webhook(request, body),
    )


def _webhook(request: Request, raw: bytes) -> Any:
    params = request.path_params
    armed = scheduler(request).webhook(params["namespace"], params["flow_id"], params["key"])
    if armed is None:
        raise NotFoundError(
            f"no webhook of flow '{params['namespace']}.{params['flow_id']}' has this key"
        )
    text = raw.decode("utf-8", errors="replace")
    try:
        body: Any = limits.load_json(text) if text.strip() else None
    except json.JSONDecodeError:
        body = text
    except limits.JsonLimitError as exc:
        raise PlaitError(f"the webhook's body: {exc}") from None
    variables = {
        "body": body,
        "headers": _lists((k, v) for k, v in request.headers.items() if k != "authorization"),
        "parameters": _lists(request.query_params.multi_items()),
    }
    execution = scheduler(request).fire(armed, variables)
    if execution is None:
        raise PlaitError("the webhook's flow could not start (see the server's log)")
    return execution.to_document()


def _lists(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Each name with the list of its values, in order (Kestra's ``Map<String, List<String>>``
    of a webhook's headers and parameters: ``?age=12&age=13`` is ``{"age": ["12", "13"]}``)."""
    found: dict[str, list[str]] = {}
    for name, value in items:
        found.setdefault(name, []).append(value)
    return found


@endpoint
def search(request: Request) -> Any:
    """GET /triggers/search?namespace=: every trigger of the stored flows, with its state."""
    sched = scheduler(request)
    namespace = request.query_params.get("namespace")
    states = {
        (s.namespace, s.flow_id, s.trigger_id): s for s in sched.engine.repository.trigger_states()
    }
    found = []
    for armed in sched.armed():
        if namespace and not f"{armed.flow.namespace}.".startswith(f"{namespace}."):
            continue
        state = states.get(armed.key)
        found.append(
            {
                "namespace": armed.flow.namespace,
                "flowId": armed.flow.id,
                "triggerId": armed.definition.id,
                "type": armed.trigger.type,
                "disabled": bool(state and state.disabled),
                "date": state.last_date if state else None,
            }
        )
    return paged(found, len(found))


async def set_disabled(request: Request) -> Response:
    """POST /triggers/set-disabled/by-triggers ``{triggers: [{namespace, flowId, triggerId}],
    disabled}``: enable or disable triggers; ``{count}``."""
    return await with_body(request, json_body, lambda payload: _set_disabled(request, payload))


def _set_disabled(request: Request, payload: Any) -> Any:
    if not isinstance(payload, dict) or not isinstance(payload.get("triggers"), list):
        raise PlaitError('expected {"triggers": [{namespace, flowId, triggerId}], "disabled"}')
    repository = scheduler(request).engine.repository
    disabled = bool(payload.get("disabled", True))
    for item in payload["triggers"]:
        repository.set_trigger_disabled(
            item["namespace"], item["flowId"], item["triggerId"], disabled
        )
    return {"count": len(payload["triggers"])}


def routes() -> list[Route]:
    hook = "/executions/webhook/{namespace}/{flow_id}/{key}"
    return [
        Route(hook, webhook, methods=["GET", "POST", "PUT"]),
        Route("/triggers/search", search, methods=["GET"]),
        Route("/triggers/set-disabled/by-triggers", set_disabled, methods=["POST"]),
    ]
