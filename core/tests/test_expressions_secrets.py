"""The built-in environment secret provider and the secret() function."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from plait.builtin import secrets
from plait.errors import ExpressionError, PlaitError
from support.expression_cases import builtin_engine


def encoded(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


class ProviderServices:
    """The executor's side of secret(): ask each registered provider in turn."""

    execution_id = "exec-1"

    def __init__(self) -> None:
        self.providers = secrets.register_secret_providers()

    def secret(self, name: str) -> str:
        for provider in self.providers.values():
            value = provider(name)
            if value is not None:
                return value
        raise ExpressionError(f"secret '{name}' is not defined")

    def read(self, uri: str) -> str:
        raise AssertionError("not used")

    def render(self, template: str) -> Any:
        raise AssertionError("not used")

    def variables(self) -> dict[str, Any]:
        raise AssertionError("not used")


def test_provider_is_registered_as_env() -> None:
    assert secrets.register_secret_providers() == {"env": secrets.environment_secret}


def test_reads_base64_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_GITHUB_TOKEN", encoded("ghp_s3cr3t\nline2"))
    assert secrets.environment_secret("GITHUB_TOKEN") == "ghp_s3cr3t\nline2"
    assert secrets.environment_secret("github_token") == "ghp_s3cr3t\nline2"


def test_line_wrapped_base64_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "x" * 100
    wrapped = "\n".join(encoded(value)[i : i + 76] for i in range(0, 140, 76))
    monkeypatch.setenv("SECRET_LONG", wrapped)
    assert secrets.environment_secret("LONG") == value


def test_unknown_secret_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_NOPE", raising=False)
    assert secrets.environment_secret("NOPE") is None


def test_invalid_base64_is_refused_without_printing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_PLAIN", "not base64 at all!")
    with pytest.raises(PlaitError) as caught:
        secrets.environment_secret("PLAIN")
    assert "SECRET_PLAIN must hold the base64 encoding" in str(caught.value)
    assert "not base64 at all" not in str(caught.value)


def test_secret_function_in_an_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_API_KEY", encoded("k-123"))
    engine = builtin_engine()
    services = ProviderServices()
    value = engine.render_value(
        "Bearer {{ secret('API_KEY') }}", {}, services=services, task_id="call"
    )
    assert value == "Bearer k-123"
    with pytest.raises(ExpressionError) as caught:
        engine.render_value("{{ secret('MISSING') }}", {}, services=services, task_id="call")
    assert str(caught.value) == (
        "task 'call', expression `{{ secret('MISSING') }}`: secret 'MISSING' is not defined"
    )
