"""Secret providers: ``secret('NAME')`` asks each registered provider until one answers."""

from __future__ import annotations

from collections.abc import Callable

SecretProvider = Callable[[str], "str | None"]
"""Returns the secret's value, or None when this provider does not know the name."""
