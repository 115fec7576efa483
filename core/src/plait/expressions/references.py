"""Which task outputs a template reads, found in its syntax tree without rendering anything.

Flow validation uses it to refuse, before a run, ``outputs.X.Y`` where task X does not run
earlier or declares no output Y.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import nodes

from plait.expressions.pebble import Prepared

OUTPUTS = "outputs"


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
    found: list[OutputReference] = []
    for node in accesses:
        task_id = _key(node)
        if task_id is None or not _is_outputs(node.node):
            continue
        parent = parent_of.get(id(node))
        segment = prepared.segment_at(node.lineno)
        if segment is None:
            continue
        found.append(
            OutputReference(
                task_id=task_id,
                output=_key(parent) if parent is not None else None,
                keyed=isinstance(parent, nodes.Getitem),
                expression=prepared.text(segment),
                offset=segment.start,
            )
        )
    found.sort(key=lambda ref: ref.offset)
    return found


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
