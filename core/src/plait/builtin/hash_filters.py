"""Kestra's hashing filters: the hexadecimal digest of a text's UTF-8 bytes.

For checksums and cache keys in flows; MD5 and SHA-1 are there because Kestra has them, not
for anything security-related.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any


def _digest_filter(name: str, algorithm: str, example: str) -> Callable[[Any], str | None]:
    def digest(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{name} needs a text to hash, not a {type(value).__name__}")
        return hashlib.new(algorithm, value.encode()).hexdigest()

    digest.__name__ = digest.__qualname__ = name
    digest.__doc__ = (
        f"The {algorithm.upper()} digest of a text, in hexadecimal.\n\n"
        f"Example: ``{{{{ 'hello' | {name} }}}}`` gives ``{example}``"
    )
    return digest


FILTERS: dict[str, Callable[..., Any]] = {
    "md5": _digest_filter("md5", "md5", "5d41402abc4b2a76b9719d911017c592"),
    "sha1": _digest_filter("sha1", "sha1", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
    "sha256": _digest_filter(
        "sha256", "sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    ),
    "sha512": _digest_filter(
        "sha512",
        "sha512",
        "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7"
        "2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043",
    ),
}
