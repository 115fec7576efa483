"""Expression failures: each is one ExpressionError naming the task, the expression and why;
the sandbox refuses escapes with a clear message instead of a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from plait.errors import ExpressionError, PlaitError
from plait.expressions import ExpressionEngine
from support.expression_cases import builtin_engine

VARIABLES: dict[str, Any] = {
    "outputs": {"api": {"body": '{"a": 1}', "items": [1, 2]}},
    "inputs": {"name": "world"},
}


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


def failure(engine: ExpressionEngine, template: str, **kwargs: Any) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        engine.render_value(template, VARIABLES, **kwargs)
    return caught.value


class TestUndefined:
    @pytest.mark.parametrize(
        ("template", "missing"),
        [
            ("{{ x.y }}", "x"),
            ("{{ outputs.nope.body }}", "nope"),
            ("{{ outputs['no-pe'].body }}", "no-pe"),
            ("{{ outputs.api.nobody }}", "nobody"),
            ("{{ outputs.api.items[5] }}", "5"),
            ("{{ nothing() }}", "nothing"),
            ("{{ outputs.nope.body | jq('.a') }}", "nope"),
            ("{{ inputs.nope | upper }}", "nope"),
            ("{{ outputs.nope.x == 1 }}", "nope"),
        ],
    )
    def test_message_names_what_is_missing_like_kestra(
        self, engine: ExpressionEngine, template: str, missing: str
    ) -> None:
        error = failure(engine, template, task_id="python")
        assert str(error) == (
            f"task 'python': Unable to find `{missing}` used in the expression `{template}`"
        )
        assert error.task_id == "python"
        assert error.expression == template

    def test_statement_tags_are_quoted_too(self, engine: ExpressionEngine) -> None:
        error = failure(engine, "{% if outputs.nope.x %}a{% endif %}")
        assert error.reason == (
            "Unable to find `nope` used in the expression `{% if outputs.nope.x %}`"
        )

    def test_quotes_only_the_expression_at_fault_with_its_line(
        self, engine: ExpressionEngine
    ) -> None:
        script = "import os\nname = '{{ inputs.name }}'\ndata = {{ outputs.api.missing }}\n"
        error = failure(engine, script)
        assert error.reason == (
            "Unable to find `missing` used in the expression `{{ outputs.api.missing }}` at line 3"
        )

    def test_finds_the_failing_tag_among_several_on_one_line(
        self, engine: ExpressionEngine
    ) -> None:
        error = failure(engine, "{{ inputs.name }} {{ outputs.api.body }} {{ inputs.nope }}")
        assert error.expression == "{{ inputs.nope }}"

    def test_inside_a_loop_body(self, engine: ExpressionEngine) -> None:
        template = "{% for i in outputs.api.items %}\n{{ i }} {{ i.nope }}\n{% endfor %}"
        error = failure(engine, template)
        assert error.reason == (
            "Unable to find `nope` used in the expression `{{ i.nope }}` at line 2"
        )

    def test_undefined_is_an_error_even_when_printed_in_text(
        self, engine: ExpressionEngine
    ) -> None:
        error = failure(engine, "Hello {{ inputs.nobody }}!")
        assert (
            error.reason == "Unable to find `nobody` used in the expression `{{ inputs.nobody }}`"
        )


class TestSandbox:
    @pytest.mark.parametrize(
        ("template", "refused"),
        [
            (
                "{{ ''.__class__.__mro__ }}",
                "access to attribute `__class__` of a str is not allowed",
            ),
            ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "`__class__` of a str"),
            (
                "{{ now.__globals__ }}",
                "access to attribute `__globals__` of a function is not allowed",
            ),
            ("{{ dict.__init__ }}", "access to attribute `__init__` of a type is not allowed"),
            ("{{ inputs._secret }}", "access to attribute `_secret` of a dict is not allowed"),
            (
                "{{ inputs.name.__len__() }}",
                "access to attribute `__len__` of a str is not allowed",
            ),
            ("{{ '{0.__class__}'.format(inputs) }}", "`__class__` of a dict is not allowed"),
            ("{{ outputs.api.clear() }}", "access to attribute `clear` of a dict is not allowed"),
            ("{{ outputs.api.items.append(3) }}", "access to attribute `append` of a list"),
            ("{{ inputs.__class__ | upper }}", "`__class__` of a dict is not allowed"),
            ("{{ 'x' * 100000000 }}", "would build a text of 100,000,000 characters or items"),
            ("{{ 10 ** 100000000 }}", "an integer may have at most about 4300 digits"),
        ],
    )
    def test_escapes_are_refused(
        self, engine: ExpressionEngine, template: str, refused: str
    ) -> None:
        error = failure(engine, template, task_id="t")
        assert refused in error.reason
        assert str(error).startswith(f"task 't', expression `{template}`: ")

    def test_outputs_are_left_untouched(self, engine: ExpressionEngine) -> None:
        with pytest.raises(ExpressionError):
            engine.render_value("{{ outputs.api.pop('body') }}", VARIABLES)
        assert VARIABLES["outputs"]["api"]["body"] == '{"a": 1}'

    def test_refused_value_cannot_be_laundered_through_default(
        self, engine: ExpressionEngine
    ) -> None:
        error = failure(engine, "{{ inputs.__class__ | default('x') }}")
        assert "`__class__` of a dict is not allowed" in error.reason


class TestSyntaxAndRuntimeErrors:
    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            ("{{ 1 + }}", "syntax error at line 1, column 1: unexpected 'end of print statement'"),
            ("a\nb {{ x ?? }}", "syntax error at line 2, column 3: unexpected 'end of print"),
            ("{{ outputs.api.body", "syntax error at line 1, column 1: unexpected end of template"),
            ("{% for x in y %}", "syntax error at line 1, column 1: Unexpected end of template"),
            ("{{ a b }}", "expected token 'end of print statement', got 'b'"),
            ("{{ nope | nofilter }}", "No filter named 'nofilter'"),
        ],
    )
    def test_syntax_errors_give_the_position(
        self, engine: ExpressionEngine, template: str, reason: str
    ) -> None:
        error = failure(engine, template, task_id="t")
        assert reason in error.reason
        assert error.expression == template.split("\n")[-1].removeprefix("b ")

    def test_markers_never_leak_into_messages(self, engine: ExpressionEngine) -> None:
        error = failure(engine, "{% for x ?? y %}{% endfor %}")
        assert "got '??'" in error.reason
        assert "__plait" not in str(error)

    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
            ("{{ inputs.name | jq('.[') }}", "filter `jq` failed: "),
            ("{{ inputs.name | upper(1, 2) }}", "filter `upper` failed: TypeError: "),
            ("{{ uuid(1) }}", "function `uuid` failed: TypeError: "),
            ("{{ 'x' | fromJson }}", "filter `fromJson` failed: invalid JSON: Expecting value"),
            ("{{ inputs | first }}", "filter `first` failed: first needs a list or a string"),
        ],
    )
    def test_runtime_errors_name_the_filter_and_reason(
        self, engine: ExpressionEngine, template: str, reason: str
    ) -> None:
        error = failure(engine, template, task_id="t")
        assert reason in error.reason
        assert error.expression == template

    def test_context_functions_need_a_running_execution(self, engine: ExpressionEngine) -> None:
        error = failure(engine, "{{ read('plait:///dev/f/file.txt') }}", task_id="t")
        assert str(error) == (
            "task 't', expression `{{ read('plait:///dev/f/file.txt') }}`: "
            "read() is only available while an execution runs"
        )
        error = failure(engine, "{{ secret('TOKEN') }}")
        assert error.reason == "secret() is only available while an execution runs"

    def test_endless_render_is_stopped(self, engine: ExpressionEngine) -> None:
        variables = {"loop": "{{ render(loop) }}"}
        with pytest.raises(ExpressionError, match="render\\(\\) nested more than 20 times"):
            engine.render_value("{{ render(loop) }}", variables)

    def test_every_error_is_a_plait_error(self, engine: ExpressionEngine) -> None:
        assert isinstance(failure(engine, "{{ x }}"), PlaitError)
