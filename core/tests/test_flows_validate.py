"""validate_flow / check_flow: task types, properties against their models, and the static check
of ``outputs.X.Y`` references, each problem at the exact file:line:column."""

from __future__ import annotations

import types
from datetime import timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any, Literal

import pluggy
import pytest
from plait.builtin.tasks import Log, Return
from plait.errors import FlowValidationError
from plait.expressions import ExpressionEngine
from plait.flows import PluginDefault, check_flow, parse_flow, validate_flow
from plait.plugins import PluginInfo, Registry, _merge, build_registry
from plait_sdk import Task, TaskOutputs, TaskProperties, hookimpl, output, prop
from plait_sdk import hookspecs as sdk_hookspecs
from plait_sdk.files import FilesOutputs, FilesProperties
from pydantic import BaseModel, ConfigDict

DATA = Path(__file__).parent / "data" / "flows"


# -- stand-ins for the guide's task types (the real plugins are tested in their own packages) --


class RequestProperties(FilesProperties):
    uri: str = prop(description="URL to call.")
    method: Literal["GET", "POST"] = prop("GET", description="HTTP method.", dynamic=False)
    headers: dict[str, str] | None = prop(None, description="Request headers.")
    allowFailed: bool = prop(False, description="Accept error status codes.")


class RequestOutputs(TaskOutputs):
    body: str | None = output(None, description="Response body.")
    code: int = output(description="Status code.")
    headers: dict[str, Any] = output(default_factory=dict, description="Response headers.")


class Request(Task[RequestProperties, RequestOutputs]):
    """Stand-in HTTP request."""

    type = "plait.test.Request"
    aliases = ("io.kestra.plugin.fs.http.Request",)
    Properties = RequestProperties
    Outputs = RequestOutputs

    def run(self, props: RequestProperties, ctx: Any) -> RequestOutputs:
        raise NotImplementedError


class DockerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str


class ScriptProperties(FilesProperties):
    script: str = prop(description="Python code.")
    beforeCommands: list[str] | None = prop(None, description="Shell commands run first.")
    warningOnStdErr: bool = prop(True, description="Warn on stderr output.")
    docker: DockerOptions | None = prop(None, description="Container options.")
    runner: Literal["PROCESS", "DOCKER"] = prop("DOCKER", description="Where.", dynamic=False)


class ScriptOutputs(FilesOutputs):
    exitCode: int = output(0, description="Exit code.")


class Script(Task[ScriptProperties, ScriptOutputs]):
    """Stand-in Python script."""

    type = "plait.test.Script"
    aliases = ("io.kestra.plugin.scripts.python.Script",)
    Properties = ScriptProperties
    Outputs = ScriptOutputs

    def run(self, props: ScriptProperties, ctx: Any) -> ScriptOutputs:
        raise NotImplementedError


class QueryProperties(FilesProperties):
    sql: str = prop(description="SQL to run.")
    store: bool = prop(False, description="Store the result in the internal storage.")
    fetchSize: int = prop(100, description="Rows fetched at a time.")


class QueryOutputs(FilesOutputs):
    uri: str | None = output(None, description="Stored result.")
    rows: list[dict[str, Any]] | None = output(None, description="Fetched rows.")


class Query(Task[QueryProperties, QueryOutputs]):
    """Stand-in DuckDB query."""

    type = "plait.test.Query"
    aliases = ("io.kestra.plugin.jdbc.duckdb.Query",)
    Properties = QueryProperties
    Outputs = QueryOutputs

    def run(self, props: QueryProperties, ctx: Any) -> QueryOutputs:
        raise NotImplementedError


def registry_of(*classes: type[Task[Any, Any]]) -> Registry:
    """A real registry merged from one plugin module registering ``classes``."""
    module = types.ModuleType("plait_flows_test_plugin")
    module.register_task_types = hookimpl(lambda: list(classes))  # type: ignore[attr-defined]
    pm = pluggy.PluginManager(sdk_hookspecs.PROJECT_NAME)
    pm.add_hookspecs(sdk_hookspecs)
    pm.register(module, name="flows-test")
    return _merge(pm, [(PluginInfo("flows-test", "plait-flows-test", "0"), module)], [], [])


@pytest.fixture(scope="module")
def registry() -> Registry:
    return registry_of(Log, Return, Request, Script, Query)


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    """The kernel's filters and functions (``jq``, ``now``...), as every installation has."""
    kernel = build_registry(load=[])
    return ExpressionEngine(kernel.filters, kernel.functions)


def problems(source: str, registry: Registry, engine: ExpressionEngine) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        check_flow(dedent(source), registry, engine, file="flow.yml")
    return [str(p) for p in info.value.problems]


# -- the guide ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("guide_*.yml")))
def test_guide_flows_validate(name: str, registry: Registry, engine: ExpressionEngine) -> None:
    flow = parse_flow(DATA / name)
    assert validate_flow(flow, registry, engine) == []
    assert check_flow(DATA / name, registry, engine).id == flow.id


# -- task types and properties -----------------------------------------------------------------


def test_unknown_task_type_names_close_matches_and_installed_types(
    registry: Registry, engine: ExpressionEngine
) -> None:
    [problem] = problems(
        """\
        id: x
        namespace: dev
        tasks:
          - id: api
            type: io.kestra.plugin.fs.http.Reqest
            uri: https://example.com
        """,
        registry,
        engine,
    )
    assert problem.startswith(
        "flow.yml:5:11: task 'api': unknown task type 'io.kestra.plugin.fs.http.Reqest'; "
        "did you mean 'io.kestra.plugin.fs.http.Request'"
    )
    assert (
        "Installed task types: plait.core.Log, plait.core.Return, plait.test.Query, "
        "plait.test.Request, plait.test.Script." in problem
    )


def test_property_problems_point_at_the_key_or_value(
    registry: Registry, engine: ExpressionEngine
) -> None:
    assert problems(
        """\
        id: props
        namespace: dev
        tasks:
          - id: get
            type: io.kestra.plugin.fs.http.Request
            url: https://example.com
            method: "{{ inputs.method }}"
            allowFailed: "{{ inputs.flag }}"
          - id: script
            type: io.kestra.plugin.scripts.python.Script
            script: print(1)
            warningOnStdErr: maybe
            docker:
              image: 3
            beforeCommands: pip install polars
          - id: q
            type: plait.test.Query
            sql: SELECT 1
            fetchSize: "{{ inputs.size }}"
            store: [true]
        """,
        registry,
        engine,
    ) == [
        "flow.yml:4:5: task 'get': missing required property 'uri' for task type "
        "io.kestra.plugin.fs.http.Request (plait.test.Request)",
        "flow.yml:6:5: task 'get': unknown property 'url' for task type "
        "io.kestra.plugin.fs.http.Request (plait.test.Request); did you mean 'uri'? (its "
        "properties: inputFiles, outputFiles, uri, method, headers, allowFailed)",
        "flow.yml:7:13: task 'get': property 'method' of task type io.kestra.plugin.fs.http."
        "Request (plait.test.Request) is not dynamic: expressions are not rendered there; write "
        "its value literally",
        "flow.yml:12:22: task 'script': property 'warningOnStdErr' of task type "
        "io.kestra.plugin.scripts.python.Script (plait.test.Script): input should be a valid "
        "boolean, unable to interpret input; got 'maybe'",
        "flow.yml:14:14: task 'script': property 'docker.image' of task type "
        "io.kestra.plugin.scripts.python.Script (plait.test.Script): input should be a valid "
        "string; got 3",
        "flow.yml:15:21: task 'script': property 'beforeCommands' of task type "
        "io.kestra.plugin.scripts.python.Script (plait.test.Script): input should be a valid "
        "list; got 'pip install polars'",
        "flow.yml:20:12: task 'q': property 'store' of task type plait.test.Query: input should "
        "be a valid boolean; got a list",
    ]


def test_union_types_give_one_problem(registry: Registry, engine: ExpressionEngine) -> None:
    assert problems(
        "id: x\nnamespace: dev\ntasks:\n  - id: log\n    type: plait.core.Log\n"
        "    message: {a: 1}\n",
        registry,
        engine,
    ) == [
        "flow.yml:6:14: task 'log': property 'message' of task type plait.core.Log: input should "
        "be a valid string or input should be a valid list; got a mapping"
    ]


def test_values_from_plugin_defaults_are_checked_where_they_are_written(
    registry: Registry, engine: ExpressionEngine
) -> None:
    assert problems(
        """\
        id: x
        namespace: dev
        tasks:
          - id: q
            type: io.kestra.plugin.jdbc.duckdb.Query
            sql: SELECT 1
        pluginDefaults:
          - type: io.kestra.plugin.jdbc
            values:
              store: sometimes
              fetchSzie: 10
          - type: plait.test.Query
            values:
              fetchSise: 5
        """,
        registry,
        engine,
    ) == [
        "flow.yml:10:14: task 'q': property 'store' of task type io.kestra.plugin.jdbc.duckdb."
        "Query (plait.test.Query): input should be a valid boolean, unable to interpret input; "
        "got 'sometimes'",
        "flow.yml:11:7: task 'q': unknown property 'fetchSzie' for task type io.kestra.plugin."
        "jdbc.duckdb.Query (plait.test.Query); did you mean 'fetchSize'? (its properties: "
        "inputFiles, outputFiles, sql, store, fetchSize)",
        "flow.yml:14:7: plugin default 'plait.test.Query': unknown property 'fetchSise' for task "
        "type plait.test.Query; did you mean 'fetchSize'?",
    ]


def test_global_defaults_fill_required_properties(
    registry: Registry, engine: ExpressionEngine
) -> None:
    flow = parse_flow("id: x\nnamespace: dev\ntasks:\n  - id: q\n    type: plait.test.Query\n")
    assert [p.message for p in validate_flow(flow, registry, engine)] == [
        "task 'q': missing required property 'sql' for task type plait.test.Query"
    ]
    global_defaults = [PluginDefault(type="plait.test", values={"sql": "SELECT 42"})]
    assert validate_flow(flow, registry, engine, global_defaults=global_defaults) == []


# -- the static expression check ---------------------------------------------------------------


def test_references_to_later_unknown_or_same_tasks_and_missing_outputs(
    registry: Registry, engine: ExpressionEngine
) -> None:
    assert problems(
        """\
        id: refs
        namespace: dev
        tasks:
          - id: first
            type: plait.core.Log
            message: "{{ outputs.second.value }}"
          - id: second
            type: plait.core.Return
            format: "{{ outputs.frist.value }}"
          - id: third
            type: io.kestra.plugin.scripts.python.Script
            script: |
              import json
              data = {{ outputs.second.valeu }}
              rows = {{ outputs['third'].exitCode }}
          - id: fourth
            type: plait.test.Query
            sql: SELECT 1
            inputFiles:
              in.csv: "{{ outputs.third.outputFiles['out.csv'] }}"
              more.csv: "{{ outputs.third.outputfiles['more.csv'] }}"
        outputs:
          - id: out
            type: STRING
            value: "{{ outputs.fourth.uri }} {{ outputs.fifth.uri }}"
        """,
        registry,
        engine,
    ) == [
        "flow.yml:6:15: task 'first': expression `{{ outputs.second.value }}` references task "
        "'second', which runs after 'first'; a task can only use the outputs of tasks that run "
        "before it (none)",
        "flow.yml:9:14: task 'second': expression `{{ outputs.frist.value }}` references unknown "
        "task 'frist'; did you mean 'first'?",
        "flow.yml:14:14: task 'third': expression `{{ outputs.second.valeu }}`: task 'second' "
        "(plait.core.Return) has no output 'valeu'; did you mean 'value'? (its outputs: 'value')",
        "flow.yml:15:14: task 'third': expression `{{ outputs['third'].exitCode }}` references "
        "the outputs of task 'third' itself; a task can only use the outputs of tasks that run "
        "before it",
        "flow.yml:21:18: task 'fourth': expression `{{ outputs.third.outputfiles['more.csv'] }}`: "
        "task 'third' (io.kestra.plugin.scripts.python.Script (plait.test.Script)) has no output "
        "'outputfiles'; did you mean 'outputFiles'? (its outputs: 'outputFiles', "
        "'exitCode')",
        "flow.yml:25:38: flow output 'out': expression `{{ outputs.fifth.uri }}` references "
        "unknown task 'fifth'; did you mean 'first'?",
    ]


def test_expressions_in_defaults_are_checked_at_the_default(
    registry: Registry, engine: ExpressionEngine
) -> None:
    assert problems(
        """\
        id: x
        namespace: dev
        tasks:
          - id: log
            type: plait.core.Log
        pluginDefaults:
          - type: plait.core.Log
            values:
              message: "{{ outputs.missing.value }}"
        """,
        registry,
        engine,
    ) == [
        "flow.yml:9:17: task 'log': expression `{{ outputs.missing.value }}` references unknown "
        "task 'missing' (known: none)"
    ]


def test_check_flow_reports_structure_and_validation_problems_together(
    registry: Registry, engine: ExpressionEngine
) -> None:
    found = problems(
        """\
        id: x
        namespace: Dev
        tasks:
          - id: a
            type: plait.core.Lg
            message: hi
          - id: a
            type: plait.core.Return
            formt: x
        """,
        registry,
        engine,
    )
    assert found[1].startswith(
        "flow.yml:5:11: task 'a': unknown task type 'plait.core.Lg'; did you mean 'plait.core.Log'"
    )
    assert found[:1] + found[2:] == [
        "flow.yml:2:12: invalid namespace 'Dev': must start with a letter or a digit and contain "
        "only lowercase letters, digits, '.', '_' and '-'",
        "flow.yml:7:9: duplicate task id 'a' (first used at line 4); task ids must be unique in "
        "a flow, nested tasks included",
        "flow.yml:9:5: task 'a': unknown property 'formt' for task type plait.core.Return; did "
        "you mean 'format'? (its properties: format)",
    ]


def test_expression_syntax_errors_are_found_before_the_run(
    registry: Registry, engine: ExpressionEngine
) -> None:
    [problem] = problems(
        "id: x\nnamespace: dev\ntasks:\n  - id: log\n    type: plait.core.Log\n"
        '    message: "total: {{ 1 + }}"\n',
        registry,
        engine,
    )
    assert problem.startswith("flow.yml:6:22: task 'log': expression `{{ 1 + }}`: syntax error")


def test_unknown_filters_tests_and_functions_are_found_before_the_run(
    registry: Registry, engine: ExpressionEngine
) -> None:
    assert problems(
        """\
        id: x
        namespace: dev
        tasks:
          - id: ret
            type: plait.core.Return
            format: "{{ 1 | nosuchfilter }} {{ nosuchfn() }} {{ 'a' | uper }}"
          - id: log
            type: plait.core.Log
            message: |
              {% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}{{ twice(1) | trim }}
              {% set f = range %}{{ f(2) | lenght }} {% if 1 is od %}odd{% endif %}
              {% for i in range(2) %}{{ loop.cycle('a', 'b') ~ i }}{% endfor %}
              {{ vars.x ?? now() | date('yyyy') }} {{ inputs.y is defined }}
        """,
        registry,
        engine,
    ) == [
        "flow.yml:6:14: task 'ret': expression `{{ 1 | nosuchfilter }}` uses unknown filter "
        "'nosuchfilter'",
        "flow.yml:6:37: task 'ret': expression `{{ nosuchfn() }}` uses unknown function 'nosuchfn'",
        "flow.yml:6:54: task 'ret': expression `{{ 'a' | uper }}` uses unknown filter 'uper'; "
        "did you mean 'upper'?",
        "flow.yml:11:26: task 'log': expression `{{ f(2) | lenght }}` uses unknown filter "
        "'lenght'; did you mean 'length'?",
        "flow.yml:11:46: task 'log': expression `{% if 1 is od %}` uses unknown test 'od'; did "
        "you mean 'odd'?",
    ]


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout: timedelta | None = None
    retries: int = 0


class TunedProperties(TaskProperties):
    limits: Limits | None = prop(None, description="Nested options.")
    stages: list[Limits] = prop(default_factory=list, description="Per-stage options.")
    wait: timedelta | None = prop(None, description="A duration at the top level.")


class Tuned(Task[TunedProperties, TaskOutputs]):
    """Stand-in with nested models and durations."""

    type = "plait.test.Tuned"
    Properties = TunedProperties
    Outputs = TaskOutputs

    def run(self, props: TunedProperties, ctx: Any) -> TaskOutputs:
        raise NotImplementedError


def test_nested_unknown_keys_and_bad_durations_are_phrased_for_flow_authors(
    engine: ExpressionEngine,
) -> None:
    assert problems(
        """\
        id: nested
        namespace: dev
        tasks:
          - id: t
            type: plait.test.Tuned
            wait: 5s
            limits:
              timout: PT1S
            stages:
              - timeout: PT2S
              - retries: 1
                timeout: [1]
                retrys: 2
          - id: s
            type: plait.test.Script
            script: print(1)
            docker:
              imag: python:slim
        """,
        registry_of(Tuned, Script),
        engine,
    ) == [
        "flow.yml:6:11: task 't': property 'wait' of task type plait.test.Tuned: expected an "
        "ISO-8601 duration such as PT5S (got '5s')",
        "flow.yml:8:7: task 't': unknown property 'limits.timout' for task type "
        "plait.test.Tuned; did you mean 'timeout'? (properties of 'limits': timeout, retries)",
        "flow.yml:12:18: task 't': property 'stages[1].timeout' of task type plait.test.Tuned: "
        "expected an ISO-8601 duration such as PT5S (got a list)",
        "flow.yml:13:9: task 't': unknown property 'stages[1].retrys' for task type "
        "plait.test.Tuned; did you mean 'retries'? (properties of 'stages[1]': timeout, "
        "retries)",
        "flow.yml:18:7: task 's': unknown property 'docker.imag' for task type plait.test.Script; "
        "did you mean 'image'? (properties of 'docker': image)",
        "flow.yml:18:7: task 's': property 'docker' of task type plait.test.Script: missing "
        "required 'image'; got a mapping",
    ]
