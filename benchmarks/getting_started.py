"""The guide's getting-started pipeline (PROCESS runner, warm environment cache) against a plain
script doing the same three steps in one process: fetch the products, shape them with polars and
write a CSV, aggregate it with DuckDB into JSON lines. No pip step on the plain side: its
environment already has polars and DuckDB, as the warm cache has polars.

The guide's flow runs unmodified against the data set served on 127.0.0.1 (no internet), two
ways, each timed against the plain script (`python plain.py`, a whole process) run in turn:

- warm engine: the flow submitted to an engine already running (the Engine API in this process,
  as a server or a scheduler runs it) - the figure the target is about;
- `plait run`: a whole process per run, the engine's start-up included.

Target: warm pipeline under 1.5x the plain script. Prints the figures, the ratios and where
plait's time goes (the split, from the execution documents):

- engine: the run minus its three task runs (parsing, rendering, state, storage);
- environment: the Python task minus the same script run directly in its virtual environment
  (environment lookup, skipped beforeCommands, shell, process supervision, the script's
  bootstrap);
- task work: the rest of the three task runs (HTTP request, the script, the DuckDB query).

No figure is asserted.

    .venv/bin/python benchmarks/getting_started.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from plait.api import Engine

REPO = Path(__file__).resolve().parent.parent
FLOW = REPO / "core" / "tests" / "data" / "flows" / "guide_getting_started_process.yml"
"""The guide's PROCESS flow, verbatim (tests/test_guide_flows.py checks the copy)."""
PLAIT = Path(sys.executable).parent / "plait"
TARGET = 1.5

POLARS_STEP = """\
import json, sys, urllib.request
import polars as pl
data = json.loads(urllib.request.urlopen(sys.argv[1]).read())["products"]
df = pl.from_dicts(data)
df.glimpse()
df.select(["brand", "price"]).write_csv(sys.argv[2] + "/products.csv")
"""

PLAIN = (
    POLARS_STEP
    + """\
import duckdb
duckdb.connect().execute(f'''
COPY (SELECT brand, round(avg(price), 2) as avg_price
FROM read_csv_auto('{sys.argv[2]}/products.csv', header=True)
GROUP BY brand
ORDER BY avg_price DESC) TO '{sys.argv[2]}/result.jsonl' (FORMAT JSON)
''')
"""
)


def products_api() -> ModuleType:
    spec = importlib.util.spec_from_file_location("products_api", REPO / "examples/products_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean_env(**extra: str) -> dict[str, str]:
    """This environment, writing bytecode caches as an installed plait would have them."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    return {**env, **extra}


def plain_environment(folder: Path) -> Path:
    """A virtual environment with polars and DuckDB for the plain script; its python."""
    from uv import find_uv_bin

    uv = find_uv_bin()
    subprocess.run([uv, "venv", "-q", str(folder)], check=True)
    python = folder / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), "polars", "duckdb"], check=True
    )
    return python


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return elapsed, done.stdout


def task_seconds(document: dict[str, Any]) -> dict[str, float]:
    """Wall time of each task run, from its state history."""
    durations = {}
    for run in document["taskRunList"]:
        history = run["state"]["histories"]
        start = datetime.fromisoformat(history[0]["date"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(history[-1]["date"].replace("Z", "+00:00"))
        durations[run["taskId"]] = (end - start).total_seconds()
    return durations


class Side:
    """One way of running the pipeline: its times and its task runs' durations."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.times: list[float] = []
        self.tasks: list[dict[str, float]] = []

    def add(self, seconds: float, document: dict[str, Any]) -> None:
        assert document["state"]["current"] == "SUCCESS", document["state"]
        self.times.append(seconds)
        self.tasks.append(task_seconds(document))

    def report(self, plain: float, direct: float) -> None:
        total = statistics.median(self.times)
        per_task = {name: statistics.median(t[name] for t in self.tasks) for name in self.tasks[0]}
        in_tasks = sum(per_task.values())
        environment = per_task["python"] - direct
        print(f"{self.name}: median {total:.3f} s, {total / plain:.2f}x the plain script")
        print(f"  engine       {total - in_tasks:.3f} s")
        print(f"  environment  {environment:.3f} s")
        tasks = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in per_task.items())
        print(f"  task work    {in_tasks - environment:.3f} s  ({tasks})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, products_api().serve_products() as base:
        work = Path(tmp)
        api_url = f"{base}/products"
        home = work / "home"
        env = clean_env(PLAIT_HOME=str(home))
        env.pop("PLAIT_PYTHON_VENV_CACHE", None)
        os.environ.pop("PLAIT_PYTHON_VENV_CACHE", None)
        plait = [str(PLAIT), "run", str(FLOW), "-i", f"api_url={api_url}", "--json"]
        timed(plait, env)  # cold: builds the environment (pip install polars)
        timed(plait, env)  # the first warm run writes bytecode caches
        script = work / "plain.py"
        script.write_text(PLAIN)
        plain = [str(plain_environment(work / "plain-venv")), str(script), api_url, str(work)]
        venv_python = str(next((home / "cache" / "venvs").glob("*/bin/python")))
        polars_step = work / "polars_step.py"
        polars_step.write_text(POLARS_STEP)
        direct = [venv_python, str(polars_step), api_url, str(work)]
        for command in (plain, direct):
            timed(command, env)

        warm, whole = Side("warm engine"), Side("`plait run`")
        plain_times, direct_times = [], []
        engine = Engine.create(home=home)
        try:
            flow = engine.load(FLOW)
            engine.run(flow, {"api_url": api_url})  # warm: imports, template cache
            for _ in range(args.repeat):
                started = time.perf_counter()
                execution = engine.run(flow, {"api_url": api_url})
                warm.add(time.perf_counter() - started, execution.to_document())
                elapsed, out = timed(plait, env)
                whole.add(elapsed, json.loads(out))
                plain_times.append(timed(plain, env)[0])
                direct_times.append(timed(direct, env)[0])
        finally:
            engine.close()

    plain_s = statistics.median(plain_times)
    print(f"plain script (three steps, one process): median {plain_s:.3f} s")
    warm.report(plain_s, statistics.median(direct_times))
    whole.report(plain_s, statistics.median(direct_times))
    ratio = statistics.median(warm.times) / plain_s
    print(f"warm pipeline / plain script: {ratio:.2f}x (target < {TARGET}x)")


if __name__ == "__main__":
    main()
