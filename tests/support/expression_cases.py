"""Helpers of the expression tests: an engine with the built-in filters and functions, and
rendering as Kestra's ``variableRenderer.render`` does (to text), for the tests that reproduce
Kestra's."""

from __future__ import annotations

from typing import Any

import pytest
from plait.builtin import filters
from plait.errors import ExpressionError
from plait.expressions import ExpressionEngine
from plait.expressions.budget import RenderLimits


def builtin_engine(limits: RenderLimits | None = None) -> ExpressionEngine:
    return ExpressionEngine(filters.register_filters(), filters.register_functions(), limits)


def text(engine: ExpressionEngine, template: str, **variables: Any) -> str:
    """The template rendered to text, as Kestra's tests render."""
    return engine.render_string(template, variables)


def fails(engine: ExpressionEngine, template: str, **variables: Any) -> str:
    """The message of the error rendering the template raises."""
    with pytest.raises(ExpressionError) as caught:
        engine.render_value(template, variables)
    return str(caught.value)
