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


def test_a_map_given_to_text_or_list_property_prints_as_json(tmp_path: Path):
    """Kestra renders ``message: "{{ map }}"`` to the map's JSON text; a Log's message accepts
    text or a list of texts, so the map must not be kept as a map."""
    flow = {
        "id": "m",
        "namespace": "dev",
        "tasks": [
            {"id": "log", "type": "plait.core.Log", "message": "{{ {'a': 1, 'b': [1, 2]} }}"},
            {"id": "many", "type": "plait.core.Log", "message": "{{ ['x', 'y'] }}"},
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
    assert {"x", "y"} <= set(messages)
