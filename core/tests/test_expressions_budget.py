"""The render budget: every expression that would build too much or run too long ends with an
ExpressionError naming the expression and the limit, quickly; values within the limits render
as before. Limits are small here so that each case is fast."""

from __future__ import annotations

import time
from typing import Any

import pytest
from plait.errors import ExpressionError
from plait.expressions import ExpressionEngine
from plait.expressions.budget import (
    MAX_SIZE_ENV,
    TIMEOUT_ENV,
    RenderLimits,
    deadline_within,
)
from support.expression_cases import builtin_engine

LIMITS = RenderLimits(max_size=1000, seconds=0.5)
VARIABLES: dict[str, Any] = {
    "vars": {
        "twice": "{{ render(vars.twice) }}{{ render(vars.twice) }}",
        "grows": "a{{ vars.grows }}",
    },
    "outputs": {"api": {"body": '{"items": [1, 2, 3]}'}},
}


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine(LIMITS)


def refusal(engine: ExpressionEngine, template: str) -> tuple[ExpressionError, float]:
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        engine.render_value(template, VARIABLES, task_id="t")
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' * 1001 }}",
        "{{ [1] * 1001 }}",
        "{{ '{:>5000}'.format(1) }}",
        "{{ '{:{}}'.format('x', 5000) }}",
        "{{ 'x'.center(5000) }}",
        "{{ 'x'.zfill(5000) }}",
        "{{ (1).to_bytes(5000, 'big') }}",
        "{{ ('x' * 500).replace('x', 'xyz') }}",
        "{{ ('x' * 100).replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')"
        ".replace('x', 'xx') }}",
        "{{ 'x' | center(5000) }}",
        "{{ 'a\nb\nc' | indent(999) }}",
        "{{ '%5000d' % 1 }}",
        "{{ '%*d' % (5000, 1) }}",
        "{{ '%5000s' | format('x') }}",
        "{{ [1, 2] | batch(5000, 0) | list }}",
        "{{ [1, 2] | slice(5000) | list }}",
        "{{ [('x' * 600), ('y' * 600)] | join }}",
        "{{ ('x' * 600) + ('y' * 600) }}",
        "{{ ('x' * 600) ~ ('y' * 600) }}",
        "{{ [[1] * 100] * 100 }}",
        "{{ ([[[1] * 10] * 10] * 10) | string }}",
        "{% for i in range(2000) %}x{% endfor %}",
        "{{ render(vars.twice) }}",
    ],
)
def test_values_over_the_size_limit_are_refused(engine: ExpressionEngine, template: str) -> None:
    error, elapsed = refusal(engine, template)
    assert error.expression is not None and error.task_id == "t"
    assert "nested" in error.reason or (
        "more than the 1,000 allowed" in error.reason and MAX_SIZE_ENV in error.reason
    )
    assert elapsed < 5


@pytest.mark.parametrize(
    "template",
    [
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "{% set r = range(1000) %}{% for a in r %}{% for b in r %}{% for c in r %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) ~ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(40) }}",
        "{{ 1 | jq('def f: f; f') }}",
        "{{ 1 | jq('[limit(100000000; repeat(1))] | length') }}",
        "{{ (('a' * 60) ~ '!') | regexMatch('(a|aa)+$') }}",
        "{{ (('a' * 60) ~ '!') | regexReplace('(a|aa)+$', 'b') }}",
    ],
)
def test_renders_over_the_time_limit_stop(engine: ExpressionEngine, template: str) -> None:
    error, elapsed = refusal(engine, template)
    assert "took longer than the 0.5 s allowed" in error.reason
    assert TIMEOUT_ENV in error.reason
    assert elapsed < 5


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ 9 ** 9999 }}", "at most about 4300 digits"),
        ("{{ (9 ** 4000) * (9 ** 4000) }}", "at most about 4300 digits"),
        ("{{ '\"a\"' | jq('. * 1000000000') }}", "MiB of memory allowed"),
        ("{{ 1 | jq('[range(1e9)]') }}", "allowed"),
        ("{{ 'x' | jq('include \"evil\"; .') }}", "jq programs may not use `include`"),
        ("{{ vars | jq('[range(2000)]') }}", "a jq result of"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "nested too deeply"),
        ("{{ render(vars.grows) }}", "still changes after 100 renderings"),
        ("{{ [1, 2] | sum(start=[]) }}", "sum adds numbers"),
    ],
)
def test_other_budget_errors_are_clear(
    engine: ExpressionEngine, template: str, reason: str
) -> None:
    error, elapsed = refusal(engine, template)
    assert reason in error.reason
    assert elapsed < 5


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 'x' * 1000 }}", "x" * 1000),
        ("{{ '{:>999}'.format(1) | length }}", 999),
        ("{{ outputs.api.body | jq('.items') | first }}", [1, 2, 3]),
        ("{{ 2 ** 100 }}", 2**100),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
        ("{{ [1, 2, 3] | sum }}", 6),
        ("{{ 'ab' | replace('a', 'xyz') }}", "xyzb"),
        ("{{ 'a\nb' | indent(2) }}", "a\n  b"),
    ],
)
def test_values_within_the_limits_render(
    engine: ExpressionEngine, template: str, expected: Any
) -> None:
    assert engine.render_value(template, VARIABLES) == expected


def test_a_task_deadline_shortens_the_render(engine: ExpressionEngine) -> None:
    loop = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    started = time.monotonic()
    with deadline_within(started + 0.1), pytest.raises(ExpressionError) as caught:
        engine.render_value(loop, VARIABLES)
    assert "within the task's timeout" in caught.value.reason
    assert time.monotonic() - started < 0.45  # well before the render's own 0.5 s


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_SIZE_ENV, "50")
    monkeypatch.setenv(TIMEOUT_ENV, "1.5")
    assert RenderLimits.from_env() == RenderLimits(max_size=50, seconds=1.5)
    small = builtin_engine()
    with pytest.raises(ExpressionError, match="more than the 50 allowed"):
        small.render_value("{{ 'x' * 51 }}", {})
    monkeypatch.setenv(TIMEOUT_ENV, "soon")
    with pytest.raises(ExpressionError, match=f"{TIMEOUT_ENV}='soon' is not a positive number"):
        RenderLimits.from_env()
