"""The Pebble dialect Kestra flows are written in, taught to Jinja.

Jinja's lexer cannot read Pebble's ``??`` (null coalescing), ``???`` (undefined coalescing)
and ``?`` (the ternary ``cond ? a : b``), so :func:`prepare` scans the template once, tag by
tag and outside string literals, and turns them into marker names that :class:`PebbleParser`
reads back as operators. The same scan records where every ``{{ }}`` and ``{% %}`` tag sits,
and starts each tag's content on a fresh line of the prepared source: Jinja only reports line
numbers, and this makes a line number name exactly one tag, so errors and static analysis can
quote the expression at fault. ``{% raw %}`` blocks pass through whole, their whitespace
control dropped, as Kestra does, and Pebble's ``{% elseif %}`` becomes Jinja's ``{% elif %}``.

The parser adds Pebble's word operators (``isIn``, ``contains``, ``equals``), blocks named by
a string (``{% block "post" %}``), and Pebble's separate namespace for functions: a call of a
bare name (``yaml(text)``) reads the function table even when a variable has that name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from jinja2 import nodes
from jinja2.environment import Environment
from jinja2.lexer import Token, TokenStream
from jinja2.parser import Parser

NULL_COALESCE = "__plait_null_coalesce__"
"""Marker standing for ``??``: the right side when the left is undefined or null."""
UNDEFINED_COALESCE = "__plait_undefined_coalesce__"
"""Marker standing for ``???``: the right side only when the left is undefined."""
TERNARY = "__plait_ternary__"
"""Marker standing for the ``?`` of ``cond ? a : b``."""
OPERATORS = {NULL_COALESCE: "??", UNDEFINED_COALESCE: "???"}
MARKERS = {**OPERATORS, TERNARY: "?"}
COALESCING = frozenset(OPERATORS.values())

IS_IN_TEST = "__plait_is_in__"
"""Internal test ``isIn`` compiles to."""
CONTAINS_TEST = "__plait_contains__"
"""Internal test ``contains`` compiles to."""
WORD_OPERATORS = frozenset({"isIn", "contains", "equals"})
"""Pebble's binary operators spelled as words, at the precedence of comparisons."""
BLOCK_PREFIX = "__plait_block_"
"""Start of the Jinja name of a block whose Pebble name is no identifier (``"my-part"``)."""

HAS_VALUE_TEST = "__plait_has_value__"
"""Internal test (defined and not null) the ``??`` operator compiles to."""
TEXT_FILTER = "__plait_text__"
"""Internal filter turning a value into text the way Pebble prints it (for ``~``)."""
ITERATE_FILTER = "__plait_iterate__"
"""Filter wrapped around every ``for`` loop's items, so that loops check the render's time."""

_TAG_OPEN = re.compile(r"\{([{%#])")
_RAW_BLOCK_START = re.compile(r"\{%[-+]*\s*raw\s*[-+]*%\}")
_RAW_BLOCK_END = re.compile(r"\{%[-+]*\s*endraw\s*[-+]*%\}")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.DOTALL)
_CLOSERS = {"{": "}}", "%": "%}"}
_ELSEIF = re.compile(r"^(\s*)elseif\b")
"""Pebble's ``{% elseif %}``, Jinja's ``{% elif %}``."""


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
        verbatim = _verbatim(template, match)
        if verbatim is not None:
            text = template[pos:start] + verbatim[0]
            out.append(text)
            line += text.count("\n")
            pos = verbatim[1]
            continue
        head_end = match.end()
        if head_end < size and template[head_end] in "-+":
            head_end += 1
        content, close = _tag_content(template, head_end, _CLOSERS[match.group(1)])
        if match.group(1) == "%":
            content = _ELSEIF.sub(r"\1elif", content, count=1)
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


def _verbatim(template: str, match: re.Match[str]) -> tuple[str, int] | None:
    """A comment or raw block starting at ``match``: the text Jinja is to read in its place
    and where it ends. Like Kestra, a raw block ignores whitespace control (``{%- raw %}``
    keeps the spaces before it); an unterminated one is left for Jinja to report."""
    if match.group(1) == "#":
        close = template.find("#}", match.end())
        end = len(template) if close < 0 else close + 2
        return template[match.start() : end], end
    if match.group(1) == "%" and (raw := _RAW_BLOCK_START.match(template, match.start())):
        close = _RAW_BLOCK_END.search(template, raw.end())
        if close is None:
            return template[match.start() :], len(template)
        content = template[raw.end() : close.start()]
        return f"{{% raw %}}{content}{{% endraw %}}", close.end()
    return None


def _tag_content(template: str, pos: int, closer: str) -> tuple[str, int]:
    """The content of a tag up to its closing delimiter, with ``?``/``??``/``???`` replaced.

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
        if char == "?":
            width = (
                3 if template.startswith("???", pos) else 2 if template.startswith("??", pos) else 1
            )
            marker = (TERNARY, NULL_COALESCE, UNDEFINED_COALESCE)[width - 1]
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
    """Put ``?``/``??``/``???`` back into a Jinja message that quotes a marker."""
    for marker, operator in MARKERS.items():
        message = message.replace(marker, operator)
    return message


class PebbleParser(Parser):
    """Jinja's parser with Pebble's operators, ``null`` literal, ``~`` printing, string-named
    blocks and function namespace.

    Pebble binds ``??`` tighter than filters and looser than attribute access and calls, so
    ``inputs.day ?? now() | date('yyyy')`` formats whichever side was chosen; the ternary
    ``? :`` binds loosest of all, and ``isIn``/``contains``/``equals`` as comparisons do.
    Every other operator keeps Jinja's precedence.
    """

    def __init__(
        self,
        environment: Environment,
        source: str,
        name: str | None = None,
        filename: str | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(environment, source, name, filename, state)
        self.stream = TokenStream(_operator_tokens(self.stream), name, filename)

    def parse_condexpr(self) -> nodes.Expr:
        node = super().parse_condexpr()
        if self.stream.current.type == "?":
            lineno = next(self.stream).lineno
            chosen = self.parse_expression()
            self.stream.expect("colon")
            other = self.parse_expression()  # right-associative: a ? b : c ? d : e
            node = nodes.CondExpr(node, chosen, other, lineno=lineno)
        return node

    def parse_compare(self) -> nodes.Expr:
        node = super().parse_compare()
        while self.stream.current.type == "name" and self.stream.current.value in WORD_OPERATORS:
            token = next(self.stream)
            right = super().parse_compare()
            node = _word_operator(token.value, node, right, token.lineno)
        return node

    def parse_call(self, node: nodes.Expr) -> nodes.Call:
        call = super().parse_call(node)
        if isinstance(node, nodes.Name) and node.name in self.environment.globals:
            call.node = _function_reference(node.name, node.lineno)
        return call

    def parse_block(self) -> nodes.Block:
        keyword = next(self.stream)
        name = self.stream.current
        if name.type == "string":
            name = Token(name.lineno, "name", block_name(name.value))
        self.stream.push(name)
        self.stream.current = keyword
        return super().parse_block()

    def parse_unary(self, with_filter: bool = True) -> nodes.Expr:
        node = super().parse_unary(with_filter=False)
        while self.stream.current.type in COALESCING:
            token = next(self.stream)
            right = super().parse_unary(with_filter=False)
            node = _coalesce(node, right, token.type, token.lineno)
        if with_filter:
            node = self.parse_filter_expr(node)
        return node

    def parse_primary(self, *args: object, **kwargs: object) -> nodes.Expr:
        token = self.stream.current
        if token.type == "name" and token.value == "null":
            next(self.stream)
            return nodes.Const(None, lineno=token.lineno)
        return super().parse_primary(*args, **kwargs)  # type: ignore[arg-type]

    def parse_for(self) -> nodes.For:
        loop = super().parse_for()
        loop.iter = nodes.Filter(loop.iter, ITERATE_FILTER, [], [], None, None, lineno=loop.lineno)
        return loop

    def parse_concat(self) -> nodes.Expr:
        node = super().parse_concat()
        if isinstance(node, nodes.Concat):
            node.nodes = [
                nodes.Filter(arg, TEXT_FILTER, [], [], None, None, lineno=arg.lineno)
                for arg in node.nodes
            ]
        return node


def _operator_tokens(stream: TokenStream) -> Iterator[Token]:
    """The tokens of ``stream`` with each marker name turned into a token of its operator: an
    operator is then never read as a name (``x is defined ? a : b`` is no test argument)."""
    for token in stream:
        if token.type == "name" and token.value in MARKERS:
            operator = MARKERS[token.value]
            yield Token(token.lineno, operator, operator)
        else:
            yield token


def _coalesce(left: nodes.Expr, right: nodes.Expr, operator: str, lineno: int) -> nodes.Expr:
    """``left if left <has a value> else right``: the right side is only evaluated when used."""
    test = HAS_VALUE_TEST if operator == "??" else "defined"
    condition = nodes.Test(left, test, [], [], None, None, lineno=lineno)
    return nodes.CondExpr(condition, left, right, lineno=lineno)


def _word_operator(word: str, left: nodes.Expr, right: nodes.Expr, lineno: int) -> nodes.Expr:
    if word == "equals":
        return nodes.Compare(left, [nodes.Operand("eq", right)], lineno=lineno)
    test = IS_IN_TEST if word == "isIn" else CONTAINS_TEST
    return nodes.Test(left, test, [right], [], None, None, lineno=lineno)


def _function_reference(name: str, lineno: int) -> nodes.Expr:
    """The registered function ``name``, read from the function table rather than from the
    variables: in Pebble a variable never hides a function of the same name."""
    table = nodes.EnvironmentAttribute("globals", lineno=lineno)
    return nodes.Getitem(table, nodes.Const(name, lineno=lineno), "load", lineno=lineno)


def called_function(call: nodes.Call) -> str | None:
    """The name of the function a call node calls, when it names one (``now()``), whether it
    reads the function table or a template's own name (a macro)."""
    target = call.node
    if isinstance(target, nodes.Name):
        return target.name
    if (
        isinstance(target, nodes.Getitem)
        and isinstance(target.node, nodes.EnvironmentAttribute)
        and isinstance(target.arg, nodes.Const)
    ):
        return str(target.arg.value)
    return None


def block_name(name: str) -> str:
    """The Jinja name of the block Pebble names ``name`` (Jinja's must be identifiers)."""
    if name.isidentifier() and not name.startswith("__"):
        return name
    return BLOCK_PREFIX + name.encode().hex()
