"""Static analysis of output references: what validation checks before a run."""

from __future__ import annotations

import pytest
from plait.errors import ExpressionError
from plait.expressions import ExpressionEngine, OutputReference
from support.expression_cases import builtin_engine


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


def refs(engine: ExpressionEngine, template: str) -> list[tuple[str, str | None]]:
    return [(ref.task_id, ref.output) for ref in engine.output_references(template)]


def test_guide_python_script(engine: ExpressionEngine) -> None:
    script = (
        "import polars as pl\n"
        "data = {{outputs.api.body | jq('.products') | first}}\n"
        "df = pl.from_dicts(data)\n"
        'df.select(["brand", "price"]).write_csv("{{ outputDir }}/products.csv")\n'
    )
    assert engine.output_references(script) == [
        OutputReference(
            task_id="api",
            output="body",
            expression="{{outputs.api.body | jq('.products') | first}}",
            offset=script.index("{{outputs"),
            keyed=False,
        )
    ]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ outputs.python.outputFiles['products.csv'] }}", [("python", "outputFiles")]),
        ("{{ outputs['task-id'].output_property }}", [("task-id", "output_property")]),
        ("{{ outputs['task-id']['output'] }}", [("task-id", "output")]),
        ("{{ outputs.task_id }}", [("task_id", None)]),
        ("{{ outputs.a.x ?? outputs.b.y }}", [("b", "y")]),  # the left side is guarded
        ("{{ render(outputs.a.x) ~ (outputs.b | toJson) }}", [("a", "x"), ("b", None)]),
        ("{% for p in outputs.list.items %}{{ p }}{% endfor %}", [("list", "items")]),
        ("{{ outputs[vars.dynamic].x }}", []),
        ("{{ inputs.api_url }} {{ vars.outputs }}", []),
        ("no expressions at all", []),
    ],
)
def test_reference_forms(
    engine: ExpressionEngine, template: str, expected: list[tuple[str, str | None]]
) -> None:
    assert refs(engine, template) == expected


def test_each_reference_points_at_its_own_tag(engine: ExpressionEngine) -> None:
    template = "a {{ outputs.a.x }} b {{ outputs.b.y }}\n{% if outputs.c.z %}c{% endif %}"
    found = engine.output_references(template)
    assert [(ref.expression, ref.offset) for ref in found] == [
        ("{{ outputs.a.x }}", 2),
        ("{{ outputs.b.y }}", 22),
        ("{% if outputs.c.z %}", 40),
    ]
    for ref in found:
        assert template[ref.offset :].startswith(ref.expression)


def test_nothing_is_rendered(engine: ExpressionEngine) -> None:
    # uuid() and undefined names would fail or change if rendered; analysis only reads.
    assert refs(engine, "{{ uuid() ~ undefined_thing ~ outputs.t.v }}") == [("t", "v")]


def test_unparseable_template_names_the_expression(engine: ExpressionEngine) -> None:
    with pytest.raises(ExpressionError) as caught:
        engine.output_references("ok {{ outputs.a.x }}\n{{ outputs.b. }}")
    assert caught.value.expression == "{{ outputs.b. }}"
    assert "syntax error at line 2, column 1" in caught.value.reason
