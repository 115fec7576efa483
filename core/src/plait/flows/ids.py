"""Identifier rules (Kestra's patterns, so flows move between the two unchanged) and the
"did you mean" suggestions every unknown-name message carries."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class IdRule:
    """A kind of identifier: its pattern (matched whole, as Java's ``matches``) and length."""

    kind: str
    pattern: re.Pattern[str]
    allowed: str
    max_length: int | None = None

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not a valid identifier of this kind, or None."""
        if not self.pattern.fullmatch(value):
            return f"invalid {self.kind} '{value}': {self.allowed}"
        if self.max_length is not None and len(value) > self.max_length:
            return (
                f"invalid {self.kind} '{value[:20]}...': at most {self.max_length} characters "
                f"(it has {len(value)})"
            )
        return None


_START = "must start with a letter or a digit and contain only"
FLOW_ID = IdRule(
    "flow id",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*"),
    f"{_START} letters, digits, '.', '_' and '-'",
    100,
)
NAMESPACE = IdRule(
    "namespace",
    re.compile(r"[a-z0-9][a-z0-9._-]*"),
    f"{_START} lowercase letters, digits, '.', '_' and '-'",
    150,
)
TASK_ID = IdRule(
    "task id",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*"),
    f"{_START} letters, digits, '_' and '-'",
    256,
)
INPUT_ID = IdRule(
    "input id",
    re.compile(r"[a-zA-Z0-9][.a-zA-Z0-9_-]*"),
    f"{_START} letters, digits, '.', '_' and '-'",
)
OUTPUT_ID = IdRule("flow output id", INPUT_ID.pattern, INPUT_ID.allowed)


def close_matches(name: object, candidates: Iterable[object], n: int = 3) -> list[str]:
    """Candidates resembling ``name``: a case-insensitive equal first, then similar spellings."""
    text = str(name)
    pool = [str(c) for c in candidates]
    exact = [c for c in pool if c.lower() == text.lower() and c != text]
    similar = difflib.get_close_matches(text, pool, n=n, cutoff=0.6)
    return list(dict.fromkeys(exact + similar))[:n]


def did_you_mean(name: object, candidates: Iterable[object]) -> str:
    """``"; did you mean 'x'?"`` when a candidate is close to ``name``, else an empty string."""
    matches = close_matches(name, candidates)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def quoted_list(names: Iterable[object]) -> str:
    return ", ".join(f"'{n}'" for n in names) or "none"
