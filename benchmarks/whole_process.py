"""`plait run` measured as a user meets it, a whole process each time: the cold start of a
one-task flow (one `Log` task), and the engine's overhead per task on a chain of 100 `Return`
tasks each reading the previous output, as (chain - one-task) / 99, so start-up is not counted
in the per-task figure. `kernel.py` measures the chain inside one process; this one pays every
per-process cost (imports, template compilation, the first state writes).

Targets: cold start under 0.3 s; under 1 ms per chained task. Both runs alternate, one warm-up
each (the home, the bytecode caches); medians of wall time, with the CPU time (user + system,
less sensitive to a busy machine) beside them, and the per-task figure from the fastest runs
too (a difference of two medians moves with the machine's load). Also lists the heavy modules a
one-task run must not import. No figure is asserted.

    .venv/bin/python benchmarks/whole_process.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kernel import chain

PLAIT = Path(sys.executable).parent / "plait"
COLD_TARGET = 0.3
PER_TASK_TARGET_MS = 1.0
ONE_TASK = (
    "id: one\nnamespace: bench\ntasks:\n  - id: hi\n    type: plait.core.Log\n    message: hi\n"
)
NOT_FOR_A_LOG_TASK = (
    "docker",
    "requests",
    "httpx",
    "croniter",
    "jq",
    "duckdb",
    "starlette",
    "uvicorn",
    "polars",
    "urllib.request",
)
"""Modules only some tasks, triggers or commands need: a Log task must run without them."""
LOADED = """\
import runpy, sys
sys.argv = ["plait", "run", sys.argv[1]]
try:
    runpy.run_path({plait!r}, run_name="__main__")
except SystemExit:
    pass
print("loaded:", *(m for m in {modules!r} if m in sys.modules))
"""
"""Runs `plait run` as the entry point script does, then names the heavy modules loaded."""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def loaded_modules(flow: Path, env: dict[str, str]) -> list[str]:
    """Which of ``NOT_FOR_A_LOG_TASK`` a `plait run` of ``flow`` imported."""
    code = LOADED.format(plait=str(PLAIT), modules=NOT_FOR_A_LOG_TASK)
    done = subprocess.run(
        [sys.executable, "-c", code, str(flow)], env=env, capture_output=True, text=True
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("loaded:")]
    if not lines:
        sys.exit(f"could not list the modules of a run:\n{done.stdout}\n{done.stderr}")
    return lines[-1].split()[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, hundred = Path(tmp) / "one.yml", Path(tmp) / "chain.yml"
        one.write_text(ONE_TASK)
        hundred.write_text(chain(100))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PLAIT_HOME"] = str(Path(tmp) / "home")
        flows = {"one": one, "chain": hundred}
        commands = {name: [str(PLAIT), "run", str(flow)] for name, flow in flows.items()}
        for command in commands.values():
            timed(command, env)  # warm-up: the home, bytecode caches
        walls: dict[str, list[float]] = {"one": [], "chain": []}
        cpus: dict[str, list[float]] = {"one": [], "chain": []}
        for _ in range(args.repeat):
            for name, command in commands.items():
                wall, cpu = timed(command, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
        heavy = loaded_modules(one, env)
    wall = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    fastest = {name: min(values) for name, values in walls.items()}
    print(
        f"cold start, `plait run` of a one-task flow: median {wall['one']:.3f} s wall, "
        f"{cpu['one']:.3f} s CPU (target < {COLD_TARGET} s: {wall['one'] / COLD_TARGET:.2f}x)"
    )
    per_task = (wall["chain"] - wall["one"]) * 1000 / 99
    per_task_cpu = (cpu["chain"] - cpu["one"]) * 1000 / 99
    per_task_fastest = (fastest["chain"] - fastest["one"]) * 1000 / 99
    print(
        f"100-task chain as a whole process: median {wall['chain']:.3f} s; per task "
        f"{per_task:.2f} ms wall, {per_task_cpu:.2f} ms CPU, {per_task_fastest:.2f} ms from "
        f"the fastest runs (target < {PER_TASK_TARGET_MS} ms: {per_task / PER_TASK_TARGET_MS:.2f}x)"
    )
    print(f"heavy modules a Log task imported: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
