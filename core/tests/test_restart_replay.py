"""Restart (same execution, from where it failed) and replay (a new execution from a task)."""

from __future__ import annotations

from pathlib import Path

import pytest
from plait.api import Engine
from plait.errors import PlaitError
from plait.state.model import State
from support.flows import run_text, runs_of, states

FLOW = "io.kestra.plugin.core.flow"


def _gated(tmp_path: Path) -> str:
    """A flow whose `gate` fails until the file `open` exists, with a loop before it and
    handlers; `count.txt` gets a line each time `counted` really runs."""
    return f"""\
        id: gated
        namespace: dev
        tasks:
          - id: before
            type: test.Count
            path: {tmp_path / "count.txt"}
            label: before
          - id: each
            type: {FLOW}.ForEach
            values: [a, b]
            tasks:
              - id: counted
                type: test.Count
                path: {tmp_path / "count.txt"}
                label: "{{{{ taskrun.value }}}}"
              - id: value
                type: plait.core.Return
                format: "v-{{{{ taskrun.value }}}}"
              - id: gate
                type: test.Gate
                path: {tmp_path / "open"}
                runIf: "{{{{ taskrun.value == 'b' }}}}"
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.value['a'].value }}}} {{{{ outputs.value['b'].value }}}}"
        errors:
          - id: alert
            type: plait.core.Log
            message: failed
        """


def test_restart_after_fixing_the_cause_reruns_only_what_failed(
    engine: Engine, tmp_path: Path
) -> None:
    failed = run_text(engine, _gated(tmp_path))
    assert str(failed.state) == "FAILED"
    assert states(failed)["alert"] == "SUCCESS"
    kept = {
        (r.task_id, r.value): (r.id, r.outputs)
        for r in failed.task_runs
        if r.state is State.SUCCESS and r.task_id != "alert"
    }
    (tmp_path / "open").touch()

    restarted = engine.restart(failed.id)

    assert restarted.id == failed.id
    assert str(restarted.state) == "SUCCESS", states(restarted)
    assert restarted.attempt_number == 2
    for run in restarted.task_runs:
        if (run.task_id, run.value) in kept:
            assert (run.id, run.outputs) == kept[(run.task_id, run.value)]
    gate = runs_of(restarted, "gate")
    [gate_b] = [r for r in gate if r.value == "b"]
    assert [str(a.state) for a in gate_b.attempts] == ["FAILED", "SUCCESS"]
    assert "RESTARTED" in [str(c.state) for c in gate_b.history]
    assert runs_of(restarted, "alert") == []  # the errors handler's run was removed
    assert (tmp_path / "count.txt").read_text().split() == ["before", "a", "b"]
    assert restarted.task_run("after").outputs == {"value": "v-a v-b"}
    stored = engine.repository.get(failed.id)
    assert stored.to_document() == restarted.to_document()


def test_restarting_a_successful_execution_is_refused(engine: Engine) -> None:
    done = run_text(
        engine,
        "id: ok\nnamespace: dev\ntasks:\n  - id: a\n    type: plait.core.Log\n    message: hi\n",
    )
    with pytest.raises(PlaitError, match="ended SUCCESS: there is nothing to restart"):
        engine.restart(done.id)


def test_replay_from_a_task_keeps_what_ran_before(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "open").touch()
    first = run_text(engine, _gated(tmp_path))
    assert str(first.state) == "SUCCESS"

    replayed = engine.replay(first.id, start="after")

    assert replayed.id != first.id and replayed.original_id == first.id
    assert str(replayed.state) == "SUCCESS"
    assert (tmp_path / "count.txt").read_text().split() == ["before", "a", "b"]
    assert replayed.task_run("after").outputs == {"value": "v-a v-b"}
    assert {r.id for r in replayed.task_runs}.isdisjoint({r.id for r in first.task_runs})


def test_replay_from_a_loop_child_reruns_it_for_every_value(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "open").touch()
    first = run_text(engine, _gated(tmp_path))

    replayed = engine.replay(first.id, start="counted")

    assert str(replayed.state) == "SUCCESS", states(replayed)
    assert (tmp_path / "count.txt").read_text().split() == ["before", "a", "b", "a", "b"]


def test_replay_from_one_task_run_of_a_loop_keeps_the_other_values(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "open").touch()
    first = run_text(engine, _gated(tmp_path))
    counted_b = next(r for r in runs_of(first, "counted") if r.value == "b")

    replayed = engine.replay(first.id, start=counted_b.id)

    assert str(replayed.state) == "SUCCESS", states(replayed)
    assert (tmp_path / "count.txt").read_text().split() == ["before", "a", "b", "b"]


def test_replay_without_a_task_runs_everything_again(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "open").touch()
    first = run_text(engine, _gated(tmp_path))
    replayed = engine.replay(first.id)
    assert str(replayed.state) == "SUCCESS"
    assert (tmp_path / "count.txt").read_text().split() == ["before", "a", "b"] * 2


def test_replay_names_an_unknown_task(engine: Engine, tmp_path: Path) -> None:
    first = run_text(engine, _gated(tmp_path))
    with pytest.raises(PlaitError, match="has no task run or task 'nope'"):
        engine.replay(first.id, start="nope")


def test_replay_copies_the_files_of_the_kept_runs(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "data.txt"
    source.write_text("payload")
    first = engine.run(
        "id: files\nnamespace: dev\ninputs:\n  - id: file\n    type: FILE\n"
        'tasks:\n  - id: show\n    type: plait.core.Return\n    format: "{{ inputs.file }}"\n'
        '  - id: read\n    type: plait.core.Return\n    format: "{{ read(inputs.file) }}"\n',
        {"file": str(source)},
    )
    replayed = engine.replay(first.id, start="read")
    assert str(replayed.state) == "SUCCESS", states(replayed)
    assert replayed.task_run("read").outputs == {"value": "payload"}
    assert f"/executions/{replayed.id}/" in replayed.inputs["file"]
