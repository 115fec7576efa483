"""Internal-storage URIs (``plait:///<key>``) and the keys behind them.

A key is a relative, ``/``-separated path such as
``company/team/my-flow/executions/<exec>/tasks/<task>/<taskrun>/data.csv``. URIs reach the kernel
from flows, expressions and the command line, so every conversion here validates: nothing that
could name a place outside the storage root (``..``, absolute paths, encoded separators,
backslashes, NUL) ever becomes a key, whatever backend then serves it.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from plait.errors import StorageError

SCHEME = "plait"
URI_PREFIX = f"{SCHEME}:///"
_ENCODED_SEPARATORS = ("%2f", "%5c")


def is_uri(value: object) -> bool:
    """Whether ``value`` looks like an internal-storage URI (e.g. to show an output as a file)."""
    return isinstance(value, str) and value.startswith(f"{SCHEME}://")


def _segment_problem(segment: str) -> str | None:
    if segment == "":
        return "empty path segments ('//', leading or trailing '/') are not allowed"
    if segment in (".", ".."):
        return "'.' and '..' segments are not allowed"
    if "\\" in segment:
        return "backslashes are not allowed"
    if "\x00" in segment:
        return "NUL characters are not allowed"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in segment):
        return "control characters are not allowed"
    return None


def check_key(key: str, shown: str | None = None) -> str:
    """Return ``key`` if it is a safe relative storage path, else raise :class:`StorageError`.

    ``shown`` is what the user wrote (a URI, a file name), used in the message instead of the key.
    """
    where = repr(shown if shown is not None else key)
    if not isinstance(key, str) or key == "":
        raise StorageError(f"invalid storage path {where}: it is empty")
    if key.startswith("/"):
        raise StorageError(f"invalid storage path {where}: absolute paths are not allowed")
    for segment in key.split("/"):
        if problem := _segment_problem(segment):
            raise StorageError(f"invalid storage path {where}: {problem}")
    return key


def _single(value: str, what: str) -> str:
    if "/" in value:
        raise StorageError(f"invalid {what} {value!r} for a storage path: it contains '/'")
    if problem := _segment_problem(value):
        raise StorageError(f"invalid {what} {value!r} for a storage path: {problem}")
    return value


def check_name(name: str) -> str:
    """A file name given by a task or a flow: relative, possibly nested (``reports/a.csv``)."""
    return check_key(name, f"file name {name}")


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """``company/team/<flow>/executions/<exec>``: namespace dots become folders, as in Kestra."""
    parts = [_single(part, "namespace part") for part in namespace.split(".")]
    return "/".join(
        [*parts, _single(flow_id, "flow id"), "executions", _single(execution_id, "execution id")]
    )


def task_prefix(
    namespace: str, flow_id: str, execution_id: str, task_id: str, taskrun_id: str
) -> str:
    """``<execution prefix>/tasks/<task>/<taskrun>``: the folder of one task run's files."""
    prefix = execution_prefix(namespace, flow_id, execution_id)
    task = _single(task_id, "task id")
    return f"{prefix}/tasks/{task}/{_single(taskrun_id, 'task run id')}"


def task_key(
    namespace: str,
    flow_id: str,
    execution_id: str,
    task_id: str,
    taskrun_id: str,
    filename: str,
) -> str:
    prefix = task_prefix(namespace, flow_id, execution_id, task_id, taskrun_id)
    return f"{prefix}/{check_name(filename)}"


def input_key(namespace: str, flow_id: str, execution_id: str, input_id: str, filename: str) -> str:
    prefix = execution_prefix(namespace, flow_id, execution_id)
    return f"{prefix}/inputs/{_single(input_id, 'input id')}/{check_name(filename)}"


def is_under(key: str, prefix: str) -> bool:
    return key.startswith(prefix.rstrip("/") + "/")


def key_in_execution(uri: str, namespace: str, flow_id: str, execution_id: str) -> str:
    """The key of ``uri``, which must name a file of that execution (what tasks and ``read()``
    may open); raises :class:`StorageError` otherwise."""
    key = to_key(uri)
    if not is_under(key, execution_prefix(namespace, flow_id, execution_id)):
        raise StorageError(
            f"URI {uri} does not belong to execution {execution_id}; only files of the "
            "current execution can be read"
        )
    return key


def to_uri(key: str) -> str:
    return URI_PREFIX + quote(check_key(key), safe="/")


def to_key(uri: str) -> str:
    """Parse and validate a ``plait:///`` URI; raises :class:`StorageError` naming the URI."""
    if not isinstance(uri, str):
        raise StorageError(f"expected a {URI_PREFIX}... URI, got {type(uri).__name__} {uri!r}")
    scheme, separator, rest = uri.partition("://")
    if not separator:
        raise StorageError(f"{uri!r} is not an internal storage URI (expected {URI_PREFIX}...)")
    if scheme.lower() != SCHEME:
        raise StorageError(
            f"unsupported URI scheme '{scheme}' in {uri!r}: internal storage URIs start "
            f"with {URI_PREFIX}"
        )
    if not rest.startswith("/"):
        raise StorageError(f"URI {uri!r} names a host; storage URIs are {URI_PREFIX}<path>")
    path = rest[1:]
    if "?" in path or "#" in path:
        raise StorageError(f"URI {uri!r} must not have a query or fragment ('?', '#')")
    if path.startswith("/"):
        raise StorageError(f"invalid storage URI {uri!r}: absolute paths are not allowed")
    segments = []
    for raw in path.split("/"):
        if any(encoded in raw.lower() for encoded in _ENCODED_SEPARATORS):
            raise StorageError(
                f"invalid storage URI {uri!r}: encoded path separators (%2F, %5C) are not allowed"
            )
        try:
            segments.append(unquote(raw, errors="strict"))
        except UnicodeDecodeError as exc:
            raise StorageError(
                f"invalid storage URI {uri!r}: percent-encoding is not valid UTF-8"
            ) from exc
    return check_key("/".join(segments), uri)
