"""A driver's lease on an execution, on a real PostgreSQL: renewed by its heartbeat while it
drives; a driver that cannot renew in time (the database away) stops before its lease could
expire, and one whose execution another process took over learns it at the next renewal."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from plait.executor.shared_queue import DriverLost, SharedQueue
from plait_postgres.store import PostgresStore, open_store
from plait_postgres.testing import Cluster

LEASE = 1.0


@pytest.fixture
def store(pg_dsn: str) -> Iterator[PostgresStore]:
    opened = open_store({"dsn": pg_dsn, "retrySeconds": 1.0})
    yield opened
    opened.close()


def test_a_driver_renews_its_lease_while_it_drives(store: PostgresStore) -> None:
    queue = SharedQueue(store.work_queue(), "host:1", LEASE)
    try:
        queue.open("e1")
        time.sleep(LEASE * 2.5)  # longer than the lease: only renewals keep it
        assert queue.results("e1", 0) == []
        assert store.work_queue().drivers(["e1"]) == {"e1": "host:1"}
        assert not store.work_queue().acquire_driver("e1", "host:2", LEASE)
        queue.release("e1")
        assert store.work_queue().acquire_driver("e1", "host:2", LEASE)
    finally:
        queue.close()


def test_a_driver_that_cannot_renew_stops_before_its_lease_expires(
    store: PostgresStore, pg_cluster: Cluster
) -> None:
    queue = SharedQueue(store.work_queue(), "host:1", LEASE)
    try:
        queue.open("e1")
        pg_cluster.stop()
        try:
            time.sleep(LEASE)
            with pytest.raises(DriverLost, match="e1"):
                queue.results("e1", 0)  # refused without asking the database
        finally:
            pg_cluster.start()
    finally:
        queue.close()


def test_a_driver_learns_its_execution_was_taken_over(store: PostgresStore) -> None:
    other = store.work_queue()
    queue = SharedQueue(other, "host:1", LEASE)
    try:
        queue.open("e1")
        queue._heartbeat.stop()  # stalled: no renewal
        time.sleep(LEASE * 1.2)
        assert other.acquire_driver("e1", "host:2", 30)
        queue._renew()  # the stalled driver's next renewal
        with pytest.raises(DriverLost):
            queue.results("e1", 0)
        queue.release("e1")  # the lease is host:2's now: left alone
        assert other.drivers(["e1"]) == {"e1": "host:2"}
    finally:
        queue.close()
