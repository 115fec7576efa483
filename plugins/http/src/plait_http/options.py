"""The shapes of `options` and `sslOptions`, named as in Kestra's HTTP configuration.

Flows written for Kestra validate unchanged: both the current nested spellings
(`options.timeout.connectTimeout`, `options.auth`, `options.ssl`) and the older flat ones
(`options.connectTimeout`, `options.basicAuthUser`, the task-level `sslOptions`) are accepted,
and each resolves to one effective value through the methods of :class:`HttpOptions`.
"""

from __future__ import annotations

import codecs
from datetime import timedelta
from typing import Annotated, Literal

from plait_sdk import prop
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024
"""Largest body `plait.http.Request` keeps inline (10 MB, as in Kestra)."""

DEFAULT_READ_IDLE_TIMEOUT = timedelta(minutes=5)


class OptionsModel(BaseModel):
    """Base of the nested option objects: unknown keys are refused so typos surface."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BasicAuth(OptionsModel):
    """HTTP basic authentication."""

    type: Literal["BASIC"] = prop(description="The authentication scheme.", dynamic=False)
    username: str = prop(description="The user name.", examples=["{{ secret('API_USERNAME') }}"])
    password: str = prop("", description="The password.", examples=["{{ secret('API_PASSWORD') }}"])


class BearerAuth(OptionsModel):
    """A bearer token, sent as `Authorization: Bearer <token>`."""

    type: Literal["BEARER"] = prop(description="The authentication scheme.", dynamic=False)
    token: str = prop(description="The token.", examples=["{{ secret('API_TOKEN') }}"])


Auth = Annotated[BasicAuth | BearerAuth, Field(discriminator="type")]


class TimeoutOptions(OptionsModel):
    """Network timeouts, as ISO-8601 durations (`PT30S`) or numbers of seconds."""

    connectTimeout: timedelta | None = prop(
        None,
        description="Longest wait to establish the connection. Unset: only the operating "
        "system's own limit applies.",
        examples=["PT30S"],
    )
    readIdleTimeout: timedelta = prop(
        DEFAULT_READ_IDLE_TIMEOUT,
        description="Longest time the connection may stay idle while the request is sent or "
        "the response is awaited or read; a slow but steady download never hits it.",
        examples=["PT1M"],
    )


class SslOptions(OptionsModel):
    """TLS settings."""

    insecureTrustAllCertificates: bool = prop(
        False,
        description="Accept any server certificate, including self-signed and expired ones. "
        "This makes the connection insecure: use it for tests only.",
    )


class HttpOptions(OptionsModel):
    """How the request is sent and which responses are accepted."""

    timeout: TimeoutOptions | None = prop(
        None,
        description="Connect and read timeouts.",
        examples=[{"connectTimeout": "PT10S", "readIdleTimeout": "PT1M"}],
    )
    connectTimeout: timedelta | None = prop(
        None, description="Kestra's older spelling of `timeout.connectTimeout`."
    )
    readTimeout: timedelta | None = prop(
        None, description="Kestra's older spelling of `timeout.readIdleTimeout`."
    )
    readIdleTimeout: timedelta | None = prop(
        None, description="Kestra's older spelling of `timeout.readIdleTimeout`."
    )
    connectionPoolIdleTimeout: timedelta | None = prop(
        None,
        description="Accepted so that Kestra flows validate; has no effect, as every task run "
        "uses its own connection.",
    )
    followRedirects: bool = prop(True, description="Follow `3xx` redirects automatically.")
    allowFailed: bool = prop(
        False,
        description="Succeed even when the response status is 400 or more; the status is in "
        "the `code` output.",
    )
    allowedResponseCodes: list[int] | None = prop(
        None,
        description="When set, exactly these status codes succeed and any other fails, "
        "whatever `allowFailed` says.",
        examples=[[200, 404]],
    )
    maxContentLength: int = prop(
        DEFAULT_MAX_CONTENT_LENGTH,
        description="Largest response body, in bytes, that `plait.http.Request` keeps as its "
        "`body` output; a larger body fails the task (use `plait.http.Download` for those). "
        "Not used by `plait.http.Download`, which streams any size to internal storage.",
        gt=0,
    )
    auth: Auth | None = prop(
        None,
        description="Authentication: `{type: BASIC, username, password}` or "
        "`{type: BEARER, token}`.",
        examples=[{"type": "BEARER", "token": "{{ secret('API_TOKEN') }}"}],
    )
    basicAuthUser: str | None = prop(
        None, description="Kestra's older spelling of `auth: {type: BASIC, username}`."
    )
    basicAuthPassword: str | None = prop(
        None, description="Kestra's older spelling of `auth: {type: BASIC, password}`."
    )
    ssl: SslOptions | None = prop(None, description="TLS settings.")
    defaultCharset: str = prop(
        "UTF-8",
        description="Charset used to encode `body` and to decode a response that declares none.",
        examples=["ISO-8859-1"],
    )

    @field_validator("defaultCharset")
    @classmethod
    def _known_charset(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown charset {value!r}") from None
        return value

    def connect_timeout(self) -> timedelta | None:
        if self.timeout is not None and self.timeout.connectTimeout is not None:
            return self.timeout.connectTimeout
        return self.connectTimeout

    def read_timeout(self) -> timedelta:
        if self.timeout is not None and "readIdleTimeout" in self.timeout.model_fields_set:
            return self.timeout.readIdleTimeout
        return self.readIdleTimeout or self.readTimeout or DEFAULT_READ_IDLE_TIMEOUT

    def credentials(self) -> BasicAuth | BearerAuth | None:
        if self.auth is not None:
            return self.auth
        if self.basicAuthUser is not None:
            return BasicAuth(
                type="BASIC", username=self.basicAuthUser, password=self.basicAuthPassword or ""
            )
        return None

    def accepts(self, status: int) -> bool:
        """Whether a response with this status lets the task succeed."""
        if self.allowedResponseCodes:
            return status in self.allowedResponseCodes
        return self.allowFailed or status < 400
