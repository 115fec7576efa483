"""How commands get an Engine: one per command invocation, closed on exit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from plait.api import Engine


@contextlib.contextmanager
def open_engine() -> Iterator[Engine]:
    engine = Engine.create()
    try:
        yield engine
    finally:
        engine.close()
