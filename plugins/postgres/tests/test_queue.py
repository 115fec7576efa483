"""The work queue's contract on a real PostgreSQL: exclusive claims under concurrency (SKIP
LOCKED), lease expiry as a new attempt, fencing of a stale completion, wake-ups by NOTIFY with
polling as the fallback, kills, driver leases, and enqueueing inside the caller's transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from plait_postgres import queue as pg_queue
from plait_postgres.connection import Database
from plait_postgres.migrations import migrate
from plait_postgres.queue import PostgresWorkQueue, enqueue
from plait_sdk.queue import QueueItem

HANG = 15.0
"""Generous bound on a wait that should end at once (only catches hangs)."""


@pytest.fixture
def db(pg_dsn: str) -> Iterator[Database]:
    database = Database(pg_dsn, pool_size=4)
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def make_queue(db: Database) -> Iterator[object]:
    """A queue per simulated process (each with its own connections and listener)."""
    made: list[tuple[Database, PostgresWorkQueue]] = []

    def make() -> PostgresWorkQueue:
        own = Database(db.dsn, pool_size=2)
        queue = PostgresWorkQueue(own)
        made.append((own, queue))
        return queue

    yield make
    for own, queue in made:
        queue.close()
        own.close()


def items(count: int, execution: str = "e1") -> list[QueueItem]:
    return [QueueItem(execution, f"t{n:03}", 1) for n in range(count)]


def test_concurrent_claimers_each_get_distinct_items(make_queue) -> None:
    make_queue().submit(items(120))
    claimed: list[list[str]] = [[] for _ in range(4)]

    def claim_all(number: int) -> None:
        queue = make_queue()
        while found := queue.claim(f"w{number}", 3, 30, 0):
            claimed[number] += [c.item.taskrun_id for c in found]

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG * 4)
    every = [taskrun for got in claimed for taskrun in got]
    assert sorted(every) == [item.taskrun_id for item in items(120)]  # each once, none lost
    assert sum(1 for got in claimed if got) >= 2  # they really competed


def test_a_row_locked_by_another_transaction_is_skipped_not_waited_for(make_queue, db) -> None:
    queue = make_queue()
    queue.submit(items(2))
    with psycopg.connect(db.dsn) as locker:
        locker.execute("SELECT 1 FROM plait_work_items WHERE taskrun_id = 't000' FOR UPDATE")
        started = time.monotonic()
        found = queue.claim("w1", 5, 30, 0)
        assert time.monotonic() - started < HANG
        assert [c.item.taskrun_id for c in found] == ["t001"]
    assert [c.item.taskrun_id for c in queue.claim("w1", 5, 30, 0)] == ["t000"]


def test_an_expired_lease_is_claimed_again_as_a_new_attempt_and_the_old_claim_fenced(
    make_queue,
) -> None:
    first, second = make_queue(), make_queue()
    first.submit(items(1))
    [lost] = first.claim("w1", 1, 0.5, 0)
    assert second.claim("w2", 1, 30, 0) == []  # the lease still holds
    time.sleep(0.8)
    [again] = second.claim("w2", 1, 30, 0)
    assert again.item == lost.item  # the attempt the driver awaits stays the same
    assert [claim.worker for claim in again.lost] == ["w1"]
    assert again.lost[0].claimed <= again.lost[0].expired
    assert again.token != lost.token
    assert first.renew("w1", [lost.token], 30) == {}  # w1 learns it lost the item
    assert first.complete(lost, {"state": "SUCCESS", "attempts": []}) is False
    assert second.renew("w2", [again.token], 30) == {again.token: "held"}
    assert second.complete(again, {"state": "SUCCESS", "attempts": [], "by": "w2"}) is True
    results = first.results("e1", 0)
    assert [(r.item.taskrun_id, r.document["by"]) for r in results] == [("t000", "w2")]
    assert first.in_flight("e1").items == ()


def test_a_completion_is_stored_once(make_queue) -> None:
    queue = make_queue()
    queue.submit(items(1))
    [claim] = queue.claim("w1", 1, 30, 0)
    assert queue.complete(claim, {"state": "SUCCESS"}) is True
    assert queue.complete(claim, {"state": "FAILED"}) is False
    assert [r.document["state"] for r in queue.results("e1", 0)] == ["SUCCESS"]


def test_a_submission_wakes_a_waiting_claimer(make_queue, monkeypatch) -> None:
    monkeypatch.setattr(pg_queue, "CLAIM_POLL_SECONDS", 120.0)  # only NOTIFY can wake it
    waiting, submitter = make_queue(), make_queue()
    waiting.claim("w1", 1, 30, 0)  # listener up
    got: list[object] = []
    thread = threading.Thread(target=lambda: got.extend(waiting.claim("w1", 1, 30, 60)))
    thread.start()
    time.sleep(0.3)
    submitter.submit(items(1))
    thread.join(HANG)
    assert not thread.is_alive(), "the claimer was not woken by the submission"
    assert len(got) == 1


def test_without_notification_claimers_and_drivers_poll(make_queue, db, monkeypatch) -> None:
    monkeypatch.setattr(pg_queue, "CLAIM_POLL_SECONDS", 0.2)
    monkeypatch.setattr(pg_queue, "RESULTS_POLL_SECONDS", 0.2)
    queue = make_queue()
    assert queue.claim("w1", 1, 30, 0) == [] and queue.results("e1", 0) == []
    got: list[object] = []
    thread = threading.Thread(target=lambda: got.extend(queue.claim("w1", 1, 30, 60)))
    thread.start()
    time.sleep(0.3)
    with psycopg.connect(db.dsn, autocommit=True) as raw:  # no pg_notify: silent insert
        raw.execute(
            "INSERT INTO plait_work_items (execution_id, taskrun_id, attempt) VALUES ('e1', 't', 1)"
        )
    thread.join(HANG)
    assert not thread.is_alive() and len(got) == 1
    with psycopg.connect(db.dsn, autocommit=True) as raw:
        raw.execute(
            "INSERT INTO plait_work_results (execution_id, taskrun_id, attempt, document) "
            "VALUES ('e1', 't', 1, '{}')"
        )
    started = time.monotonic()
    while not (found := queue.results("e1", 0.5)) and time.monotonic() - started < HANG:
        pass
    assert [r.item.taskrun_id for r in found] == ["t"]


def test_a_completion_wakes_the_waiting_driver(make_queue, monkeypatch) -> None:
    monkeypatch.setattr(pg_queue, "RESULTS_POLL_SECONDS", 120.0)
    driver, worker = make_queue(), make_queue()
    worker.submit(items(1))
    [claim] = worker.claim("w1", 1, 30, 0)
    assert driver.results("e1", 0) == []  # polled once: the next looks wait for NOTIFY
    got: list[object] = []

    def wait_for_result() -> None:
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:  # a look may end early, empty
            got.extend(driver.results("e1", 60))

    thread = threading.Thread(target=wait_for_result)
    thread.start()
    time.sleep(0.3)
    worker.complete(claim, {"state": "SUCCESS"})
    thread.join(HANG)
    assert not thread.is_alive() and len(got) == 1


def test_a_kill_reaches_the_claims_of_the_execution(make_queue) -> None:
    queue = make_queue()
    queue.submit(items(2) + items(1, "other"))
    claims = queue.claim("w1", 2, 30, 0)
    queue.cancel("e1")
    statuses = queue.renew("w1", [c.token for c in claims], 30)
    assert sorted(statuses.values()) == ["cancelled", "cancelled"]
    [queued] = queue.claim("w1", 5, 30, 0)
    assert queued.item.execution_id == "other" and not queued.cancelled


def test_enqueued_items_follow_the_callers_transaction(make_queue, db) -> None:
    def fails(conn: psycopg.Connection) -> None:
        enqueue(conn, items(3))
        raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        db.run(fails)
    queue = make_queue()
    assert queue.in_flight("e1").items == ()
    db.run(lambda conn: enqueue(conn, items(3)))
    assert len(queue.in_flight("e1").items) == 3


def test_resubmitting_a_task_run_replaces_its_item(make_queue) -> None:
    queue = make_queue()
    queue.submit(items(1))
    [old] = queue.claim("w1", 1, 30, 0)
    queue.submit([QueueItem("e1", "t000", 2)])  # a restart: attempt 2
    [new] = queue.claim("w2", 1, 30, 0)
    assert new.item.attempt == 2 and new.lost == ()
    assert queue.complete(old, {"state": "SUCCESS"}) is False


def test_one_driver_per_execution_until_its_lease_expires(make_queue) -> None:
    queue = make_queue()
    assert queue.acquire_driver("e1", "a:1", 0.5)
    assert not queue.acquire_driver("e1", "b:2", 30)
    assert queue.drivers(["e1", "e2"]) == {"e1": "a:1"}
    assert queue.renew_drivers("a:1", ["e1"], 0.5) == {"e1"}
    time.sleep(0.8)
    assert queue.drivers(["e1"]) == {}
    assert queue.acquire_driver("e1", "b:2", 30)
    assert queue.renew_drivers("a:1", ["e1"], 30) == set()  # a learns it lost the execution
    assert queue.acquire_driver("e1", "c:3", 30, dead="b:2")  # b is known to be gone
    queue.release_driver("e1", "c:3")
    assert queue.acquire_driver("e1", "a:1", 30)


def test_forget_drops_what_an_ended_execution_left(make_queue) -> None:
    queue = make_queue()
    queue.submit(items(2))
    [claim, _] = queue.claim("w1", 2, 30, 0)
    queue.complete(claim, {"state": "SUCCESS"})
    held = queue.in_flight("e1")
    assert len(held.items) == 1 and len(held.results) == 1
    queue.forget("e1")
    assert queue.in_flight("e1").items == () and queue.in_flight("e1").results == ()


def test_a_result_committed_after_a_later_numbered_one_is_still_read(
    make_queue, db, monkeypatch
) -> None:
    monkeypatch.setattr(pg_queue, "RESULTS_POLL_SECONDS", 0.0)  # every look reads the table
    queue = make_queue()
    queue.submit(items(1))
    [claim] = queue.claim("w1", 1, 30, 0)
    with psycopg.connect(db.dsn) as slow:  # numbered first, committed last
        slow.execute(
            "INSERT INTO plait_work_results (execution_id, taskrun_id, attempt, document) "
            "VALUES ('e1', 'early', 1, '{}')"
        )
        queue.complete(claim, {"state": "SUCCESS"})
        assert [r.item.taskrun_id for r in queue.results("e1", 0)] == ["t000"]
    assert [r.item.taskrun_id for r in queue.results("e1", 0)] == ["early"]
    assert queue.results("e1", 0) == []  # each taken once


def test_a_driver_taking_an_execution_over_reads_its_results_again(make_queue, monkeypatch) -> None:
    monkeypatch.setattr(pg_queue, "RESULTS_POLL_SECONDS", 0.0)
    queue = make_queue()
    queue.submit(items(1))
    [claim] = queue.claim("w1", 1, 30, 0)
    queue.complete(claim, {"state": "SUCCESS"})
    assert queue.acquire_driver("e1", "a:1", 0.3)
    assert len(queue.results("e1", 0)) == 1  # taken by a, which then dies
    time.sleep(0.5)
    assert queue.acquire_driver("e1", "b:2", 30)
    assert [r.item.taskrun_id for r in queue.results("e1", 0)] == ["t000"]
