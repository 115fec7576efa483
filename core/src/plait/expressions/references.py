"""Which task outputs a template reads, found in its syntax tree without rendering anything.

Flow validation uses it to refuse, before a run, ``outputs.X.Y`` where task X does not run
earlier or declares no output Y. A reference the template guards, by testing it with
``is defined`` or giving it a fallback with ``??``, ``???`` or ``default``, is the author
saying it may be missing: it is left out, as Kestra accepts ``{{ outputs.maybe ?? '' }}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from jinja2 import nodes

from plait.expressions.pebble import HAS_VALUE_TEST, Prepared

OUTPUTS = "outputs"
GUARD_TESTS = frozenset({"defined", "undefined", HAS_VALUE_TEST})
"""Tests whose operand may be missing: ``is defined``, and what ``??``/``???`` compile to."""


@dataclass(frozen=True, slots=True)
class OutputReference:
    """``outputs.<task_id>.<output>`` (or ``outputs['task-id']['output']``) in a template."""

    task_id: str
    output: str | None
    """None when the expression reads the task's outputs as a whole (``outputs.api``)."""
    keyed: bool
    """Whether that name was written as a subscript (``outputs.t['a']``): inside a loop the
    subscript is a loop value, not an output name."""
    expression: str
    """Source text of the enclosing ``{{ }}`` (or ``{% %}``) tag."""
    offset: int
    """Offset of that tag's opening delimiter in the template."""


def find_output_references(tree: nodes.Template, prepared: Prepared) -> list[OutputReference]:
    """Every statically named output reference of ``tree``, in template order.

    Keys computed at run time (``outputs[vars.task]``) cannot be known here and are skipped.
    """
    accesses = list(_unique(tree.find_all((nodes.Getattr, nodes.Getitem))))
    parent_of = {id(node.node): node for node in accesses}
    guarded = _guarded(tree, parent_of)
    found: list[OutputReference] = []
    for node in accesses:
        task_id = _key(node)
        if task_id is None or not _is_outputs(node.node):
            continue
        parent = parent_of.get(id(node))
        output = _key(parent) if parent is not None else None
        segment = prepared.segment_at(node.lineno)
        if segment is None or {(task_id, None), (task_id, output)} & guarded:
            continue
        found.append(
            OutputReference(
                task_id=task_id,
                output=output,
                keyed=isinstance(parent, nodes.Getitem),
                expression=prepared.text(segment),
                offset=segment.start,
            )
        )
    found.sort(key=lambda ref: ref.offset)
    return found


def _guarded(
    tree: nodes.Template, parent_of: dict[int, nodes.Getattr | nodes.Getitem]
) -> set[tuple[str, str | None]]:
    """The ``(task id, output)`` pairs (output None: the whole task) the template guards."""
    guarded: set[tuple[str, str | None]] = set()
    for guard in _guard_operands(tree):
        for node in guard.find_all((nodes.Getattr, nodes.Getitem)):
            task_id = _key(node) if _is_outputs(node.node) else None
            if task_id is not None:
                parent = parent_of.get(id(node))
                guarded.add((task_id, _key(parent) if parent is not None else None))
        if isinstance(guard, nodes.Getattr | nodes.Getitem) and _is_outputs(guard.node):
            task_id = _key(guard)
            if task_id is not None:
                guarded.add((task_id, None))
    return guarded


def _guard_operands(tree: nodes.Template) -> Iterator[nodes.Node]:
    """The operands of ``is defined`` (and ``is not defined``), of ``??``/``???`` (which
    compile to a test of their left side) and of the ``default`` filter."""
    for node in tree.find_all((nodes.Test, nodes.Filter)):
        guard = node.name in GUARD_TESTS if isinstance(node, nodes.Test) else node.name == "default"
        if guard and node.node is not None:
            yield node.node


def _unique(found: Iterable[nodes.Node]) -> list[nodes.Getattr | nodes.Getitem]:
    """Nodes once each: ``a ?? b`` shares its left side between a test and a branch."""
    seen: set[int] = set()
    unique = []
    for node in found:
        if isinstance(node, nodes.Getattr | nodes.Getitem) and id(node) not in seen:
            seen.add(id(node))
            unique.append(node)
    return unique


def _key(node: nodes.Getattr | nodes.Getitem) -> str | None:
    """The name read by ``x.name`` or ``x['name']``; None for computed keys."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _is_outputs(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == OUTPUTS and node.ctx == "load"
