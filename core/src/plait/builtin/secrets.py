"""The built-in secret provider: ``secret('NAME')`` reads the environment variable
``SECRET_NAME`` holding the base64 of the value, as Kestra's open-source edition does.

Base64 keeps any value (newlines, quotes) safe to pass through shells and ``.env`` files. The
environment is read at each call, so a secret set after start-up is found.
"""

from __future__ import annotations

import base64
import binascii
import os

from plait_sdk import hookimpl
from plait_sdk.secrets import SecretProvider

from plait.errors import PlaitError

PREFIX = "SECRET_"


def environment_secret(name: str) -> str | None:
    """The decoded value of ``SECRET_<NAME>`` (the name upper-cased), or None when unset."""
    variable = PREFIX + name.upper()
    encoded = os.environ.get(variable)
    if encoded is None:
        return None
    try:
        return base64.b64decode("".join(encoded.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise PlaitError(
            f"environment variable {variable} must hold the base64 encoding of the secret "
            f"(e.g. `printf %s 'value' | base64`)"
        ) from None


@hookimpl
def register_secret_providers() -> dict[str, SecretProvider]:
    return {"env": environment_secret}
