"""A task type's schemas as the SDK generates them: what a flow may write, expressions included."""

from __future__ import annotations

from typing import Any, Literal

from plait_sdk import RunContext, Task, TaskOutputs, TaskProperties, output, prop
from plait_sdk.schema import (
    EXPRESSION_REF,
    JSON_SCHEMA_DRAFT,
    accepts_text,
    output_names,
    outputs_schema,
    properties_schema,
)
from pydantic import BaseModel, ConfigDict, Field

EXPRESSION = {"$ref": EXPRESSION_REF}


class Limits(BaseModel):
    """Nested limits."""

    model_config = ConfigDict(extra="forbid")

    count: int = prop(1, description="How many.")
    mode: Literal["A", "B"] = prop("A", description="Which mode.", dynamic=False)
    label: str = Field("x", description="A plain pydantic field.")


class SampleProperties(TaskProperties):
    text: str = prop(description="Some text.")
    number: int = prop(3, description="A rendered number.")
    flag: bool = prop(False, description="A literal flag.", dynamic=False)
    choice: Literal["X", "Y"] = prop("X", description="A rendered choice.")
    fixed_choice: Literal["X", "Y"] = prop("X", description="A literal choice.", dynamic=False)
    limits: Limits = prop(default_factory=Limits, description="Nested limits.")
    literal_limits: Limits | None = prop(None, description="Not rendered.", dynamic=False)
    numbers: list[int] | None = prop(None, description="Rendered numbers.")
    renamed: str | None = prop(None, alias="other-name", description="Has an alias.")


class SampleOutputs(TaskOutputs):
    value: int = output(description="The value.")
    note: str | None = output(None, description="A note.")


class Sample(Task[SampleProperties, SampleOutputs]):
    """Do a sample thing.

    Longer explanation.
    """

    type = "plait.test.Sample"
    aliases = ("io.kestra.test.Sample",)
    Properties = SampleProperties
    Outputs = SampleOutputs

    def run(self, props: SampleProperties, ctx: RunContext) -> SampleOutputs:
        return SampleOutputs(value=props.number)


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return list(schema.get("anyOf", []))


def test_properties_schema_is_draft_07_ready_for_editors() -> None:
    schema = properties_schema(Sample)
    assert schema["title"] == "plait.test.Sample"
    assert schema["description"].startswith("Do a sample thing.")
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["text"]
    assert set(schema["properties"]) == {
        "text",
        "number",
        "flag",
        "choice",
        "fixed_choice",
        "limits",
        "literal_limits",
        "numbers",
        "other-name",
    }
    assert "$defs" not in schema
    assert JSON_SCHEMA_DRAFT.startswith("http://json-schema.org/draft-07/")
    # no titles made up from field names ("Fixed Choice"): they would head every tooltip
    assert all("title" not in p for p in schema["properties"].values())


def test_dynamic_non_text_properties_also_accept_an_expression() -> None:
    props = properties_schema(Sample)["properties"]
    assert props["number"]["anyOf"] == [{"type": "integer"}, EXPRESSION]
    assert props["number"]["default"] == 3
    assert props["number"]["x-dynamic"] is True
    assert EXPRESSION in _branches(props["choice"])
    assert EXPRESSION in _branches(props["numbers"])
    assert EXPRESSION in _branches(props["limits"])
    # already text: no second way to say "a string"
    assert props["text"] == {"description": "Some text.", "type": "string", "x-dynamic": True}


def test_literal_properties_accept_only_their_type() -> None:
    props = properties_schema(Sample)["properties"]
    assert props["flag"] == {
        "default": False,
        "description": "A literal flag.",
        "type": "boolean",
        "x-dynamic": False,
    }
    assert EXPRESSION not in _branches(props["fixed_choice"])
    assert "$ref" not in str(props["fixed_choice"])


def test_values_nested_in_a_dynamic_property_accept_expressions_but_literal_fields() -> None:
    schema = properties_schema(Sample)
    limits = schema["definitions"]["Limits"]["properties"]
    assert EXPRESSION in _branches(limits["count"])
    assert EXPRESSION not in _branches(limits["mode"])  # declared dynamic=False
    assert limits["label"]["type"] == "string"
    numbers = schema["properties"]["numbers"]["anyOf"][0]
    assert numbers["items"] == {"anyOf": [{"type": "integer"}, EXPRESSION]}
    assert schema["definitions"]["expression"]["type"] == "string"


def test_ref_never_has_siblings() -> None:
    """Draft-07 ignores keywords next to $ref: the description would vanish in editors."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                assert set(node) == {"$ref"}, node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    schema = properties_schema(Sample)
    walk(schema)
    assert schema["properties"]["literal_limits"]["description"] == "Not rendered."


def test_expression_schema_pattern() -> None:
    import re

    pattern = re.compile(properties_schema(Sample)["definitions"]["expression"]["pattern"])
    assert pattern.search("{{ inputs.count }}")
    assert pattern.search("{% if x %}1{% endif %}")
    assert pattern.search("prefix {{ a\n | b }} suffix")
    assert not pattern.search("plain text")
    assert not pattern.search("{ not: an expression }")


def test_accepts_text() -> None:
    assert accepts_text({})
    assert accepts_text({"type": "string"})
    assert accepts_text({"anyOf": [{"type": "integer"}, {"type": "string"}]})
    assert not accepts_text({"type": "string", "enum": ["A"]})
    assert not accepts_text({"type": "string", "format": "duration"})
    assert not accepts_text({"$ref": "#/definitions/X"})
    assert not accepts_text({"type": "integer"})


def test_outputs_schema_and_names() -> None:
    schema = outputs_schema(Sample)
    assert schema["title"] == "plait.test.Sample outputs"
    assert set(schema["properties"]) == {"value", "note"}
    assert schema["required"] == ["value"]
    assert "{{ outputs.<task id>.<name> }}" in schema["description"]
    assert output_names(Sample) == ["value", "note"]
