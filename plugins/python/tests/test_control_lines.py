"""The ``::{...}::`` protocol and the cutting of raw output into lines."""

from __future__ import annotations

import pytest
from plait_python.control import LogEntry, parse_control_line
from plait_python.streams import MAX_LINE_BYTES, split_lines


def test_outputs_line_gives_its_values() -> None:
    control = parse_control_line('::{"outputs": {"rows": 3, "ok": true, "none": null}}::')
    assert control is not None
    assert dict(control.outputs) == {"rows": 3, "ok": True, "none": None}
    assert control.logs == ()


def test_logs_line_maps_kestra_levels() -> None:
    control = parse_control_line(
        '::{"logs": [{"level": "WARN", "message": "careful"}, {"message": "plain"},'
        ' {"level": "TRACE", "message": "fine"}, "bare"]}::'
    )
    assert control is not None
    assert control.logs == (
        LogEntry("warning", "careful"),
        LogEntry("info", "plain"),
        LogEntry("debug", "fine"),
        LogEntry("info", "bare"),
    )


@pytest.mark.parametrize(
    "line",
    [
        "hello",
        "::not json::",
        '::{"outputs": [1, 2]}::',
        '::{"logs": "nope"}::',
        '::["outputs"]::',
        'prefix ::{"outputs": {"a": 1}}::',
        '::{"outputs": {"a": 1}}',
    ],
)
def test_anything_else_is_ordinary_output(line: str) -> None:
    assert parse_control_line(line) is None


def test_surrounding_whitespace_is_tolerated() -> None:
    control = parse_control_line('  ::{"outputs": {"a": 1}}::\r')
    assert control is not None and dict(control.outputs) == {"a": 1}


def test_split_lines_joins_chunks_and_keeps_the_last_partial_line() -> None:
    chunks = [b"hel", b"lo\nwor", b"ld\r\n\n", "caf\u00e9".encode()[:4], "caf\u00e9".encode()[4:]]
    assert list(split_lines(chunks)) == ["hello", "world", "", "caf\u00e9"]


def test_split_lines_cuts_endless_lines_and_replaces_bad_bytes() -> None:
    chunks = [b"x" * (MAX_LINE_BYTES + 10), b"\xff\n"]
    lines = list(split_lines(chunks))
    assert lines == ["x" * MAX_LINE_BYTES, "x" * 10 + "\ufffd"]
