"""Reading a flow file into text: bounded by the flow size limit, and a file that is not UTF-8
reported at the line and column of its first bad byte (not a ``UnicodeDecodeError``)."""

from __future__ import annotations

import os
from pathlib import Path

from plait.errors import Problem
from plait.flows import limits


def read_flow_file(path: Path, file: str) -> str | Problem:
    """The text of a flow file, or the problem that stops reading it: unreadable, over the size
    limit (read no further than the limit, so a huge or endless file costs nothing), or not
    UTF-8."""
    limit = limits.FLOW_BYTES.value()
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
            if len(data) > limit:
                size = os.fstat(stream.fileno()).st_size  # 0 for a device or a pipe
                return Problem(
                    limits.size_problem("the flow file", size if size > limit else None), file
                )
    except OSError as exc:
        return Problem(f"cannot read the flow file: {exc.strerror or exc}", file)
    return decode_flow(data, file)


def decode_flow(data: bytes, file: str) -> str | Problem:
    """The text of a flow's bytes, or where they stop being UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _not_utf8(data, exc.start, file)


def _not_utf8(data: bytes, start: int, file: str) -> Problem:
    line = data.count(b"\n", 0, start) + 1
    line_start = data.rfind(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8", "replace")) + 1
    return Problem(
        f"not UTF-8 text: byte 0x{data[start]:02x} cannot be read here; save the flow as UTF-8 "
        "(is this a binary file?)",
        file,
        line,
        column,
    )
