"""The Python API: run_flow with YAML text or a path."""

from __future__ import annotations

import json
from pathlib import Path

import plait
import pytest
from plait.errors import PlaitError


def test_run_flow_accepts_long_one_line_flow_text(tmp_path: Path):
    flow = {
        "id": "long",
        "namespace": "dev",
        "tasks": [{"id": "r", "type": "plait.core.Return", "format": "x" * 400}],
    }
    execution = plait.run_flow(json.dumps(flow), home=tmp_path)
    assert str(execution.state) == "SUCCESS"
    assert execution.task_run("r").outputs == {"value": "x" * 400}


def test_run_flow_accepts_a_path(tmp_path: Path):
    path = tmp_path / "flow.yml"
    path.write_text(
        "id: p\nnamespace: dev\ntasks:\n  - id: r\n    type: plait.core.Return\n"
        "    format: '{{ flow.id }}'\n"
    )
    execution = plait.run_flow(str(path), home=tmp_path / "home")
    assert execution.task_run("r").outputs == {"value": "p"}


def test_run_flow_names_a_missing_flow_file(tmp_path: Path):
    with pytest.raises(PlaitError, match=r"flow file not found: .*missing\.yml"):
        plait.run_flow(str(tmp_path / "missing.yml"), home=tmp_path / "home")


def test_a_value_given_to_a_text_or_list_property_prints_as_text(tmp_path: Path):
    """Kestra renders ``message: "{{ map }}"`` to the map's JSON text and a number to its digits
    (blueprint parse-twitter-json-payload logs numbers); a Log's message accepts text or a list
    of texts, so only a list is kept as it is."""
    flow = {
        "id": "m",
        "namespace": "dev",
        "tasks": [
            {"id": "log", "type": "plait.core.Log", "message": "{{ {'a': 1, 'b': [1, 2]} }}"},
            {"id": "many", "type": "plait.core.Log", "message": "{{ ['x', 'y'] }}"},
            {"id": "number", "type": "plait.core.Log", "message": "{{ 40 + 2 }}"},
            {"id": "boolean", "type": "plait.core.Log", "message": "{{ 1 == 1 }}"},
        ],
    }
    execution = plait.run_flow(json.dumps(flow), home=tmp_path)
    assert str(execution.state) == "SUCCESS"
    engine = plait.Engine.create(home=tmp_path)
    try:
        messages = [entry.message for entry in engine.repository.logs(execution.id)]
    finally:
        engine.close()
    assert '{"a":1,"b":[1,2]}' in messages
    assert {"x", "y", "42", "true"} <= set(messages)


def test_envs_shows_only_kestra_prefixed_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Kestra's ``envs`` variable: ``KESTRA_TEST1`` reads as ``envs.test1`` (RunContextCache,
    Kestra flow valids/variables.yaml); other environment variables stay hidden."""
    monkeypatch.setenv("KESTRA_TEST1", "true")
    monkeypatch.setenv("PLAIT_TOKEN_OF_SOMEONE", "hidden")
    flow = {
        "id": "e",
        "namespace": "dev",
        "tasks": [{"id": "r", "type": "plait.core.Return", "format": "{{ envs }}"}],
    }
    execution = plait.run_flow(json.dumps(flow), home=tmp_path)
    value = json.loads(execution.task_run("r").outputs["value"])
    assert value["test1"] == "true"
    assert "plait_token_of_someone" not in value and "hidden" not in json.dumps(value)
