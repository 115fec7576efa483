"""Execution state: the model (executions, task runs, logs, flow revisions) and where it is kept."""

from plait.state.model import Execution, LogEntry, State, StateChange, StoredFlow, TaskRun
from plait.state.repository import ExecutionRepository
from plait.state.sqlite import SqliteRepository

__all__ = [
    "Execution",
    "ExecutionRepository",
    "LogEntry",
    "SqliteRepository",
    "State",
    "StateChange",
    "StoredFlow",
    "TaskRun",
]
