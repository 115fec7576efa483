"""Which runner a task uses and with which image, from Kestra's two spellings."""

from __future__ import annotations

from typing import Any

import pytest
from plait_python.properties import DOCKER_RUNNER_TYPE, PROCESS_RUNNER_TYPE, ScriptProperties
from plait_python.selection import RunnerKind, container_spec, runner_kind


@pytest.mark.parametrize(
    ("properties", "kind"),
    [
        ({}, RunnerKind.PROCESS),
        ({"runner": "PROCESS"}, RunnerKind.PROCESS),
        ({"runner": "DOCKER"}, RunnerKind.DOCKER),
        ({"docker": {"image": "python:slim"}}, RunnerKind.DOCKER),
        ({"containerImage": "python:slim"}, RunnerKind.DOCKER),
        ({"runner": "PROCESS", "docker": {"image": "python:slim"}}, RunnerKind.PROCESS),
        ({"taskRunner": {"type": DOCKER_RUNNER_TYPE}}, RunnerKind.DOCKER),
        (
            {"taskRunner": {"type": PROCESS_RUNNER_TYPE}, "containerImage": "x"},
            RunnerKind.PROCESS,
        ),
        ({"taskRunner": {"type": PROCESS_RUNNER_TYPE}, "runner": "DOCKER"}, RunnerKind.PROCESS),
    ],
)
def test_runner_kind(properties: dict[str, Any], kind: RunnerKind) -> None:
    assert runner_kind(properties) is kind
    validated = ScriptProperties.model_validate({"script": "pass", **properties})
    assert runner_kind(validated.model_dump(exclude_none=True)) is kind


def test_container_spec_precedence() -> None:
    props = ScriptProperties.model_validate(
        {
            "script": "pass",
            "containerImage": "modern:1",
            "docker": {"image": "legacy:1", "networkMode": "none"},
            "taskRunner": {"type": DOCKER_RUNNER_TYPE, "pullPolicy": "NEVER"},
        }
    )
    spec = container_spec(props)
    assert spec.image == "modern:1"
    assert spec.options.pullPolicy == "NEVER"
    assert spec.options.networkMode == "host"  # taskRunner options replace docker's


def test_container_spec_defaults() -> None:
    legacy = container_spec(
        ScriptProperties.model_validate({"script": "pass", "docker": {"image": "legacy:1"}})
    )
    assert (legacy.image, legacy.options.pullPolicy) == ("legacy:1", "IF_NOT_PRESENT")
    bare = container_spec(ScriptProperties.model_validate({"script": "pass", "runner": "DOCKER"}))
    assert bare.image == "python:slim"


@pytest.mark.parametrize(
    "properties",
    [
        {"docker": {"image": "x", "pullPolicy": "SOMETIMES"}},
        {"docker": {"image": "x", "unknownKey": 1}},
        {"docker": {"memory": {"memory": "lots"}}},
        {"taskRunner": {"type": "io.kestra.plugin.ee.Kubernetes"}},
        {"runner": "K8S"},
        {"interpreter": []},
    ],
)
def test_bad_runner_settings_are_refused(properties: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ScriptProperties.model_validate({"script": "pass", **properties})
