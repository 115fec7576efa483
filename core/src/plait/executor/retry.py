"""Kestra's task retry policies: constant, exponential and random delays between attempts,
bounded by a number of attempts and/or a total duration."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plait.durations import parse_duration


def _seconds(config: Mapping[str, Any], key: str, default: float | None = None) -> float | None:
    text = config.get(key)
    if text is None:
        return default
    parsed = parse_duration(str(text))
    return parsed.total_seconds() if parsed is not None else default


@dataclass(frozen=True)
class RetryPolicy:
    kind: str
    interval: float
    max_interval: float | None
    min_interval: float
    delay_factor: float
    max_attempts: int | None
    max_duration: float | None
    warning_on_retry: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> RetryPolicy | None:
        """The policy of a task's ``retry`` mapping (validated when the flow was read)."""
        if not config:
            return None
        attempts = config.get("maxAttempt", config.get("maxAttempts"))
        return cls(
            kind=str(config.get("type", "constant")),
            interval=_seconds(config, "interval", 1.0) or 0.0,
            max_interval=_seconds(config, "maxInterval"),
            min_interval=_seconds(config, "minInterval", 0.0) or 0.0,
            delay_factor=float(config.get("delayFactor", 2.0)),
            max_attempts=int(attempts) if attempts is not None else None,
            max_duration=_seconds(config, "maxDuration"),
            warning_on_retry=bool(config.get("warningOnRetry", False)),
        )

    def delay(self, attempt: int, elapsed: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None when no attempt is left.

        Without ``maxAttempt`` nor ``maxDuration`` a policy still stops, after 3 attempts, so
        a forgotten bound never loops forever."""
        limit = self.max_attempts
        if limit is None and self.max_duration is None:
            limit = 3
        if limit is not None and attempt >= limit:
            return None
        if self.kind == "exponential":
            wait = self.interval * self.delay_factor ** (attempt - 1)
        elif self.kind == "random":
            wait = random.uniform(self.min_interval, self.max_interval or self.min_interval)
        else:
            wait = self.interval
        if self.max_interval is not None:
            wait = min(wait, self.max_interval)
        if self.max_duration is not None and elapsed + wait > self.max_duration:
            return None
        return wait
