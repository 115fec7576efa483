"""Environment images for the Docker runner: the task's image with its ``dependencies`` and its
leading package-install ``beforeCommands`` applied, built once and reused.

Kestra starts every run from the bare image, so ``pip install polars`` downloads and installs
polars on every execution. Here the first run builds ``plait-python-env:<key>``: a container of
the task's image runs the installs (with the task's interpreter, user and network) and is
committed. The key hashes the base image's id (a new ``python:slim`` gets a new environment),
the dependencies, the install commands, the task's installer variables, the interpreter and the
user. Later runs start from that image and skip those commands; the rest of
``beforeCommands`` runs as always.

To force a rebuild, remove the images:
``docker rmi $(docker images -q --filter label=plait.environment)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound
from docker.models.containers import Container
from docker.models.images import Image
from plait_sdk import TaskFailure, TaskLogger

from plait_python.containers import (
    LABEL_ENGINE,
    LABEL_EXECUTION,
    LABEL_TASK,
    LABEL_TASKRUN,
    image_env,
)
from plait_python.installs import InstallLog
from plait_python.process import Finished
from plait_python.recipe import Recipe
from plait_python.selection import ContainerSpec
from plait_python.setup_commands import environment_setup
from plait_python.shell import command_line
from plait_python.venvs import exclusive

REPOSITORY = "plait-python-env"
LABEL_ENVIRONMENT = "plait.environment"
"""Label of every environment image (its key), to list or remove them."""

Build = Callable[[ContainerSpec, list[str], InstallLog, Callable[[Container], None]], Finished]
"""Runs a command line in a container of a spec, sending its lines to the log given and
calling the last argument with the container if it succeeds."""


@dataclasses.dataclass(frozen=True)
class Prepared:
    spec: ContainerSpec
    """What to run: the environment image, or the task's own when nothing was to install."""
    before_commands: list[str]
    """The ``beforeCommands`` still to run in the task's container."""


def prepare(
    client: docker.DockerClient,
    spec: ContainerSpec,
    recipe: Recipe,
    interpreter: Sequence[str],
    build: Build,
    lock_dir: Path,
    log: TaskLogger,
    cancelled: Callable[[], bool],
) -> Prepared:
    """The environment image of ``recipe`` on ``spec.image``, built if missing."""
    before = list(recipe.before_commands)
    count = environment_setup(before)
    if not count and not recipe.dependencies:
        return Prepared(spec, before)
    setup = dataclasses.replace(recipe, before_commands=tuple(before[:count]))
    base = client.images.get(spec.image)
    key = setup.key(image=base.id, interpreter=list(interpreter), user=spec.options.user)
    derived = dataclasses.replace(spec, image=f"{REPOSITORY}:{key}")
    if not _exists(client, derived.image):
        lock_dir.mkdir(parents=True, exist_ok=True)
        with exclusive(lock_dir / f"{key}.lock", log, cancelled):
            if not _exists(client, derived.image):
                _build(spec, base, setup, interpreter, key, build, log)
    if count:
        skipped = "; ".join(before[:count])
        log.info(f"already installed in the image {derived.image}, not run again: {skipped}")
    return Prepared(derived, before[count:])


def _build(
    spec: ContainerSpec,
    base: Image,
    setup: Recipe,
    interpreter: Sequence[str],
    key: str,
    build: Build,
    log: TaskLogger,
) -> None:
    log.info(f"building the image {REPOSITORY}:{key} from {spec.image}")
    install = setup.container_install()
    commands = [*([install] if install else []), *setup.before_commands]
    argv = command_line(interpreter, [], commands, fail_fast=True)

    def commit(container: Container) -> None:
        try:
            container.commit(REPOSITORY, key, conf=_clean_config(base, container, key))
        except DockerException as exc:
            raise TaskFailure(f"cannot save the image {REPOSITORY}:{key}: {exc}") from exc

    output = InstallLog(log, f"building the image {REPOSITORY}:{key}")
    output.check(build(spec, argv, output, commit))


def _clean_config(base: Image, container: Container, key: str) -> dict[str, object]:
    """The image configuration to commit: the base image's, not the build container's. Docker
    adds the container's variables and labels the configuration lacks, so those are blanked."""
    config = base.attrs.get("Config") or {}
    base_env = image_env(base)
    container_env = (container.attrs.get("Config") or {}).get("Env") or []
    added = {entry.partition("=")[0] for entry in container_env} - set(base_env)
    blank_labels = (LABEL_EXECUTION, LABEL_TASK, LABEL_TASKRUN, LABEL_ENGINE)
    return {
        "Cmd": config.get("Cmd"),
        "Entrypoint": config.get("Entrypoint"),
        "Env": [f"{k}={v}" for k, v in base_env.items()] + [f"{k}=" for k in sorted(added)],
        "Labels": {
            **(config.get("Labels") or {}),
            **dict.fromkeys(blank_labels, ""),
            LABEL_ENVIRONMENT: key,
        },
    }


def _exists(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True
