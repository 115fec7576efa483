"""The functions Kestra has that plait lacked, Pebble's separate namespaces for functions and
variables, and ``render()`` over maps and lists. Each case reproduces a Kestra test
(``core/src/test/java/io/kestra/core/runners/pebble/...``) named in its docstring, or an
example of Kestra's expression docs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from plait.expressions import ExpressionEngine
from plait.plugins import build_registry
from support.expression_cases import builtin_engine, fails, text


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


YAML_DOCUMENT = """\
# comment
string: string
int: 123
bool: true
float: 1.23
instant: "1918-02-24T00:00:00Z"
date: "1991-08-20"
unquoted_date: 1991-08-20
time: "23:59:59"
'null':
object:
  key: "value"
  child:
    key: "value"
array:
  - string
reference: &ref
    key: reference
default: *ref
"""


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ yaml(yaml).string }}", "string"),
        ("{{ yaml(yaml).int }}", "123"),
        ("{{ yaml(yaml).bool }}", "true"),
        ("{{ yaml(yaml).float }}", "1.23"),
        ("{{ yaml(yaml).instant }}", "1918-02-24T00:00:00Z"),
        ("{{ yaml(yaml).date }}", "1991-08-20"),
        ("{{ yaml(yaml).unquoted_date }}", "1991-08-20"),  # text, as Jackson reads it
        ("{{ yaml(yaml).time }}", "23:59:59"),
        ("{{ yaml(yaml).null ?? '' }}", ""),
        ("{{ yaml(yaml).object.child.key }}", "value"),
        ("{{ yaml(yaml).array[0] }}", "string"),
        ("{{ yaml(yaml).default.key }}", "reference"),  # Kestra's test notes Jackson lacks it
        ("{{ yaml('foo: [666, 1, 2]').foo[0] }}", "666"),  # docs: yaml function
    ],
)
def test_yaml_function(engine: ExpressionEngine, template: str, expected: str) -> None:
    """YamlFunctionTest.fromString, whose variable is itself named ``yaml``: the function is
    still called (Pebble keeps functions and variables apart)."""
    assert text(engine, template, yaml=YAML_DOCUMENT) == expected


def test_yaml_function_refusals(engine: ExpressionEngine) -> None:
    assert "invalid YAML" in fails(engine, "{{ yaml('a: [1') }}")
    assert "contain itself" in fails(engine, "{{ yaml('a: &a [*a]') }}")
    assert "needs YAML text" in fails(engine, "{{ yaml(1) }}")


def test_functions_and_variables_live_apart(engine: ExpressionEngine) -> None:
    """Pebble: a variable named like a function hides neither; ``{{ now }}`` is the variable."""
    variables = {"now": "a variable", "uuid": 7, "render": "{{ 1 + 1 }}"}
    assert text(engine, "{{ now }}|{{ uuid }}", **variables) == "a variable|7"
    assert re.fullmatch(r"\d{4}", text(engine, "{{ now() | date('yyyy') }}", **variables))
    assert len(text(engine, "{{ uuid() }}", **variables)) == 36
    assert text(engine, "{{ render(render) }}", **variables) == "2"
    # a template's own macro is called as before
    assert text(engine, "{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}{{ twice('a') }}") == "aa"


def test_unknown_functions_are_still_found_before_a_run(engine: ExpressionEngine) -> None:
    found = engine.unknown_names("{{ yaml(x) }} {{ nosuchfn(1) }} {{ randomInt(1, 2) }}")
    assert [(name.kind, name.name) for name in found] == [("function", "nosuchfn")]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"input": "test"}, "test"),  # RenderOncerFunctionTest.noRenderNeeded
        ({"input": "{{someOtherVar}}", "someOtherVar": "test"}, "test"),  # oneLayerRender
        (  # twoLayerRender
            {
                "input": "{{someOtherVar}}",
                "someOtherVar": "{{yetAnotherVar}}",
                "yetAnotherVar": "t",
            },
            "{{yetAnotherVar}}",
        ),
    ],
)
def test_render_once(engine: ExpressionEngine, variables: dict[str, Any], expected: str) -> None:
    assert text(engine, "{{ renderOnce(input) }}", **variables) == expected


RECURSIVE = {
    "first": "1",
    "second": "{{first}}",
    "third": "{{second}}",
    "fourth": "{{render(third, recursive=false)}}",
    "map": {"third": "{{third}}"},
    "list": ["{{third}}"],
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ third }}", "{{second}}"),
        ("{{ render(third, recursive=false) }}", "{{first}}"),
        ("{{ render(third) }}", "1"),
        ("{{ render(fourth) }}", "1"),
        ("{{ map }}", '{"third":"{{third}}"}'),
        ("{{ render(map, recursive=false) }}", '{"third":"{{second}}"}'),
        ("{{ render(map) }}", '{"third":"1"}'),
        ("{{ list }}", '["{{third}}"]'),
        ("{{ render(list, recursive=false) }}", '["{{second}}"]'),
        ("{{ render(list) }}", '["1"]'),
    ],
)
def test_render_recurses_into_maps_and_lists(
    engine: ExpressionEngine, template: str, expected: str
) -> None:
    """PebbleVariableRendererTest.recursive (the version with maps, lists and sets)."""
    assert text(engine, template, **RECURSIVE) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("test", "test"), (42, "42"), (True, "true"), (None, "")],
)
def test_render_of_values_without_expressions(
    engine: ExpressionEngine, value: Any, expected: str
) -> None:
    """RenderFunctionTest.shouldRenderForString/Integer/Boolean/Null."""
    assert text(engine, "{{ render(input) }}", input=value) == expected


def test_render_stops_on_templates_that_never_settle(engine: ExpressionEngine) -> None:
    """PebbleVariableRendererTest.recursiveRenderingAmountLimit, and a list that renders to
    itself forever."""
    message = fails(engine, "{{ render(first) }}", first="{{second}}", second="{{first}}")
    assert "renderings" in message or "nested" in message
    assert "renderings" in fails(engine, "{{ render(a) }}", a=["{{ a }}"])


def test_from_ion(engine: ExpressionEngine) -> None:
    """FromIonFunctionTest.ionDecodeFunction and .exception."""
    ion = '{date:2024-04-21T23:00:00.000Z, title:"Main_Page",views:109787}'
    assert text(engine, f"{{{{ fromIon('{ion}').title }}}}") == "Main_Page"
    assert engine.render_value(f"{{{{ fromIon('{ion}') }}}}", {}) == {
        "date": datetime(2024, 4, 21, 23, 0, tzinfo=UTC),
        "title": "Main_Page",
        "views": 109787,
    }
    assert text(engine, "{{ fromIon(null) }}") == ""
    assert "fromIon" in fails(engine, "{{ fromIon() }}")
    assert "invalid Ion" in fails(engine, "{{ fromIon('{not: ion') }}")


def test_from_ion_reads_the_whole_text_format(engine: ExpressionEngine) -> None:
    """What Kestra's Ion files hold: annotations, typed nulls, every number form, long
    strings, s-expressions, blobs, comments, and the dates Kestra writes as annotated text."""
    ion = (
        "/* header */ row::{ 'a b': [1, 0x1F, 0b101, 1.5, 1d2, 2e0, null.int, sym],"
        " s: ('''long''' '''er'''), blob: {{ aGVsbG8= }},"
        ' z: ZonedDateTime::"2013-09-08T16:19:00+02:00", d: 2007-02-23 } // end'
    )
    value = engine.render_value("{{ fromIon(ion) }}", {"ion": ion})
    assert value["a b"] == [1, 31, 5, 1.5, 100.0, 2.0, None, "sym"]
    assert value["s"] == ["longer"] and value["blob"] == "aGVsbG8="
    assert text(engine, "{{ fromIon(ion).z }}|{{ fromIon(ion).d }}", ion=ion) == (
        "2013-09-08T16:19+02:00|2007-02-23"
    )
    round_trip = {"a": [1, 2.5, "x"], "b": {"c": None}}
    assert engine.render_value("{{ fromIon(v | toIon) }}", {"v": round_trip}) == round_trip


def test_json_function_is_from_json(engine: ExpressionEngine) -> None:
    """JsonFunction: Kestra's deprecated name of fromJson."""
    assert engine.render_value("{{ json('{\"foo\": [666, 1, 2]}').foo[0] }}", {}) == 666
    assert text(engine, "{{ json(null) }}") == ""


def test_random_int(engine: ExpressionEngine) -> None:
    """RandomIntFunctionTest: bounds (upper excluded), equal bounds, negative ranges, and the
    refusals: missing argument, text, upper below lower."""
    values = {engine.render_value("{{ randomInt(1, 4) }}", {}) for _ in range(200)}
    assert values == {1, 2, 3}
    assert engine.render_value("{{ randomInt(10, 10) }}", {}) == 10
    assert -10 <= engine.render_value("{{ randomInt(-10, -1) }}", {}) < -1
    assert "upper" in fails(engine, "{{ randomInt(lower) }}", lower=10)
    assert "whole number" in fails(engine, "{{ randomInt(lower, upper) }}", lower="1", upper="10")
    assert "less than" in fails(engine, "{{ randomInt(10, 1) }}")


def test_id(engine: ExpressionEngine) -> None:
    """IDFunctionTest.checkIdIsNotEmpty: a Kestra-style id, new at each call."""
    first, second = text(engine, "{{ id() }}"), text(engine, "{{ id() }}")
    assert re.fullmatch(r"[0-9A-Za-z]{22}", first) and first != second


def test_a_plugin_registers_functions_such_as_kv_through_the_hook() -> None:
    """Kestra's ``kv()`` comes from the KV plugin through ``register_functions``, as any
    plugin's function: the registry holds it beside the built-ins."""
    registry = build_registry()
    assert {"kv", "yaml", "fromIon", "renderOnce", "randomInt", "id", "json"} <= set(
        registry.functions
    )
