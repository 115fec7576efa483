"""Filters, tests and functions a template uses that do not exist, found without rendering it.

Jinja only notices an unknown filter or function when the template runs, which for a flow is
after the tasks before it have run. Flow validation uses this to refuse them up front. Names
that templates merely *read* are not checked: the variables a task provides are not known
before it runs, so only *calls* of unknown names are (``nosuchfn()``), never ``nosuchvar``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Literal

from jinja2 import nodes

from plait.expressions.pebble import Prepared, called_function

NameKind = Literal["filter", "test", "function"]

TEMPLATE_CALLABLES = frozenset({"caller", "loop", "super"})
"""Names Jinja itself makes callable inside a template (macro bodies, recursive loops, blocks)."""


@dataclass(frozen=True, slots=True)
class UnknownName:
    """A filter, test or function a template uses that the engine does not have."""

    kind: NameKind
    name: str
    known: tuple[str, ...]
    """The names of that kind that do exist, for a did-you-mean."""
    expression: str
    """Source text of the enclosing ``{{ }}`` (or ``{% %}``) tag."""
    offset: int
    """Offset of that tag's opening delimiter in the template."""


def find_unknown_names(
    tree: nodes.Template,
    prepared: Prepared,
    *,
    filters: Collection[str],
    tests: Collection[str],
    functions: Collection[str],
) -> list[UnknownName]:
    """Every use in ``tree`` of a filter, test or function missing from those given, in
    template order. A call of a name the template defines itself (a macro, a ``set``) is fine."""
    defined = _defined_names(tree)
    known: dict[NameKind, Collection[str]] = {
        "filter": filters,
        "test": tests,
        "function": {*functions, *defined, *TEMPLATE_CALLABLES},
    }
    found: list[UnknownName] = []
    for kind, name, lineno in _uses(tree):
        segment = prepared.segment_at(lineno)
        if name in known[kind] or segment is None:
            continue
        public = tuple(sorted(n for n in known[kind] if not n.startswith("_")))
        found.append(UnknownName(kind, name, public, prepared.text(segment), segment.start))
    found.sort(key=lambda unknown: unknown.offset)
    return found


def _uses(tree: nodes.Template) -> Iterator[tuple[NameKind, str, int]]:
    for node in tree.find_all((nodes.Filter, nodes.Test, nodes.Call)):
        if isinstance(node, nodes.Filter):
            yield "filter", node.name, node.lineno
        elif isinstance(node, nodes.Test):
            yield "test", node.name, node.lineno
        elif isinstance(node, nodes.Call) and (name := called_function(node)) is not None:
            yield "function", name, node.lineno


def _defined_names(tree: nodes.Template) -> set[str]:
    """Names the template binds itself: macros, ``set`` targets, loop variables, imports."""
    names = {macro.name for macro in tree.find_all(nodes.Macro)}
    names.update(name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param"))
    return names
