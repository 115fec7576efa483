"""``taskCache``: a task whose properties render the same as in an earlier successful run of it
(same flow, same task, same loop value) reuses that run's outputs instead of running again, if
that run is younger than the cache's ``ttl`` (Kestra's task cache, which keys on the rendered
task the same way).

The key is a hash of the task type and its rendered properties, so a change in what the task
is given (an input, an upstream output, an edited property) runs it again. Outputs are cached
as the execution stored them (secrets masked); files they name are copied into the execution
that reuses them, so downstream tasks read them as their own. A reused run ends in SUCCESS.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from plait.errors import NotFoundError
from plait.executor.restart import copy_files
from plait.flows import TaskDef
from plait.state.model import TaskRun, json_default, utcnow

if TYPE_CHECKING:
    from plait.executor.runner import ExecutionRun


def cache_key(task_type: str, props: BaseModel, run: TaskRun) -> str:
    """A digest of what the task is asked to do in this run."""
    document = {
        "type": task_type,
        "properties": props.model_dump(mode="json", by_alias=True),
        "value": run.value,
    }
    text = json.dumps(document, sort_keys=True, default=json_default, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reuse(job: ExecutionRun, task: TaskDef, run: TaskRun, key: str) -> dict[str, Any] | None:
    """The cached outputs for ``key``, their files copied into this execution; None on a miss
    (or when the execution that produced them is gone)."""
    execution, repository = job.execution, job.engine.repository
    found = repository.cached_outputs(
        execution.namespace, execution.flow_id, task.id, key, since=_since(task)
    )
    if found is None:
        return None
    outputs, source_id = found
    try:
        source = repository.get(source_id)
    except NotFoundError:
        return None
    copied = copy_files(job.engine.storage, outputs, source, execution)
    job.record_log(
        "INFO", f"outputs reused from the task cache (execution {source_id})", task.id, run.id
    )
    return dict(copied)


def remember(
    job: ExecutionRun, task: TaskDef, run: TaskRun, key: str, outputs: dict[str, Any]
) -> None:
    """Cache a successful run's outputs (masked, as the execution stores them)."""
    execution = job.execution
    job.engine.repository.cache_outputs(
        execution.namespace,
        execution.flow_id,
        task.id,
        key,
        job.masker.mask_value(outputs),
        execution.id,
        since=_since(task),
    )


def _since(task: TaskDef) -> datetime | None:
    """The oldest cached outputs the task's ``ttl`` lets it reuse (None: any)."""
    ttl = task.cache.ttl_delta if task.cache else None
    return None if ttl is None else utcnow() - ttl
