"""Rendering a trigger's own properties outside any execution, as Kestra renders a Webhook's
``key`` on each request: with the flow's ``flow`` variables and the ``secret()`` and ``kv()``
functions (nothing of an execution exists yet, so ``read()`` is refused)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plait.errors import ExpressionError
from plait.state.kv import NamespaceKV

if TYPE_CHECKING:
    from plait.api import Engine
    from plait.flows import Flow


class TriggerServices:
    """The :class:`plait_sdk.ExpressionServices` of a render done for a trigger of ``flow``."""

    execution_id: str | None = None

    def __init__(self, engine: Engine, flow: Flow) -> None:
        self._engine = engine
        self._flow = flow

    def read(self, uri: str) -> str:
        raise ExpressionError(f"read('{uri}') is only available while an execution runs")

    def secret(self, name: str) -> str:
        for provider in self._engine.registry.secret_providers.values():
            value = provider(name)
            if value is not None:
                return str(value)
        raise ExpressionError(f"secret '{name}' is not defined by any secret provider")

    def render(self, template: str) -> Any:
        return render_for_trigger(self._engine, self._flow, template)

    def variables(self) -> dict[str, Any]:
        return flow_variables(self._flow)

    def kv(self, namespace: str | None = None) -> NamespaceKV:
        return NamespaceKV(self._engine.repository, namespace or self._flow.namespace)


def flow_variables(flow: Flow) -> dict[str, Any]:
    """What a trigger's property sees: ``flow.id`` and ``flow.namespace``."""
    return {"flow": {"id": flow.id, "namespace": flow.namespace}}


def render_for_trigger(engine: Engine, flow: Flow, value: Any) -> Any:
    """``value`` rendered for a trigger of ``flow`` (PlaitError when an expression fails)."""
    return engine.expressions.render_value(
        value, flow_variables(flow), services=TriggerServices(engine, flow)
    )
