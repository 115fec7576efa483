"""plait.http.Download onto a real full disk (a tiny tmpfs as the internal storage; mounting
needs root, the tests skip elsewhere): the task fails with one line naming the file and the
cause, and no part of the file stays in storage."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from plait_sdk.testing import PlaitRunner, files_in, tiny_filesystem

if TYPE_CHECKING:
    from conftest import LocalServer

DOWNLOAD = "plait.http.Download"
MB = 1024 * 1024


def test_download_onto_a_full_storage_fails_whole(plait_runner: PlaitRunner, server: LocalServer):
    with tiny_filesystem(plait_runner.home / "storage", MB) as storage:
        result = plait_runner.run_task(
            DOWNLOAD, {"uri": f"{server.url}/bytes/{4 * MB}?chunked=1&name=big.bin"}
        )

        assert result.state == "FAILED"
        assert re.fullmatch(
            r"cannot write plait:///test/harness/harness/executions/\w+/tasks/task/\w+/"
            r"big\.bin: No space left on device",
            result.error or "",
        ), result.error
        assert not any("Traceback" in line.message for line in result.logs)
        assert files_in(storage) == []
        # The space the failed download took is free again for the next one.
        again = plait_runner.run_task(DOWNLOAD, {"uri": f"{server.url}/bytes/1000?name=a.bin"})
        assert again.state == "SUCCESS", again.error
