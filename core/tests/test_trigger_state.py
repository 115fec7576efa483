"""Trigger state in the store: claims are compare-and-set (a date fires once whoever runs),
and a trigger enabled again starts from now."""

from __future__ import annotations

from pathlib import Path

from plait.state.model import parse_datetime, utcnow
from plait.state.sqlite import SqliteRepository

KEY = ("dev", "flow", "every")


def test_a_claim_succeeds_once_from_the_same_previous_date(tmp_path: Path) -> None:
    with SqliteRepository(tmp_path / "plait.db") as repo:
        assert repo.claim_trigger(*KEY, None, "2026-01-01T00:00:00.000000Z")
        assert not repo.claim_trigger(*KEY, None, "2026-01-01T00:00:01.000000Z")
        first = "2026-01-01T00:00:00.000000Z"
        assert repo.claim_trigger(*KEY, first, "2026-01-01T00:00:02.000000Z")
        assert not repo.claim_trigger(*KEY, first, "2026-01-01T00:00:02.000000Z")
        [state] = repo.trigger_states()
        assert (state.last_date, state.disabled) == ("2026-01-01T00:00:02.000000Z", False)


def test_enabling_again_starts_from_now(tmp_path: Path) -> None:
    with SqliteRepository(tmp_path / "plait.db") as repo:
        assert repo.claim_trigger(*KEY, None, "2026-01-01T00:00:00.000000Z")
        repo.set_trigger_disabled(*KEY, True)
        [state] = repo.trigger_states()
        assert state.disabled and state.last_date == "2026-01-01T00:00:00.000000Z"
        before = utcnow()
        repo.set_trigger_disabled(*KEY, False)
        [state] = repo.trigger_states()
        assert not state.disabled
        assert state.last_date is not None and parse_datetime(state.last_date) >= before
