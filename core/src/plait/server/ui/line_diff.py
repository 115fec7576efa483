"""A line diff between two revisions of a flow, as rows a table shows: each line with its
number on the left and on the right, changed lines marked, unchanged ones kept around each
change for context (as ``diff -u`` does)."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

CONTEXT_LINES = 3

RowKind = Literal["hunk", "same", "removed", "added"]


@dataclass(frozen=True)
class DiffRow:
    kind: RowKind
    old: int | None
    """Line number in the left text (None for an added line or a hunk header)."""
    new: int | None
    text: str


def line_diff(old: str, new: str, context: int = CONTEXT_LINES) -> list[DiffRow]:
    """The rows of the unified diff of ``old`` and ``new``; no rows when they are equal."""
    left, right = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        rows.append(DiffRow("hunk", None, None, header))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("same", i + 1, j + 1, left[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            rows.extend(DiffRow("removed", i + 1, None, left[i]) for i in range(i1, i2))
            rows.extend(DiffRow("added", None, j + 1, right[j]) for j in range(j1, j2))
    return rows
