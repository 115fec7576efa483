"""DuckDB STORE through plait against DuckDB's own COPY of the same query.

Generates the rows inside DuckDB (no input file), so both sides measure the same work: running
the query and writing the result file. The plait side is the whole task run through the real
engine (working directory, worker process, move into the internal storage, state). The target
is a ratio under 1.2x. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/duckdb_store.py               # 10 million rows
    .venv/bin/python benchmarks/duckdb_store.py --rows 100000 # a quick run
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb
from plait_sdk.testing import PlaitRunner

FORMAT_OPTIONS = {"JSONL": "FORMAT JSON", "CSV": "FORMAT CSV, HEADER", "PARQUET": "FORMAT PARQUET"}


def query(rows: int) -> str:
    return (
        "SELECT range AS id, 'name_' || (range % 1000) AS name, range / 3 AS price, "
        f"DATE '2024-01-01' + (range % 365)::INTEGER AS day FROM range({rows})"
    )


def timed(action: Callable[[], object]) -> float:
    # Earlier runs' result files are still being written back to disk: flush them first, so
    # that no run pays for another's output.
    os.sync()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def duckdb_copy(sql: str, store_format: str, target: Path) -> None:
    with duckdb.connect() as connection:
        connection.execute(f"COPY ({sql}) TO '{target}' ({FORMAT_OPTIONS[store_format]})")


def plait_store(runner: PlaitRunner, sql: str, store_format: str) -> None:
    result = runner.run_task(
        "plait.duckdb.Query", {"sql": sql, "fetchType": "STORE", "storeFormat": store_format}
    )
    if result.state != "SUCCESS":
        raise SystemExit(f"the task failed: {result.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--format", choices=sorted(FORMAT_OPTIONS), default="JSONL")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    sql = query(args.rows)

    with tempfile.TemporaryDirectory(prefix="plait-bench-") as scratch:
        root = Path(scratch)
        home = root / "home"
        home.mkdir()
        runner = PlaitRunner(home)
        baseline, through_plait = [], []
        try:
            # Interleaved, so that a drift of the machine's speed affects both sides alike.
            for attempt in range(args.repeat):
                target = root / f"copy-{attempt}.out"
                baseline.append(timed(partial(duckdb_copy, sql, args.format, target)))
                through_plait.append(timed(partial(plait_store, runner, sql, args.format)))
        finally:
            runner.engine.close()

    print(f"rows: {args.rows:,}  format: {args.format}  best of {args.repeat}")
    print(f"DuckDB COPY:         {min(baseline):8.3f} s  (all: {_seconds(baseline)})")
    print(f"plait Query STORE:   {min(through_plait):8.3f} s  (all: {_seconds(through_plait)})")
    print(f"ratio of the best:   {min(through_plait) / min(baseline):8.3f}x  (target < 1.2x)")


def _seconds(timings: list[float]) -> str:
    return ", ".join(f"{value:.3f}" for value in timings)


if __name__ == "__main__":
    main()
