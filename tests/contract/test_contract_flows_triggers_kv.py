"""The repository contract, flows, triggers, KV store and task cache: every backend behaves as
the protocol's docstrings say (ExecutionRepository, plait_sdk.state.StateStore)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
from plait.errors import NotFoundError
from plait.state import ExecutionRepository
from plait.state.model import parse_datetime, utcnow
from support.race import race

Opener = Callable[[], ExecutionRepository]
KEY = ("dev", "flow", "every")
DATES = [f"2026-01-01T00:00:0{n}.000000Z" for n in range(4)]


def test_flow_revisions_identical_source_keeps_the_revision(
    repository: ExecutionRepository,
) -> None:
    assert repository.save_flow("ns", "flow", "id: flow\n") == 1
    assert repository.save_flow("ns", "flow", "id: flow\n") == 1, "same source keeps it"
    assert repository.save_flow("ns", "flow", "id: flow\n# changed\n") == 2
    assert repository.save_flow("ns", "other", "id: other\n") == 1
    assert repository.save_flow("ns", "flow", "id: flow\n") == 3, "going back is a new revision"
    latest = repository.get_flow("ns", "flow")
    assert (latest.namespace, latest.flow_id, latest.revision) == ("ns", "flow", 3)
    assert latest.source == "id: flow\n"
    assert repository.get_flow("ns", "flow", 2).source == "id: flow\n# changed\n"
    assert latest.created.tzinfo is not None
    assert [f.revision for f in repository.flow_revisions("ns", "flow")] == [1, 2, 3]


def test_missing_flows_are_named(repository: ExecutionRepository) -> None:
    with pytest.raises(NotFoundError, match=r"flow 'ns\.nope' not found"):
        repository.get_flow("ns", "nope")
    with pytest.raises(NotFoundError, match=r"flow 'ns\.nope' not found"):
        repository.flow_revisions("ns", "nope")
    repository.save_flow("ns", "flow", "x")
    with pytest.raises(NotFoundError, match=r"'ns\.flow' has no revision 7 \(latest is 1\)"):
        repository.get_flow("ns", "flow", 7)


def test_saving_the_same_flow_concurrently_gives_consecutive_revisions(
    open_repository: Opener,
) -> None:
    repositories = [open_repository() for _ in range(4)]
    revisions = race(repositories, lambda repo, n: repo.save_flow("ns", "f", f"id: f\n# {n}\n"))
    assert sorted(revisions) == [1, 2, 3, 4]


def test_delete_flow_keeps_revisions_and_saving_revives_it(repository: ExecutionRepository) -> None:
    repository.save_flow("ns", "flow", "v1")
    repository.save_flow("ns", "kept", "k1")
    stamp = repository.flows_stamp()
    repository.delete_flow("ns", "flow")
    assert repository.flows_stamp() != stamp
    with pytest.raises(NotFoundError, match="was deleted"):
        repository.get_flow("ns", "flow")
    assert repository.get_flow("ns", "flow", 1).source == "v1", "executions find their revision"
    assert [(f.revision, f.deleted) for f in repository.flow_revisions("ns", "flow")] == [(1, True)]
    assert repository.get_flow("ns", "flow", 1).deleted
    assert not repository.get_flow("ns", "kept").deleted
    assert [f.flow_id for f in repository.list_flows()] == ["kept"]
    with pytest.raises(NotFoundError):
        repository.delete_flow("ns", "flow")
    with pytest.raises(NotFoundError):
        repository.delete_flow("ns", "never")
    assert repository.save_flow("ns", "flow", "v1") == 2, "identical source revives it"
    assert repository.get_flow("ns", "flow").revision == 2
    revived = repository.flow_revisions("ns", "flow")
    assert [(f.revision, f.deleted) for f in revived] == [(1, True), (2, False)]


def test_list_flows_latest_revisions_by_namespace_and_query(
    repository: ExecutionRepository,
) -> None:
    for namespace, flow_id in [("dev.b", "Zeta"), ("dev", "beta"), ("devops", "a"), ("dev", "al")]:
        repository.save_flow(namespace, flow_id, "1")
    repository.save_flow("dev", "beta", "2")
    listed = [(f.namespace, f.flow_id, f.revision) for f in repository.list_flows()]
    assert listed == [
        ("dev", "al", 1),
        ("dev", "beta", 2),
        ("dev.b", "Zeta", 1),
        ("devops", "a", 1),
    ]
    assert [f.flow_id for f in repository.list_flows(namespace="dev")] == ["al", "beta", "Zeta"]
    assert [f.flow_id for f in repository.list_flows(q="ZET")] == ["Zeta"]
    assert [f.flow_id for f in repository.list_flows(q="OPS.a")] == ["a"]
    assert repository.list_flows(namespace="none") == []


def test_flows_stamp_changes_with_every_new_revision_only(repository: ExecutionRepository) -> None:
    empty = repository.flows_stamp()
    repository.save_flow("ns", "f", "1")
    one = repository.flows_stamp()
    repository.save_flow("ns", "f", "1")
    assert repository.flows_stamp() == one != empty
    repository.save_flow("ns", "f", "2")
    assert repository.flows_stamp() not in (empty, one)


def test_claim_trigger_is_compare_and_set(repository: ExecutionRepository) -> None:
    assert repository.claim_trigger(*KEY, None, DATES[0])
    assert not repository.claim_trigger(*KEY, None, DATES[1])
    assert repository.claim_trigger(*KEY, DATES[0], DATES[2])
    assert not repository.claim_trigger(*KEY, DATES[0], DATES[3])
    [state] = repository.trigger_states()
    assert (state.namespace, state.flow_id, state.trigger_id) == KEY
    assert (state.last_date, state.disabled) == (DATES[2], False)


def test_one_concurrent_claim_of_a_date_wins(open_repository: Opener) -> None:
    repositories = [open_repository() for _ in range(4)]
    first = race(repositories, lambda repo, n: repo.claim_trigger(*KEY, None, DATES[n]))
    assert sum(first) == 1
    [state] = repositories[0].trigger_states()
    assert state.last_date == DATES[first.index(True)]
    again = race(repositories, lambda repo, n: repo.claim_trigger(*KEY, state.last_date, f"x{n}"))
    assert sum(again) == 1


def test_disabled_triggers_and_enabling_again_starts_from_now(
    repository: ExecutionRepository,
) -> None:
    assert repository.claim_trigger(*KEY, None, DATES[0])
    repository.set_trigger_disabled(*KEY, True)
    repository.set_trigger_disabled("prod", "f", "never-fired", True)
    [state] = repository.trigger_states("dev")
    assert state.disabled and state.last_date == DATES[0]
    before = utcnow()
    repository.set_trigger_disabled(*KEY, False)
    states = repository.trigger_states()
    assert [(s.namespace, s.disabled) for s in states] == [("dev", False), ("prod", True)]
    assert states[0].last_date is not None and parse_datetime(states[0].last_date) >= before
    assert states[1].last_date is None


def test_kv_put_get_overwrite_and_delete(repository: ExecutionRepository) -> None:
    assert repository.kv_get("dev", "k") is None
    assert repository.kv_put("dev", "k", {"a": [1, "two"]}, "JSON")
    first = repository.kv_get("dev", "k")
    assert first is not None
    assert (first.namespace, first.key, first.value, first.type) == (
        "dev",
        "k",
        {"a": [1, "two"]},
        "JSON",
    )
    assert first.expires is None and first.created.tzinfo is not None
    assert not repository.kv_put("dev", "k", "no", "STRING", overwrite=False)
    assert repository.kv_get("dev", "k").value == {"a": [1, "two"]}  # type: ignore[union-attr]
    assert repository.kv_put("prod", "k", "free", "STRING", overwrite=False)
    assert repository.kv_put("dev", "k", 3, "NUMBER")
    second = repository.kv_get("dev", "k")
    assert second is not None and (second.value, second.type) == (3, "NUMBER")
    assert second.created == first.created and second.updated >= first.updated
    assert repository.kv_delete("dev", "k")
    assert not repository.kv_delete("dev", "k")
    assert repository.kv_get("dev", "k") is None


def test_kv_expired_entries_are_hidden_then_dropped_and_free_the_key(
    repository: ExecutionRepository,
) -> None:
    soon = utcnow() + dt.timedelta(milliseconds=300)
    repository.kv_put("dev", "short", "v", "STRING", expires=soon)
    repository.kv_put("dev", "long", "v", "STRING", expires=utcnow() + dt.timedelta(hours=1))
    repository.kv_put("dev.sub", "other", True, "BOOLEAN")
    assert [e.key for e in repository.kv_list("dev")] == ["long", "short"]
    assert repository.kv_get("dev", "short").expires == soon  # type: ignore[union-attr]
    time.sleep(0.5)
    assert [(e.namespace, e.key) for e in repository.kv_list()] == [
        ("dev", "long"),
        ("dev.sub", "other"),
    ]
    assert repository.kv_get("dev", "short") is not None, "read expired: the caller decides"
    assert repository.kv_put("dev", "short", "new", "STRING", overwrite=False)
    assert repository.kv_get("dev", "short").value == "new"  # type: ignore[union-attr]


def test_task_cache_by_task_and_key_since_a_date(repository: ExecutionRepository) -> None:
    repository.cache_outputs("dev", "f", "t", "k1", {"value": 1}, "exec1", since=None)
    assert repository.cached_outputs("dev", "f", "t", "k1", since=None) == ({"value": 1}, "exec1")
    assert repository.cached_outputs("dev", "f", "t", "k2", since=None) is None
    assert repository.cached_outputs("dev", "f", "other", "k1", since=None) is None
    assert repository.cached_outputs("dev", "g", "t", "k1", since=None) is None
    earlier = utcnow() - dt.timedelta(minutes=1)
    assert repository.cached_outputs("dev", "f", "t", "k1", since=earlier) is not None
    later = utcnow() + dt.timedelta(seconds=1)
    assert repository.cached_outputs("dev", "f", "t", "k1", since=later) is None
    repository.cache_outputs("dev", "f", "t", "k2", {"value": 2}, "exec2", since=later)
    assert repository.cached_outputs("dev", "f", "t", "k1", since=None) is None, "older dropped"
    assert repository.cached_outputs("dev", "f", "t", "k2", since=None) == ({"value": 2}, "exec2")
    repository.cache_outputs("dev", "f", "t", "k2", {"value": 3}, "exec3", since=None)
    assert repository.cached_outputs("dev", "f", "t", "k2", since=None) == ({"value": 3}, "exec3")
