"""JSON Schemas of a task type, generated from its declared models.

Draft-07, because that is the draft editors' YAML language servers handle fully. The same
schemas feed the kernel's validation of raw (unrendered) properties, the flow schema editors bind
to, and the reference docs, so they describe what a flow author may *write*:

- a dynamic property may hold a ``{{ ... }}`` expression whatever its type, so where the type
  does not already accept any text, the schema also accepts an expression string;
- titles pydantic derives from field names ("Contenttype") are left out: editors show a title
  above the description on hover, and a mangled field name there only adds noise;
- ``$ref`` never has siblings: draft-07 ignores them, which would hide a property's description.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from plait_sdk.task import DYNAMIC_KEY, Task

JSON_SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#"

EXPRESSION_DEFINITION = "expression"
"""Name, under ``definitions``, of the schema of an expression string."""

EXPRESSION_REF = f"#/definitions/{EXPRESSION_DEFINITION}"

EXPRESSION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"\{\{[\s\S]*\}\}|\{%[\s\S]*%\}",
    "description": "An expression such as `{{ outputs.task.value }}`, rendered when the task "
    "runs; the result must then fit the property's type.",
}

ANNOTATION_KEYS = frozenset(
    {
        "title",
        "description",
        "markdownDescription",
        "default",
        "examples",
        "deprecated",
        DYNAMIC_KEY,
    }
)
"""Keywords that describe a value without constraining it."""

_DATA_KEYS = frozenset({"default", "examples", "enum", "const"})
"""Keywords whose values are data, not schemas."""

_TEXT_CONSTRAINTS = frozenset({"enum", "const", "pattern", "format", "minLength", "maxLength"})


class _EditorSchema(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        """Never derive titles from field names; an explicit ``title=`` is still kept."""
        return False


def model_schema(model: type[BaseModel], *, mode: JsonSchemaMode = "validation") -> dict[str, Any]:
    """A model's schema with local references under ``#/definitions``."""
    schema = model.model_json_schema(
        ref_template="#/definitions/{model}", mode=mode, schema_generator=_EditorSchema
    )
    if "$defs" in schema:
        schema["definitions"] = schema.pop("$defs")
    return schema


def is_dynamic(property_schema: dict[str, Any]) -> bool:
    """Whether a property's value is rendered as an expression before validation."""
    return property_schema.get(DYNAMIC_KEY) is True


def accepts_text(schema: dict[str, Any]) -> bool:
    """Whether any string validates against ``schema`` (so an expression needs no extra case)."""
    if "$ref" in schema or "allOf" in schema:
        return False
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return any(accepts_text(branch) for branch in schema[key])
    if _TEXT_CONSTRAINTS & schema.keys():
        return False
    kind = schema.get("type")
    if kind is None:
        return True  # no type: anything goes
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def properties_schema(task: type[Task[Any, Any]]) -> dict[str, Any]:
    """What a flow may write in a task of this type, besides the keys every task has."""
    schema = model_schema(task.Properties)
    schema["title"] = task.type
    schema["description"] = task.description()
    definitions = schema.setdefault("definitions", {})
    loosened: set[str] = set()
    for name, prop in schema.get("properties", {}).items():
        if is_dynamic(prop):
            schema["properties"][name] = _accept_expressions(prop, definitions, loosened)
    if _refers_to_expression(schema):
        definitions[EXPRESSION_DEFINITION] = copy.deepcopy(EXPRESSION_SCHEMA)
    if not definitions:
        del schema["definitions"]
    return without_ref_siblings(schema)


def outputs_schema(task: type[Task[Any, Any]]) -> dict[str, Any]:
    """What the task's runs output, read by later tasks as ``outputs.<task id>.<name>``."""
    schema = model_schema(task.Outputs, mode="serialization")
    schema["title"] = f"{task.type} outputs"
    schema["description"] = (
        f"Outputs of a `{task.type}` task, read as `{{{{ outputs.<task id>.<name> }}}}`."
    )
    return without_ref_siblings(schema)


def output_names(task: type[Task[Any, Any]]) -> list[str]:
    """Names a flow may reference as ``outputs.<task id>.<name>``."""
    return [field.alias or name for name, field in task.Outputs.model_fields.items()]


def _accept_expressions(
    schema: dict[str, Any], definitions: dict[str, Any], loosened: set[str]
) -> dict[str, Any]:
    """``schema``, and every value nested in it, also accepting an expression.

    The renderer renders a dynamic property's whole value, nested maps and lists included, so
    an expression may stand anywhere inside it; nested fields declared ``dynamic=False`` (such as
    a discriminator) stay literal. ``loosened`` records the definitions already processed:
    they are shared, so each is loosened once, in place.
    """
    schema = _accept_expressions_inside(schema, definitions, loosened)
    if accepts_text(schema):
        return schema
    if set(schema) - ANNOTATION_KEYS == {"anyOf"}:
        return {**schema, "anyOf": [*schema["anyOf"], {"$ref": EXPRESSION_REF}]}
    annotations = {k: v for k, v in schema.items() if k in ANNOTATION_KEYS}
    constraints = {k: v for k, v in schema.items() if k not in ANNOTATION_KEYS}
    return {**annotations, "anyOf": [constraints, {"$ref": EXPRESSION_REF}]}


def _accept_expressions_inside(
    schema: dict[str, Any], definitions: dict[str, Any], loosened: set[str]
) -> dict[str, Any]:
    schema = dict(schema)
    ref = schema.get("$ref", "")
    name = ref.removeprefix("#/definitions/")
    if name != ref and name in definitions and name not in loosened:
        loosened.add(name)
        definitions[name] = _accept_expressions_inside(definitions[name], definitions, loosened)
    if isinstance(schema.get("properties"), dict):
        schema["properties"] = {
            key: prop
            if prop.get(DYNAMIC_KEY) is False
            else _accept_expressions(prop, definitions, loosened)
            for key, prop in schema["properties"].items()
        }
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = _accept_expressions(schema[key], definitions, loosened)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            schema[key] = [
                _accept_expressions_inside(branch, definitions, loosened) for branch in schema[key]
            ]
    return schema


def _refers_to_expression(node: Any) -> bool:
    """Whether ``node`` holds a ``$ref`` to the expression definition, which must then exist:
    top-level properties refer to it as well as loosened nested definitions."""
    if isinstance(node, list):
        return any(_refers_to_expression(item) for item in node)
    if not isinstance(node, dict):
        return False
    return node.get("$ref") == EXPRESSION_REF or any(
        _refers_to_expression(value) for key, value in node.items() if key not in _DATA_KEYS
    )


def without_ref_siblings(node: Any) -> Any:
    """Move a ``$ref`` that has siblings into an ``allOf``, recursively (see the module doc)."""
    if isinstance(node, list):
        return [without_ref_siblings(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {
        key: value if key in _DATA_KEYS else without_ref_siblings(value)
        for key, value in node.items()
    }
    if "$ref" in result and len(result) > 1:
        ref = result.pop("$ref")
        result["allOf"] = [{"$ref": ref}, *result.get("allOf", [])]
    return result
