"""The internal-storage reference: URI layout and the URIs refused, produced by running the
kernel's own URI code on examples (the messages are the ones users get)."""

from __future__ import annotations

from collections.abc import Iterable

from plait.errors import StorageError
from plait.schema.markdown import code, page, table
from plait.storage.uris import URI_PREFIX, input_key, task_key, to_key, to_uri

_EXAMPLE = ("company.team", "my_flow", "EXECUTION_ID")

REFUSED_EXAMPLES = (
    f"{URI_PREFIX}company/team/../../etc/passwd",
    f"{URI_PREFIX}/etc/passwd",
    f"{URI_PREFIX}company/team%2F..%2Fsecret",
    f"{URI_PREFIX}company\\team/file.csv",
    "plait://host/company/file.csv",
    "s3:///bucket/file.csv",
)


def _refusal(uri: str) -> str:
    try:
        to_key(uri)
    except StorageError as exc:
        return str(exc)
    raise AssertionError(f"{uri} is accepted; it cannot illustrate a refused URI")


def storage_page(backends: Iterable[str]) -> str:
    task_file = to_uri(task_key(*_EXAMPLE, "task-id", "TASKRUN_ID", "products.csv"))
    input_file = to_uri(input_key(*_EXAMPLE, "data", "orders.csv"))
    layout = table(
        ["What", "URI"],
        [
            ["A file a task run wrote", code(task_file)],
            ["A FILE input's upload", code(input_file)],
        ],
    )
    refused = table(["URI", "Refused because"], [[code(u), _refusal(u)] for u in REFUSED_EXAMPLES])
    names = ", ".join(code(name) for name in sorted(backends)) or "none"
    return page(
        "# Internal storage",
        "Files that tasks produce (a download, a script's `outputFiles`, a query's stored "
        f"result) and FILE inputs live in the internal storage, addressed by {code(URI_PREFIX)} "
        "URIs. Outputs hold these URIs, later tasks pass them on (`inputFiles`, "
        "`{{ read(uri) }}`), and `plait storage get URI` / `plait storage preview URI` fetch or "
        "show a file.",
        "## Layout",
        "The namespace's dots become folders, then come the flow, the execution's id, and the "
        "task and task run that wrote the file (`EXECUTION_ID` and `TASKRUN_ID` stand for "
        "generated ids):",
        layout,
        "## What is refused",
        "A URI never reaches outside the storage root, whichever backend serves it: `.` and "
        "`..` segments, absolute paths, encoded separators, backslashes and control characters "
        "are refused. `read()` in expressions only reads URIs of the current execution.",
        refused,
        "## Backends",
        "Files are written atomically (to a temporary file, then renamed) and streamed, never "
        "held whole in memory. A write that fails (a full disk, a file size limit, a read-only "
        "or forbidden folder) fails the task with one line naming the file and the cause, "
        "`cannot write plait:///...: No space left on device`, and leaves no part of the file. "
        "Plugins add backends through the `register_storage_backends` "
        f"hook; installed: {names}.",
    )
