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
from plait_sdk.schema import EXPRESSION_REF, is_dynamic, output_names
from pydantic import BaseModel

if TYPE_CHECKING:
    from conftest import CliRunner

EXPRESSION = {"$ref": EXPRESSION_REF}


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
            *extra_keys,
        }
    assert set(definitions["flow.output"]["properties"]) == set(OUTPUT_KEYS)
    assert set(definitions["flow.pluginDefault"]["properties"]) == set(PLUGIN_DEFAULT_KEYS)
    assert set(common_task_properties()) | {"type"} == COMMON_TASK_KEYS


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
