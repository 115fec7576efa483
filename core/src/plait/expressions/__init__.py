"""Expressions: Kestra's Pebble dialect (``{{ outputs['task-id'].body | jq('.x') }}``) rendered
in a Jinja sandbox, with filters and functions contributed by plugins."""

from plait_sdk.expressions import ExpressionServices, needs_context

from plait.expressions.calling import accepts_undefined
from plait.expressions.engine import ExpressionEngine
from plait.expressions.references import OutputReference

__all__ = [
    "ExpressionEngine",
    "ExpressionServices",
    "OutputReference",
    "accepts_undefined",
    "needs_context",
]
