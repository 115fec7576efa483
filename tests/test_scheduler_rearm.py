"""The scheduler re-reads the stored flows only when they changed (the repository's flows
stamp), yet a flow saved, changed or deleted — by this process or another on the same home —
is seen on the very next tick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.api import Engine
from plait.server.runtime import ServerRuntime
from plait.server.scheduler import Scheduler
from plait.state.sqlite import SqliteRepository

TRIGGERED = """\
id: nightly
namespace: sched.rearm
tasks:
  - id: hello
    type: plait.core.Log
    message: hello
triggers:
  - id: {trigger}
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 3 * * *"
"""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine.create(home=tmp_path / "home", load_plugins=[])
    yield engine
    engine.close()


def _trigger_ids(scheduler: Scheduler) -> list[str]:
    return [armed.definition.id for armed in scheduler.armed()]


def test_flows_are_read_again_only_when_they_changed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler = Scheduler(ServerRuntime(engine))
    reads = 0
    list_flows = engine.repository.list_flows

    def counted(**kwargs: object) -> object:
        nonlocal reads
        reads += 1
        return list_flows(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.repository, "list_flows", counted)

    assert _trigger_ids(scheduler) == []
    engine.repository.save_flow("sched.rearm", "nightly", TRIGGERED.format(trigger="first"))
    assert _trigger_ids(scheduler) == ["first"]
    for _ in range(5):  # ticks with nothing changed: no flow is read
        assert _trigger_ids(scheduler) == ["first"]
    assert reads == 2

    engine.repository.save_flow("sched.rearm", "nightly", TRIGGERED.format(trigger="second"))
    assert _trigger_ids(scheduler) == ["second"]

    other = SqliteRepository(engine.repository.path)  # another process on the same home
    try:
        other.delete_flow("sched.rearm", "nightly")
        assert _trigger_ids(scheduler) == []
        other.save_flow("sched.rearm", "nightly", TRIGGERED.format(trigger="second"))
        assert _trigger_ids(scheduler) == ["second"]  # revived with the same source
    finally:
        other.close()
    assert reads == 5
