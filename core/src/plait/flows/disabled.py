"""A flow marked ``disabled: true`` is kept (stored, validated, listed) but never executed:
Kestra answers an attempt with an error and does not arm the flow's triggers. Every place that
starts an execution on request asks :func:`disabled_problem` first."""

from __future__ import annotations

from plait.errors import Problem
from plait.flows.model import Flow


def disabled_problem(flow: Flow) -> Problem | None:
    """Why ``flow`` cannot be executed, located at its ``disabled`` key; None when enabled."""
    if not flow.disabled:
        return None
    line, column = flow.source_map.value(("disabled",)) or (None, None)
    return Problem(
        f"flow '{flow.namespace}.{flow.id}' is disabled (`disabled: true`): it cannot be "
        "executed; remove `disabled` or set it to false to run it",
        flow.file,
        line,
        column,
    )
