"""Searching executions with more than the repository protocol filters on: a start-time range
and labels, besides namespace, flow and states.

The protocol's ``search`` (namespace, flow, states, paged, newest first) is what every
repository implements; the time range and labels are applied here, over its candidates read in
batches, so any repository (SQLite, PostgreSQL) answers them without a new protocol method.
Paging stays exact: the page is cut from the filtered sequence, and since candidates come
newest first, a lower time bound ends the scan as soon as an older execution appears. Only the
total is left unknown in that case (counting would read every candidate), which the caller
shows as "more" rather than a count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from plait.state.model import Execution
from plait.state.repository import ExecutionRepository

CANDIDATE_BATCH = 100
"""Executions read per repository call while scanning for time-range or label matches."""


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

    @property
    def scans(self) -> bool:
        """Whether some filter is applied here, over the repository's candidates."""
        return bool(self.started_from or self.started_to or self.labels)

    def matches(self, execution: Execution) -> bool:
        """Whether ``execution`` passes the filters applied here (the repository applied the
        others)."""
        created = execution.created
        if self.started_from is not None and created < self.started_from:
            return False
        if self.started_to is not None and created > self.started_to:
            return False
        return all(execution.labels.get(k) == v for k, v in self.labels.items())


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[Execution]
    page: int
    size: int
    has_more: bool
    """Whether a next page has executions."""
    total: int | None
    """How many match in all; None when only a scan of every candidate could tell."""


def search_executions(
    repository: ExecutionRepository, query: ExecutionQuery, *, page: int = 1, size: int = 25
) -> ExecutionPage:
    """One page of the executions matching ``query``, newest first."""
    if not query.scans:
        found, total = _search(repository, query, page, size)
        return ExecutionPage(found, page, size, page * size < total, total)
    skip = (page - 1) * size
    kept: list[Execution] = []
    matched = 0
    for execution in _candidates(repository, query):
        if not query.matches(execution):
            continue
        matched += 1
        if matched > skip:
            kept.append(execution)
            if len(kept) > size:  # one more than the page: there is a next page
                break
    return ExecutionPage(kept[:size], page, size, len(kept) > size, None)


def _search(
    repository: ExecutionRepository, query: ExecutionQuery, page: int, size: int
) -> tuple[list[Execution], int]:
    return repository.search(
        namespace=query.namespace,
        flow_id=query.flow_id,
        states=query.states,
        page=page,
        size=size,
    )


def _candidates(repository: ExecutionRepository, query: ExecutionQuery) -> Iterator[Execution]:
    """The repository's matches, newest first, until one is older than the range's start."""
    batch = 1
    while True:
        found, total = _search(repository, query, batch, CANDIDATE_BATCH)
        for execution in found:
            if query.started_from is not None and execution.created < query.started_from:
                return
            yield execution
        if not found or batch * CANDIDATE_BATCH >= total:
            return
        batch += 1
