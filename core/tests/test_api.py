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
