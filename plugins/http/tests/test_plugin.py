"""plait-http as a plugin: registered with its aliases, documented schemas, runnable examples."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from plait.plugins import build_registry
from plait_http.download import Download
from plait_http.request import Request
from plait_sdk import Task
from plait_sdk.schema import outputs_schema, properties_schema
from plait_sdk.testing import PlaitRunner

TASKS: dict[type[Task[Any, Any]], tuple[str, ...]] = {
    Request: (
        "plait.http.Request",
        "io.kestra.plugin.core.http.Request",
        "io.kestra.plugin.fs.http.Request",
    ),
    Download: (
        "plait.http.Download",
        "io.kestra.plugin.core.http.Download",
        "io.kestra.plugin.fs.http.Download",
    ),
}


def test_task_types_are_registered_with_their_aliases():
    registry = build_registry(["plait-http"])

    for task, names in TASKS.items():
        for name in names:
            assert registry.find_task_type(name) is task, name
        owner = registry.owner_of(task.type)
        assert owner is not None
        assert owner.distribution == "plait-http"
        assert owner.task_types[task.type] == task.aliases


def _undocumented(schema: dict[str, Any]) -> list[str]:
    """Paths of properties, in the schema and its definitions, that lack a description."""
    missing = []
    objects = {"": schema, **{f"{name}.": d for name, d in schema.get("definitions", {}).items()}}
    for prefix, obj in objects.items():
        for name, spec in obj.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(prefix + name)
    return missing


@pytest.mark.parametrize("task", list(TASKS), ids=lambda t: t.type)
def test_every_property_and_output_is_described(task: type[Task[Any, Any]]):
    properties = properties_schema(task)

    assert _undocumented(properties) == []
    assert _undocumented(outputs_schema(task)) == []
    assert properties["required"] == ["uri"]
    assert properties["properties"]["method"]["default"] == "GET"
    method = properties["properties"]["method"]
    enums = [option["enum"] for option in [method, *method.get("anyOf", [])] if "enum" in option]
    assert enums == [["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]]
    assert task.title() != task.__name__


@pytest.mark.parametrize("task", list(TASKS), ids=lambda t: t.type)
def test_examples_use_known_task_types(task: type[Task[Any, Any]]):
    registry = build_registry(["plait-http"])

    assert task.examples
    for example in task.examples:
        flow = yaml.safe_load(example.flow)
        types = {t["type"] for t in flow["tasks"]}
        assert task.type in types, example.title
        assert all(registry.find_task_type(t) for t in types), example.title


@pytest.mark.parametrize("task", list(TASKS), ids=lambda t: t.type)
def test_first_example_runs_against_the_local_products_api(
    plait_runner: PlaitRunner, products_url: str, task: type[Task[Any, Any]]
):
    run = plait_runner.run_flow(
        task.examples[0].flow, inputs={"api_url": f"{products_url}/products"}
    )

    assert run.state == "SUCCESS", {t: r.error for t, r in run.tasks.items()}
    assert run.tasks["log"].state == "SUCCESS"
