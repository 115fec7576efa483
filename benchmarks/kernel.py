"""Kernel overhead: per-task cost on a chain of 100 Return tasks each reading the previous
output, and the cold start of `plait run` on a one-task flow.

Targets: under 2 ms of engine overhead per task; a one-task run in under 1 s wall from a cold
process. Prints figures and ratios; no figure is asserted.

    .venv/bin/python benchmarks/kernel.py [--tasks 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plait.api import Engine


def chain(tasks: int) -> str:
    lines = [
        "id: chain",
        "namespace: bench",
        "tasks:",
        "  - id: t0",
        "    type: plait.core.Return",
        '    format: "0"',
    ]
    for i in range(1, tasks):
        lines += [
            f"  - id: t{i}",
            "    type: plait.core.Return",
            f'    format: "{{{{ outputs.t{i - 1}.value }}}}+"',
        ]
    return "\n".join(lines) + "\n"


def per_task_overhead(tasks: int, repeat: int) -> list[float]:
    """Milliseconds per task for whole runs (parse, validate, render, state writes)."""
    flow_text = chain(tasks)
    results = []
    with tempfile.TemporaryDirectory() as home:
        engine = Engine.create(home=home)
        try:
            flow = engine.load(flow_text)
            engine.run(flow)  # warm: template cache, SQLite pages
            for _ in range(repeat):
                started = time.perf_counter()
                execution = engine.run(engine.load(flow_text))
                elapsed = time.perf_counter() - started
                assert str(execution.state) == "SUCCESS"
                results.append(elapsed * 1000 / tasks)
        finally:
            engine.close()
    return results


def cold_start(repeat: int) -> list[float]:
    """Seconds of wall time for `plait run` of a one-task flow in a fresh process."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        flow = Path(tmp) / "one.yml"
        flow.write_text(
            "id: one\nnamespace: bench\ntasks:\n  - id: hi\n    type: plait.core.Log\n"
            "    message: hi\n"
        )
        env = {"PLAIT_HOME": str(Path(tmp) / "home"), "PATH": "/usr/bin:/bin"}
        command = [str(Path(sys.executable).parent / "plait"), "run", str(flow)]
        subprocess.run(command, env=env, check=True, capture_output=True)  # create the home
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            results.append(time.perf_counter() - started)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    overhead = per_task_overhead(args.tasks, args.repeat)
    median = statistics.median(overhead)
    print(
        f"per-task overhead ({args.tasks} chained Return tasks, {args.repeat} runs): "
        f"median {median:.2f} ms, min {min(overhead):.2f} ms  "
        f"(target < 2 ms: {median / 2:.2f}x of budget)"
    )
    cold = cold_start(args.repeat)
    median_cold = statistics.median(cold)
    print(
        f"cold start of `plait run` on a one-task flow: median {median_cold:.3f} s, "
        f"min {min(cold):.3f} s  (target < 1 s: {median_cold:.2f}x of budget)"
    )


if __name__ == "__main__":
    main()
