"""The executor's state machine: from an execution's task runs, the next task runs.

The flow is a tree of task lists; a flowable task run (and the execution itself) owns a
:class:`Block` of children, run as the branches of its plan: ``concurrency`` branches at a time,
the tasks of one branch one after the other. When a child fails no further branch starts; once
the running ones end, the block runs its ``errors`` tasks (if it failed), then its ``finally``
tasks, and ends: FAILED when a child failed (even if the handlers succeeded), WARNING
(AllowFailure) or SUCCESS/WARNING otherwise, which ends the flowable's task run in its own
parent's block, and so on up to the execution.

The machine only decides. It creates task runs and tells its :class:`Hooks` to start them
(dispatch a leaf to the workers, plan a flowable, evaluate ``runIf``); the driver records
results and calls :meth:`Machine.run_ended`. Each step costs the same whatever the number of
task runs, and :meth:`Machine.resume` carries on from stored task runs alone, so any process
can carry on an execution another one started.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from plait_sdk.flowable import Branch, Plan

from plait.executor.variables import RunIndex
from plait.flows.model import ListKey, TaskDef
from plait.state.model import State, TaskRun


class Phase(Enum):
    MAIN = "main"
    ERRORS = "errors"
    FINALLY = "finally"
    DONE = "done"


HANDLER_KEYS: dict[Phase, ListKey] = {Phase.ERRORS: ("errors",), Phase.FINALLY: ("finally",)}


class Hooks(Protocol):
    def is_flowable(self, task: TaskDef) -> bool: ...

    def should_run(self, run: TaskRun, task: TaskDef) -> bool:
        """``runIf`` evaluated (raise PlaitError to fail the run)."""
        ...

    def plan(self, run: TaskRun, task: TaskDef) -> Plan:
        """A flowable's plan (raise PlaitError to fail the run)."""
        ...

    def dispatch(self, run: TaskRun, task: TaskDef) -> None:
        """Hand a leaf task run (stored RUNNING) to the workers."""
        ...

    def ended(self, run: TaskRun) -> None:
        """A task run ended (any kind: leaf, flowable, skipped)."""
        ...


@dataclass
class Lane:
    """One branch in progress: its tasks, the position reached and the run there."""

    tasks: list[TaskDef]
    value: str | None
    branch: int
    """Index of the branch in the plan (-1: a handler)."""
    position: int = 0
    current: TaskRun | None = None
    failed: bool = False


@dataclass
class Block:
    """The children of a flowable task run, or of the execution (``run`` None)."""

    run: TaskRun | None
    children: dict[ListKey, list[TaskDef]]
    branches: list[Branch]
    concurrency: int = 1
    allow_failure: bool = False
    phase: Phase = Phase.MAIN
    next_branch: int = 0
    active: dict[int, Lane] = field(default_factory=dict)
    failed: bool = False
    handler_failed: bool = False
    handler_started: bool = False
    warned: bool = False

    def lane(self, branch: int) -> Lane:
        spec = self.branches[branch]
        tasks = self.children.get(spec.key, [])
        if spec.index is not None:
            tasks = tasks[spec.index : spec.index + 1]
        return Lane(tasks, spec.value, branch)

    def has_room(self) -> bool:
        return self.concurrency == 0 or len(self.active) < self.concurrency


def plan_document(plan: Plan) -> dict[str, Any]:
    """A plan as stored on the flowable's task run (a restart reuses it, never re-plans)."""
    return {
        "branches": [[list(b.key), b.value, b.index] for b in plan.branches],
        "concurrency": plan.concurrency,
        "allowFailure": plan.allow_failure,
    }


def plan_from_document(document: dict[str, Any]) -> Plan:
    branches = [
        Branch(key[0] if len(key) == 1 else (key[0], key[1]), value, index)
        for key, value, index in document["branches"]
    ]
    return Plan(branches, document["concurrency"], document["allowFailure"])


def allowed_state(state: State, task: TaskDef) -> State:
    """A task run's state once the task's ``allowFailure`` and ``allowWarning`` apply, for a
    leaf and a flowable alike (Kestra: an allowed failure is a WARNING, and an allowed warning,
    the one a failure became included, a SUCCESS)."""
    if state is State.FAILED and task.allow_failure:
        state = State.WARNING
    if state is State.WARNING and task.allow_warning:
        return State.SUCCESS
    return state


class Machine:
    def __init__(self, index: RunIndex, hooks: Hooks) -> None:
        self.index = index
        self.hooks = hooks
        self.blocks: dict[str | None, Block] = {}
        self.lane_of: dict[str, Lane] = {}
        self.changed: dict[str, TaskRun] = {}
        """Task runs changed since the driver last saved."""
        self.result: State | None = None
        """The execution's state once its block ended."""
        self._ended: deque[TaskRun] = deque()
        self._existing: dict[tuple[str | None, str | None, str], TaskRun] = {}

    # -- entry points ------------------------------------------------------------------------

    def start(self) -> None:
        flow = self.index.flow
        self.blocks[None] = Block(None, flow.children, [Branch("tasks")])
        self._fill(self.blocks[None])
        self._drain()

    def run_ended(self, run: TaskRun) -> None:
        """A task run reached a terminal state (recorded by the driver): move on."""
        self.changed[run.id] = run
        self._ended.append(run)
        self._drain()

    def resume(self) -> None:
        """Carry on from the stored task runs (restart, replay, recovery): the blocks are
        stepped again from the start, and where a task already has its run (same parent, same
        loop value) that run is taken instead of a new one: a finished one just moves its
        branch on, an unfinished leaf is dispatched again, an unfinished flowable resumes its
        stored plan."""
        self._existing = {
            (run.parent_id, run.value, run.task_id): run for run in self.index.execution.task_runs
        }
        self.start()

    # -- blocks and lanes ----------------------------------------------------------------------

    def _fill(self, block: Block) -> None:
        """Start branches while there is room; when none is left, move to the next phase."""
        while True:
            if block.phase is Phase.MAIN:
                while (
                    not block.failed
                    and block.next_branch < len(block.branches)
                    and block.has_room()
                ):
                    lane = block.lane(block.next_branch)
                    block.next_branch += 1
                    if self._step(block, lane):
                        block.active[lane.branch] = lane
                if block.active or (not block.failed and block.next_branch < len(block.branches)):
                    return
                block.warned |= block.failed and block.allow_failure
                has_errors = bool(block.children.get(HANDLER_KEYS[Phase.ERRORS]))
                block.phase = Phase.ERRORS if block.failed and has_errors else Phase.FINALLY
            elif block.phase is Phase.DONE:
                self._end_block(block)
                return
            else:
                if block.active:
                    return
                if not block.handler_started:
                    block.handler_started = True
                    lane = Lane(block.children.get(HANDLER_KEYS[block.phase], []), None, -1)
                    if self._step(block, lane):
                        block.active[-1] = lane
                        return
                block.handler_started = False
                block.phase = Phase.FINALLY if block.phase is Phase.ERRORS else Phase.DONE

    def _step(self, block: Block, lane: Lane) -> bool:
        """Start the lane's next task; False when the lane has no task left."""
        while lane.position < len(lane.tasks) and lane.tasks[lane.position].disabled:
            lane.position += 1
        if lane.position >= len(lane.tasks):
            return False
        task = lane.tasks[lane.position]
        parent = block.run.id if block.run is not None else None
        run = self._existing.pop((parent, lane.value, task.id), None)
        resumed = run is not None
        if run is None:
            run = TaskRun.new(task.id, parent_id=parent, value=lane.value)
            self.index.add(run)
        self.lane_of[run.id] = lane
        lane.current = run
        if run.state.is_terminal:
            self._ended.append(run)  # stored, finished: its branch moves on
        elif run.plan is not None:
            self._open_block(run, task, plan_from_document(run.plan))
        else:
            self._start(run, task, resumed=resumed)
        return True

    def _open_block(self, run: TaskRun, task: TaskDef, plan: Plan) -> None:
        if run.state is not State.RUNNING:
            run.transition(State.RUNNING)
        self.changed[run.id] = run
        block = Block(run, task.children, list(plan.branches), plan.concurrency, plan.allow_failure)
        self.blocks[run.id] = block
        self._fill(block)

    def _start(self, run: TaskRun, task: TaskDef, *, resumed: bool = False) -> None:
        self.changed[run.id] = run
        try:
            if not resumed and task.run_if is not None and not self.hooks.should_run(run, task):
                run.transition(State.SKIPPED)
                self._ended.append(run)
                return
            if run.state is not State.RUNNING:  # resumed on its way: its history says so
                run.transition(State.RUNNING)
            if not self.hooks.is_flowable(task):
                self.hooks.dispatch(run, task)
                return
            plan = self.hooks.plan(run, task)
        except Exception as exc:  # PlaitError or TaskFailure: the run fails, the flow goes on
            run.error = str(exc)
            run.transition(State.FAILED)
            self._ended.append(run)
            return
        run.plan = plan_document(plan)
        self._open_block(run, task, plan)

    def _drain(self) -> None:
        while self._ended:
            run = self._ended.popleft()
            lane = self.lane_of.pop(run.id, None)
            if lane is None:
                continue
            self.hooks.ended(run)
            block = self.blocks[run.parent_id]
            task = self.index.task(run.task_id)
            lane.current = None
            lane.position += 1
            if run.state is State.WARNING:
                block.warned = True
            if run.state.is_failed:
                if task.allow_failure:
                    block.warned = True
                else:
                    lane.failed = True
            if not lane.failed and self._step(block, lane):
                continue
            self._lane_done(block, lane)

    def _lane_done(self, block: Block, lane: Lane) -> None:
        block.active.pop(lane.branch, None)
        if lane.failed:
            if lane.branch == -1:
                block.handler_failed = True
            else:
                block.failed = True
        self._fill(block)

    def _end_block(self, block: Block) -> None:
        failed = (block.failed and not block.allow_failure) or block.handler_failed
        state = State.FAILED if failed else State.WARNING if block.warned else State.SUCCESS
        run = block.run
        if run is None:
            self.result = state
            return
        del self.blocks[run.id]
        run.transition(allowed_state(state, self.index.task(run.task_id)))
        self.changed[run.id] = run
        self._ended.append(run)
