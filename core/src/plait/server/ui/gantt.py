"""An execution's task runs as Gantt rows: one row per task run, its bars placed on the
execution's timeline, loop iterations grouped under their value.

Grouping is done here, once, in one pass over the task runs, and the result is a flat list of
items (a row, the start of a group, the end of a group) that the template writes out without
recursion or lookups: a page of 1,000 task runs renders in one loop. A flowable's children are
grouped by the loop value they carry (``ForEach`` children carry their iteration's value, a
``Sequential``'s carry none), so a loop inside a loop nests: the inner loop's row sits in the
outer iteration's group and has its own groups below it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from plait.server.ui.timefmt import duration
from plait.state.model import Execution, State, TaskRun, utcnow

OPEN_GROUPS = 10
"""A loop with at most this many iterations shows them open; a longer one starts folded."""
MIN_WIDTH = 0.4
"""A bar's least width (percent of the timeline), so an instant task run stays visible."""
GROUP_STATE_ORDER: tuple[State, ...] = (
    State.RUNNING,
    State.KILLING,
    State.RESTARTED,
    State.RETRYING,
    State.PAUSED,
    State.QUEUED,
    State.CREATED,
    State.FAILED,
    State.KILLED,
    State.WARNING,
    State.CANCELLED,
    State.SUCCESS,
    State.SKIPPED,
)
"""Which state a group shows for its runs: the first of these any of them is in (work in
progress first, then the worst outcome)."""


@dataclass(frozen=True)
class Timeline:
    """The execution's span, on which bars are placed in percent."""

    start: dt.datetime
    seconds: float

    @classmethod
    def of(cls, execution: Execution, now: dt.datetime) -> Timeline:
        end = execution.ended or now
        return cls(execution.created, max((end - execution.created).total_seconds(), 0.001))

    def place(self, start: dt.datetime, end: dt.datetime) -> tuple[float, float]:
        """Left and width, in percent, clamped to the timeline."""
        left = min(max((start - self.start).total_seconds() / self.seconds * 100, 0.0), 100.0)
        width = (end - start).total_seconds() / self.seconds * 100
        return round(left, 2), round(min(max(width, MIN_WIDTH), 100.0 - left), 2)


@dataclass(frozen=True)
class Segment:
    """One attempt of a task run, as a bar."""

    left: float
    width: float
    state: str


@dataclass(frozen=True)
class Row:
    run: TaskRun
    depth: int
    left: float
    width: float
    """The run's whole span (from its creation: waiting shows as the pale part)."""
    segments: tuple[Segment, ...]
    duration: str
    attempts: str
    """Each attempt's state and duration, one a line (the attempts badge's tooltip)."""
    kind: Literal["run"] = "run"


@dataclass(frozen=True)
class GroupStart:
    """The start of a loop iteration's group: its value, state and span."""

    id: str
    value: str
    depth: int
    state: str
    left: float
    width: float
    duration: str
    open: bool
    kind: Literal["open"] = "open"


@dataclass(frozen=True)
class GroupEnd:
    kind: Literal["close"] = "close"


Item = Row | GroupStart | GroupEnd


def gantt(execution: Execution, now: dt.datetime | None = None) -> list[Item]:
    """The Gantt's items, in display order."""
    now = now or utcnow()
    children: dict[str | None, list[TaskRun]] = defaultdict(list)
    for run in execution.task_runs:
        children[run.parent_id].append(run)
    items: list[Item] = []
    _emit(children, None, 0, Timeline.of(execution, now), now, items)
    return items


def _emit(
    children: dict[str | None, list[TaskRun]],
    parent_id: str | None,
    depth: int,
    timeline: Timeline,
    now: dt.datetime,
    items: list[Item],
) -> None:
    """The rows of ``parent_id``'s children (and theirs), grouped by loop value."""
    by_value: dict[str | None, list[TaskRun]] = {}
    for run in children.get(parent_id, ()):
        by_value.setdefault(run.value, []).append(run)
    groups = sum(1 for value in by_value if value is not None)
    for index, (value, runs) in enumerate(by_value.items()):
        if value is None:
            _rows(children, runs, depth, timeline, now, items)
            continue
        start = min(run.history[0].date for run in runs)
        end = max(run.ended or now for run in runs)
        left, width = timeline.place(start, end)
        items.append(
            GroupStart(
                id=f"g-{parent_id or 'root'}-{index}",
                value=value,
                depth=depth,
                state=str(group_state(run.state for run in runs)),
                left=left,
                width=width,
                duration=duration(end - start),
                open=groups <= OPEN_GROUPS,
            )
        )
        _rows(children, runs, depth + 1, timeline, now, items)
        items.append(GroupEnd())


def _rows(
    children: dict[str | None, list[TaskRun]],
    runs: Sequence[TaskRun],
    depth: int,
    timeline: Timeline,
    now: dt.datetime,
    items: list[Item],
) -> None:
    for run in runs:
        items.append(_row(run, depth, timeline, now))
        _emit(children, run.id, depth + 1, timeline, now, items)


def _row(run: TaskRun, depth: int, timeline: Timeline, now: dt.datetime) -> Row:
    end = run.ended or now
    left, width = timeline.place(run.history[0].date, end)
    segments = []
    lines = []
    for number, attempt in enumerate(run.attempts, 1):
        start, stop = attempt.history[0].date, attempt.ended or end
        segment_left, segment_width = timeline.place(start, stop)
        segments.append(Segment(segment_left, segment_width, str(attempt.state)))
        lines.append(f"attempt {number}: {attempt.state}, {duration(stop - start)}")
    return Row(
        run=run,
        depth=depth,
        left=left,
        width=width,
        segments=tuple(segments),
        duration=duration(end - (run.started or run.history[0].date)),
        attempts="\n".join(lines),
    )


def group_state(states: Iterable[State]) -> State:
    """The state a group of runs shows (see :data:`GROUP_STATE_ORDER`)."""
    present = set(states)
    return next((state for state in GROUP_STATE_ORDER if state in present), State.SUCCESS)
