"""The task's documented examples run, and its README documents every property and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plait_duckdb.examples import (
    DATABASE_FILE,
    EXAMPLES,
    KESTRA_OUTPUT_FILES,
    PARAMETERS_FETCH_ONE,
    STORE_CSV_AGGREGATE,
)
from plait_duckdb.query import Query
from plait_sdk import Example
from plait_sdk.schema import output_names
from plait_sdk.testing import FlowRunResult, PlaitRunner

README = Path(__file__).parents[1] / "README.md"


def _run(plait_runner: PlaitRunner, example: Example) -> FlowRunResult:
    run = plait_runner.run_flow(example.flow)
    assert run.state == "SUCCESS", {tid: task.error for tid, task in run.tasks.items()}
    return run


def test_every_example_is_checked_here() -> None:
    assert Query.examples == EXAMPLES
    assert len(EXAMPLES) == 4


def test_store_example(plait_runner: PlaitRunner) -> None:
    run = _run(plait_runner, STORE_CSV_AGGREGATE)
    outputs = run.tasks["query"].outputs
    rows = [json.loads(line) for line in run.read(outputs["uri"]).decode().splitlines()]
    assert [row["brand"] for row in rows] == ["Apple", "Samsung"]
    assert rows[1]["avg_price"] == 899.5
    assert outputs["size"] == 2


def test_parameters_example(plait_runner: PlaitRunner) -> None:
    run = _run(plait_runner, PARAMETERS_FETCH_ONE)
    assert run.tasks["expensive"].outputs["row"] == {"products": 2, "top_price": "1299.00"}
    assert run.tasks["report"].outputs["value"] == "2 products, up to 1299.00"


def test_kestra_output_files_example(plait_runner: PlaitRunner) -> None:
    run = _run(plait_runner, KESTRA_OUTPUT_FILES)
    assert list(run.tasks["export"].outputs["outputFiles"]) == ["squares"]
    assert run.tasks["total"].outputs["row"] == {"total": sum(n * n for n in range(10))}


def test_database_file_example(plait_runner: PlaitRunner) -> None:
    run = _run(plait_runner, DATABASE_FILE)
    assert run.tasks["load"].outputs["databaseUri"].startswith("plait://")
    assert run.tasks["count"].outputs["row"] == {"events": 100, "last_label": "event 99"}


@pytest.mark.parametrize("example", [PARAMETERS_FETCH_ONE, KESTRA_OUTPUT_FILES, DATABASE_FILE])
def test_readme_shows_example(example: Example) -> None:
    assert example.flow in README.read_text("utf-8")


@pytest.mark.parametrize(
    "name", [*Query.Properties.model_fields, *output_names(Query), Query.type, *Query.aliases]
)
def test_readme_documents(name: str) -> None:
    assert f"`{name}`" in README.read_text("utf-8")
