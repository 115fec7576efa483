"""The execution-state repository contract, for plugins replacing the built-in SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

RepositoryFactory = Callable[[Path, Mapping[str, Any]], Any]
"""Builds a repository from the plait home directory and its options.

The object returned is a :class:`plait_sdk.state.StateStore` (documents and plain types: what a
plugin implements, since it cannot import the core), which the core wraps into its own
``plait.state.repository.ExecutionRepository``; or an ``ExecutionRepository`` itself (core
model classes: only for code that ships with the core)."""
