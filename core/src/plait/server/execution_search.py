"""Searching executions by namespace, flow, states, a start-time range and labels: one query
the views and the API build from their parameters, answered by the repository's ``search``
(which filters in its database) one page at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from plait.state.model import Execution
from plait.state.repository import ExecutionRepository


@dataclass(frozen=True)
class ExecutionQuery:
    """What a search asks for; empty fields do not filter."""

    namespace: str | None = None
    """Matches the namespace and its children, as Kestra's search does."""
    flow_id: str | None = None
    states: tuple[str, ...] = ()
    started_from: dt.datetime | None = None
    """Executions created at or after this instant."""
    started_to: dt.datetime | None = None
    """Executions created at or before this instant."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Every one of these labels, with this value."""


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[Execution]
    page: int
    size: int
    has_more: bool
    """Whether a next page has executions."""
    total: int
    """How many match in all."""


def search_executions(
    repository: ExecutionRepository, query: ExecutionQuery, *, page: int = 1, size: int = 25
) -> ExecutionPage:
    """One page of the executions matching ``query``, newest first."""
    found, total = repository.search(
        namespace=query.namespace,
        flow_id=query.flow_id,
        states=query.states,
        page=page,
        size=size,
        started_from=query.started_from,
        started_to=query.started_to,
        labels=query.labels,
    )
    return ExecutionPage(found, page, size, page * size < total, total)
