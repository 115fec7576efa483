"""The Pebble dialect, native values and text rendering of the expression engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from plait.errors import ExpressionError
from plait.expressions import ExpressionEngine
from support.expression_cases import builtin_engine


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


@pytest.fixture
def variables() -> dict[str, Any]:
    return {
        "outputs": {
            "api": {"body": '{"products": [{"brand": "Apple", "price": 9.5}]}', "code": 200},
            "task-id": {"value": "hyphen", "keys": "a key named keys"},
            "python": {"outputFiles": {"products.csv": "plait:///dev/f/products.csv"}},
        },
        "inputs": {"api_url": "https://example.com", "empty": None, "flag": False},
        "vars": {"greeting": "Hello {{ inputs.api_url }}"},
        "flow": {"id": "getting_started", "namespace": "dev"},
        "execution": {"id": "abc", "startDate": datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)},
        "task": {"id": "python"},
        "taskrun": {"id": "tr1"},
        "labels": {"team": "data"},
        "workingDir": "/tmp/work",
        "outputDir": "/tmp/work/out",
    }


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ outputs.api.code }}", 200),
        ("{{ outputs['task-id'].value }}", "hyphen"),
        ("{{ outputs['task-id']['value'] }}", "hyphen"),
        ("{{ outputs.python.outputFiles['products.csv'] }}", "plait:///dev/f/products.csv"),
        ("{{ inputs.api_url }}", "https://example.com"),
        ("{{ flow.namespace }}.{{ flow.id }}", "dev.getting_started"),
        ("{{ execution.id }}/{{ task.id }}/{{ taskrun.id }}", "abc/python/tr1"),
        ("{{ labels.team }}", "data"),
        ("{{ outputDir }}/products.csv", "/tmp/work/out/products.csv"),
        ("{{ workingDir }}/in.csv", "/tmp/work/in.csv"),
    ],
)
def test_kestra_variables_render(
    engine: ExpressionEngine, variables: dict[str, Any], template: str, expected: Any
) -> None:
    assert engine.render_value(template, variables) == expected


def test_dot_reads_a_map_key_before_a_method(
    engine: ExpressionEngine, variables: dict[str, Any]
) -> None:
    assert engine.render_value("{{ outputs['task-id'].keys }}", variables) == "a key named keys"
    assert engine.render_value(
        "{% for k, v in labels.items() %}{{ k }}={{ v }}{% endfor %}", variables
    ) == ("team=data")


class TestNullCoalescing:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("{{ inputs.missing ?? 'fallback' }}", "fallback"),
            ("{{ inputs.empty ?? 'fallback' }}", "fallback"),
            ("{{ inputs.flag ?? 'fallback' }}", False),
            ("{{ inputs.api_url ?? 'fallback' }}", "https://example.com"),
            ("{{ outputs.nope.body ?? 'fallback' }}", "fallback"),
            ("{{ nothing ?? inputs.missing ?? 'third' }}", "third"),
            ("{{ null ?? 'x' }}", "x"),
            ("{{ inputs.missing ??? 'fallback' }}", "fallback"),
            ("{{ inputs.empty ??? 'fallback' }}", None),
        ],
    )
    def test_coalesces(
        self, engine: ExpressionEngine, variables: dict[str, Any], template: str, expected: Any
    ) -> None:
        assert engine.render_value(template, variables) == expected

    def test_binds_tighter_than_filters_as_in_pebble(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        template = (
            "{{ inputs.start ?? '2024-03-31T10:00:00Z' | dateAdd(-1, 'MONTHS', timeZone='UTC') "
            "| date('yyyy-MM-dd', timeZone='UTC') }}"
        )
        assert engine.render_value(template, variables) == "2024-02-29"
        assert engine.render_value("{{ inputs.missing ?? 'ab' | upper }}", variables) == "AB"
        assert engine.render_value("{{ inputs.api_url ?? 'ab' | upper }}", variables) == (
            "HTTPS://EXAMPLE.COM"
        )

    def test_right_side_is_only_evaluated_when_needed(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        # The right side would fail ("Unable to find `undefined_name`") if it were evaluated.
        assert engine.render_value("{{ inputs.api_url ?? undefined_name.x }}", variables) == (
            "https://example.com"
        )

    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("{{ 'what?? no' }}", "what?? no"),
            ('{{ "a ?? b" ~ inputs.missing ?? "!" }}', "a ?? b!"),
            ("{{ 'it''s' if false else 'q??' }}", "q??"),
            ("plain ?? text {{ inputs.missing ?? 1 }}", "plain ?? text 1"),
            ("{# a ?? comment #}{{ 2 }}", "2"),
            ("{% raw %}{{ a ?? b }}{% endraw %}", "{{ a ?? b }}"),
            ("{{ {'k': {'n': inputs.missing ?? 3}} }}", '{"k":{"n":3}}'),
        ],
    )
    def test_question_marks_in_strings_comments_and_raw_blocks_are_text(
        self, engine: ExpressionEngine, variables: dict[str, Any], template: str, expected: str
    ) -> None:
        assert engine.render_string(template, variables) == expected

    def test_statements_coalesce_too(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        template = "{% if inputs.missing ?? true %}yes{% endif %}"
        assert engine.render_value(template, variables) == "yes"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ inputs.missing is defined }}", False),
        ("{{ outputs.nope.body is defined }}", False),
        ("{{ inputs.api_url is defined }}", True),
        ("{{ inputs.empty is null }}", True),
        ("{{ inputs.empty is empty }}", True),
        ("{{ '  ' is empty }}", True),
        ("{{ [1] is empty }}", False),
        ("{{ 'a' ~ 1 ~ true ~ null ~ [1, 'b'] }}", 'a1true[1,"b"]'),
        ("{{ flow.id ~ '-' ~ execution.id }}", "getting_started-abc"),
    ],
)
def test_pebble_tests_and_concatenation(
    engine: ExpressionEngine, variables: dict[str, Any], template: str, expected: Any
) -> None:
    assert engine.render_value(template, variables) == expected


class TestNativeValues:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("{{ outputs.python.outputFiles }}", {"products.csv": "plait:///dev/f/products.csv"}),
            ("{{ [1, 2] }}", [1, 2]),
            ("{{ 40 + 2 }}", 42),
            ("{{ 1.5 }}", 1.5),
            ("{{ true }}", True),
            ("{{ inputs.empty }}", None),
            ("  {{ outputs.api.code }}\n", 200),
            ("{{- outputs.api.code -}}", 200),
            ("{{ execution.startDate }}", datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)),
        ],
    )
    def test_whole_value_expression_keeps_its_type(
        self, engine: ExpressionEngine, variables: dict[str, Any], template: str, expected: Any
    ) -> None:
        assert engine.render_value(template, variables) == expected

    def test_json_body_through_jq_is_a_list_of_maps(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        value = engine.render_value("{{ outputs.api.body | jq('.products') | first }}", variables)
        assert value == [{"brand": "Apple", "price": 9.5}]

    def test_containers_render_recursively(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        value = {
            "in.csv": "{{ outputs.python.outputFiles['products.csv'] }}",
            "{{ flow.id }}": ["{{ outputs.api.code }}", "code {{ outputs.api.code }}", 3, None],
            "nested": {"flag": "{{ inputs.flag }}"},
        }
        assert engine.render_value(value, variables) == {
            "in.csv": "plait:///dev/f/products.csv",
            "getting_started": [200, "code 200", 3, None],
            "nested": {"flag": False},
        }

    def test_strings_without_markup_come_back_as_they_are(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        text = "SELECT 1 -- {not a template} ?? ok"
        assert engine.render_value(text, variables) is text
        assert engine.render_string(text, variables) is text
        assert engine.render_value(12, variables) == 12


class TestText:
    def test_guide_script_renders_data_as_json(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        script = (
            "import polars as pl\n"
            "data = {{outputs.api.body | jq('.products') | first}}\n"
            'df.write_csv("{{outputDir}}/products.csv")\n'
        )
        assert engine.render_value(script, variables) == (
            "import polars as pl\n"
            'data = [{"brand":"Apple","price":9.5}]\n'
            'df.write_csv("/tmp/work/out/products.csv")\n'
        )

    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("v={{ true }},{{ false }}", "v=true,false"),
            ("v={{ inputs.empty }}", "v="),
            ("v={{ {'a': [1, none, 'é']} }}", 'v={"a":[1,null,"é"]}'),
            ("v={{ execution.startDate }}", "v=2024-03-05T14:07:09Z"),
            ("v={{ 2.0 }}", "v=2.0"),
        ],
    )
    def test_values_print_like_kestra(
        self, engine: ExpressionEngine, variables: dict[str, Any], template: str, expected: str
    ) -> None:
        assert engine.render_value(template, variables) == expected

    def test_render_string_prints_a_whole_value_expression(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        assert engine.render_string("{{ outputs.python.outputFiles }}", variables) == (
            '{"products.csv":"plait:///dev/f/products.csv"}'
        )
        assert engine.render_string("{{ inputs.flag }}", variables) == "false"

    def test_dates_print_as_iso(self, engine: ExpressionEngine) -> None:
        assert engine.render_string("{{ d }}", {"d": date(2024, 1, 2)}) == "2024-01-02"

    def test_trailing_newline_and_whitespace_control(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        assert engine.render_value("a {{ flow.id }}\n", variables) == "a getting_started\n"
        assert engine.render_value("a   {{- flow.id -}}   b", variables) == "agetting_startedb"
        template = "{% for p in [1, 2] %}\n- {{ p }}\n{% endfor %}\n"
        assert engine.render_value(template, variables) == "\n- 1\n\n- 2\n\n"


class TestEvaluate:
    def test_bare_expression_gives_its_native_value(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        assert engine.evaluate("outputs.api.body | jq('.products') | first", variables) == [
            {"brand": "Apple", "price": 9.5}
        ]
        assert engine.evaluate("{'a': {'b': outputs.api.code}}", variables) == {"a": {"b": 200}}

    def test_template_is_rendered(
        self, engine: ExpressionEngine, variables: dict[str, Any]
    ) -> None:
        assert engine.evaluate("{{ outputs.api.code }}", variables) == 200
        assert engine.evaluate("code={{ outputs.api.code }}", variables) == "code=200"


def test_render_function_renders_variables_with_the_same_variables(
    engine: ExpressionEngine, variables: dict[str, Any]
) -> None:
    assert engine.render_value("{{ vars.greeting }}", variables) == "Hello {{ inputs.api_url }}"
    assert engine.render_value("{{ render(vars.greeting) }}", variables) == (
        "Hello https://example.com"
    )


def test_cached_templates_render_fresh_variables(engine: ExpressionEngine) -> None:
    template = "n={{ n }} {{ n * 2 }}"
    assert [engine.render_value(template, {"n": n}) for n in (1, 2, 3)] == [
        "n=1 2",
        "n=2 4",
        "n=3 6",
    ]


@pytest.mark.parametrize(
    ("template", "kind"),
    [
        ("{{ lipsum() }}", "function"),
        ("{% set ns = namespace(n=1) %}{{ ns.n }}", "function"),
        ("{{ cycler('a', 'b').next() }}", "function"),
        ("{{ '<b>' | escape }}", "filter"),
        ("{{ inputs | tojson }}", "filter"),
        ("{% if 'x' is escaped %}x{% endif %}", "test"),
    ],
)
def test_withdrawn_jinja_built_ins_are_unknown(
    engine: ExpressionEngine, variables: dict[str, Any], template: str, kind: str
) -> None:
    """Not in the reference, so not in the sandbox: validation and rendering both refuse them."""
    [unknown] = engine.unknown_names(template)
    assert unknown.kind == kind
    with pytest.raises(ExpressionError):
        engine.render_string(template, variables)
    assert unknown.name not in engine.available()[kind]


def test_jinja_built_ins_that_stay_work(engine: ExpressionEngine) -> None:
    template = "{{ ' a ' | trim | title }} {{ [3, 1, 2] | sort | sum }} {{ range(2) | list }}"
    assert engine.unknown_names(template) == []
    assert engine.render_string(template, {}) == "A 6 [0,1]"
