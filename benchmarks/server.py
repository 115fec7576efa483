"""The REST server under load: throughput and latency of executions started over HTTP, the
server's memory after many executions, and how soon a follower hears that an execution ended.

Measured against a real `plait server` subprocess (free port, fresh temporary `PLAIT_HOME`,
stopped with SIGTERM at the end; a fresh server for each part):

- throughput: 500 executions of a three-task flow (three chained `plait.core.Return`) submitted
  by 20 concurrent clients (threads, one `httpx.Client` each, one execution in flight per
  client); executions per second from the first submit to the last completion, p50/p99 of the
  create request, and p50/p99 from submit to completion. Completion is detected by polling
  `GET /executions/{id}` every `--poll` seconds (default 10 ms), or with `?wait=true` on the
  create request (`--completion wait`; then the create request is the completion). Completion
  latency is the figure users feel;
- memory: RSS of the server process (`VmRSS` and `VmHWM` of `/proc/<pid>/status`) at start
  (after one warm-up execution), along the way and after 10,000 executions of a one-task flow
  submitted with `?wait=true` by 8 clients; growth per execution (goal: memory does not grow
  with the number of executions; a pathological case is > ~10 KB per execution);
- SSE follow latency: an execution of a `Sleep` (`PT0.5S`) then a `Return`, followed over
  `GET /executions/{id}/follow`; the time from the execution's `state.endDate` (in the `end`
  event) to the moment the client read that event; median (min, max) over 20 runs with the
  follow opened as soon as the create returned, and 20 more opened after a random 0-250 ms
  delay (the server reads the execution every 0.25 s from when the follow opened, so with a
  0.5 s Sleep the first series sees the end just after a read: the second shows the latency
  a follower gets on average).

The issue's goals are these figures themselves (throughput, p50/p99, memory after 10,000
executions, SSE latency): none is given as a number. Prints figures; no figure is asserted. The
one-minute load average is printed before and after: other processes loading the machine
lower every figure.

    .venv/bin/python benchmarks/server.py [--quick]
    .venv/bin/python benchmarks/server.py --part throughput --completion wait
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT = 30.0
TERMINAL = frozenset({"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED"})
YAML = {"Content-Type": "application/x-yaml"}
NAMESPACE = "bench"
PARTS = ("throughput", "memory", "follow")
NOT_FOUND_RETRIES = 500
"""A GET of a just-created execution may answer 404 until the server stored it: retried."""


def flow(flow_id: str, tasks: list[str]) -> str:
    """The YAML of a flow whose task list is ``tasks`` (lines, already indented)."""
    return "\n".join([f"id: {flow_id}", f"namespace: {NAMESPACE}", "tasks:", *tasks]) + "\n"


def returns(count: int) -> list[str]:
    """``count`` chained Return tasks, each reading the previous one's output."""
    lines = ["  - id: r0", "    type: plait.core.Return", '    format: "start"']
    for i in range(1, count):
        lines += [
            f"  - id: r{i}",
            "    type: plait.core.Return",
            f'    format: "{{{{ outputs.r{i - 1}.value }}}}-{i}"',
        ]
    return lines


SLEEP_THEN_RETURN = [
    "  - id: nap",
    "    type: io.kestra.plugin.core.flow.Sleep",
    "    duration: PT0.5S",
    "  - id: done",
    "    type: plait.core.Return",
    '    format: "woke"',
]


# --- the server --------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    pid: int

    def memory_kb(self) -> dict[str, int]:
        """VmRSS and VmHWM of the server process, in kB."""
        found: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
        return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    """A `plait server` on a fresh home and a free port, once /health answers; SIGTERM after."""
    with tempfile.TemporaryDirectory(prefix="plait-bench-server-") as home:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_SERVER_")}
        env["PLAIT_HOME"] = home
        log = Path(home) / "server.err"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "plait.cli", "server", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process, log)
            yield Server(url, process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``url``/health answers; exit with the server's stderr (``log``) if it
    exited, or after START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            sys.exit(f"the server exited {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            sys.exit(f"the server did not answer /health in {START_TIMEOUT:.0f} s")
        time.sleep(0.05)


def store(server: Server, text: str) -> None:
    response = httpx.post(server.url + "/api/v1/flows", content=text, headers=YAML, timeout=30)
    if response.status_code != 200:
        sys.exit(f"storing a flow failed ({response.status_code}): {response.text[:500]}")


def execution_path(flow_id: str) -> str:
    return f"/api/v1/executions/{NAMESPACE}/{flow_id}"


def create(client: httpx.Client, flow_id: str, wait: bool = False) -> dict[str, Any]:
    response = client.post(execution_path(flow_id), params={"wait": "true"} if wait else None)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def current(document: dict[str, Any]) -> str:
    return str(document["state"]["current"])


# --- figures -----------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def describe_ms(seconds: list[float]) -> str:
    p50, p99 = percentile(seconds, 0.50) * 1000, percentile(seconds, 0.99) * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(seconds) * 1000:.1f} ms"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    cores = os.cpu_count() or 1
    note = f"  (high for {cores} cores: other processes are loading the machine)"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)" + (note if one > 0.75 * cores else "")


# --- throughput --------------------------------------------------------------------------------


@dataclass
class Sample:
    create_seconds: float
    complete_seconds: float
    state: str
    not_found: int  # polls answered 404 before the execution was stored


@dataclass
class Throughput:
    samples: list[Sample] = field(default_factory=list)
    first_submit: float = float("inf")
    last_complete: float = 0.0
    errors: list[str] = field(default_factory=list)


def throughput(executions: int, clients: int, wait: bool, poll: float) -> None:
    with running_server() as server:
        store(server, flow("three", returns(3)))
        with httpx.Client(base_url=server.url, timeout=120) as client:
            create(client, "three", wait=True)  # warm-up: the flow's first load
        todo: queue.Queue[int] = queue.Queue()
        for i in range(executions):
            todo.put(i)
        result = Throughput()
        lock = threading.Lock()

        def client_loop() -> None:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                while True:
                    try:
                        todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        sample, submitted, completed = one(client, wait, poll)
                    except (httpx.HTTPError, KeyError, ValueError) as exc:
                        with lock:
                            result.errors.append(repr(exc))
                        continue
                    with lock:
                        result.samples.append(sample)
                        result.first_submit = min(result.first_submit, submitted)
                        result.last_complete = max(result.last_complete, completed)

        threads = [threading.Thread(target=client_loop) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        memory = server.memory_kb()

    how = "the create request with ?wait=true" if wait else f"polling every {poll * 1000:.0f} ms"
    print(f"throughput: {executions} executions of 3 chained Return, {clients} clients")
    if result.errors:
        print(f"  {len(result.errors)} request(s) failed, e.g. {result.errors[0]}")
    samples = result.samples
    if not samples:
        return
    failed = [s.state for s in samples if s.state != "SUCCESS"]
    if failed:
        print(f"  {len(failed)} execution(s) did not succeed, e.g. {failed[0]}")
    elapsed = result.last_complete - result.first_submit
    print(
        f"  {len(samples) / elapsed:.1f} executions/s ({len(samples)} in {elapsed:.2f} s, "
        "first submit to last completion)"
    )
    if not wait:
        print(f"  create request: {describe_ms([s.create_seconds for s in samples])}")
        early = [s.not_found for s in samples if s.not_found]
        if early:
            print(
                f"  {len(early)} execution(s) answered 404 to a GET just after their create "
                f"returned (not stored yet; up to {max(early)} retries)"
            )
    print(f"  submit to completion ({how}): {describe_ms([s.complete_seconds for s in samples])}")
    print(
        f"  server RSS after: {memory['VmRSS'] / 1024:.0f} MB, peak {memory['VmHWM'] / 1024:.0f} MB"
    )


def one(client: httpx.Client, wait: bool, poll: float) -> tuple[Sample, float, float]:
    """Submit one execution and wait for it to end: its sample, submit and completion time."""
    submitted = time.perf_counter()
    document = create(client, "three", wait=wait)
    created = time.perf_counter()
    execution_id = document["id"]
    not_found = 0
    while current(document) not in TERMINAL:
        time.sleep(poll)
        response = client.get(f"/api/v1/executions/{execution_id}")
        if response.status_code == 404 and not_found < NOT_FOUND_RETRIES:
            not_found += 1  # created but not stored yet: the create answered before the save
            continue
        response.raise_for_status()
        document = response.json()
    completed = time.perf_counter()
    sample = Sample(created - submitted, completed - submitted, current(document), not_found)
    return sample, submitted, completed


# --- memory ------------------------------------------------------------------------------------


def memory(executions: int, clients: int, checkpoints: int = 5) -> None:
    with running_server() as server:
        store(server, flow("single", returns(1)))
        with httpx.Client(base_url=server.url, timeout=120) as client:
            create(client, "single", wait=True)  # warm-up: the flow's first load, the threads
        start = server.memory_kb()
        print(
            f"memory: {executions:,} executions of one Return, {clients} clients with "
            "?wait=true (each ended when its request returns)"
        )
        print(f"  server at start (after one execution): RSS {start['VmRSS'] / 1024:.1f} MB")
        step = max(1, executions // checkpoints)
        first: dict[str, int] = {}
        done = 0
        started = time.perf_counter()
        not_succeeded = 0
        while done < executions:
            batch = min(step, executions - done)
            not_succeeded += submit_all(server, "single", batch, clients)
            done += batch
            now = server.memory_kb()
            first = first or now
            grown = (now["VmRSS"] - start["VmRSS"]) / done
            print(
                f"  after {done:>6,}: RSS {now['VmRSS'] / 1024:.1f} MB, peak "
                f"{now['VmHWM'] / 1024:.1f} MB  ({grown:+.2f} KB per execution since "
                f"start; {done / (time.perf_counter() - started):.0f} executions/s so far)"
            )
        if not_succeeded:
            print(f"  {not_succeeded} execution(s) did not succeed")
        end = server.memory_kb()
        growth = (end["VmRSS"] - start["VmRSS"]) / executions
        print(
            f"  growth: {(end['VmRSS'] - start['VmRSS']) / 1024:+.1f} MB over {executions:,} "
            f"executions, {growth:+.2f} KB per execution  (pathological above ~10 KB: "
            f"{growth / 10:.2f}x)"
        )
        if done > step:
            later = (end["VmRSS"] - first["VmRSS"]) / (executions - step)
            print(
                f"  after the first {step:,}: {(end['VmRSS'] - first['VmRSS']) / 1024:+.1f} MB "
                f"over {executions - step:,} executions, {later:+.2f} KB per execution"
            )


def submit_all(server: Server, flow_id: str, count: int, clients: int) -> int:
    """Run ``count`` executions with ``?wait=true`` from ``clients`` threads; how many did not
    end SUCCESS."""
    todo = iter(range(count))
    lock = threading.Lock()
    failures = [0]

    def client_loop() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            while True:
                with lock:
                    if next(todo, None) is None:
                        return
                try:
                    state = current(create(client, flow_id, wait=True))
                except httpx.HTTPError:
                    state = "ERROR"
                if state != "SUCCESS":
                    with lock:
                        failures[0] += 1

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures[0]


# --- follow ------------------------------------------------------------------------------------


def parse_date(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Followed:
    lag: float  # from the execution's endDate to the `end` event read
    total: float  # from the submit to the `end` event read
    events: int
    not_found: int  # follow requests answered 404 before the execution was stored


def follow_once(client: httpx.Client, delay: float) -> Followed:
    """Start the Sleep flow and follow it, ``delay`` seconds after the create returned."""
    submitted = time.time()
    execution_id = create(client, "sleepy")["id"]
    time.sleep(delay)
    for not_found in range(NOT_FOUND_RETRIES):
        with client.stream("GET", f"/api/v1/executions/{execution_id}/follow") as response:
            if response.status_code == 404:
                time.sleep(0.005)  # created but not stored yet
                continue
            response.raise_for_status()
            events = 0
            name = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    events += 1
                    if name == "end":
                        received = time.time()
                        document = json.loads(line.split(":", 1)[1])
                        ended = parse_date(document["state"]["endDate"])
                        return Followed(received - ended, received - submitted, events, not_found)
            raise ValueError(f"the stream of {execution_id} closed without an end event")
    raise ValueError(f"{execution_id} was never found")


def follow(runs: int, stagger: float) -> None:
    """``runs`` follows opened at once, then ``runs`` opened after a random delay in
    0..``stagger`` s: the server reads the execution every `FOLLOW_POLL_SECONDS` (0.25 s) from
    the moment the follow opened, and a 0.5 s Sleep opened at once ends just after a read."""
    series: dict[str, list[Followed]] = {"opened at once": []}
    if stagger > 0:
        series[f"opened 0-{stagger * 1000:.0f} ms later (random)"] = []
    randomly = random.Random(7)
    with running_server() as server:
        store(server, flow("sleepy", SLEEP_THEN_RETURN))
        with httpx.Client(base_url=server.url, timeout=60) as client:
            follow_once(client, 0.0)  # warm-up
            for label, found in series.items():
                for _ in range(runs):
                    delay = randomly.uniform(0, stagger) if label != "opened at once" else 0.0
                    found.append(follow_once(client, delay))
    print(f"SSE follow: executions of Sleep PT0.5S then Return, one at a time, {runs} per series")
    for label, found in series.items():
        lags = [f.lag * 1000 for f in found]
        early = sum(1 for f in found if f.not_found)
        print(
            f"  {label}: endDate to `end` event received: median {statistics.median(lags):.0f} "
            f"ms, min {min(lags):.0f} ms, max {max(lags):.0f} ms; submit to `end` median "
            f"{statistics.median(f.total for f in found) * 1000:.0f} ms; "
            f"{statistics.median(f.events for f in found):.0f} events per execution"
            + (f"; {early} follow(s) answered 404 first" if early else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=500, help="throughput executions")
    parser.add_argument("--clients", type=int, default=20, help="throughput clients")
    parser.add_argument(
        "--completion",
        choices=["poll", "wait"],
        default="poll",
        help="how throughput clients see an execution end",
    )
    parser.add_argument("--poll", type=float, default=0.01, help="polling interval, seconds")
    parser.add_argument("--memory", type=int, default=10_000, help="memory executions")
    parser.add_argument("--memory-clients", type=int, default=8, help="memory clients")
    parser.add_argument("--follows", type=int, default=20, help="SSE follow runs")
    parser.add_argument(
        "--stagger", type=float, default=0.25, help="SSE: second series' delay, 0 for none"
    )
    parser.add_argument("--quick", action="store_true", help="1,000 memory executions")
    parser.add_argument("--part", choices=PARTS, action="append", help="only this part")
    args = parser.parse_args()
    if args.quick:
        args.memory = 1_000
    parts = args.part or list(PARTS)

    print(f"server benchmark; load average {load_average()}")
    runs: dict[str, Callable[[], None]] = {
        "throughput": lambda: throughput(
            args.executions, args.clients, args.completion == "wait", args.poll
        ),
        "memory": lambda: memory(args.memory, args.memory_clients),
        "follow": lambda: follow(args.follows, args.stagger),
    }
    started = time.perf_counter()
    for part in parts:
        runs[part]()
    print(f"{time.perf_counter() - started:.0f} s in all; load average now {load_average()}")


if __name__ == "__main__":
    main()
