"""The execution-state repository contract, for plugins replacing the built-in SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

RepositoryFactory = Callable[[Path, Mapping[str, Any]], Any]
"""Builds a repository from the plait home directory and its options.

The object returned must implement ``plait.state.repository.ExecutionRepository``; the protocol
lives in core because it speaks core's execution model."""
