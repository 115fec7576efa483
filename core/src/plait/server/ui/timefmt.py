"""Dates and durations as the UI writes them: UTC, to the second, and durations a person reads
at a glance (``1m 05s``, ``340ms``) rather than ISO-8601's ``PT1M5S``."""

from __future__ import annotations

import datetime as dt

from plait.state.model import Execution, utcnow


def when(value: dt.datetime | None) -> str:
    """``2026-12-01 10:04:05`` (UTC); empty for no date."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def clock(value: dt.datetime) -> str:
    """``10:04:05.123`` (UTC): a log line's time."""
    return value.astimezone(dt.UTC).strftime("%H:%M:%S.%f")[:-3]


def span(start: dt.datetime, end: dt.datetime | None) -> dt.timedelta:
    """From ``start`` to ``end``, or to now for what has not ended."""
    return (end or utcnow()) - start


def lasted(execution: Execution) -> str:
    """How long the execution ran (so far, while it runs)."""
    return duration(span(execution.created, execution.ended))


def duration(value: dt.timedelta) -> str:
    """``340ms``, ``4.2s``, ``1m 05s``, ``2h 03m``, ``3d 4h``."""
    seconds = max(value.total_seconds(), 0.0)
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
