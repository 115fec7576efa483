"""The flow-control examples run as their comments say."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from plait.api import Engine
from support.flows import states

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "flow-control"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SECRET_GATE_OPEN", raising=False)
    engine = Engine.create(home=tmp_path / "home", load_plugins=[])
    yield engine
    engine.close()


def test_every_example_is_covered() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.yml")) == [
        "branches",
        "nightly",
        "parallel",
        "recover",
    ]


def test_nightly(engine: Engine) -> None:
    execution = engine.run(EXAMPLES / "nightly.yml")
    assert str(execution.state) == "SUCCESS"
    assert execution.outputs == {"regions": "eu, us, asia"}
    assert "report[eu]" not in states(execution)  # report is keyed by its loop's value
    reports = [r for r in execution.task_runs if r.task_id == "report"]
    assert len(reports) == 2  # asia takes no branch
    assert "alert" not in states(execution) and states(execution)["cleanup"] == "SUCCESS"


def test_parallel_takes_about_one_second(engine: Engine) -> None:
    started = time.monotonic()
    execution = engine.run(EXAMPLES / "parallel.yml")
    assert str(execution.state) == "SUCCESS"
    assert time.monotonic() - started < 1.9  # serial would be 2 s at least
    assert [e.message for e in engine.repository.logs(execution.id)] == ["one two"]


@pytest.mark.parametrize(
    ("size", "taken"),
    [(3, {"say_small", "odd", "only_when_big"}), (12, {"say_big", "even", "only_when_big"})],
)
def test_branches(engine: Engine, size: int, taken: set[str]) -> None:
    execution = engine.run(EXAMPLES / "branches.yml", {"size": size})
    assert str(execution.state) == "SUCCESS"
    assert {r.task_id for r in execution.task_runs} == {"big", "by_parity", *taken}
    expected = "SUCCESS" if size > 10 else "SKIPPED"
    assert str(execution.task_run("only_when_big").state) == expected


def test_recover_fails_then_restarts_after_the_fix(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = engine.run(EXAMPLES / "recover.yml")
    assert str(failed.state) == "FAILED"
    assert states(failed) == {
        "tolerant": "WARNING",
        "flaky": "FAILED",
        "gate": "FAILED",
        "alert": "SUCCESS",
        "cleanup": "SUCCESS",
    }
    monkeypatch.setenv("SECRET_GATE_OPEN", base64.b64encode(b"yes").decode())
    done = engine.restart(failed.id)
    assert str(done.state) == "WARNING"  # the tolerated failure still counts as a warning
    assert states(done)["gate"] == "SUCCESS" and states(done)["after"] == "SUCCESS"
    assert "alert" not in states(done)
