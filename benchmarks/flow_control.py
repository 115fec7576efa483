"""Flow control: engine overhead of ForEach and Parallel at scale, their peak memory, and
whether their concurrency limits hold.

Measured, each case in its own fresh process so the memory figures stay apart:

- the 100-task `Return` chain of `kernel.py`: engine overhead per task (target < 2 ms);
- a ForEach over 1,000 and over 10,000 values, one `Return` child reading
  `{{ taskrun.value }}` per iteration: total time, overhead per iteration (goal < 1 ms) and
  the 10,000/1,000 time ratio (goal <= 12, i.e. linear);
- a Parallel of 1,000 `Return` tasks: total and per-task time;
- peak RSS (`ru_maxrss`) of each of these processes, next to that of a process that only
  created the engine;
- a Parallel of six one-second Sleeps (expected ~1 s) and a ForEach of four one-second Sleeps
  with `concurrencyLimit: 2` (expected ~2 s).

Times are for parse, validation and run of the flow on a warmed engine (one small run of the
same shape first); the median of `--repeat` runs is reported, with the minimum. Prints figures
and ratios; no figure is asserted.

    .venv/bin/python benchmarks/flow_control.py [--repeat 3] [--quick]
    .venv/bin/python benchmarks/flow_control.py --case foreach --size 10000  # one case only
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from kernel import chain  # benchmarks/kernel.py: this script's folder is on sys.path
from plait.api import Engine

FLOW = "io.kestra.plugin.core.flow"
SLEEP_CONCURRENCY_LIMIT = 2


def flow(flow_id: str, tasks: list[str]) -> str:
    """The YAML of a flow whose task list is ``tasks`` (lines, already indented)."""
    return "\n".join([f"id: {flow_id}", "namespace: bench", "tasks:", *tasks]) + "\n"


def foreach(values: int) -> str:
    """A ForEach over 0..values-1 (one after the other), one Return child per iteration."""
    listed = ", ".join(str(i) for i in range(values))
    return flow(
        "foreach",
        [
            "  - id: each",
            f"    type: {FLOW}.ForEach",
            f"    values: [{listed}]",
            "    tasks:",
            "      - id: ret",
            "        type: plait.core.Return",
            '        format: "{{ taskrun.value }}"',
        ],
    )


def parallel(tasks: int) -> str:
    """A Parallel of ``tasks`` Return tasks, all at once (concurrent: 0)."""
    lines = ["  - id: fan", f"    type: {FLOW}.Parallel", "    tasks:"]
    for i in range(tasks):
        lines += [f"      - id: r{i}", "        type: plait.core.Return", f'        format: "{i}"']
    return flow("parallel", lines)


def sleep_parallel(sleeps: int, duration: str = "PT1S") -> str:
    """A Parallel of ``sleeps`` Sleep tasks, all at once."""
    lines = ["  - id: fan", f"    type: {FLOW}.Parallel", "    tasks:"]
    for i in range(sleeps):
        lines += [
            f"      - id: s{i}",
            f"        type: {FLOW}.Sleep",
            f"        duration: {duration}",
        ]
    return flow("sleep_parallel", lines)


def sleep_foreach(sleeps: int, duration: str = "PT1S") -> str:
    """A ForEach of ``sleeps`` values, each a Sleep, two at a time."""
    listed = ", ".join(str(i) for i in range(sleeps))
    return flow(
        "sleep_foreach",
        [
            "  - id: each",
            f"    type: {FLOW}.ForEach",
            f"    values: [{listed}]",
            f"    concurrencyLimit: {SLEEP_CONCURRENCY_LIMIT}",
            "    tasks:",
            "      - id: nap",
            f"        type: {FLOW}.Sleep",
            f"        duration: {duration}",
        ],
    )


@dataclass(frozen=True)
class Case:
    build: Callable[[int], str]
    warm: Callable[[int], str]  # a small flow of the same shape, run once before timing


CASES: dict[str, Case] = {
    "chain": Case(chain, chain),
    "foreach": Case(foreach, lambda size: foreach(min(size, 100))),
    "parallel": Case(parallel, lambda size: parallel(min(size, 100))),
    "sleep-parallel": Case(sleep_parallel, lambda size: sleep_parallel(size, "PT0.01S")),
    "sleep-foreach": Case(sleep_foreach, lambda size: sleep_foreach(size, "PT0.01S")),
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Figures:
    seconds: list[float]  # one per timed run: parse, validation and run
    load_seconds: list[float]  # the parse and validation part of each
    peak_mb: float  # peak RSS at the end of the case


def run_case(case: str, size: int, repeat: int) -> Figures:
    """Run one case in this process ("baseline": only create and close an engine)."""
    seconds: list[float] = []
    load_seconds: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        engine = Engine.create(home=home, load_plugins=[])
        try:
            if case != "baseline":
                spec = CASES[case]
                check(engine, spec.warm(size), f"{case} warm-up")
                flow_text = spec.build(size)
                for _ in range(repeat):
                    started = time.perf_counter()
                    load_seconds.append(check(engine, flow_text, case))
                    seconds.append(time.perf_counter() - started)
        finally:
            engine.close()
    return Figures(seconds, load_seconds, peak_rss_mb())


def check(engine: Engine, flow_text: str, what: str) -> float:
    """Load and run a flow; the seconds the load took. A run that does not succeed is no
    measurement, so it stops the case."""
    started = time.perf_counter()
    flow = engine.load(flow_text)
    loaded = time.perf_counter() - started
    execution = engine.run(flow)
    if str(execution.state) != "SUCCESS":
        sys.exit(f"{what}: execution ended {execution.state}, not SUCCESS")
    return loaded


def spawn(case: str, size: int, repeat: int) -> Figures | None:
    """Run one case in a fresh interpreter; None (and its error printed) if it failed."""
    command = [sys.executable, __file__, "--case", case, "--size", str(size)]
    result = subprocess.run(
        [*command, "--repeat", str(repeat)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        print(f"  {case} ({size}) failed: {result.stderr.strip().splitlines()[-1:]}")
        return None
    return Figures(**json.loads(result.stdout.strip().splitlines()[-1]))


def seconds_of(figures: Figures | None) -> list[float]:
    return figures.seconds if figures is not None else []


def describe(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds):.3f} s, min {min(seconds):.3f} s"


def describe_load(figures: Figures | None) -> str:
    load = statistics.median(figures.load_seconds) if figures else 0.0
    return f"parse + validation {load:.3f} s of it"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100, help="length of the Return chain")
    parser.add_argument(
        "--values", type=int, nargs=2, default=[1000, 10000], help="the two ForEach sizes"
    )
    parser.add_argument("--parallel", type=int, default=1000, help="Return tasks in Parallel")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case")
    parser.add_argument("--quick", action="store_true", help="sizes / 10, one timed run")
    parser.add_argument("--case", choices=["baseline", *CASES], help="run only this case")
    parser.add_argument("--size", type=int, default=0, help="size for --case")
    args = parser.parse_args()

    if args.case:  # one case in this process: the parent reads the JSON line
        print(json.dumps(asdict(run_case(args.case, args.size, args.repeat))))
        return

    small, large = args.values
    tasks, fan, repeat = args.tasks, args.parallel, args.repeat
    if args.quick:
        small, large, fan, repeat = small // 10, large // 10, fan // 10, 1
    print(f"flow control benchmark: {repeat} timed run(s) per case, each case in a fresh process")

    baseline = spawn("baseline", 0, repeat)
    base_mb = baseline.peak_mb if baseline else 0.0
    rss: list[tuple[str, Figures | None]] = []

    figures = spawn("chain", tasks, repeat)
    rss.append((f"chain of {tasks}", figures))
    if seconds := seconds_of(figures):
        per_task = [s * 1000 / tasks for s in seconds]
        median = statistics.median(per_task)
        print(
            f"chain of {tasks} Return tasks: median {median:.2f} ms per task, "
            f"min {min(per_task):.2f} ms  (target < 2 ms: {median / 2:.2f}x of budget)"
        )

    medians: dict[int, float] = {}
    for values in (small, large):
        figures = spawn("foreach", values, repeat)
        rss.append((f"ForEach of {values:,}", figures))
        if seconds := seconds_of(figures):
            medians[values] = statistics.median(seconds)
            per_iteration = medians[values] * 1000 / values
            print(
                f"ForEach over {values:,} values: {describe(seconds)} "
                f"({describe_load(figures)}); {per_iteration:.3f} ms per iteration  "
                f"(goal < 1 ms: {per_iteration:.2f}x)"
            )
    if small in medians and large in medians:
        ratio = medians[large] / medians[small]
        goal = 1.2 * large / small  # linear, with a fifth of slack
        print(
            f"ForEach time ratio {large:,}/{small:,}: {ratio:.2f}  "
            f"(goal <= {goal:.0f}, i.e. linear: {ratio / goal:.2f}x of goal)"
        )

    figures = spawn("parallel", fan, repeat)
    rss.append((f"Parallel of {fan:,}", figures))
    if seconds := seconds_of(figures):
        median = statistics.median(seconds)
        print(
            f"Parallel of {fan:,} Return tasks: {describe(seconds)} "
            f"({describe_load(figures)}); {median * 1000 / fan:.3f} ms per task"
        )

    if baseline:
        print(f"peak RSS of a process that only created the engine: {base_mb:.0f} MB")
    for label, figures in rss:
        if figures is not None:
            peak = figures.peak_mb
            print(f"  peak RSS, {label}: {peak:.0f} MB (+{peak - base_mb:.0f} MB over baseline)")

    for case, sleeps, expected, label in (
        ("sleep-parallel", 6, 1.0, "Parallel of 6 Sleep PT1S"),
        (
            "sleep-foreach",
            4,
            2.0,
            f"ForEach of 4 Sleep PT1S, concurrencyLimit {SLEEP_CONCURRENCY_LIMIT}",
        ),
    ):
        if seconds := seconds_of(spawn(case, sleeps, repeat)):
            median = statistics.median(seconds)
            print(
                f"{label}: {describe(seconds)}  "
                f"(expected ~{expected:.0f} s: {median / expected:.2f}x)"
            )


if __name__ == "__main__":
    main()
