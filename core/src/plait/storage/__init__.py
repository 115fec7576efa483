"""The internal storage: ``plait:///`` URIs, the local backend and the execution-scoped views."""

from plait.storage.internal import InternalStorage, StorageNotFoundError, TaskRunStorage
from plait.storage.local import LocalStorage
from plait.storage.uris import (
    SCHEME,
    execution_prefix,
    input_key,
    is_uri,
    key_in_execution,
    task_key,
    to_key,
    to_uri,
)

__all__ = [
    "SCHEME",
    "InternalStorage",
    "LocalStorage",
    "StorageNotFoundError",
    "TaskRunStorage",
    "execution_prefix",
    "input_key",
    "is_uri",
    "key_in_execution",
    "task_key",
    "to_key",
    "to_uri",
]
