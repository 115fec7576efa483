"""Fixtures shared by the core's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.api import Engine
from support.flows import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh home with the kernel's plugins and the flow-control test tasks
    (modules that need another engine define their own ``engine`` fixture)."""
    engine = make_engine(tmp_path / "home")
    yield engine
    engine.close()
