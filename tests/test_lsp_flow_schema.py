"""The flow schema as a flow author meets it: in the real ``yaml-language-server``.

``plait schema flow --output`` writes the schema once; each test opens a flow that binds it with
the ``# yaml-language-server: $schema=...`` first line, and asks the server for completions,
hovers and diagnostics at chosen positions. Nothing is skipped: without Node.js the server
fixture fails with a clear message.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.flows.model import COMMON_TASK_KEYS
from plait.plugins import build_registry
from support.yamlls import (
    Document,
    YamlLanguageServer,
    completion_labels,
    hover_text,
    strip_cursor,
)

MODELINE = "# yaml-language-server: $schema=./flow.schema.json\n"
CURSOR = "<|>"
PROPERTY = 10  # CompletionItemKind.Property; snippets (kind 7) are whole-object skeletons

_names = itertools.count()

GUIDE_FLOWS = {
    "getting_started_output": """\
id: getting_started_output
namespace: dev

inputs:
  - name: api_url
    type: STRING
    defaults: https://dummyjson.com/products

tasks:
  - id: api
    type: io.kestra.plugin.fs.http.Request
    uri: "{{ inputs.api_url }}"

  - id: python
    type: io.kestra.plugin.scripts.python.Script
    docker:
      image: python:slim
    beforeCommands:
      - pip install polars
    warningOnStdErr: false
    script: |
      import polars as pl
      data = {{outputs.api.body | jq('.products') | first}}
      df = pl.from_dicts(data)
      df.glimpse()
      df.select(["brand", "price"]).write_csv("{{outputDir}}/products.csv")
""",
    "getting_started": """\
id: getting_started
namespace: dev

tasks:
  - id: api
    type: io.kestra.plugin.fs.http.Request
    uri: https://dummyjson.com/products

  - id: python
    type: io.kestra.plugin.scripts.python.Script
    docker:
      image: python:slim
    beforeCommands:
      - pip install polars
    warningOnStdErr: false
    script: |
      import polars as pl
      data = {{ outputs.api.body | jq('.products') | first }}
      df = pl.from_dicts(data)
      df.glimpse()
      df.select(["brand", "price"]).write_csv("{{ outputDir }}/products.csv")

  - id: sqlQuery
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      in.csv: "{{ outputs.python.outputFiles['products.csv'] }}"
    sql: |
      SELECT brand, round(avg(price), 2) as avg_price
      FROM read_csv_auto('{{ workingDir }}/in.csv', header=True)
      GROUP BY brand
      ORDER BY avg_price DESC;
    store: true
""",
    "getting_started_process": """\
id: getting_started
namespace: dev

inputs:
  - name: api_url
    type: STRING
    defaults: https://dummyjson.com/products

tasks:
  - id: api
    type: io.kestra.plugin.fs.http.Request
    uri: "{{ inputs.api_url }}"

  - id: python
    type: io.kestra.plugin.scripts.python.Script
    runner: PROCESS
    beforeCommands:
      - pip install polars
    warningOnStdErr: false
    script: |
      import polars as pl
      data = {{ outputs.api.body | jq('.products') | first }}
      df = pl.from_dicts(data)
      df.glimpse()
      df.select(["brand", "price"]).write_csv("{{ outputDir }}/products.csv")

  - id: sqlQuery
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      in.csv: "{{ outputs.python.outputFiles['products.csv'] }}"
    sql: |
      SELECT brand, round(avg(price), 2) as avg_price
      FROM read_csv_auto('{{ workingDir }}/in.csv', header=True)
      GROUP BY brand
      ORDER BY avg_price DESC;
    store: true
""",
}
"""The three flows of the outputs guide (docs/ reference), verbatim."""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flows")
    env = {**os.environ, "PLAIT_HOME": str(root / "home")}
    subprocess.run(
        [sys.executable, "-m", "plait.cli", "schema", "flow", "--output", "flow.schema.json"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return root


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[YamlLanguageServer]:
    with YamlLanguageServer.start(workspace) as srv:
        yield srv


@pytest.fixture(scope="module")
def task_types() -> dict[str, Any]:
    return build_registry().task_types


def open_flow(server: YamlLanguageServer, workspace: Path, text: str) -> Document:
    return server.open(workspace / f"flow{next(_names)}.yml", MODELINE + text)


def complete(server: YamlLanguageServer, workspace: Path, text: str) -> list[dict[str, Any]]:
    """Completion items at the ``<|>`` in ``text``."""
    body, position = strip_cursor(MODELINE + text, marker=CURSOR)
    doc = server.open(workspace / f"flow{next(_names)}.yml", body)
    return server.completion(doc, position)


def property_names(items: list[dict[str, Any]]) -> set[str]:
    return {item["label"] for item in items if item.get("kind") == PROPERTY}


def diagnostics_by_line(server: YamlLanguageServer, doc: Document) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for diagnostic in server.diagnostics(doc):
        found.setdefault(diagnostic["range"]["start"]["line"], []).append(diagnostic["message"])
    return found


def task_keys(task_types: dict[str, Any], type_id: str, written: set[str]) -> set[str]:
    """What completion should offer in a task of ``type_id`` that already has ``written``."""
    cls = task_types[type_id]
    own = {f.alias or n for n, f in cls.Properties.model_fields.items()}
    return (COMMON_TASK_KEYS | own) - written


def validate(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``plait validate`` on ``path``, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "plait.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PLAIT_HOME": str(tmp_path / "home")},
        timeout=120,
    )


def task_flow(type_name: str, body: str = "") -> str:
    return f"id: f\nnamespace: dev\ntasks:\n  - id: t\n    type: {type_name}\n{body}"


# ------------------------------------------------------------------ completion


def test_type_completion_offers_every_task_type_and_alias(
    server: YamlLanguageServer, workspace: Path, task_types: dict[str, Any]
) -> None:
    items = complete(server, workspace, task_flow(CURSOR))
    assert sorted(completion_labels(items)) == sorted(task_types)
    assert {"plait.core.Log", "io.kestra.plugin.core.log.Log", "plait.http.Request"} <= set(
        completion_labels(items)
    )
    documentation = {item["label"]: item.get("documentation") for item in items}
    log_doc = str(documentation["io.kestra.plugin.core.log.Log"])
    assert "Log a message" in log_doc
    assert "plait.core.Log" in log_doc


def test_core_task_completion_offers_its_properties_and_the_common_keys(
    server: YamlLanguageServer, workspace: Path, task_types: dict[str, Any]
) -> None:
    items = complete(server, workspace, task_flow("plait.core.Log", f"    {CURSOR}\n"))
    assert property_names(items) == task_keys(task_types, "plait.core.Log", {"id", "type"})
    assert {"message", "level", "timeout", "retry", "allowFailure"} <= property_names(items)
    documentation = {item["label"]: item["documentation"]["value"] for item in items}
    assert documentation["message"].startswith("The message to log")
    assert "required" in documentation["message"]
    assert "dynamic" in documentation["message"]
    assert "default `INFO`" in documentation["level"]


@pytest.mark.parametrize(
    ("written_type", "type_id", "expected", "foreign"),
    [
        (
            "io.kestra.plugin.scripts.python.Script",
            "plait.python.Script",
            {"script", "beforeCommands", "docker", "runner", "warningOnStdErr", "inputFiles"},
            {"sql", "uri", "commands"},
        ),
        (
            "plait.python.Commands",
            "plait.python.Commands",
            {"commands", "beforeCommands", "outputFiles"},
            {"script", "sql"},
        ),
        (
            "io.kestra.plugin.fs.http.Request",
            "plait.http.Request",
            {"uri", "method", "headers", "body", "formData", "contentType", "options"},
            {"script", "sql"},
        ),
        (
            "io.kestra.plugin.jdbc.duckdb.Query",
            "plait.duckdb.Query",
            {"sql", "inputFiles", "outputFiles", "fetchType", "store"},
            {"script", "uri"},
        ),
    ],
)
def test_plugin_task_completion_offers_exactly_its_properties(
    server: YamlLanguageServer,
    workspace: Path,
    task_types: dict[str, Any],
    written_type: str,
    type_id: str,
    expected: set[str],
    foreign: set[str],
) -> None:
    items = complete(server, workspace, task_flow(written_type, f"    {CURSOR}\n"))
    names = property_names(items)
    assert names == task_keys(task_types, type_id, {"id", "type"})
    assert expected <= names
    assert not foreign & names


def test_enum_values_are_completed(server: YamlLanguageServer, workspace: Path) -> None:
    items = complete(server, workspace, task_flow("plait.core.Log", f"    level: {CURSOR}\n"))
    assert {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"} <= set(completion_labels(items))


def test_top_level_keys_are_completed(server: YamlLanguageServer, workspace: Path) -> None:
    items = complete(server, workspace, f"id: f\n{CURSOR}\n")
    assert property_names(items) == {
        "namespace",
        "description",
        "labels",
        "inputs",
        "variables",
        "tasks",
        "outputs",
        "pluginDefaults",
        "errors",
        "finally",
        "triggers",
        "concurrency",
        "disabled",
        "revision",
        "taskDefaults",
        "logToFile",
    }


TRIGGER_HEAD = (
    "id: f\nnamespace: dev\ntasks:\n  - id: t\n    type: plait.core.Log\n    message: hi\n"
)


def test_trigger_types_and_their_properties_are_completed(
    server: YamlLanguageServer, workspace: Path
) -> None:
    types = complete(
        server, workspace, TRIGGER_HEAD + f"triggers:\n  - id: s\n    type: {CURSOR}\n"
    )
    labels = set(completion_labels(types))
    assert {
        "plait.core.trigger.Schedule",
        "io.kestra.plugin.core.trigger.Flow",
        "io.kestra.plugin.core.trigger.Webhook",
    } <= labels
    assert "plait.core.Log" not in labels  # tasks are not triggers
    keys = complete(
        server,
        workspace,
        TRIGGER_HEAD + f"triggers:\n  - id: s\n    type: {SCHEDULE}\n    {CURSOR}\n",
    )
    assert property_names(keys) == {
        "cron",
        "withSeconds",
        "timezone",
        "recoverMissedSchedules",
        "inputs",
        "description",
        "disabled",
    }
    behaviors = complete(server, workspace, TRIGGER_HEAD + f"concurrency:\n  behavior: {CURSOR}\n")
    assert {"QUEUE", "CANCEL", "FAIL"} <= set(completion_labels(behaviors))


def test_hovering_a_trigger_type_shows_what_it_does(
    server: YamlLanguageServer, workspace: Path
) -> None:
    doc = open_flow(
        server,
        workspace,
        TRIGGER_HEAD + "triggers:\n  - id: w\n    type: io.kestra.plugin.core.trigger.Webhook\n"
        "    key: 4wjtkzwVGBM9\n",
    )
    text = hover_text(server.hover(doc, doc.position_of("trigger.Webhook", delta=3)))
    assert "Start an execution on an HTTP request" in text
    assert "/api/v1/executions/webhook/{namespace}/{flowId}/{key}" in text


# ------------------------------------------------------------------ hover


def test_hovering_a_task_type_shows_what_it_does_and_outputs(
    server: YamlLanguageServer, workspace: Path
) -> None:
    body, position = strip_cursor(
        MODELINE + task_flow("plait.http.Req<|>uest", "    uri: https://x.test\n"), CURSOR
    )
    doc = server.open(workspace / f"flow{next(_names)}.yml", body)
    text = hover_text(server.hover(doc, position))
    assert "Make an HTTP request" in text
    for output in ("`uri` (string)", "`code` (integer)", "`headers` (", "`body` (string"):
        assert output in text
    alias = open_flow(server, workspace, task_flow("io.kestra.plugin.core.debug.Return"))
    text = hover_text(server.hover(alias, alias.position_of("io.kestra", delta=3)))
    assert "- `value` (string, may be null): The rendered `format`." in text


# ------------------------------------------------------------------ diagnostics


def test_guide_flows_have_no_diagnostics(server: YamlLanguageServer, workspace: Path) -> None:
    for name, text in GUIDE_FLOWS.items():
        doc = open_flow(server, workspace, text)
        assert server.diagnostics(doc) == [], name


def test_a_wrong_property_in_a_guide_flow_is_flagged_on_its_line(
    server: YamlLanguageServer, workspace: Path
) -> None:
    """The guide flows are checked, not merely accepted: one wrong key is caught."""
    text = GUIDE_FLOWS["getting_started"].replace("    store: true", "    stored: true")
    doc = open_flow(server, workspace, text)
    assert diagnostics_by_line(server, doc) == {
        doc.position_of("stored").line: ["Property stored is not allowed."]
    }


def test_unknown_property_and_wrong_values_are_flagged_on_their_lines(
    server: YamlLanguageServer, workspace: Path
) -> None:
    doc = open_flow(
        server,
        workspace,
        "id: f\nnamespace: dev\ntasks:\n"
        "  - id: log\n    type: plait.core.Log\n    message: hi\n    colour: red\n"
        "    level: LOUD\n"
        "  - id: child\n    type: plait.core.Subflow\n    namespace: dev\n    flowId: c\n"
        '    wait: "{{ inputs.wait }}"\n'
        '    inputs: "{{ vars.childInputs }}"\n'
        "  - id: odd\n    type: plait.core.Nope\n",
    )
    found = diagnostics_by_line(server, doc)
    assert found.pop(doc.position_of("colour").line) == ["Property colour is not allowed."]
    assert found.pop(doc.position_of("LOUD").line)[0].startswith("Value is not accepted.")
    # `wait` is not dynamic: an expression is not a boolean
    assert found.pop(doc.position_of("wait:").line) == ['Incorrect type. Expected "boolean".']
    unknown = found.pop(doc.position_of("plait.core.Nope").line)[0]
    assert unknown.startswith("Value is not accepted. Valid values:")
    assert '"plait.core.Log"' in unknown
    assert found == {}  # `inputs` (a map, dynamic) accepts the expression


def test_dynamic_values_accept_expressions_at_any_depth(
    server: YamlLanguageServer, workspace: Path
) -> None:
    doc = open_flow(
        server,
        workspace,
        task_flow(
            "plait.http.Request",
            '    uri: "{{ inputs.url }}"\n    method: "{{ inputs.method }}"\n'
            "    options:\n"
            '      allowFailed: "{{ inputs.lenient }}"\n'
            "      followRedirects: sometimes\n",
        ),
    )
    assert diagnostics_by_line(server, doc) == {
        doc.position_of("sometimes").line: ['Incorrect type. Expected "boolean".']
    }


def test_missing_required_property_is_flagged(server: YamlLanguageServer, workspace: Path) -> None:
    doc = open_flow(server, workspace, task_flow("plait.core.Subflow", "    namespace: dev\n"))
    messages = [d["message"] for d in server.diagnostics(doc)]
    assert messages == ['Missing property "flowId".']


# ------------------------------------------------------------------ nested tasks (flowables)


NESTED = """\
id: nested
namespace: dev
tasks:
  - id: fan_out
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: [a, b]
        tasks:
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "{{ taskrun.value == 'a' }}"
            then:
              - id: when_a
                type: plait.core.Return
                format: "{{ taskrun.value }}"
                runIf: "{{ taskrun.value != 'b' }}"
            else:
              - id: otherwise
                type: io.kestra.plugin.core.log.Log
                message: not a
                allowWarning: true
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: b
    cases:
      a:
        - id: case_a
          type: plait.core.Log
          message: A
      b:
        - id: case_b
          type: plait.core.Return
          format: B
    defaults:
      - id: other
        type: plait.core.Log
        message: other
errors:
  - id: alert
    type: plait.core.Log
    message: the flow failed
finally:
  - id: cleanup
    type: plait.core.Log
    message: always
"""
"""Parallel -> ForEach -> If, a Switch, and the flow's own handlers."""


@pytest.mark.parametrize(
    ("last_line", "type_id"),
    [
        ("                runIf: \"{{ taskrun.value != 'b' }}\"\n", "plait.core.Return"),  # If.then
        ("                allowWarning: true\n", "plait.core.Log"),  # If.else, an optional list
        ("          format: B\n", "plait.core.Return"),  # a case of a Switch
        ("        message: other\n", "plait.core.Log"),  # Switch.defaults
        ("    message: always\n", "plait.core.Log"),  # the flow's finally
    ],
)
def test_completion_in_a_nested_child_offers_its_properties(
    server: YamlLanguageServer,
    workspace: Path,
    task_types: dict[str, Any],
    last_line: str,
    type_id: str,
) -> None:
    """Below a child's last key: its type's properties and the common keys not yet written."""
    assert NESTED.count(last_line) == 1
    indent = " " * (len(last_line) - len(last_line.lstrip(" ")))
    end = NESTED.index(last_line) + len(last_line)
    start = NESTED.rindex("- id: ", 0, end)
    written = {"id", *re.findall(r"^ *(\w+):", NESTED[start + 2 : end], re.M)}
    text = NESTED[:end] + f"{indent}{CURSOR}\n" + NESTED[end:]
    names = property_names(complete(server, workspace, text))
    assert names == task_keys(task_types, type_id, written), last_line
    assert "runIf" in names | written


def test_nested_child_completion_offers_return_format_with_its_documentation(
    server: YamlLanguageServer, workspace: Path
) -> None:
    flow = task_flow(
        "io.kestra.plugin.core.flow.If",
        '    condition: "{{ true }}"\n    then:\n'
        f"      - id: inner\n        type: plait.core.Return\n        {CURSOR}\n",
    )
    items = complete(server, workspace, flow)
    documentation = {item["label"]: item["documentation"]["value"] for item in items}
    assert {"format", "runIf", "allowWarning"} <= set(documentation)
    assert "`string`" in documentation["format"]
    assert "SKIPPED" in documentation["runIf"]


def test_type_completion_in_a_nested_child_offers_every_task_type(
    server: YamlLanguageServer, workspace: Path, task_types: dict[str, Any]
) -> None:
    flow = task_flow(
        "io.kestra.plugin.core.flow.Sequential",
        f"    tasks:\n      - id: inner\n        type: {CURSOR}\n",
    )
    assert sorted(completion_labels(complete(server, workspace, flow))) == sorted(task_types)


def test_flowable_completion_offers_its_task_lists(
    server: YamlLanguageServer, workspace: Path, task_types: dict[str, Any]
) -> None:
    flow = task_flow("io.kestra.plugin.core.flow.If", f"    {CURSOR}\n")
    names = property_names(complete(server, workspace, flow))
    assert names == task_keys(task_types, "io.kestra.plugin.core.flow.If", {"id", "type"})
    assert {"condition", "then", "else", "errors", "finally"} <= names


def test_a_nested_flow_is_clean_in_the_editor_and_valid_for_plait(
    server: YamlLanguageServer, workspace: Path, tmp_path: Path
) -> None:
    doc = open_flow(server, workspace, NESTED)
    assert server.diagnostics(doc) == []
    path = tmp_path / "nested.yml"
    path.write_text(doc.text, encoding="utf-8")
    result = validate(path, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("                format:", "                formt:", "formt"),  # If.then, deep down
        ("          format: B", "          colour: B", "colour"),  # a case of a Switch
        ("    message: always", "    message: always\n    mesage: x", "mesage"),  # flow finally
    ],
)
def test_an_unknown_key_in_a_nested_child_is_flagged_on_its_line(
    server: YamlLanguageServer, workspace: Path, tmp_path: Path, old: str, new: str, key: str
) -> None:
    assert NESTED.count(old) == 1
    doc = open_flow(server, workspace, NESTED.replace(old, new))
    line = doc.position_of(f"{key}:").line
    assert diagnostics_by_line(server, doc) == {line: [f"Property {key} is not allowed."]}
    path = tmp_path / "flow.yml"
    path.write_text(doc.text, encoding="utf-8")
    result = validate(path, tmp_path)
    assert result.returncode == 2, result.stderr
    assert re.search(rf"flow\.yml:{line + 1}:", result.stderr), result.stderr


def test_switch_cases_are_checked_as_named_task_lists(
    server: YamlLanguageServer, workspace: Path
) -> None:
    doc = open_flow(
        server,
        workspace,
        task_flow(
            "io.kestra.plugin.core.flow.Switch",
            "    value: x\n    cases:\n      empty: []\n      text: hello\n"
            "      fine:\n        - id: inner\n          type: plait.core.Log\n",
        ),
    )
    found = diagnostics_by_line(server, doc)
    assert found.pop(doc.position_of("empty").line) == [
        "Array has too few items. Expected 1 or more."
    ]
    assert found.pop(doc.position_of("hello").line) == ['Incorrect type. Expected "array".']
    assert found.pop(doc.position_of("- id: inner").line) == ['Missing property "message".']
    assert found == {}


# ------------------------------------------------------------------ inputs, outputs, defaults


def test_inputs_are_described_by_type(server: YamlLanguageServer, workspace: Path) -> None:
    items = complete(
        server, workspace, f"id: f\nnamespace: dev\ninputs:\n  - id: x\n    type: {CURSOR}\n"
    )
    assert set(completion_labels(items)) == {
        "STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "DATETIME", "DATE", "TIME", "DURATION",
        "JSON", "YAML", "URI", "SELECT", "ENUM", "MULTISELECT", "ARRAY", "FILE", "SECRET",
    }  # fmt: skip
    items = complete(
        server,
        workspace,
        f"id: f\nnamespace: dev\ninputs:\n  - id: x\n    type: INT\n    {CURSOR}\n",
    )
    assert {"min", "max", "defaults", "required", "description"} <= property_names(items)
    assert "validator" not in property_names(items)
    for kind, bounds in (("DATE", {"after", "before"}), ("DURATION", {"min", "max"})):
        items = complete(
            server,
            workspace,
            f"id: f\nnamespace: dev\ninputs:\n  - id: x\n    type: {kind}\n    {CURSOR}\n",
        )
        assert bounds <= property_names(items)
        assert not {"after", "before", "min", "max"} - bounds & property_names(items)
    doc = open_flow(
        server,
        workspace,
        "id: f\nnamespace: dev\ninputs:\n"
        "  - id: count\n    type: INT\n    validator: '\\d+'\n"
        "  - id: colour\n    type: SELECT\n"
        "  - id: when\n    type: RADIO\n"
        "  - id: pick\n    type: ENUM\n"
        "  - id: many\n    type: MULTISELECT\n"
        "  - id: older\n    type: MULTISELECT\n    options: [a]\n    allowCustomValue: true\n"
        "  - id: wait\n    type: DURATION\n    min: 10\n"
        "tasks:\n  - id: t\n    type: plait.core.Log\n    message: hi\n",
    )
    found = diagnostics_by_line(server, doc)
    assert found.pop(doc.position_of("validator").line) == ["Property validator is not allowed."]
    assert found.pop(doc.position_of("- id: colour").line) == ['Missing property "values".']
    assert found.pop(doc.position_of("RADIO").line)[0].startswith("Value is not accepted.")
    assert found.pop(doc.position_of("- id: pick").line) == ['Missing property "values".']
    assert found.pop(doc.position_of("- id: many").line) == ['Missing property "values".']
    assert found.pop(doc.position_of("min: 10").line) == ['Incorrect type. Expected "string".']
    assert found == {}


def test_flow_outputs_are_described(server: YamlLanguageServer, workspace: Path) -> None:
    items = complete(
        server,
        workspace,
        task_flow("plait.core.Return", f"outputs:\n  - id: o\n    type: STRING\n    {CURSOR}\n"),
    )
    assert property_names(items) == {"value", "description", "displayName"}
    doc = open_flow(
        server,
        workspace,
        task_flow("plait.core.Return", "outputs:\n  - id: o\n    type: STRING\n    valeu: x\n"),
    )
    found = diagnostics_by_line(server, doc)
    assert found == {
        doc.position_of("- id: o").line: ['Missing property "value".'],
        doc.position_of("valeu").line: ["Property valeu is not allowed."],
    }


def test_plugin_defaults_complete_and_check_the_values_of_a_task_type(
    server: YamlLanguageServer, workspace: Path, task_types: dict[str, Any]
) -> None:
    defaults = "pluginDefaults:\n  - type: io.kestra.plugin.core.log.Log\n    values:\n"
    defaults += f"      {CURSOR}\n"
    items = complete(server, workspace, task_flow("plait.core.Log", "    message: hi\n" + defaults))
    assert property_names(items) == task_keys(task_types, "plait.core.Log", {"id", "type"})
    doc = open_flow(
        server,
        workspace,
        task_flow(
            "plait.core.Log",
            "    message: hi\npluginDefaults:\n"
            "  - type: plait.core.Log\n    values:\n      level: LOUD\n      colour: red\n"
            "  - type: plait.core\n    values:\n      anything: 1\n"
            "  - type: plait.http.Request\n    forced: true\n",
        ),
    )
    found = diagnostics_by_line(server, doc)
    assert found.pop(doc.position_of("LOUD").line)[0].startswith("Value is not accepted.")
    assert found.pop(doc.position_of("colour").line) == ["Property colour is not allowed."]
    assert found.pop(doc.position_of("- type: plait.http.Request").line) == [
        'Missing property "values".'
    ]
    assert found == {}  # a prefix may cover several types: its values are not checked


# ------------------------------------------------------------------ the editor agrees with plait


EVERYTHING = """\
id: everything
namespace: company.team
description: Uses every part of a flow.
labels:
  team: data
  tier: 1
inputs:
  - id: name
    type: STRING
    defaults: world
    validator: '[a-z]+'
    displayName: Name
  - id: count
    type: INT
    defaults: 3
    min: 1
    max: 10
  - id: ratio
    type: FLOAT
    required: false
    min: 0
  - id: verbose
    type: BOOLEAN
    defaults: false
  - id: since
    type: DATETIME
    defaults: "2024-01-31T10:00:00Z"
  - id: day
    type: DATE
    defaults: 2024-01-31
  - id: at
    type: TIME
    defaults: "10:30:00"
  - id: wait
    type: DURATION
    defaults: PT5M
  - id: payload
    type: JSON
    defaults: '{"a": 1}'
  - id: url
    type: URI
    defaults: https://example.com/data.csv
  - id: colour
    type: SELECT
    values: [red, green]
    defaults: red
  - id: ids
    type: ARRAY
    itemType: INT
    defaults: [1, 2]
  - id: data
    type: FILE
    required: false
  - id: token
    type: SECRET
    required: false
variables:
  greeting: hello
tasks:
  - id: hello
    type: plait.core.Log
    message: "{{ vars.greeting }} {{ inputs.name }}"
    description: Say hello
    timeout: PT1M
    retry:
      type: constant
      interval: PT1S
      maxAttempt: 3
    logLevel: DEBUG
    allowFailure: true
  - id: compute
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.count * 2 }}"
    disabled: false
outputs:
  - id: doubled
    type: STRING
    value: "{{ outputs.compute.value }}"
    description: Twice the count
pluginDefaults:
  - type: io.kestra.plugin.core.log
    values:
      level: WARN
  - type: plait.core.Log
    forced: true
    values:
      level: INFO
      timeout: PT2M
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    description: Every night
    cron: "0 2 * * *"
    timezone: Europe/Paris
    recoverMissedSchedules: LAST
    inputs:
      name: "{{ trigger.date }}"
  - id: after_upstream
    type: plait.core.trigger.Flow
    preconditions:
      flows:
        - namespace: dev
          flowId: upstream
          states: [SUCCESS]
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: 4wjtkzwVGBM9
    disabled: true
concurrency:
  limit: 1
  behavior: QUEUE
"""
"""A flow using every part of the language: every input type, labels, variables, the common
task keys, flow outputs, plugin defaults (by prefix, by type, forced), every core trigger type
and concurrency."""


@pytest.mark.parametrize(
    "text",
    [
        EVERYTHING,
        EVERYTHING.replace("  team: data\n  tier: 1\n", "  - key: team\n    value: data\n"),
    ],
    ids=["labels-map", "labels-list"],
)
def test_a_flow_using_everything_is_clean_in_the_editor_and_valid_for_plait(
    server: YamlLanguageServer, workspace: Path, tmp_path: Path, text: str
) -> None:
    doc = open_flow(server, workspace, text)
    assert server.diagnostics(doc) == []
    path = tmp_path / "everything.yml"
    path.write_text(doc.text, encoding="utf-8")
    result = validate(path, tmp_path)
    assert result.returncode == 0, result.stderr


INT_INPUT = "  - id: n\n    type: INT\n"
SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"


def log_flow(task_extra: str = "", head: str = "") -> str:
    """A valid one-task flow, with ``task_extra`` lines in the task and ``head`` before it."""
    return f"id: f\nnamespace: dev\n{head}tasks:\n  - id: t\n    type: plait.core.Log\n" + (
        f"    message: hi\n{task_extra}"
    )


@pytest.mark.parametrize(
    ("case", "flow", "needle"),
    [
        ("unsupported flow key", log_flow(head="afterExecution: []\n"), "afterExecution"),
        ("unknown task property", log_flow("    mesage: x\n"), "mesage"),
        ("bad log level", log_flow("    logLevel: LOUD\n"), "LOUD"),
        ("bad timeout", log_flow("    timeout: 5 minutes\n"), "5 minutes"),
        ("bad retry type", log_flow("    retry:\n      type: sometimes\n"), "sometimes"),
        ("bad task id", log_flow().replace("id: t", "id: bad id"), "bad id"),
        ("bad namespace", log_flow().replace("dev", "Dev Team"), "Dev Team"),
        ("INT validator", log_flow(head=f"inputs:\n{INT_INPUT}    validator: x\n"), "validator"),
        ("unknown task type", log_flow().replace("core.Log", "core.Lgo"), "plait.core.Lgo"),
        ("unknown trigger type", log_flow(head=f"triggers:\n  - id: s\n    type: {SCHEDULE}x\n"
         "    cron: 0 9 * * *\n"), f"{SCHEDULE}x"),
        ("unknown trigger property", log_flow(head=f"triggers:\n  - id: s\n    type: {SCHEDULE}\n"
         "    cron: 0 9 * * *\n    crn: x\n"), "crn"),
        ("short webhook key", log_flow(head="triggers:\n  - id: w\n    type: "
         "plait.core.trigger.Webhook\n    key: short\n"), "short"),
        ("bad concurrency", log_flow(head="concurrency:\n  limit: 1\n  behavior: QUE\n"), "QUE"),
        ("concurrency limit", log_flow(head="concurrency:\n  limit: 0\n"), "limit"),
    ],
)  # fmt: skip
def test_the_editor_flags_what_plait_validate_refuses_on_the_same_line(
    server: YamlLanguageServer, workspace: Path, tmp_path: Path, case: str, flow: str, needle: str
) -> None:
    doc = open_flow(server, workspace, flow)
    line = doc.position_of(needle).line
    assert line in diagnostics_by_line(server, doc), case
    path = tmp_path / "flow.yml"
    path.write_text(doc.text, encoding="utf-8")
    result = validate(path, tmp_path)
    assert result.returncode == 2, (case, result.stderr)
    assert re.search(rf"flow\.yml:{line + 1}:", result.stderr), (case, result.stderr)
