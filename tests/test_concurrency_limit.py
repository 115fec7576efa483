"""A flow's ``concurrency`` holds across processes sharing one home: several `plait run` at
once, limit 1, with each behaviour."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOW = """\
id: limited
namespace: dev
concurrency:
  limit: 1
  behavior: {behavior}
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: {duration}
"""


def run_several(tmp_path: Path, behavior: str, duration: str, count: int = 3) -> list[dict]:
    """Start ``count`` runs at once and wait for them: (exit code, execution document) each."""
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW.format(behavior=behavior, duration=duration))
    env = {**os.environ, "PLAIT_HOME": str(tmp_path / "home")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "plait.cli", "run", str(flow), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    documents = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in err
        documents.append((proc.returncode, json.loads(out)))
    return documents


def running_spans(document: dict) -> list[tuple[str, str]]:
    history = document["state"]["histories"]
    starts = [h["date"] for h in history if h["state"] == "RUNNING"]
    return [(starts[0], history[-1]["date"])] if starts else []


@pytest.mark.slow
def test_queue_runs_them_one_at_a_time(tmp_path: Path) -> None:
    results = run_several(tmp_path, "QUEUE", "PT1S")
    assert [code for code, _ in results] == [0, 0, 0]
    docs = [doc for _, doc in results]
    assert all(d["state"]["current"] == "SUCCESS" for d in docs)
    spans = sorted(span for d in docs for span in running_spans(d))
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
    queued = [d for d in docs if "QUEUED" in [h["state"] for h in d["state"]["histories"]]]
    assert len(queued) >= 2


@pytest.mark.slow
@pytest.mark.parametrize(("behavior", "others"), [("CANCEL", "CANCELLED"), ("FAIL", "FAILED")])
def test_cancel_and_fail_end_the_others_without_running(
    tmp_path: Path, behavior: str, others: str
) -> None:
    # The first run sleeps long enough for the others to start (even on a loaded machine).
    results = run_several(tmp_path, behavior, "PT5S")
    states = sorted(doc["state"]["current"] for _, doc in results)
    assert states == sorted(["SUCCESS", others, others])
    for code, doc in results:
        if doc["state"]["current"] != "SUCCESS":
            assert doc["taskRunList"] == []
            assert code == 1  # it did not run
