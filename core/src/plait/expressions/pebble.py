"""The Pebble dialect Kestra flows are written in, taught to Jinja.

Jinja's lexer cannot read Pebble's ``??`` (null coalescing) and ``???`` (undefined coalescing)
operators, so :func:`prepare` scans the template once, tag by tag and outside string literals,
and turns them into marker names that :class:`PebbleParser` reads back as operators. The same
scan records where every ``{{ }}`` and ``{% %}`` tag sits, and starts each tag's content on a
fresh line of the prepared source: Jinja only reports line numbers, and this makes a line
number name exactly one tag, so errors and static analysis can quote the expression at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from jinja2 import nodes
from jinja2.parser import Parser

NULL_COALESCE = "__plait_null_coalesce__"
"""Marker standing for ``??``: the right side when the left is undefined or null."""
UNDEFINED_COALESCE = "__plait_undefined_coalesce__"
"""Marker standing for ``???``: the right side only when the left is undefined."""
OPERATORS = {NULL_COALESCE: "??", UNDEFINED_COALESCE: "???"}

HAS_VALUE_TEST = "__plait_has_value__"
"""Internal test (defined and not null) the ``??`` operator compiles to."""
TEXT_FILTER = "__plait_text__"
"""Internal filter turning a value into text the way Pebble prints it (for ``~``)."""

_TAG_OPEN = re.compile(r"\{([{%#])")
_RAW_BLOCK_START = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_RAW_BLOCK_END = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.DOTALL)
_CLOSERS = {"{": "}}", "%": "%}"}


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``{{ }}`` or ``{% %}`` tag: where it is in the template and in the prepared source."""

    kind: Literal["expression", "statement"]
    start: int
    """Offset of the opening delimiter in the original template."""
    end: int
    """Offset just past the closing delimiter (the template's end when it is unterminated)."""
    first_line: int
    """First line of the tag's content in the prepared source."""
    last_line: int
    """Last line of the tag's content in the prepared source."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A template made readable by Jinja, with the map back to the original."""

    template: str
    source: str
    segments: tuple[Segment, ...]
    whole_value: bool
    """The template is one ``{{ }}`` with nothing but whitespace around it."""

    def segment_at(self, line: int | None) -> Segment | None:
        """The tag whose content covers ``line`` of the prepared source."""
        if line is None:
            return None
        for segment in self.segments:
            if segment.first_line <= line <= segment.last_line:
                return segment
        return None

    def text(self, segment: Segment) -> str:
        return self.template[segment.start : segment.end]

    def original_line(self, segment: Segment, line: int) -> int:
        """The template line of a prepared-source ``line`` inside ``segment``."""
        return self.template.count("\n", 0, segment.start) + 1 + line - segment.first_line

    def column(self, segment: Segment) -> int:
        """1-based column of the tag's opening delimiter."""
        return segment.start - self.template.rfind("\n", 0, segment.start)


def has_markup(text: str) -> bool:
    """Whether a string holds anything to render (the engine's fast path)."""
    return "{{" in text or "{%" in text or "{#" in text


def prepare(template: str) -> Prepared:
    """Scan ``template`` tag by tag; see the module docstring for what changes."""
    out: list[str] = []
    segments: list[Segment] = []
    line = 1
    pos = 0
    size = len(template)
    while (match := _TAG_OPEN.search(template, pos)) is not None:
        start = match.start()
        verbatim_end = _verbatim_end(template, match)
        if verbatim_end is not None:
            chunk = template[pos:verbatim_end]
            out.append(chunk)
            line += chunk.count("\n")
            pos = verbatim_end
            continue
        head_end = match.end()
        if head_end < size and template[head_end] in "-+":
            head_end += 1
        content, close = _tag_content(template, head_end, _CLOSERS[match.group(1)])
        before = template[pos:head_end]
        line += before.count("\n") + 1  # the tag's content starts on a line of its own
        tail = template[close : close + 2] if close < size else ""
        out.extend((before, "\n", content, tail))
        first_line = line
        line += content.count("\n")
        kind: Literal["expression", "statement"] = (
            "expression" if match.group(1) == "{" else "statement"
        )
        segments.append(Segment(kind, start, close + len(tail), first_line, line))
        pos = close + len(tail)
    out.append(template[pos:])
    whole = (
        len(segments) == 1
        and segments[0].kind == "expression"
        and template.endswith("}}", 0, segments[0].end)
        and not template[: segments[0].start].strip()
        and not template[segments[0].end :].strip()
    )
    return Prepared(template, "".join(out), tuple(segments), whole)


def _verbatim_end(template: str, match: re.Match[str]) -> int | None:
    """End of a comment or raw block starting at ``match``, which Jinja reads as-is."""
    if match.group(1) == "#":
        close = template.find("#}", match.end())
        return len(template) if close < 0 else close + 2
    if match.group(1) == "%" and (raw := _RAW_BLOCK_START.match(template, match.start())):
        end = _RAW_BLOCK_END.search(template, raw.end())
        return len(template) if end is None else end.end()
    return None


def _tag_content(template: str, pos: int, closer: str) -> tuple[str, int]:
    """The content of a tag up to its closing delimiter, with ``??``/``???`` replaced.

    Mirrors Jinja's lexer: string literals are skipped whole, and the closer only counts
    outside brackets (``{{ {'a': {'b': 1}} }}``). Returns the offset of the closer, or the
    template's length when there is none (Jinja then reports the unterminated tag).
    """
    pieces: list[str] = []
    copied = pos
    depth = 0
    size = len(template)
    while pos < size:
        char = template[pos]
        if depth == 0 and template.startswith(closer, pos):
            break
        if char in "'\"":
            string = _STRING.match(template, pos)
            pos = string.end() if string else size
            continue
        if char == "?" and template.startswith("??", pos):
            width = 3 if template.startswith("???", pos) else 2
            marker = UNDEFINED_COALESCE if width == 3 else NULL_COALESCE
            pieces.extend((template[copied:pos], f" {marker} "))
            pos += width
            copied = pos
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}" and depth:
            depth -= 1
        pos += 1
    pieces.append(template[copied:pos])
    return "".join(pieces), pos


def restore_operators(message: str) -> str:
    """Put ``??``/``???`` back into a Jinja message that quotes a marker."""
    for marker, operator in OPERATORS.items():
        message = message.replace(marker, operator)
    return message


class PebbleParser(Parser):
    """Jinja's parser with Pebble's coalescing operators, ``null`` literal and ``~`` printing.

    Pebble binds ``??`` tighter than filters and looser than attribute access and calls, so
    ``inputs.day ?? now() | date('yyyy')`` formats whichever side was chosen. Every other
    operator keeps Jinja's precedence.
    """

    def parse_unary(self, with_filter: bool = True) -> nodes.Expr:
        node = super().parse_unary(with_filter=False)
        while self.stream.current.type == "name" and self.stream.current.value in OPERATORS:
            token = next(self.stream)
            right = super().parse_unary(with_filter=False)
            node = _coalesce(node, right, token.value, token.lineno)
        if with_filter:
            node = self.parse_filter_expr(node)
        return node

    def parse_primary(self, *args: object, **kwargs: object) -> nodes.Expr:
        token = self.stream.current
        if token.type == "name" and token.value == "null":
            next(self.stream)
            return nodes.Const(None, lineno=token.lineno)
        return super().parse_primary(*args, **kwargs)  # type: ignore[arg-type]

    def parse_concat(self) -> nodes.Expr:
        node = super().parse_concat()
        if isinstance(node, nodes.Concat):
            node.nodes = [
                nodes.Filter(arg, TEXT_FILTER, [], [], None, None, lineno=arg.lineno)
                for arg in node.nodes
            ]
        return node


def _coalesce(left: nodes.Expr, right: nodes.Expr, marker: str, lineno: int) -> nodes.Expr:
    """``left if left <has a value> else right``: the right side is only evaluated when used."""
    test = HAS_VALUE_TEST if marker == NULL_COALESCE else "defined"
    condition = nodes.Test(left, test, [], [], None, None, lineno=lineno)
    return nodes.CondExpr(condition, left, right, lineno=lineno)
