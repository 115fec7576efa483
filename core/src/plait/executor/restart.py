"""Restart and replay, as Kestra does them, on an execution's stored task runs.

- **Restart** (same execution): the task runs that failed, were killed or never ended get a new
  attempt; their flowable ancestors run again; the runs of ``errors`` and ``finally`` handlers
  are removed (they run again if needed); everything that succeeded keeps its runs and outputs.
- **Replay** (a new execution, ``originalId`` the old one): the runs before a given task are
  copied with their outputs (and files); that task, what it contains and what follows it in its
  branch (and in each enclosing branch) run again. Without a task, everything runs again.

The driver then resumes the execution from its task runs (:meth:`Machine.resume`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from typing import Any

from plait.errors import PlaitError
from plait.executor.driving import driven_here
from plait.executor.shared_queue import shared_store
from plait.executor.variables import RunIndex
from plait.state.model import Execution, State, TaskRun, end_attempt
from plait.storage import uris
from plait.storage.internal import InternalStorage

HANDLER_KEYS = (("errors",), ("finally",))


def check_restartable(execution: Execution, repository: object | None = None) -> None:
    if execution.state.is_successful:
        raise PlaitError(
            f"execution {execution.id} ended {execution.state}: there is nothing to restart "
            f"(`plait executions replay {execution.id}` runs it again as a new execution)"
        )
    if not execution.state.is_terminal and driven(execution, repository):
        raise PlaitError(
            f"execution {execution.id} is {execution.state} and still driven by process "
            f"{execution.driver}; kill it first, or wait for it to end"
        )


def driven(execution: Execution, repository: object | None = None) -> bool:
    """Whether a live process drives the execution: on a shared repository, whether a driver
    (on any machine) holds its lease; otherwise whether its driver process runs."""
    store = None if repository is None else shared_store(repository)
    if store is not None:
        return bool(store.drivers([execution.id]))
    return driver_alive(execution)


def driver_alive(execution: Execution) -> bool:
    """Whether the process driving an execution still runs (only knowable on its host). When
    that is this process, whether one of its runs still drives the execution (otherwise the
    run ended without recording it, or the pid is a dead process's, recycled)."""
    driver = execution.driver
    if not driver or ":" not in driver:
        return False
    host, _, pid = driver.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return driven_here(execution.id)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _handler_runs(index: RunIndex) -> set[str]:
    """Ids of the runs of errors/finally tasks and of everything under them."""
    found: set[str] = set()
    for run in index.execution.task_runs:  # parents are always created before children
        if index.places[run.task_id].key in HANDLER_KEYS or run.parent_id in found:
            found.add(run.id)
    return found


def prepare_restart(index: RunIndex, repository: object | None = None) -> None:
    """Turn a FAILED, KILLED or abandoned execution back into a runnable one, in place (the
    ``repository`` tells, when shared, whether another machine still drives it)."""
    execution = index.execution
    check_restartable(execution, repository)
    dropped = _handler_runs(index)
    execution.task_runs = [run for run in execution.task_runs if run.id not in dropped]
    for run_id in dropped:
        del index.runs[run_id]
    rerun = [run for run in execution.task_runs if not run.state.is_successful]
    for run in rerun:
        end_attempt(run, State.KILLED)  # an attempt a dead process left open
        run.error = None
        run.transition(State.RESTARTED if run.plan is None else State.RUNNING)
    _reopen_ancestors(index, rerun)
    execution.outputs = None
    execution.attempt_number += 1
    execution.transition(State.RESTARTED)


def _reopen_ancestors(index: RunIndex, runs: Iterable[TaskRun]) -> None:
    for run in runs:
        for ancestor in index.chain(run)[:-1]:
            if ancestor.state.is_terminal:
                ancestor.transition(State.RUNNING)


def _replayed(index: RunIndex, start: list[TaskRun]) -> set[str]:
    """Ids of the runs a replay from ``start`` runs again: those runs, the runs after each of
    them (and after each ancestor) in the same branch, handlers, and everything under them."""
    dropped = _handler_runs(index) | {run.id for run in start}
    for run in start:
        for link in index.chain(run):  # the ancestors are reopened, what follows them dropped
            place = index.places[link.task_id]
            parent = index.runs.get(link.parent_id) if link.parent_id else None
            if parent is not None and _one_task_branches(parent, place.key):
                continue  # a Parallel: each task is a branch of its own, nothing follows
            for other in index.execution.task_runs:
                there = index.places[other.task_id]
                if (
                    other.parent_id == link.parent_id
                    and other.value == link.value
                    and there.key == place.key
                    and there.position > place.position
                ):
                    dropped.add(other.id)
    for run in index.execution.task_runs:
        if run.parent_id in dropped:
            dropped.add(run.id)
    return dropped


def _one_task_branches(parent: TaskRun, key: tuple[str, ...]) -> bool:
    branches = (parent.plan or {}).get("branches", [])
    return any(tuple(k) == key and index is not None for k, _, index in branches)


def replay_runs(index: RunIndex, start: list[TaskRun]) -> list[TaskRun]:
    """The task runs a replay keeps (copies, with new ids), ancestors of ``start`` reopened."""
    dropped = _replayed(index, start)
    ancestors = {link.id for run in start for link in index.chain(run)[:-1]}
    kept: list[TaskRun] = []
    new_ids: dict[str, str] = {}
    for run in index.execution.task_runs:
        if run.id in dropped:
            continue
        copy = TaskRun.from_document(run.to_document(stored=True))
        copy.id = TaskRun.new(run.task_id).id
        new_ids[run.id] = copy.id
        copy.parent_id = new_ids.get(run.parent_id) if run.parent_id else None
        if run.id in ancestors and copy.state.is_terminal:
            copy.transition(State.RUNNING)
        kept.append(copy)
    return kept


def find_start(index: RunIndex, start: str) -> list[TaskRun]:
    """The runs a replay starts from: a task run id, or every run of a task id."""
    execution = index.execution
    if start in index.runs:
        return [index.runs[start]]
    runs = [run for run in execution.task_runs if run.task_id == start]
    if runs:
        return runs
    if start in index.places:
        return []  # the task never ran: replay everything up to where it would run
    known = ", ".join(dict.fromkeys(run.task_id for run in execution.task_runs))
    raise PlaitError(
        f"execution {execution.id} has no task run or task '{start}' (its tasks: {known})"
    )


def copy_files(storage: InternalStorage, value: Any, source: Execution, target: Execution) -> Any:
    """``value`` with every URI of ``source``'s files copied into ``target``'s storage."""
    if isinstance(value, dict):
        return {k: copy_files(storage, v, source, target) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_files(storage, v, source, target) for v in value]
    if not uris.is_uri(value):
        return value
    old = uris.execution_prefix(source.namespace, source.flow_id, source.id)
    key = uris.to_key(value)
    if not uris.is_under(key, old):
        return value
    new = uris.execution_prefix(target.namespace, target.flow_id, target.id)
    with storage.open(value) as stream:
        return storage.put_stream(new + key[len(old) :], stream)
