"""The Revisions tab's line diff: the rows agree with difflib's unified diff (hunk headers,
removed and added lines, their numbers on each side)."""

from __future__ import annotations

import difflib

from plait.server.ui.line_diff import DiffRow, line_diff

OLD = "".join(f"line {n}\n" for n in range(1, 21))
NEW = (
    OLD.replace("line 2\n", "line two\n")
    .replace("line 18\n", "")
    .replace("line 20\n", "line 20\nline 21\n")
)


def test_equal_texts_have_no_rows() -> None:
    assert line_diff(OLD, OLD) == []


def test_rows_follow_the_unified_diff() -> None:
    rows = line_diff(OLD, NEW)
    unified = list(difflib.unified_diff(OLD.splitlines(), NEW.splitlines(), lineterm=""))[2:]
    shown = [
        row.text
        if row.kind == "hunk"
        else {"same": " ", "removed": "-", "added": "+"}[row.kind] + row.text
        for row in rows
    ]
    assert shown == unified
    assert DiffRow("removed", 2, None, "line 2") in rows
    assert DiffRow("added", None, 2, "line two") in rows
    assert DiffRow("added", None, 20, "line 21") in rows
    # Unchanged lines carry both numbers, shifted after a removal.
    assert DiffRow("same", 19, 18, "line 19") in rows
