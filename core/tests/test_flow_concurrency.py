"""Concurrency is real: branches run at the same time on worker threads, within their limit.

Each test checks the overlap of the recorded attempts (which cannot flake: a limit of 2 never
lets 3 run together) and a loose bound on the wall time that only a serial run would break.
The figures themselves are in benchmarks/flow_control.py.
"""

from __future__ import annotations

import time

from plait.api import Engine
from support.flows import max_overlap, run_text, runs_of

FLOW = "io.kestra.plugin.core.flow"


def test_parallel_of_six_one_second_sleeps_takes_about_one_second(engine: Engine) -> None:
    sleeps = "".join(
        f"      - id: nap{i}\n        type: {FLOW}.Sleep\n        duration: PT1S\n"
        for i in range(6)
    )
    started = time.monotonic()
    execution = run_text(
        engine,
        f"id: par\nnamespace: dev\ntasks:\n  - id: all\n    type: {FLOW}.Parallel\n"
        f"    tasks:\n{sleeps}",
    )
    elapsed = time.monotonic() - started
    assert str(execution.state) == "SUCCESS"
    naps = [r for r in execution.task_runs if r.task_id.startswith("nap")]
    assert max_overlap(naps) == 6
    assert 1.0 <= elapsed < 4.0, f"six 1 s sleeps in parallel took {elapsed:.2f}s (serial: 6 s)"


def test_parallel_concurrent_limits_the_branches(engine: Engine) -> None:
    sleeps = "".join(
        f"      - id: nap{i}\n        type: {FLOW}.Sleep\n        duration: PT0.3S\n"
        for i in range(6)
    )
    execution = run_text(
        engine,
        f"id: par\nnamespace: dev\ntasks:\n  - id: all\n    type: {FLOW}.Parallel\n"
        f"    concurrent: 3\n    tasks:\n{sleeps}",
    )
    naps = [r for r in execution.task_runs if r.task_id.startswith("nap")]
    assert max_overlap(naps) == 3


def test_foreach_concurrency_limit_two_runs_four_sleeps_in_two_rounds(engine: Engine) -> None:
    started = time.monotonic()
    execution = run_text(
        engine,
        f"""\
        id: loop
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: [1, 2, 3, 4]
            concurrencyLimit: 2
            tasks:
              - id: nap
                type: {FLOW}.Sleep
                duration: PT1S
        """,
    )
    elapsed = time.monotonic() - started
    assert str(execution.state) == "SUCCESS"
    assert max_overlap(runs_of(execution, "nap")) == 2
    assert 2.0 <= elapsed < 3.9, f"took {elapsed:.2f}s (two rounds: 2 s; serial: 4 s)"


def test_foreach_runs_the_tasks_of_one_value_in_order(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: order
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: [a, b, c]
            concurrencyLimit: 0
            tasks:
              - id: first
                type: {FLOW}.Sleep
                duration: PT0.2S
              - id: second
                type: plait.core.Return
                format: "{{{{ taskrun.value }}}}"
        """,
    )
    for value in "abc":
        first = next(r for r in runs_of(execution, "first") if r.value == value)
        second = next(r for r in runs_of(execution, "second") if r.value == value)
        assert second.started >= first.ended
    assert max_overlap(runs_of(execution, "first")) == 3
