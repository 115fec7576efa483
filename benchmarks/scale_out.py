"""Scale-out on PostgreSQL (docs/scale-out.md): throughput with 1, 2 and 4 workers, the engine's
overhead per task against embedded SQLite, and the queue's latency from enqueue to start.

Everything runs on this machine: a throwaway PostgreSQL cluster (``plait_postgres.testing``;
the server's binaries come from ``bash scripts/ensure-postgres.sh``; a fresh database for each
part), a ``plait server --no-worker`` and ``plait worker``
processes sharing a temporary ``PLAIT_HOME``, all as real subprocesses:

- throughput: ``--executions`` executions of examples/scale-out/fanout.yml (a ForEach of three
  ``Return``, a Parallel of a ``Log`` and a ``Sleep``, a ``Return``: six task runs go through
  the queue) with ``nap=PT0S``, created over the REST API by 4 client threads, with 1, 2 and 4
  workers (``--concurrency`` each); task runs per second from the first create to the last
  execution's ``endDate``; beside them the same load on ``plait server`` with its embedded
  workers on SQLite (one process, no queue);
- overhead: a chain of ``--tasks`` ``Return`` tasks (each reading the previous output, so that
  one task runs at a time) and the fan-out flow, run with ``plait run`` on SQLite and with
  ``plait run --server`` on PostgreSQL with one worker; per task, the execution's own duration
  (``startDate`` to ``endDate``, no process start-up) divided by its task count; medians over
  ``--repeat`` runs;
- queue latency: for every task run a worker ran, from the time the executor stored it RUNNING
  (the transaction that enqueues its work item) to its first attempt's start on the worker;
  p50/p99 under the throughput load (there it mostly measures the backlog the clients built),
  with executions created at a steady ``--pace`` per second for ``--seconds`` on 2 workers
  (below saturation: the queue's own latency under load), and on the chain (one task run in
  flight).

The machine has 2 cores shared by PostgreSQL, the server, the workers and the clients: more
workers than cores measure contention, not scale. Prints figures; no figure is asserted.

    .venv/bin/python benchmarks/scale_out.py [--executions 200] [--workers 1,2,4]
    .venv/bin/python benchmarks/scale_out.py --part paced --pace 20 --seconds 10
    .venv/bin/python benchmarks/scale_out.py --part overhead --tasks 50 --repeat 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from kernel import chain  # benchmarks/kernel.py and server.py: this folder is on sys.path
from plait_postgres.testing import Cluster, throwaway_cluster
from server import (
    TERMINAL,
    describe_ms,
    free_port,
    load_average,
    parse_date,
    wait_healthy,
)

ROOT = Path(__file__).resolve().parents[1]
FANOUT = ROOT / "examples" / "scale-out" / "fanout.yml"
NAMESPACE = "examples.scale_out"
QUEUED_TASKS = 6
"""Task runs of the fan-out flow that go through the queue (the ForEach and the Parallel are
planned by the executor)."""
CLIENTS = 4
END_TIMEOUT = 600.0
"""Executions still going this long after the last create are reported as not succeeded."""
PARTS = ("throughput", "paced", "overhead")
PLAIT = [sys.executable, "-m", "plait.cli"]
YAML = {"Content-Type": "application/x-yaml"}


# --- processes ---------------------------------------------------------------------------------


def plait_env(home: Path, dsn: str | None) -> dict[str, str]:
    """The environment of every process of one deployment: ``home``, PostgreSQL when ``dsn``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_SERVER_")}
    env["PLAIT_HOME"] = str(home)
    if dsn:
        env.update(PLAIT_REPOSITORY="postgres", PLAIT_POSTGRES_DSN=dsn)
    return env


def spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [*PLAIT, *args], env=dict(env), stdout=subprocess.DEVNULL, stderr=stderr
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@dataclass
class Deployment:
    url: str
    server: int
    workers: list[int]
    """Process ids, for their CPU time."""


@contextlib.contextmanager
def deployment(dsn: str | None, workers: int, concurrency: int) -> Iterator[Deployment]:
    """A server and ``workers`` workers on a fresh home (on PostgreSQL when ``dsn``; else one
    ``plait server`` with its embedded workers on SQLite), once /health answers."""
    home = Path(tempfile.mkdtemp(prefix="plait-bench-scale-"))
    env = plait_env(home, dsn)
    port = free_port()
    server_args = ["server", "--port", str(port), *(["--no-worker"] if dsn else [])]
    processes = [spawn(server_args, env, home / "server.err")]
    try:
        for number in range(workers):
            worker_args = ["worker", "--concurrency", str(concurrency)]
            processes.append(spawn(worker_args, env, home / f"worker-{number}.err"))
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, processes[0], home / "server.err")
        yield Deployment(url, processes[0].pid, [p.pid for p in processes[1:]])
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(home, ignore_errors=True)


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of a live process (with its waited-for children's, if asked)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    ticks = sum(int(f) for f in fields[11 : 15 if children else 13])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu(cluster: Cluster) -> float:
    """CPU time of the cluster: the postmaster, its live children (backends, writers) and, in
    the postmaster's children's times, the backends that have exited."""
    postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == postmaster:
                total += cpu_seconds(int(stat.parent.name))
    return total


@dataclass
class Cpu:
    """CPU seconds spent by each part of a deployment over some interval."""

    server: float
    workers: float
    postgres: float

    @classmethod
    def now(cls, where: Deployment, cluster: Cluster | None) -> Cpu:
        return cls(
            cpu_seconds(where.server),
            sum(cpu_seconds(pid) for pid in where.workers),
            postgres_cpu(cluster) if cluster else 0.0,
        )

    @property
    def total(self) -> float:
        return self.server + self.workers + self.postgres

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.server - other.server, self.workers - other.workers, self.postgres - other.postgres
        )


# --- REST calls --------------------------------------------------------------------------------


def store(url: str, text: str) -> str:
    """Store a flow; its id."""
    response = httpx.post(url + "/api/v1/flows", content=text, headers=YAML, timeout=30)
    if response.status_code != 200:
        sys.exit(f"storing a flow failed ({response.status_code}): {response.text[:500]}")
    return str(response.json()["id"])


def create(client: httpx.Client, flow_id: str, wait: bool = False) -> str:
    response = client.post(
        f"/api/v1/executions/{NAMESPACE}/{flow_id}",
        data={"nap": "PT0S"},
        params={"wait": "true"} if wait else None,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def ended(client: httpx.Client) -> int:
    params = [("namespace", NAMESPACE), ("size", "1"), *(("state", s) for s in TERMINAL)]
    response = client.get("/api/v1/executions/search", params=params)
    response.raise_for_status()
    return int(response.json()["total"])


def documents(url: str, ids: list[str]) -> list[dict[str, Any]]:
    def get(client: httpx.Client, execution_id: str) -> dict[str, Any]:
        response = client.get(f"/api/v1/executions/{execution_id}")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    with httpx.Client(base_url=url, timeout=60) as client:
        return [get(client, i) for i in ids]


# --- figures from execution documents ----------------------------------------------------------


def history_date(run: dict[str, Any], state: str) -> float | None:
    for entry in run["state"]["histories"]:
        if entry["state"] == state:
            return parse_date(entry["date"])
    return None


def queue_latencies(executions: list[dict[str, Any]]) -> list[float]:
    """Seconds from each worker-run task run stored RUNNING (its enqueue) to its first
    attempt's start."""
    found = []
    for execution in executions:
        for run in execution["taskRunList"]:
            if not run["attempts"]:
                continue  # a flowable: planned by the executor, never queued
            enqueued = history_date(run, "RUNNING")
            started = parse_date(run["attempts"][0]["state"]["startDate"])
            if enqueued is not None:
                found.append(started - enqueued)
    return found


def duration(execution: dict[str, Any]) -> float:
    state = execution["state"]
    return parse_date(state["endDate"]) - parse_date(state["startDate"])


def not_succeeded(executions: list[dict[str, Any]]) -> int:
    return sum(e["state"]["current"] != "SUCCESS" for e in executions)


# --- throughput --------------------------------------------------------------------------------


@dataclass
class Load:
    label: str
    task_runs_per_second: float
    executions_per_second: float
    latencies: list[float]
    failed: int
    cpu_ms: Cpu
    """CPU milliseconds per queued task run."""


def run_load(
    where: Deployment,
    cluster: Cluster | None,
    executions: int,
    label: str,
    pace: float | None = None,
) -> Load:
    """``executions`` fan-out executions as fast as the clients go, or ``pace`` per second."""
    url = where.url
    flow_id = store(url, FANOUT.read_text())
    with httpx.Client(base_url=url, timeout=120) as client:
        create(client, flow_id, wait=True)  # warm-up: the flow's first load in every process
        warm = ended(client)

    def create_many(count: int) -> list[str]:
        ids = []
        with httpx.Client(base_url=url, timeout=120) as client:
            for number in range(count):
                if pace:  # each client's share of the pace, from the common start
                    time.sleep(max(0.0, start + number * CLIENTS / pace - time.monotonic()))
                ids.append(create(client, flow_id))
        return ids

    shares = [executions // CLIENTS + (i < executions % CLIENTS) for i in range(CLIENTS)]
    before = Cpu.now(where, cluster)
    first_submit = time.time()
    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        ids = [i for chunk in pool.map(create_many, shares) for i in chunk]
    deadline = time.monotonic() + END_TIMEOUT
    with httpx.Client(base_url=url, timeout=120) as client:
        while ended(client) < warm + executions and time.monotonic() < deadline:
            time.sleep(0.2)
    spent = Cpu.now(where, cluster) - before
    found = documents(url, ids)
    done = [e for e in found if e["state"].get("endDate")]
    elapsed = max(parse_date(e["state"]["endDate"]) for e in done) - first_submit
    task_runs = len(done) * QUEUED_TASKS
    per_run = Cpu(*(1000 * v / task_runs for v in (spent.server, spent.workers, spent.postgres)))
    return Load(
        label,
        task_runs / elapsed,
        len(done) / elapsed,
        queue_latencies(done),
        not_succeeded(found),
        per_run,
    )


def throughput(cluster: Cluster, executions: int, workers: list[int], concurrency: int) -> None:
    print(
        f"throughput: {executions} fan-out executions ({QUEUED_TASKS} queued task runs each), "
        f"{CLIENTS} clients creating them; workers --concurrency {concurrency}"
    )
    loads = []
    with deployment(None, 0, concurrency) as where:
        label = "SQLite, one plait server (embedded workers)"
        loads.append(run_load(where, None, executions, label))
    for count in workers:
        dsn = cluster.create_database(f"bench_throughput_{count}")
        try:
            with deployment(dsn, count, concurrency) as where:
                label = f"PostgreSQL, {count} worker(s)"
                loads.append(run_load(where, cluster, executions, label))
        finally:
            cluster.drop_database(f"bench_throughput_{count}")
    baseline = loads[0].task_runs_per_second
    for load in loads:
        print(
            f"  {load.label}: {load.task_runs_per_second:.0f} task runs/s "
            f"({load.executions_per_second:.1f} executions/s; "
            f"{load.task_runs_per_second / baseline:.2f}x SQLite)"
        )
        if load.failed:
            print(f"    {load.failed} execution(s) did not succeed (or had not ended in time)")
        cpu = load.cpu_ms
        print(
            f"    CPU per task run: server {cpu.server:.2f} ms, workers {cpu.workers:.2f} ms, "
            f"PostgreSQL {cpu.postgres:.2f} ms (total {cpu.total:.2f} ms)"
        )
        if load.latencies and load.label.startswith("PostgreSQL"):
            print(f"    queue latency, enqueue to start: {describe_ms(load.latencies)}")


def paced(cluster: Cluster, workers: int, concurrency: int, pace: float, seconds: float) -> None:
    """Queue latency below saturation: executions created at a steady ``pace``."""
    executions = round(pace * seconds)
    print(
        f"paced: {executions} fan-out executions at {pace:g}/s ({pace * QUEUED_TASKS:g} task "
        f"runs/s) on PostgreSQL with {workers} worker(s), --concurrency {concurrency}"
    )
    dsn = cluster.create_database("bench_paced")
    try:
        with deployment(dsn, workers, concurrency) as where:
            load = run_load(where, cluster, executions, "paced", pace)
    finally:
        cluster.drop_database("bench_paced")
    if load.failed:
        print(f"  {load.failed} execution(s) did not succeed (or had not ended in time)")
    print(f"  queue latency, enqueue to start: {describe_ms(load.latencies)}")
    print(f"  CPU per task run: {load.cpu_ms.total:.2f} ms")


# --- overhead ----------------------------------------------------------------------------------


def run_json(args: list[str], env: Mapping[str, str]) -> dict[str, Any]:
    """``plait run --json ARGS``: the execution document it prints."""
    done = subprocess.run(
        [*PLAIT, "run", "--json", *args], env=dict(env), capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"plait run {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def per_task(
    runs: Callable[[Path], dict[str, Any]], flow: Path, tasks: int, repeat: int
) -> tuple[float, list[dict[str, Any]]]:
    """The median seconds per task of ``repeat`` executions of ``flow`` (after one warm-up)."""
    runs(flow)
    found = [runs(flow) for _ in range(repeat)]
    return statistics.median(duration(e) for e in found) / tasks, found


def overhead(cluster: Cluster, tasks: int, repeat: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="plait-bench-overhead-"))
    chain_flow = scratch / "chain.yml"
    chain_flow.write_text(chain(tasks))
    flows = [(f"chain of {tasks} Return", chain_flow, tasks), ("fan-out", FANOUT, 9)]
    sqlite_env = plait_env(scratch / "home", None)
    print(
        f"overhead: execution duration per task, median of {repeat} (plait run on SQLite; "
        "plait run --server on PostgreSQL with one worker)"
    )
    dsn = cluster.create_database("bench_overhead")
    try:
        with deployment(dsn, 1, 1) as where:
            url = where.url
            pg_env = plait_env(scratch / "client", None)
            for label, flow, count in flows:
                inputs = ["-i", "nap=PT0S"] if flow == FANOUT else []
                sqlite, _ = per_task(
                    lambda f, i=inputs: run_json([*i, str(f)], sqlite_env), flow, count, repeat
                )
                postgres, found = per_task(
                    lambda f, i=inputs: run_json(["--server", url, *i, str(f)], pg_env),
                    flow,
                    count,
                    repeat,
                )
                print(
                    f"  {label}: SQLite {sqlite * 1000:.2f} ms per task, PostgreSQL "
                    f"{postgres * 1000:.2f} ms ({postgres / sqlite:.1f}x, "
                    f"+{(postgres - sqlite) * 1000:.2f} ms per task)"
                )
                if flow == chain_flow:
                    latencies = queue_latencies(found)
                    print(f"    queue latency, one task in flight: {describe_ms(latencies)}")
    finally:
        cluster.drop_database("bench_overhead")
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=200, help="throughput executions")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--concurrency", type=int, default=4, help="task runs per worker")
    parser.add_argument("--pace", type=float, default=20, help="paced: executions per second")
    parser.add_argument("--seconds", type=float, default=10, help="paced: how long")
    parser.add_argument("--tasks", type=int, default=50, help="overhead: chained tasks")
    parser.add_argument("--repeat", type=int, default=5, help="overhead: runs of each flow")
    parser.add_argument("--part", choices=PARTS, action="append", help="only this part")
    args = parser.parse_args()
    parts = args.part or list(PARTS)
    workers = [int(n) for n in args.workers.split(",")]

    print(f"scale-out benchmark; load average {load_average()}")
    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="plait-bench-pg-"))  # under /tmp: user postgres reads it
    cluster = throwaway_cluster(base)
    try:
        if "throughput" in parts:
            throughput(cluster, args.executions, workers, args.concurrency)
        if "paced" in parts:
            paced(cluster, 2, args.concurrency, args.pace, args.seconds)
        if "overhead" in parts:
            overhead(cluster, args.tasks, args.repeat)
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(f"{time.perf_counter() - started:.0f} s in all; load average now {load_average()}")


if __name__ == "__main__":
    main()
