"""The whole-flow JSON Schema and ``plait schema``: content, stability, and agreement with the
flow loader. How an editor uses it is in test_lsp_flow_schema.py."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from plait.durations import parse_duration
from plait.flows.ids import FLOW_ID, NAMESPACE, TASK_ID
from plait.flows.input_types import INPUT_TYPES
from plait.flows.loader import FLOW_KEYS, OUTPUT_KEYS, PLUGIN_DEFAULT_KEYS
from plait.flows.model import COMMON_TASK_KEYS
from plait.plugins import build_registry
from plait.schema import flow_schema, to_json
from plait.schema.flow import INPUT_TYPE_DESCRIPTIONS
from plait.schema.tasks import DURATION_PATTERN, TASK_DEFINITION, common_task_properties
from plait_sdk import RunContext, Task, TaskOutputs, TaskProperties, prop
from plait_sdk.flowable import TASKS_KEY, task_lists
from plait_sdk.schema import EXPRESSION_REF, is_dynamic, output_names, properties_schema
from pydantic import BaseModel

if TYPE_CHECKING:
    from conftest import CliRunner

EXPRESSION = {"$ref": EXPRESSION_REF}
TASK = {"$ref": f"#/definitions/{TASK_DEFINITION}"}


@pytest.fixture(scope="module")
def registry_types() -> dict[str, Any]:
    return build_registry().task_types


@pytest.fixture(scope="module")
def schema(registry_types: dict[str, Any]) -> dict[str, Any]:
    return flow_schema(registry_types)


def canonical(task_types: dict[str, Any]) -> dict[str, Any]:
    return {cls.type: cls for cls in task_types.values()}


def own_property_names(cls: Any) -> list[str]:
    return [f.alias or n for n, f in cls.Properties.model_fields.items()]


# ------------------------------------------------------------------ the command


def test_schema_flow_prints_stable_json_equal_to_the_api(
    cli: CliRunner, tmp_path: Path, schema: dict[str, Any]
) -> None:
    first, second = cli("schema", "flow"), cli("schema", "flow")
    assert first.code == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.endswith("}\n")
    assert json.loads(first.stdout) == schema
    assert first.stdout == to_json(schema)
    target = tmp_path / "editor" / "flow.schema.json"
    written = cli("schema", "flow", "--output", str(target))
    assert written.code == 0, written.stderr
    assert target.read_text(encoding="utf-8") == first.stdout
    assert written.stdout == ""
    assert not list(target.parent.glob("*.part"))


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_schema_flow_output_gets_the_mode_the_umask_gives(
    cli: CliRunner, tmp_path: Path, umask: int
) -> None:
    """Not mkstemp's private 0600: editors and other users read the schema file."""
    target = tmp_path / "flow.schema.json"
    previous = os.umask(umask)  # the CLI subprocess inherits it
    try:
        written = cli("schema", "flow", "--output", str(target))
    finally:
        os.umask(previous)
    assert written.code == 0, written.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_schema_flow_output_that_cannot_be_written_is_a_clear_error(
    cli: CliRunner, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = cli("schema", "flow", "--output", str(blocker / "flow.schema.json"))
    assert result.code == 1
    assert f"error: cannot write {blocker / 'flow.schema.json'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_task_by_id_or_alias(cli: CliRunner) -> None:
    by_alias = cli("schema", "task", "io.kestra.plugin.core.debug.Return")
    assert by_alias.code == 0, by_alias.stderr
    document = by_alias.json()
    assert document["type"] == "plait.core.Return"
    assert "io.kestra.plugin.core.debug.Return" in document["aliases"]
    assert set(document["properties"]["properties"]) == {"format"}
    assert document["properties"]["properties"]["format"]["x-dynamic"] is True
    assert set(document["outputs"]["properties"]) == {"value"}
    assert document["outputNames"] == ["value"]
    assert by_alias.stdout == cli("schema", "task", "plait.core.Return").stdout


def test_schema_task_says_a_flowable_s_child_lists_hold_tasks(cli: CliRunner) -> None:
    """Like the flow schema, ``plait schema task`` describes child task lists' items as tasks
    (the keys every task has), not as arbitrary objects."""
    for type_id, key, kind in [
        ("plait.core.flow.ForEach", "tasks", "list"),
        ("plait.core.flow.If", "else", "list"),
        ("plait.core.flow.Switch", "cases", "map"),
    ]:
        props = cli("schema", "task", type_id).json()["properties"]
        listed = props["properties"][key]
        assert listed[TASKS_KEY] == kind, type_id
        if kind == "map":
            listed = listed["additionalProperties"]
        items = next(b for b in listed.get("anyOf", [listed]) if b.get("type") == "array")
        assert items["items"] == TASK, (type_id, key)
        task = props["definitions"][TASK_DEFINITION]
        assert task["required"] == ["id", "type"]
        assert set(task["properties"]) == COMMON_TASK_KEYS
    leaf = cli("schema", "task", "plait.core.Log").json()["properties"]
    assert TASK_DEFINITION not in leaf.get("definitions", {})


def test_schema_task_unknown_type_is_a_clear_error(cli: CliRunner) -> None:
    result = cli("schema", "task", "plait.core.Lgo")
    assert result.code == 1
    assert result.stdout == ""
    assert "unknown task type 'plait.core.Lgo'" in result.stderr
    assert "did you mean 'plait.core.Log'" in result.stderr
    assert "Traceback" not in result.stderr


def refs(node: Any) -> list[str]:
    """Every ``$ref`` in a schema, nested ones included (data keywords hold no schemas)."""
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    nested = [
        ref
        for key, value in node.items()
        if key not in ("default", "examples", "enum", "const")
        for ref in refs(value)
    ]
    return own + nested


def resolves(document: dict[str, Any], ref: str) -> bool:
    """Whether a local JSON pointer such as ``#/definitions/expression`` names a schema."""
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return ref.startswith("#/") and isinstance(node, dict)


def test_every_ref_of_every_task_schema_resolves(
    cli: CliRunner, registry_types: dict[str, Any], schema: dict[str, Any]
) -> None:
    """Editors and validators given ``plait schema task`` output must find each definition."""
    for type_id in canonical(registry_types):
        document = cli("schema", "task", type_id).json()
        for part in ("properties", "outputs"):
            found = refs(document[part])
            unresolved = [ref for ref in found if not resolves(document[part], ref)]
            assert unresolved == [], (type_id, part, unresolved)
    assert [ref for ref in refs(schema) if not resolves(schema, ref)] == []


# ------------------------------------------------------------------ content


def test_draft_07_and_top_level_keys_follow_the_loader(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert list(schema["properties"]) == list(FLOW_KEYS)
    assert schema["required"] == ["id", "namespace", "tasks"]
    assert schema["additionalProperties"] is False
    assert "title" not in schema  # a root title would head every tooltip in the flow


def test_type_is_an_enum_of_every_id_and_alias(
    schema: dict[str, Any], registry_types: dict[str, Any]
) -> None:
    task = schema["definitions"][TASK_DEFINITION]
    names = task["properties"]["type"]["enum"]
    assert sorted(names) == sorted(registry_types)
    assert len(task["properties"]["type"]["markdownEnumDescriptions"]) == len(names)
    conditions = {
        tuple(branch["if"]["properties"]["type"]["enum"]): branch["then"]["$ref"]
        for branch in task["allOf"]
    }
    for type_id, cls in canonical(registry_types).items():
        assert conditions[(type_id, *cls.aliases)] == f"#/definitions/{type_id}"


def test_each_task_type_lists_exactly_its_properties_and_the_common_keys(
    schema: dict[str, Any], registry_types: dict[str, Any]
) -> None:
    for type_id, cls in canonical(registry_types).items():
        definition = schema["definitions"][type_id]
        assert definition["additionalProperties"] is False
        own = [name for name in own_property_names(cls) if name not in COMMON_TASK_KEYS]
        assert set(definition["properties"]) == COMMON_TASK_KEYS | set(own), type_id
        assert definition["properties"]["type"]["enum"] == [type_id, *cls.aliases]
        required = [n for n, f in cls.Properties.model_fields.items() if f.is_required()]
        assert definition["required"] == ["id", "type", *required]
        for name in own:
            assert definition["properties"][name]["markdownDescription"], (type_id, name)


def test_no_task_type_hides_a_property_behind_a_common_key(registry_types: dict[str, Any]) -> None:
    """The kernel reads `timeout`, `retry`... itself: a task property of that name never
    reaches the task, so the editor and the docs could not describe it truthfully."""
    clashes = {
        type_id: sorted(set(own_property_names(cls)) & COMMON_TASK_KEYS)
        for type_id, cls in canonical(registry_types).items()
    }
    assert {k: v for k, v in clashes.items() if v} == {}


def test_dynamic_properties_accept_expressions_literal_ones_do_not(
    schema: dict[str, Any],
) -> None:
    subflow = schema["definitions"]["plait.core.Subflow"]["properties"]
    assert EXPRESSION in subflow["inputs"]["anyOf"]  # a map, dynamic
    assert subflow["wait"]["type"] == "boolean"  # not dynamic
    assert "anyOf" not in subflow["wait"]
    log = schema["definitions"]["plait.core.Log"]["properties"]
    assert EXPRESSION not in log["level"].get("anyOf", [])
    for type_id, definition in schema["definitions"].items():
        if not type_id.startswith("plait."):
            continue
        for name, prop_schema in definition["properties"].items():
            if not is_dynamic(prop_schema):
                assert EXPRESSION not in prop_schema.get("anyOf", []), (type_id, name)


def test_hovering_a_task_type_tells_its_outputs(
    schema: dict[str, Any], registry_types: dict[str, Any]
) -> None:
    for type_id, cls in canonical(registry_types).items():
        markdown = schema["definitions"][type_id]["properties"]["type"]["markdownDescription"]
        assert markdown == schema["definitions"][type_id]["markdownDescription"]
        for name in output_names(cls):
            assert f"- `{name}` (" in markdown, (type_id, name)
    returned = schema["definitions"]["plait.core.Return"]["markdownDescription"]
    assert "- `value` (string, may be null): The rendered `format`." in returned
    assert "**Outputs:** none." in schema["definitions"]["plait.core.Log"]["markdownDescription"]


def test_inputs_outputs_and_plugin_defaults_follow_the_loader(schema: dict[str, Any]) -> None:
    definitions = schema["definitions"]
    assert set(INPUT_TYPE_DESCRIPTIONS) == set(INPUT_TYPES)
    assert definitions["flow.input"]["properties"]["type"]["enum"] == list(INPUT_TYPES)
    for kind, extra_keys in INPUT_TYPES.items():
        keys = set(definitions[f"flow.input.{kind}"]["properties"])
        assert keys == {
            "id",
            "name",
            "type",
            "displayName",
            "description",
            "required",
            "defaults",
            "prefill",
            *extra_keys,
        }
    assert set(definitions["flow.output"]["properties"]) == set(OUTPUT_KEYS)
    assert set(definitions["flow.pluginDefault"]["properties"]) == set(PLUGIN_DEFAULT_KEYS)
    assert set(common_task_properties()) | {"type"} == COMMON_TASK_KEYS


def test_run_if_and_allow_warning_are_common_keys(
    schema: dict[str, Any], registry_types: dict[str, Any]
) -> None:
    common = common_task_properties()
    assert common["runIf"]["type"] == ["string", "boolean"]
    assert "SKIPPED" in common["runIf"]["description"]
    assert common["allowWarning"]["type"] == "boolean"
    assert common["allowWarning"]["default"] is False
    assert "WARNING" in common["allowWarning"]["description"]
    for name in ("runIf", "allowWarning"):
        assert name in schema["definitions"][TASK_DEFINITION]["properties"]
        for type_id in canonical(registry_types):
            assert schema["definitions"][type_id]["properties"][name]["markdownDescription"]


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("PT5M", True),
        ("PT1H30M", True),
        ("P2D", True),
        ("P1DT2H", True),
        ("PT0.5S", True),
        ("pt10s", True),
        ("PT1,5S", True),
        ("P", False),
        ("PT", False),
        ("P1DT", False),
        ("5M", False),
        ("PT5X", False),
        ("P1Y", False),
        ("", False),
    ],
)
def test_duration_pattern_agrees_with_the_kernel(text: str, valid: bool) -> None:
    assert (parse_duration(text) is not None) is valid
    assert bool(re.search(DURATION_PATTERN, text)) is valid


@pytest.mark.parametrize(
    ("rule", "definition_path"),
    [
        (FLOW_ID, ("properties", "id")),
        (NAMESPACE, ("properties", "namespace")),
    ],
)
def test_id_patterns_are_the_loaders(
    schema: dict[str, Any], rule: Any, definition_path: tuple[str, ...]
) -> None:
    node = schema
    for key in definition_path:
        node = node[key]
    for sample in ("dev", "company.team", "My_Flow-1", "-bad", "a b", "Dev", "x/y"):
        assert bool(re.search(node["pattern"], sample)) == (rule.problem(sample) is None), sample
    assert node["maxLength"] == rule.max_length


def test_a_value_refused_by_a_pattern_gets_a_message_not_the_regex(schema: dict[str, Any]) -> None:
    """yaml-language-server shows ``patternErrorMessage`` instead of 'does not match ^(?:...'."""

    def patterned(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield path, node
            for key, value in node.items():
                if key not in ("default", "examples", "enum", "const"):
                    yield from patterned(value, (*path, key))
        elif isinstance(node, list):
            for item in node:
                yield from patterned(item, path)

    found = {path: node for path, node in patterned(schema)}
    expression = ("definitions", "expression")  # only ever a branch beside the real type
    missing = [
        p for p, node in found.items() if p != expression and "patternErrorMessage" not in node
    ]
    assert missing == []
    timeout = found["definitions", "flow.task", "properties", "timeout"]
    assert "ISO-8601 duration" in timeout["patternErrorMessage"]
    assert "PT5M" in timeout["patternErrorMessage"]
    task_id = found["definitions", "flow.task", "properties", "id"]["patternErrorMessage"]
    assert task_id == f"Not a valid task id: it {TASK_ID.allowed}."
    assert "namespace" in found["properties", "namespace"]["patternErrorMessage"]


def test_task_id_pattern_is_the_loaders(schema: dict[str, Any]) -> None:
    pattern = schema["definitions"][TASK_DEFINITION]["properties"]["id"]["pattern"]
    for sample in ("api", "sql-query", "step_2", "a.b", "-x", "a b"):
        assert bool(re.search(pattern, sample)) == (TASK_ID.problem(sample) is None), sample


# ------------------------------------------------------------------ child task lists


def test_flow_errors_and_finally_are_lists_of_tasks(schema: dict[str, Any]) -> None:
    for key in ("tasks", "errors", "finally"):
        assert schema["properties"][key]["type"] == "array"
        assert schema["properties"][key]["items"] == TASK
        assert schema["properties"][key]["minItems"] == 1  # the loader refuses an empty list
        assert schema["properties"][key]["description"]


def array_branch(prop_schema: dict[str, Any]) -> dict[str, Any]:
    """The array itself, or its branch beside ``null`` (an optional list)."""
    branches = prop_schema.get("anyOf", [prop_schema])
    (array,) = [b for b in branches if b.get("type") == "array" or b.get("type") == "object"]
    return array


def test_every_child_task_list_holds_tasks_like_the_flows_own(
    schema: dict[str, Any], registry_types: dict[str, Any]
) -> None:
    """Items refer back to the task definition: editors check nested children at any depth."""
    seen = {"list": 0, "map": 0}
    for type_id, cls in canonical(registry_types).items():
        model = properties_schema(cls)["properties"]
        for name, kind in task_lists(cls).items():
            prop_schema = schema["definitions"][type_id]["properties"][name]
            assert prop_schema[TASKS_KEY] == kind, (type_id, name)
            assert prop_schema["description"] == model[name]["description"]
            assert ("anyOf" in prop_schema) == ("anyOf" in model[name])  # optional: null too
            array = array_branch(prop_schema)
            if kind == "map":
                assert array["type"] == "object"
                assert array["minProperties"] == 1
                array = array["additionalProperties"]
                assert array["minItems"] == 1
            else:
                assert array.get("minItems") == array_branch(model[name]).get("minItems")
            assert array["type"] == "array"
            assert array["items"] == TASK, (type_id, name)
            seen[kind] += 1
    assert seen["list"] >= 8 and seen["map"] >= 1
    flowable = schema["definitions"]["plait.core.flow.If"]["properties"]
    assert flowable["then"]["minItems"] == 1
    assert "list of tasks" in flowable["then"]["markdownDescription"]
    switch = schema["definitions"]["plait.core.flow.Switch"]["properties"]
    assert "map of task lists" in switch["cases"]["markdownDescription"]


# ------------------------------------------------------------------ validating flows
#
# No JSON Schema library is a dependency, so a small draft-07 validator checks flows against the
# schema: it knows every keyword the schema uses and fails on any other, so that a constraint
# it does not understand can never pass unnoticed.

_ANNOTATIONS = frozenset(
    {
        "$schema", "definitions", "title", "description", "markdownDescription",
        "markdownEnumDescriptions", "default", "examples", "deprecated", "format",
        "patternErrorMessage", "discriminator", "x-dynamic", TASKS_KEY,
    }
)  # fmt: skip

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


Errors = list[tuple[tuple[Any, ...], str]]


def schema_errors(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...] = ()) -> Errors:
    """Where ``value`` breaks ``node`` (a schema within ``root``), as (path, message) pairs."""
    if node is True:
        return []
    if node is False:
        return [(at, "no value is allowed here")]
    unknown = set(node) - _ANNOTATIONS - {k for keywords, _ in _CHECKS for k in keywords}
    assert not unknown, f"the test validator does not know {sorted(unknown)}"
    errors: Errors = []
    for keywords, check in _CHECKS:
        if any(keyword in node for keyword in keywords):
            errors += check(value, node, root, at)
    return errors


def _ref(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    target: Any = root
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return schema_errors(value, target, root, at)


def _type(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
    return [] if any(_TYPES[k](value) for k in kinds) else [(at, f"not of type {kinds}")]


def _object(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    if not isinstance(value, dict):
        return []
    errors = [(at, f"missing {key!r}") for key in node.get("required", []) if key not in value]
    if len(value) < node.get("minProperties", 0):
        errors.append((at, "too few properties"))
    known = node.get("properties", {})
    for key, item in value.items():
        if key in known:
            errors += schema_errors(item, known[key], root, (*at, key))
        elif node.get("additionalProperties") is False:
            errors.append(((*at, key), f"property {key!r} is not allowed"))
        elif "additionalProperties" in node:
            errors += schema_errors(item, node["additionalProperties"], root, (*at, key))
    return errors


def _array(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    if not isinstance(value, list):
        return []
    errors: Errors = [(at, "too few items")] if len(value) < node.get("minItems", 0) else []
    for index, item in enumerate(value):
        errors += schema_errors(item, node.get("items", True), root, (*at, index))
    return errors


def _text(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    if not isinstance(value, str):
        return []
    errors: Errors = []
    if "pattern" in node and not re.search(node["pattern"], value):
        errors.append((at, f"{value!r} does not match {node['pattern']}"))
    if not node.get("minLength", 0) <= len(value) <= node.get("maxLength", len(value)):
        errors.append((at, f"{value!r} has the wrong length"))
    return errors


def _number(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    if not _TYPES["number"](value):
        return []
    low, above = node.get("minimum", value), node.get("exclusiveMinimum")
    too_small = value < low or (above is not None and value <= above)
    return [(at, f"{value} is too small")] if too_small else []


def _values(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    allowed = node["enum"] if "enum" in node else [node["const"]]
    same = any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in allowed)
    return [] if same else [(at, f"{value!r} is not one of {allowed}")]


def _all_of(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    return [e for branch in node["allOf"] for e in schema_errors(value, branch, root, at)]


def _branches(keyword: str) -> Any:
    def check(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
        failures = [schema_errors(value, branch, root, at) for branch in node[keyword]]
        passed = sum(1 for errors in failures if not errors)
        if passed == 1 or (passed > 1 and keyword == "anyOf"):
            return []
        return [(at, f"{passed} branches of {keyword} match"), *(e for f in failures for e in f)]

    return check


def _if(value: Any, node: Any, root: dict[str, Any], at: tuple[Any, ...]) -> Errors:
    if "if" not in node:
        return []  # draft-07 ignores a lone then/else
    branch = "then" if not schema_errors(value, node["if"], root, at) else "else"
    return schema_errors(value, node[branch], root, at) if branch in node else []


_CHECKS: list[tuple[tuple[str, ...], Any]] = [
    (("$ref",), _ref),
    (("type",), _type),
    (("properties", "required", "additionalProperties", "minProperties"), _object),
    (("items", "minItems"), _array),
    (("pattern", "minLength", "maxLength"), _text),
    (("minimum", "exclusiveMinimum"), _number),
    (("enum", "const"), _values),
    (("allOf",), _all_of),
    (("anyOf",), _branches("anyOf")),
    (("oneOf",), _branches("oneOf")),
    (("if", "then", "else"), _if),
]
"""Each check and the keywords it reads (``if`` without ``then`` or ``else`` checks nothing)."""


def flow_errors(schema: dict[str, Any], text: str) -> Errors:
    return schema_errors(yaml.safe_load(text), schema, schema)


NESTED = """\
id: nested
namespace: dev
tasks:
  - id: fan_out
    type: io.kestra.plugin.core.flow.Parallel
    concurrent: 2
    tasks:
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: [a, b]
        concurrencyLimit: 0
        tasks:
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "{{ taskrun.value == 'a' }}"
            then:
              - id: when_a
                type: plait.core.Return
                format: "{{ taskrun.value }}"
                runIf: "{{ inputs.enabled | default(true) }}"
            else:
              - id: otherwise
                type: io.kestra.plugin.core.log.Log
                message: not a
                allowWarning: true
            errors:
              - id: report
                type: plait.core.Log
                message: the branch failed
      - id: block
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT0.1S
            runIf: false
        finally:
          - id: done
            type: plait.core.Log
            message: block done
errors:
  - id: alert
    type: plait.core.Log
    message: the flow failed
finally:
  - id: cleanup
    type: plait.core.Log
    message: always
"""
"""A Parallel holding a ForEach holding an If, with handlers at several depths."""

SWITCH = """\
id: switch
namespace: dev
tasks:
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.kind }}"
    cases:
      csv:
        - id: read_csv
          type: plait.core.Return
          format: csv
      json:
        - id: nested_if
          type: io.kestra.plugin.core.flow.If
          condition: true
          then:
            - id: read_json
              type: plait.core.Return
              format: json
    defaults:
      - id: unknown
        type: plait.core.Log
        message: unknown kind
"""


def test_nested_flows_are_valid(schema: dict[str, Any]) -> None:
    assert flow_errors(schema, NESTED) == []
    assert flow_errors(schema, SWITCH) == []


def test_a_wrong_property_in_a_nested_child_is_refused_where_it_is(schema: dict[str, Any]) -> None:
    text = NESTED.replace("                format:", "                formt:")
    where = ("tasks", 0, "tasks", 0, "tasks", 0, "then", 0, "formt")
    assert flow_errors(schema, text) == [(where, "property 'formt' is not allowed")]


IF_AT = ("tasks", 0, "tasks", 0, "tasks", 0)


@pytest.mark.parametrize(
    ("case", "old", "new", "where"),
    [
        ("missing property", "                message: not a\n", "", (*IF_AT, "else", 0)),
        ("unknown type", "plait.core.Return", "plait.core.Retrun", (*IF_AT, "then", 0, "type")),
        ("runIf a number", "runIf: false", "runIf: 1", ("tasks", 0, "tasks", 1, "tasks", 0)),
        ("allowWarning text", "Warning: true", "Warning: sure", (*IF_AT, "else", 0)),
        ("empty child list", "        finally:\n          - id: done", "        finally: []\n"
         "        x:\n          - id: done", ("tasks", 0, "tasks", 1)),
        ("empty flow errors", "errors:\n  - id: alert", "errors: []\nx:\n  - id: alert", ()),
        ("a list as a task", "            else:\n", "            else:\n              - []\n",
         (*IF_AT, "else", 0)),
    ],
)  # fmt: skip
def test_mistakes_in_nested_children_are_refused_where_they_are(
    schema: dict[str, Any], case: str, old: str, new: str, where: tuple[Any, ...]
) -> None:
    assert old in NESTED, case
    errors = flow_errors(schema, NESTED.replace(old, new, 1))
    assert any(path[: len(where)] == where for path, _ in errors), (case, errors)
    # the others are on the way there (an optional list says that none of its branches fits)
    assert all(where[: len(path)] == path[: len(where)] for path, _ in errors), (case, errors)


@pytest.mark.parametrize(
    ("case", "cases"),
    [
        ("no case", "    cases: {}\n"),
        ("an empty case", "    cases:\n      csv: []\n"),
        ("a case that is not a list", "    cases:\n      csv: read\n"),
        ("a list of cases", "    cases:\n      - id: r\n        type: plait.core.Return\n"),
        ("a wrong key in a case", "    cases:\n      csv:\n        - id: r\n          type: "
         "plait.core.Return\n          formt: x\n"),
    ],
)  # fmt: skip
def test_switch_cases_must_be_named_lists_of_tasks(
    schema: dict[str, Any], case: str, cases: str
) -> None:
    text = SWITCH[: SWITCH.index("    cases:")] + cases + SWITCH[SWITCH.index("    defaults:") :]
    assert [path[:3] for path, _ in flow_errors(schema, text)][:1] == [("tasks", 0, "cases")], case


# ------------------------------------------------------------------ two plugins, one name


class _FirstOptions(BaseModel):
    size: int = prop(1, description="Size.")


class _SecondOptions(BaseModel):
    colour: str = prop("red", description="Colour.")


_FirstOptions.__name__ = _SecondOptions.__name__ = "Options"


class _FirstProperties(TaskProperties):
    options: _FirstOptions = prop(default_factory=_FirstOptions, description="First's.")


class _SecondProperties(TaskProperties):
    options: _SecondOptions = prop(default_factory=_SecondOptions, description="Second's.")


class _First(Task[_FirstProperties, TaskOutputs]):
    """First."""

    type = "plait.one.First"
    Properties = _FirstProperties

    def run(self, props: _FirstProperties, ctx: RunContext) -> TaskOutputs:
        return TaskOutputs()


class _Second(Task[_SecondProperties, TaskOutputs]):
    """Second."""

    type = "plait.two.Second"
    Properties = _SecondProperties

    def run(self, props: _SecondProperties, ctx: RunContext) -> TaskOutputs:
        return TaskOutputs()


def test_two_plugins_nested_models_with_one_name_stay_apart() -> None:
    schema = flow_schema({"plait.one.First": _First, "plait.two.Second": _Second})
    definitions = schema["definitions"]

    def options_ref(type_id: str) -> str:
        branches = definitions[type_id]["properties"]["options"]["anyOf"]
        return next(b["$ref"] for b in branches if b != EXPRESSION)

    first, second = options_ref("plait.one.First"), options_ref("plait.two.Second")
    assert first != second
    name = first.removeprefix("#/definitions/")
    assert set(definitions[name]["properties"]) == {"size"}
    assert set(definitions[second.removeprefix("#/definitions/")]["properties"]) == {"colour"}


def test_generation_is_deterministic_whatever_the_registration_order() -> None:
    forward = flow_schema({"plait.one.First": _First, "plait.two.Second": _Second})
    backward = flow_schema({"plait.two.Second": _Second, "plait.one.First": _First})
    assert to_json(forward) == to_json(backward)
