"""The built-in filters and functions, registered through the plugin hooks."""

from __future__ import annotations

import inspect
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pluggy
import pytest
from plait.builtin import filters
from plait.errors import ExpressionError
from plait.expressions import ExpressionEngine, needs_context
from plait_sdk import hookspecs
from support.expression_cases import builtin_engine

BODY = json.dumps({"products": [{"id": 1, "brand": "Apple"}, {"id": 2, "brand": "Nokia"}]})


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


def render(engine: ExpressionEngine, template: str, **variables: Any) -> Any:
    return engine.render_value(template, variables)


def test_hooks_register_through_pluggy() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(filters)
    (registered_filters,) = pm.hook.register_filters()
    (registered_functions,) = pm.hook.register_functions()
    assert {"jq", "first", "last", "toJson", "json", "fromJson", "keys", "values", "date"} <= set(
        registered_filters
    )
    assert {"dateAdd", "timestamp", "slugify", "default", "length", "join", "upper", "lower"} <= (
        set(registered_filters)
    )
    assert {"now", "uuid", "render", "read", "secret"} <= set(registered_functions)


@pytest.mark.parametrize(
    ("name", "fn"),
    [*filters.register_filters().items(), *filters.register_functions().items()],
)
def test_every_filter_and_function_is_documented_with_an_example(name: str, fn: Any) -> None:
    doc = inspect.getdoc(fn) or ""
    summary = doc.splitlines()[0] if doc else ""
    assert summary.endswith("."), f"{name}: no one-line description"
    assert "Example: ``{{" in doc, f"{name}: no example"


class TestJq:
    def test_on_json_text_returns_every_result(self, engine: ExpressionEngine) -> None:
        assert render(engine, "{{ body | jq('.products[].brand') }}", body=BODY) == [
            "Apple",
            "Nokia",
        ]

    def test_on_an_object(self, engine: ExpressionEngine) -> None:
        data = json.loads(BODY)
        assert render(engine, "{{ data | jq('.products | length') }}", data=data) == [2]
        assert render(engine, "{{ data | jq('.products') | first | first }}", data=data) == {
            "id": 1,
            "brand": "Apple",
        }

    def test_single_result_is_still_a_list(self, engine: ExpressionEngine) -> None:
        assert render(engine, "{{ 5 | jq('. + 1') }}") == [6]
        assert render(engine, "{{ none | jq('.a') }}") == [None]
        assert render(engine, "{{ '{\"a\": 1}' | jq('.a') | first }}") == 1

    def test_objects_with_dates_are_queried_as_json(self, engine: ExpressionEngine) -> None:
        started = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert render(engine, "{{ e | jq('.start') }}", e={"start": started}) == [
            "2024-01-02T03:04:05Z"
        ]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ [3, 2, 1] | first }}", 3),
        ("{{ [3, 2, 1] | last }}", 1),
        ("{{ 'abc' | first }}", "a"),
        ("{{ 'abc' | last }}", "c"),
        ("{{ [] | first }}", None),
        ("{{ none | last }}", None),
        ("{{ {'a': 1, 'b': [true, none]} | toJson }}", '{"a":1,"b":[true,null]}'),
        ("{{ {'a': 1, 'b': none} | toJson(includeNulls=false) }}", '{"a":1}'),
        ("{{ 'é' | json }}", '"é"'),
        ("{{ none | toJson }}", "null"),
        ("{{ '{\"a\": [1, 2]}' | fromJson }}", {"a": [1, 2]}),
        ("{{ fromJson('[1, 2]') | length }}", 2),
        ("{{ none | fromJson }}", None),
        ("{{ {'a': 1, 'b': 2} | keys }}", ["a", "b"]),
        ("{{ ['x', 'y'] | keys }}", [0, 1]),
        ("{{ {'a': 1, 'b': 2} | values }}", [1, 2]),
        ("{{ missing | default('dflt') }}", "dflt"),
        ("{{ missing.deeper.key | default('dflt') }}", "dflt"),
        ("{{ none | default('dflt') }}", "dflt"),
        ("{{ '  ' | default('dflt') }}", "dflt"),
        ("{{ [] | default([1]) }}", [1]),
        ("{{ 0 | default(5) }}", 0),
        ("{{ false | default(true) }}", False),
        ("{{ 'abc' | length }}", 3),
        ("{{ {'a': 1} | length }}", 1),
        ("{{ none | length }}", 0),
        ("{{ ['a', 1, true, none] | join(', ') }}", "a, 1, true, "),
        ("{{ [1, 2] | join }}", "12"),
        ("{{ 'Hello' | upper }}", "HELLO"),
        ("{{ 'Hello' | lower }}", "hello"),
        ("{{ true | upper }}", "TRUE"),
        ("{{ 'Hello World, Ça va?' | slugify }}", "hello-world-ca-va"),
        ("{{ '  --My_Flow  Name!--' | slugify }}", "my-flow-name"),
    ],
)
def test_filters(engine: ExpressionEngine, template: str, expected: Any) -> None:
    assert render(engine, template) == expected


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ 5 | first }}", "first needs a list or a string, not a int"),
        ("{{ 5 | keys }}", "keys needs a map or a list, not a int"),
        ("{{ [1] | values }}", "values needs a map, not a list"),
        ("{{ 5 | length }}", "length needs a string, a list or a map, not a int"),
        ("{{ 'ab' | join(',') }}", "join needs a list, not a str"),
        ("{{ 5 | fromJson }}", "fromJson needs JSON text, not a int"),
    ],
)
def test_filters_refuse_wrong_types_clearly(
    engine: ExpressionEngine, template: str, reason: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(engine, template)
    assert reason in caught.value.reason


class TestFunctions:
    def test_now_is_the_current_aware_datetime(self, engine: ExpressionEngine) -> None:
        before = datetime.now(UTC)
        value = render(engine, "{{ now() }}")
        assert isinstance(value, datetime)
        assert value.tzinfo is not None
        assert before <= value <= datetime.now(UTC)

    def test_now_formatted_in_a_zone(self, engine: ExpressionEngine) -> None:
        text = render(engine, "{{ now(format='iso_sec', timeZone='+05:30') }}")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30", text)
        moment = datetime.fromisoformat(text)
        assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)

    def test_uuid_is_a_new_random_uuid_each_time(self, engine: ExpressionEngine) -> None:
        first, second = render(engine, "{{ uuid() }}"), render(engine, "{{ uuid() }}")
        assert uuid.UUID(first).version == 4
        assert first != second

    def test_render_renders_recursively(self, engine: ExpressionEngine) -> None:
        variables = {"a": "{{ b }}", "b": "{{ c }}!", "c": "deep"}
        assert render(engine, "{{ render(a) }}", **variables) == "deep!"
        assert render(engine, "{{ render(a, recursive=false) }}", **variables) == "{{ c }}!"

    def test_render_keeps_a_native_value(self, engine: ExpressionEngine) -> None:
        assert render(engine, "{{ render(v) }}", v="{{ [1, 2] }}", n=1) == [1, 2]
        assert render(engine, "{{ render(v) }}", v=42) == 42


class FakeServices:
    """An execution's services as the executor provides them, backed by a dict of files."""

    execution_id = "exec-1"

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.read_calls: list[str] = []

    def read(self, uri: str) -> str:
        self.read_calls.append(uri)
        if uri not in self.files:
            raise ExpressionError(f"{uri} is not a file of execution {self.execution_id}")
        return self.files[uri]

    def secret(self, name: str) -> str:
        return f"secret-of-{name}"

    def render(self, template: str) -> Any:
        raise AssertionError("the engine renders render() itself")

    def variables(self) -> dict[str, Any]:
        raise AssertionError("the engine provides the variables itself")


class TestExecutionServices:
    def test_read_delegates_to_the_execution(self, engine: ExpressionEngine) -> None:
        services = FakeServices({"plait:///dev/f/a.txt": "content"})
        variables = {"outputs": {"t": {"uri": "plait:///dev/f/a.txt"}}}
        value = engine.render_value("{{ read(outputs.t.uri) }}", variables, services=services)
        assert value == "content"
        assert services.read_calls == ["plait:///dev/f/a.txt"]

    def test_read_refusal_names_the_expression(self, engine: ExpressionEngine) -> None:
        services = FakeServices({})
        with pytest.raises(ExpressionError) as caught:
            engine.render_value("{{ read('plait:///x') }}", {}, services=services, task_id="t")
        assert str(caught.value) == (
            "task 't', expression `{{ read('plait:///x') }}`: "
            "plait:///x is not a file of execution exec-1"
        )

    def test_render_inside_an_execution_keeps_the_services(self, engine: ExpressionEngine) -> None:
        services = FakeServices({"plait:///f": "text"})
        variables = {"v": "{{ read('plait:///f') | upper }}"}
        assert engine.render_value("{{ render(v) }}", variables, services=services) == "TEXT"

    def test_plugin_context_filters_receive_the_services(self) -> None:
        @needs_context
        def whoami(services: Any, value: str) -> str:
            return f"{value}@{services.execution_id}:{sorted(services.variables())}"

        engine = ExpressionEngine({"whoami": whoami}, {})
        assert engine.render_value("{{ 'me' | whoami }}", {"x": 1}) == "me@None:['x']"
        rendered = engine.render_value("{{ 'me' | whoami }}", {"x": 1}, services=FakeServices({}))
        assert rendered == "me@exec-1:['x']"


def test_plugin_filters_run_at_each_render_even_on_constants() -> None:
    calls: list[int] = []

    def tick(value: int) -> int:
        calls.append(value)
        return len(calls)

    engine = ExpressionEngine({"tick": tick}, {})
    assert [engine.render_value("{{ 7 | tick }}", {}) for _ in range(3)] == [1, 2, 3]
    assert [engine.render_value("n={{ 7 | tick }}", {}) for _ in range(2)] == ["n=4", "n=5"]
    assert calls == [7] * 5
