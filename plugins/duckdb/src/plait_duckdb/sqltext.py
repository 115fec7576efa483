"""Small edits of SQL text, made with DuckDB's own tokenizer so that string literals, quoted
identifiers and comments are never touched."""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection

import duckdb

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NOT_BEFORE_PLACEHOLDER = frozenset("_'\")][")
"""A colon after these separates values (`list[1:n]`, `list[:n]`, `{'k':v}`): no placeholder."""
EXCERPT_LENGTH = 300


def colon_placeholders(sql: str) -> list[tuple[int, str]]:
    """Positions and names of Kestra-style ``:name`` placeholders.

    Neither a ``::`` cast nor a colon right after a value (a slice bound, a struct key) is one.
    """
    tokens = duckdb.tokenize(sql)
    found = []
    for (start, kind), (following, _) in itertools.pairwise(tokens):
        if kind != duckdb.token_type.operator or sql[start] != ":" or following != start + 1:
            continue
        before = sql[start - 1] if start else " "
        name = NAME.match(sql, start + 1)
        if name and not (before.isalnum() or before in NOT_BEFORE_PLACEHOLDER):
            found.append((start, name.group()))
    return found


def dollar_placeholders(sql: str, names: Collection[str]) -> str:
    """Rewrite the ``:name`` placeholders of the given names as DuckDB's ``$name``."""
    pieces: list[str] = []
    done = 0
    for start, name in colon_placeholders(sql) if names else ():
        if name in names:
            pieces.append(sql[done:start])
            pieces.append("$")
            done = start + 1
    pieces.append(sql[done:])
    return "".join(pieces)


def without_terminator(query: str) -> str:
    """A statement without its closing ``;`` (and what follows), to nest it in ``COPY (...)``.

    DuckDB hands the last statement over with whatever trails it, empty statements included.
    """
    tokens = [token for token in duckdb.tokenize(query) if token[1] != duckdb.token_type.comment]
    while tokens and tokens[-1][1] == duckdb.token_type.operator and query[tokens[-1][0]] == ";":
        query = query[: tokens.pop()[0]]
    return query


def literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def excerpt(query: str) -> str:
    """A statement on one line, shortened, for error messages."""
    flat = " ".join(query.split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 3] + "..."
