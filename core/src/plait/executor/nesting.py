"""How deep subflow executions nest, and the limit that stops a cycle of flows calling each
other (A runs B, B runs A: validation cannot see it, as each flow is valid on its own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait.errors import NotFoundError, PlaitError

if TYPE_CHECKING:
    from plait.state.model import Execution
    from plait.state.repository import ExecutionRepository

MAX_SUBFLOW_DEPTH = 32
"""Most executions above a subflow execution: its parent, the parent's parent... A Subflow task
that would start one nested deeper fails instead."""


def parent_count(repository: ExecutionRepository, execution: Execution) -> int:
    """How many parent executions ``execution`` has, read from the store (a parent that was
    deleted ends the chain); counting stops past the limit."""
    count, parent_id = 0, execution.parent_id
    while parent_id is not None and count <= MAX_SUBFLOW_DEPTH:
        count += 1
        try:
            parent_id = repository.get(parent_id).parent_id
        except NotFoundError:
            break
    return count


def check_subflow_depth(depth: int, namespace: str, flow_id: str) -> None:
    """Refuse a subflow execution with ``depth`` parents when that is past the limit."""
    if depth > MAX_SUBFLOW_DEPTH:
        raise PlaitError(
            f"subflow {namespace}.{flow_id} not started: it would run under {depth} parent "
            f"executions, more than the limit of {MAX_SUBFLOW_DEPTH} (do flows call each other "
            "in a cycle?)"
        )
