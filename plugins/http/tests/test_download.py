"""plait.http.Download against a real server on 127.0.0.1, run by the real engine."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from plait_http.download import safe_file_name
from plait_sdk.testing import PlaitRunner, TaskRunResult

if TYPE_CHECKING:
    from conftest import LocalServer, RunFailing

DOWNLOAD = "plait.http.Download"
MB = 1024 * 1024


def test_streamed_multi_megabyte_body_is_stored_intact(
    plait_runner: PlaitRunner, server: LocalServer
):
    size = 8 * MB + 123
    result = plait_runner.run_task(
        "io.kestra.plugin.core.http.Download",
        {"uri": f"{server.url}/bytes/{size}?chunked=1&name=big.bin"},
    )

    assert result.state == "SUCCESS", result.error
    assert result.outputs["code"] == 200
    assert result.outputs["length"] == size
    assert result.outputs["uri"].startswith("plait://")
    assert result.outputs["uri"].endswith("big.bin")
    assert result.outputs["headers"]["Content-Disposition"] == ['attachment; filename="big.bin"']
    stored = result.read(result.outputs["uri"])
    assert hashlib.sha256(stored).hexdigest() == server.pattern_sha256(size)


def _peak_traced_bytes(run: Callable[[], TaskRunResult]) -> tuple[TaskRunResult, int]:
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_download_memory_does_not_grow_with_the_body(
    plait_runner: PlaitRunner, server: LocalServer
):
    # Control: Request holds its body, so a traced run of it must show the body's size; this
    # proves the task runs where tracemalloc can see it.
    control, control_peak = _peak_traced_bytes(
        lambda: plait_runner.run_task(
            "plait.http.Request",
            {"uri": f"{server.url}/bytes/{8 * MB}", "options": {"maxContentLength": 9 * MB}},
        )
    )
    assert control.state == "FAILED"  # binary body: read whole, then refused as text
    assert control_peak > 8 * MB

    result, peak = _peak_traced_bytes(
        lambda: plait_runner.run_task(DOWNLOAD, {"uri": f"{server.url}/bytes/{32 * MB}?chunked=1"})
    )

    assert result.state == "SUCCESS", result.error
    assert result.outputs["length"] == 32 * MB
    assert peak < 8 * MB


def test_save_as_names_the_stored_file(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(
        DOWNLOAD, {"uri": f"{server.url}/bytes/1000?name=ignored.bin", "saveAs": "orders.csv"}
    )

    assert result.state == "SUCCESS", result.error
    assert result.outputs["uri"].endswith("orders.csv")


def test_server_chosen_name_cannot_leave_the_task_folder(
    plait_runner: PlaitRunner, server: LocalServer
):
    result = plait_runner.run_task(
        DOWNLOAD, {"uri": f"{server.url}/bytes/1000?name=../../../etc/passwd"}
    )

    assert result.state == "SUCCESS", result.error
    assert result.outputs["uri"].endswith("/passwd")
    assert ".." not in result.outputs["uri"]


def test_error_status_fails_with_code_and_excerpt(run_failing: RunFailing, server: LocalServer):
    error = run_failing(DOWNLOAD, {"uri": f"{server.url}/status/503"})

    assert "HTTP 503" in error
    assert "status 503 as asked" in error


def test_empty_body_fails_by_default(run_failing: RunFailing, server: LocalServer):
    error = run_failing(DOWNLOAD, {"uri": f"{server.url}/empty"})

    assert "empty" in error
    assert "failOnEmptyResponse" in error


def test_empty_body_can_be_accepted(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(
        DOWNLOAD, {"uri": f"{server.url}/empty", "failOnEmptyResponse": False}
    )

    assert result.state == "SUCCESS", result.error
    assert result.outputs["length"] == 0
    assert result.read(result.outputs["uri"]) == b""
    assert any(line.level.startswith("WARN") for line in result.logs)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.csv", "report.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\evil.dll", "evil.dll"),
        (".hidden", "hidden"),
        ("my report (final).csv", "my_report_final_.csv"),
        ("données.csv", "données.csv"),
        ("/", None),
        ("..", None),
        ("", None),
        (None, None),
        ("x" * 300 + ".json", "x" * 123 + ".json"),
    ],
)
def test_safe_file_name(given: str | None, expected: str | None):
    assert safe_file_name(given) == expected
