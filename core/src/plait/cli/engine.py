"""How commands get an Engine: one per command invocation, closed on exit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from plait.api import Engine
from plait.config import HOME_ENV, Settings
from plait.errors import PlaitError


@contextlib.contextmanager
def open_engine() -> Iterator[Engine]:
    try:
        engine = Engine.create()
    except OSError as exc:  # PLAIT_HOME (or a configured location) cannot be used
        raise PlaitError(
            f"cannot use the plait home {Settings.from_env().home}: {exc.strerror or exc} "
            f"(set {HOME_ENV} to a writable directory)"
        ) from None
    try:
        yield engine
    finally:
        engine.close()
