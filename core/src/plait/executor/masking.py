"""Secret masking: every secret value the execution has seen is replaced before text is stored
or shown."""

from __future__ import annotations

import threading
from typing import Any

MASK = "********"
"""What a secret reads as wherever it would be shown: Kestra's eight stars (InputsTest)."""


class SecretMasker:
    """Collects secret values of one execution and masks them in text and output values."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if value:
            with self._lock:
                self._values.add(value)

    def mask(self, text: str) -> str:
        # Longest first, so a secret containing another one is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def mask_value(self, value: Any) -> Any:
        """Mask secrets anywhere inside a JSON-like value (outputs, inputs)."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {k: self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask_value(v) for v in value]
        return value
