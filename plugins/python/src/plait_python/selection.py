"""Which runner a task uses, decided from its properties before or after rendering.

The decision is needed before rendering (``workingDir`` is a host path for a local process and a
container path for Docker), so it reads plain mappings: the raw properties, or the validated
ones dumped back to a mapping. Precedence: ``taskRunner.type``, then ``runner``, then the
presence of ``docker`` or ``containerImage`` (Docker), else a local process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plait_python.properties import (
    DEFAULT_IMAGE,
    DOCKER_RUNNER_TYPE,
    ContainerOptions,
    ExecProperties,
)

CONTAINER_WORKDIR = "/plait/work"
"""Where the working directory is bind-mounted in the container: a path of its own, so that an
image keeping its code in a common place such as ``/app`` still sees it."""


class RunnerKind(StrEnum):
    PROCESS = "PROCESS"
    DOCKER = "DOCKER"


def runner_kind(properties: Mapping[str, Any]) -> RunnerKind:
    task_runner = properties.get("taskRunner")
    if isinstance(task_runner, Mapping) and task_runner.get("type"):
        docker = task_runner["type"] == DOCKER_RUNNER_TYPE
        return RunnerKind.DOCKER if docker else RunnerKind.PROCESS
    runner = properties.get("runner")
    if runner in RunnerKind.__members__:
        return RunnerKind(runner)
    if properties.get("docker") is not None or properties.get("containerImage") is not None:
        return RunnerKind.DOCKER
    return RunnerKind.PROCESS


@dataclass(frozen=True)
class ContainerSpec:
    """Everything the Docker runner needs to know about the container of one task run."""

    image: str
    options: ContainerOptions


def container_spec(props: ExecProperties) -> ContainerSpec:
    """The image and options of a Docker run: ``taskRunner`` options win over ``docker``;
    ``containerImage`` wins over ``docker.image``."""
    if isinstance(props.taskRunner, ContainerOptions):
        options: ContainerOptions = props.taskRunner
    elif props.docker is not None:
        options = props.docker
    else:
        options = ContainerOptions()
    legacy_image = props.docker.image if props.docker is not None else None
    return ContainerSpec(
        image=props.containerImage or legacy_image or DEFAULT_IMAGE, options=options
    )
