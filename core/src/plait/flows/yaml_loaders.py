"""The two YAML readers behind :func:`plait.flows.yaml_positions.load_yaml`.

:class:`PythonLoader` is PyYAML's pure-Python reader: its messages and positions are the ones
users see for every YAML mistake. :class:`CLoader` puts libyaml's parser (C, when PyYAML was
built with it) under the same composer and constructor, which reads a flow about ten times
faster. Both compose with :class:`LimitedComposer`, so the nesting limit holds either way.

libyaml and PyYAML do not accept quite the same texts, and do not always place what they read
at the same marks. Found by reading the YAML test suite, PyYAML's own test data and Kestra's
flows both ways, then edits of them at random: libyaml takes tabs, comments right after a block
scalar's indicator (``|#``), more tags and directives; it reads ``[a?b]`` as one value where
PyYAML splits it at the ``?``; empty values inside ``[ ]``, ``{ }`` or at the end of the text,
and texts starting with a byte-order mark or breaking lines with U+0085, U+2028 or U+2029, get
other marks. So the C reader is only given texts without those characters
(:func:`c_can_read`), and stops with :class:`Disagreement` on the rest; the caller then reads
the text with the Python reader, as it does for any error the C reader finds.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import MappingStartEvent, SequenceStartEvent
from yaml.nodes import Node, ScalarNode
from yaml.resolver import BaseResolver

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml: everything goes the Python way
    CParser = None

TAG = "tag:yaml.org,2002:"

_NOT_FOR_C = re.compile(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)
"""Characters the C reader is not trusted with: tabs, controls (PyYAML's reader refuses them
with its own message), U+0085, U+2028, U+2029 and the byte-order mark U+FEFF. (Listed as
themselves: the class of the characters it may read compiles ten times slower, 4 ms of every
run.)"""


class TooDeep(Exception):
    """Lists and mappings nest deeper than allowed, from ``mark`` on."""

    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class Disagreement(Exception):
    """The C reader met something PyYAML reads otherwise (or refuses)."""


class CoreSchema(BaseResolver):
    """YAML 1.2 core-schema implicit types only (see :mod:`plait.flows.yaml_positions`)."""


for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("merge", r"^(?:<<)$", "<"),
):
    CoreSchema.add_implicit_resolver(TAG + _tag, re.compile(_pattern), list(_first))


class LimitedComposer(Composer):
    """PyYAML's composer, refusing to compose lists and mappings nested deeper than
    ``max_nesting`` (it recurses once per level)."""

    max_nesting: int
    _open: int

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        opens = self.check_event(SequenceStartEvent, MappingStartEvent)
        if opens:
            self._open += 1
            if self._open > self.max_nesting:
                raise TooDeep(self.peek_event().start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            if opens:
                self._open -= 1


class FlowLoader(LimitedComposer, SafeConstructor, CoreSchema):
    """What both readers share: the limited composer, the safe constructor, the core schema."""

    def _start(self, max_nesting: int) -> None:
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        CoreSchema.__init__(self)
        self.max_nesting = max_nesting
        self._open = 0


class PythonLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, FlowLoader):
    """PyYAML's pure-Python reader."""

    def __init__(self, text: str, max_nesting: int) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        self._start(max_nesting)


def c_can_read(text: str) -> bool:
    """Whether the C reader is available and trusted with ``text``'s characters."""
    return CParser is not None and _NOT_FOR_C.search(text) is None


if CParser is not None:

    class CLoader(FlowLoader, CParser):  # type: ignore[misc, valid-type]
        """libyaml's parser under the Python composer: the nodes :class:`PythonLoader`
        composes, marks included, for the texts :func:`c_can_read` accepts."""

        def __init__(self, text: str, max_nesting: int) -> None:
            CParser.__init__(self, text)
            self._start(max_nesting)
            self._text: str = text
            self._in_flow = 0

        def compose_document(self) -> Node | None:
            event = self.peek_event()
            if event.version or event.tags:
                raise Disagreement  # %YAML and %TAG directives
            return super().compose_document()

        def compose_node(self, parent: Node | None, index: Any) -> Node:
            event = self.peek_event()
            if getattr(event, "tag", None) is not None:
                raise Disagreement  # explicit tags (!!str, !): libyaml takes more of them
            flow = isinstance(event, SequenceStartEvent | MappingStartEvent) and bool(
                event.flow_style
            )
            self._in_flow += flow
            try:
                return super().compose_node(parent, index)
            finally:
                self._in_flow -= flow

        def compose_scalar_node(self, anchor: str | None) -> ScalarNode:
            node = super().compose_scalar_node(anchor)
            if node.style == "":  # plain: libyaml says "", PyYAML None
                node.style = None
                if not node.value:
                    raise Disagreement  # an empty value: its mark may differ
                if self._in_flow and "?" in node.value:
                    raise Disagreement  # PyYAML ends a plain value at "?" inside [ ] and { }
            elif node.style in ("|", ">") and "#" in self._header(node):
                raise Disagreement  # libyaml takes "|#comment", PyYAML refuses it
            return node

        def _header(self, node: ScalarNode) -> str:
            """The line of a block scalar's indicator, from the indicator on."""
            start = node.start_mark.index
            end = self._text.find("\n", start)
            return self._text[start : end if end >= 0 else len(self._text)]
else:
    CLoader = None
