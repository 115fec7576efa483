"""YAML reading that remembers where every key and value was written.

Error messages must point at the line and column at fault, which ``yaml.safe_load`` forgets: the
document is composed into nodes (which carry their marks) and turned into plain Python values
here, recording a :class:`SourceMap` from each value's path to its position.

Scalars are typed like Kestra's YAML reader (the YAML 1.2 core schema): ``yes``, ``no``, ``on``,
``off`` and dates stay strings, so ``country: NO`` is not ``False`` and ``2024-01-01`` is not a
``date``. Duplicate keys, which PyYAML silently lets win, are problems.

Reading is bounded (:mod:`plait.flows.limits`): the text's size, and how deep lists and mappings
nest, since both PyYAML's composer and the builder here recurse once per level.

A text is read with libyaml's parser when it can be trusted to read it as PyYAML does (see
:mod:`plait.flows.yaml_loaders`); a text it finds any fault with is read again by PyYAML's own
reader, whose messages and positions are the ones reported.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

from plait.errors import Problem
from plait.flows import limits
from plait.flows.yaml_loaders import TAG, CLoader, FlowLoader, PythonLoader, TooDeep, c_can_read

PathKey = tuple[Hashable, ...]
"""Where a value sits in the document: mapping keys and list indices from the root."""

MAX_NODES = 200_000
"""Values built from one document, aliases expanded: refuses alias bombs."""


@dataclass(frozen=True)
class TextLayout:
    """Where a string scalar's characters sit in the source, when they map one to one
    (plain or quoted on one line without escapes, or a literal ``|`` block)."""

    line: int
    column: int
    continuation_column: int
    """Column of the first character of each following line (literal blocks)."""

    def position(self, text: str, offset: int) -> tuple[int, int]:
        before = text[:offset]
        newlines = before.count("\n")
        if not newlines:
            return self.line, self.column + offset
        return self.line + newlines, self.continuation_column + len(before) - before.rfind("\n") - 1


@dataclass(frozen=True)
class Entry:
    value: tuple[int, int]
    key: tuple[int, int] | None = None
    layout: TextLayout | None = None


@dataclass
class SourceMap:
    """Positions (1-based line, column) of every value of a document, by path."""

    entries: dict[PathKey, Entry] = field(default_factory=dict)

    def _nearest(self, path: PathKey) -> Entry | None:
        while path not in self.entries:
            if not path:
                return None
            path = path[:-1]
        return self.entries[path]

    def value(self, path: PathKey) -> tuple[int, int] | None:
        """Where the value at ``path`` (or its nearest written ancestor) starts."""
        entry = self._nearest(path)
        return entry.value if entry else None

    def key(self, path: PathKey) -> tuple[int, int] | None:
        """Where the key of the value at ``path`` is written (its value's position otherwise)."""
        entry = self.entries.get(path)
        if entry is None:
            return self.value(path)
        return entry.key or entry.value

    def text(self, path: PathKey, text: str, offset: int | None) -> tuple[int, int] | None:
        """Where character ``offset`` of the string at ``path`` is written, as closely as known."""
        entry = self.entries.get(path)
        if entry is None or entry.layout is None or offset is None:
            return self.value(path)
        return entry.layout.position(text, offset)


@dataclass
class YamlDocument:
    data: Any
    source_map: SourceMap
    problems: list[Problem]
    readable: bool
    """False when the text is not YAML at all (syntax error): ``data`` is then None."""


def load_yaml(
    text: str, file: str, what: str = "the flow", size_limit: limits.Limit = limits.FLOW_BYTES
) -> YamlDocument:
    """Read one YAML document, with positions, reporting syntax errors and duplicate keys;
    a text over the size or nesting limits is refused, with where it goes too deep (``what``
    over ``size_limit``: a flow, or a YAML input value)."""
    size = limits.over_size(text, size_limit.value())
    if size is not None:
        return _unreadable(Problem(limits.size_problem(what, size, size_limit), file))
    max_nesting = limits.NESTING.value()
    if c_can_read(text) and (document := _read_in_c(text, file, max_nesting)) is not None:
        return document
    try:
        loader = PythonLoader(text, max_nesting)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
        return _unreadable(_character_problem(exc, text, file))
    try:
        return _read(loader, text, file, max_nesting)
    except _TooLarge:
        return _unreadable(
            Problem(
                f"the document expands to more than {MAX_NODES} values (aliases); refusing it",
                file,
            )
        )
    except TooDeep as exc:
        line, column = exc.mark.line + 1, exc.mark.column + 1
        return _unreadable(Problem(limits.nesting_problem("the document"), file, line, column))
    except yaml.MarkedYAMLError as exc:
        return _unreadable(_syntax_problem(exc, file))
    finally:
        loader.dispose()


def _read(loader: FlowLoader, text: str, file: str, max_nesting: int) -> YamlDocument:
    node = loader.get_single_node()
    if node is None:
        return YamlDocument(None, SourceMap(), [], True)
    builder = _Builder(loader, text, file, max_nesting)
    data = builder.build(node, ())
    return YamlDocument(data, SourceMap(builder.entries), builder.problems, True)


def _read_in_c(text: str, file: str, max_nesting: int) -> YamlDocument | None:
    """The document as read with libyaml's parser, or None when that found anything to say
    (a syntax error, a limit, a duplicate key, a disagreement with PyYAML): the Python reader
    then reads the text again, for its own messages and positions."""
    loader = CLoader(text, max_nesting)
    try:
        document = _read(loader, text, file, max_nesting)
    except Exception:  # whatever it is, the Python reader reports it
        return None
    finally:
        loader.dispose()
    return None if document.problems else document


def _unreadable(problem: Problem) -> YamlDocument:
    return YamlDocument(None, SourceMap(), [problem], False)


def _character_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    line, column = _line_column(text, exc.position)
    code = int(exc.character)  # a code point, for text (rather than bytes) given to PyYAML
    message = (
        "a NUL character (U+0000) is not allowed in YAML; is this a binary file?"
        if code == 0
        else f"the non-printable character U+{code:04X} is not allowed in YAML"
    )
    return Problem(message, file, line, column)


def _line_column(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - before.rfind("\n")


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.context and exc.problem and exc.context_mark is not None:
        message += (
            f" ({exc.context} at line {exc.context_mark.line + 1}, "
            f"column {exc.context_mark.column + 1})"
        )
    if "\\t" in message or "\t" in message:
        message += "; indent with spaces, not tabs"
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Problem(message, file)
    return Problem(message, file, mark.line + 1, mark.column + 1)


class _TooLarge(Exception):
    pass


class _Builder:
    """Turns composed nodes into plain values, recording positions and problems."""

    def __init__(self, loader: FlowLoader, text: str, file: str, max_nesting: int) -> None:
        self.loader = loader
        self.text = text
        self.file = file
        self.max_nesting = max_nesting
        self.entries: dict[PathKey, Entry] = {}
        self.problems: list[Problem] = []
        self._count = 0
        self._open: set[int] = set()

    def _problem(self, message: str, mark: yaml.Mark) -> None:
        self.problems.append(Problem(message, self.file, mark.line + 1, mark.column + 1))

    def build(self, node: yaml.Node, path: PathKey, key_mark: yaml.Mark | None = None) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise _TooLarge
        key = (key_mark.line + 1, key_mark.column + 1) if key_mark else None
        start = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            self.entries[path] = Entry(start, key, self._layout(node))
            return self._scalar(node)
        self.entries[path] = Entry(start, key)
        if len(path) >= self.max_nesting:  # aliases can nest what composed within the limit
            raise TooDeep(node.start_mark)
        if id(node) in self._open:
            self._problem("an alias refers to a value that contains it (a cycle)", node.start_mark)
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        own = {id(k) for k, _ in node.value if k.tag != TAG + "merge"}
        try:
            self.loader.flatten_mapping(node)
        except yaml.constructor.ConstructorError as exc:
            self._problem(f"invalid merge key: {exc.problem}", exc.problem_mark or node.start_mark)
            return {}
        result: dict[Any, Any] = {}
        written: dict[Any, yaml.Mark] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(
                    "a mapping key must be a plain value, not a list or a mapping",
                    key_node.start_mark,
                )
                continue
            key = self._scalar(key_node)
            if id(key_node) in own:
                if key in written:
                    first = written[key]
                    self._problem(
                        f"duplicate key '{key}' (first written at line {first.line + 1}); "
                        "remove one of them",
                        key_node.start_mark,
                    )
                    continue
                written[key] = key_node.start_mark
            result[key] = self.build(value_node, (*path, key), key_node.start_mark)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == TAG + "str":
            return value
        if tag == TAG + "null" and value in ("~", "null", "Null", "NULL", ""):
            return None
        if tag == TAG + "bool" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if tag == TAG + "int" and re.fullmatch(r"[-+]?[0-9]+", value):
            return self._integer(node)
        if tag == TAG + "int" and value[:2] in ("0o", "0x"):
            return int(value[2:], 8 if value[1] == "o" else 16)
        if tag == TAG + "float" and re.fullmatch(r"[-+]?\.(inf|Inf|INF)", value):
            return float("-inf") if value.startswith("-") else float("inf")
        if tag == TAG + "float" and re.fullmatch(r"\.(nan|NaN|NAN)", value):
            return float("nan")
        if tag == TAG + "float":
            try:
                return float(value)
            except ValueError:
                pass
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self._problem(f"cannot read this value: {exc.problem}", node.start_mark)
        except (ValueError, LookupError, TypeError) as exc:  # an explicit type it is not: !!int a
            tag = node.tag.replace(TAG, "!!")
            self._problem(f"cannot read this value as {tag}: {exc}", node.start_mark)
        return None

    def _integer(self, node: yaml.ScalarNode) -> int | None:
        """A decimal integer; one of more digits than Python turns into a number is a problem."""
        try:
            return int(node.value)
        except ValueError:
            most = sys.get_int_max_str_digits()
            self._problem(f"this integer has more than the {most} digits allowed", node.start_mark)
            return None

    def _layout(self, node: yaml.ScalarNode) -> TextLayout | None:
        start, end = node.start_mark, node.end_mark
        if node.style in (None, '"', "'") and start.line == end.line:
            quote = 0 if node.style is None else 1
            if self.text[start.index + quote : end.index - quote] != node.value:
                return None  # escapes: characters do not map one to one
            column = start.column + 1 + quote
            return TextLayout(start.line + 1, column, column)
        if node.style == "|":
            body = self.text[start.index : end.index].split("\n")[1:]
            indents = [len(line) - len(line.lstrip(" ")) for line in body if line.strip()]
            if not indents:
                return None
            indent = min(indents)
            if "\n".join(line[indent:] for line in body).rstrip() != node.value.rstrip():
                return None
            return TextLayout(start.line + 2, indent + 1, indent + 1)
        return None
