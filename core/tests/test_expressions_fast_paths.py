"""Templates that only print variables skip Jinja's compiler (plait.expressions.fast_paths):
the value, its type, the text and every error message must be the very ones the compiled
template gives. Each case renders on an engine with the fast path and on one without it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from plait.errors import ExpressionError
from plait.executor.variables import OutputsMap
from plait.expressions import ExpressionEngine
from plait.expressions.budget import RenderLimits, deadline_within, rendering
from plait.expressions.fast_paths import FALLBACK, parse
from support.expression_cases import builtin_engine

LIMITS = RenderLimits(max_size=1000, seconds=5)


class Thing:
    """An object (not a map): ``.name`` is an attribute, ``._secret`` a private one."""

    def __init__(self) -> None:
        self.name = "thing"
        self._secret = "hidden"


def _outputs() -> OutputsMap:
    outputs = OutputsMap(lambda name: "its branch did not run" if name == "skipped" else None)
    outputs.update({"t0": {"value": "0+"}, "my-task": {"uri": "kestra:///a.csv"}})
    return outputs


VARIABLES: dict[str, Any] = {
    "outputs": _outputs(),
    "inputs": {
        "day": date(2024, 1, 2),
        "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "yes": True,
        "no": False,
        "nothing": None,
        "n": 42,
        "f": 1.5,
        "list": [1, "a", None, True],
        "map": {"a": {"b": [1, 2]}, "items": "a key named items", "clé": "é"},
        "_private": "a key starting with _",
        "long": "x" * 1001,
        "wide": ["x" * 600, "y" * 600],
        "huge": 10**5000,
    },
    "vars": {"cfg": {"key": ["first"]}},
    "thing": Thing(),
    "if": "a variable named like a keyword",
}

FAST = [
    "{{ inputs.n }}",
    "{{inputs.n}}",
    "{{   inputs.n   }}",
    "  {{ inputs.n }} \n",
    "n={{ inputs.n }}",
    "{{ inputs.n }}{{ inputs.f }}",
    "{{ inputs.day }}",
    "on {{ inputs.day }} at {{ inputs.when }}",
    "{{ inputs.when }}",
    "{{ inputs.yes }}",
    "{{ inputs.yes }}/{{ inputs.no }}",
    "{{ inputs.nothing }}",
    "[{{ inputs.nothing }}]",
    "{{ inputs.list }}",
    "list: {{ inputs.list }}",
    "{{ inputs.list[1] }}",
    "{{ inputs.list[3] }}!",
    "{{ inputs.map }}",
    "{{ inputs.map['a'][\"b\"][0] }}",
    "{{ inputs.map.a.b }}",
    "{{ inputs.map.items }}",
    "{{ inputs['_private'] }}",
    "{{ vars.cfg['key'][0] }}-{{ vars.cfg.key }}",
    "{{ outputs.t0.value }}+",
    "{{ outputs['my-task'].uri }}",
    "{{ outputs.t0.value }}/{{ outputs['t0'].value }}/{{ outputs.t0['value'] }}",
    "{{ outputs }}",
    "{{ inputs.map['clé'] }}",
    "{{ thing.name }}",
    "{{ inputs.n }}}",
    "}} {{ inputs.n }} {",
    "a\n{{ inputs.n }}\nb\n",
]
"""Templates the fast path renders itself."""

UNUSUAL = [
    "{{ nosuch }}",
    "{{ nosuch.x }}",
    "n={{ inputs.missing }}",
    "{{ inputs.list[9] }}",
    "{{ inputs.map.a.nope }}",
    "{{ inputs._private }}",
    "{{ thing._secret }}",
    "{{ thing.__class__ }}",
    "{{ inputs.list.append }}",
    "{{ outputs.skipped.value }}",
    "{{ outputs.t0[0] }}",
    "{{ outputs[0] }}",
    "x{{ outputs.skipped }}",
    "{{ range }}!",
    "{{ inputs.long }}",
    "x{{ inputs.long }}",
    "{{ inputs.wide }}",
    "{{ inputs.wide[0] }}{{ inputs.wide[1] }}",
    "{{ inputs.huge }}",
    "{{ inputs.n }}{{ nosuch }}",
]
"""Templates of paths only that the fast path leaves to Jinja (missing, refused, over budget)."""

NOT_PATHS = [
    "{{ true }}",
    "{{ null }}",
    "{{ loop }}",
    "{{ not }}",
    "{{ if }}",
    "{{ _hidden }}",
    "{{{ inputs.n }}",
    "{{- inputs.n }}",
    "{{ inputs.n -}}",
    "{{ inputs.n | upper }}",
    "{{ inputs.n + 1 }}",
    "{{ inputs.list[-1] }}",
    "{{ inputs.list.0 }}",
    "{{ inputs['a\\'b'] }}",
    "{{ inputs['}}'] }}",
    "{{ inputs.n ?? 1 }}",
    "{{ inputs . n }}",
    "a\r\n{{ inputs.n }}",
    "{{ inputs.n }}{% if true %}x{% endif %}",
    "{{ inputs.n }}{# note #}",
    "{{ inputs.n",
    "{{ données }}",
]
"""Templates that are not only paths, or start with a name Jinja may read otherwise: never
parsed by the fast path."""


@pytest.fixture(scope="module")
def fast() -> ExpressionEngine:
    return builtin_engine(LIMITS)


@pytest.fixture(scope="module")
def full() -> ExpressionEngine:
    engine = builtin_engine(LIMITS)
    engine._fast = lambda template: None  # every template compiled, as before the fast path
    return engine


def outcome(render: Callable[[], Any]) -> tuple[Any, ...]:
    """What a render gives, comparable: the value with its type, or the error and message."""
    try:
        value = render()
    except ExpressionError as error:
        return ("error", type(error), str(error))
    return ("value", type(value), value)


def agree(fast: ExpressionEngine, full: ExpressionEngine, call: Callable[..., Any]) -> None:
    expected = outcome(lambda: call(full))
    assert outcome(lambda: call(fast)) == expected


@pytest.mark.parametrize("template", FAST + UNUSUAL + NOT_PATHS)
def test_render_value_agrees_with_the_compiled_template(
    fast: ExpressionEngine, full: ExpressionEngine, template: str
) -> None:
    agree(fast, full, lambda engine: engine.render_value(template, VARIABLES, task_id="t"))


@pytest.mark.parametrize("template", FAST + UNUSUAL + NOT_PATHS)
def test_render_string_agrees_with_the_compiled_template(
    fast: ExpressionEngine, full: ExpressionEngine, template: str
) -> None:
    agree(fast, full, lambda engine: engine.render_string(template, VARIABLES, task_id="t"))


@pytest.mark.parametrize("template", FAST + UNUSUAL + NOT_PATHS)
def test_static_checks_agree_with_the_syntax_tree(
    fast: ExpressionEngine, full: ExpressionEngine, template: str
) -> None:
    agree(fast, full, lambda engine: engine.output_references(template))
    agree(fast, full, lambda engine: engine.unknown_names(template))


def test_maps_and_lists_render_their_keys_and_items_alike(
    fast: ExpressionEngine, full: ExpressionEngine
) -> None:
    value = {
        "{{ inputs.n }}": ["{{ inputs.list }}", " {{ inputs.day }} ", "{{ inputs.yes }}!"],
        "plain": {"{{ inputs.map.a }}": 1},
    }
    agree(fast, full, lambda engine: engine.render_value(value, VARIABLES))
    assert fast.render_value(value, VARIABLES) == {
        "42": [[1, "a", None, True], date(2024, 1, 2), "true!"],
        "plain": {'{"b":[1,2]}': 1},
    }


def test_a_render_out_of_time_fails_alike(fast: ExpressionEngine, full: ExpressionEngine) -> None:
    with deadline_within(time.monotonic() - 1):
        agree(fast, full, lambda engine: engine.render_string("{{ inputs.n }}", VARIABLES))
        agree(fast, full, lambda engine: engine.render_value("x{{ inputs.n }}", VARIABLES))
    with pytest.raises(ExpressionError, match="rendering"), deadline_within(time.monotonic() - 1):
        fast.render_string("{{ inputs.n }}", VARIABLES)


def test_paths_are_rendered_without_compiling_anything() -> None:
    engine = builtin_engine(LIMITS)
    for template in FAST:
        engine.render_value(template, VARIABLES)
        engine.render_string(template, VARIABLES)
        engine.output_references(template)
        engine.unknown_names(template)
    assert engine._text_template.cache_info().currsize == 0
    assert engine._value_template.cache_info().currsize == 0
    for template in UNUSUAL[:3]:
        with pytest.raises(ExpressionError):
            engine.render_value(template, VARIABLES)
    assert (
        engine._text_template.cache_info().currsize + engine._value_template.cache_info().currsize
        == 3
    ), "an undefined name is left to the compiled template"


@pytest.mark.parametrize("template", FAST + UNUSUAL)
def test_paths_are_recognised(template: str) -> None:
    assert parse(template) is not None


@pytest.mark.parametrize("template", [*NOT_PATHS, "{{ self }}", "{{ caller }}", "{{ kwargs }}"])
def test_anything_else_is_left_to_jinja(template: str) -> None:
    assert parse(template) is None


def test_the_unusual_cases_fall_back() -> None:
    engine = builtin_engine(LIMITS)
    with rendering(LIMITS):
        for template in UNUSUAL:
            parsed = parse(template)
            assert parsed is not None
            assert parsed.render(VARIABLES, engine._env) is FALLBACK, template
            assert parsed.text(VARIABLES, engine._env) is FALLBACK, template


def test_errors_name_the_expression_as_before(fast: ExpressionEngine) -> None:
    with pytest.raises(ExpressionError) as caught:
        fast.render_value("n={{ outputs.skipped.value }}", VARIABLES, task_id="t")
    assert str(caught.value) == (
        "task 't': Unable to find `skipped` used in the expression "
        "`{{ outputs.skipped.value }}`: its branch did not run"
    )
