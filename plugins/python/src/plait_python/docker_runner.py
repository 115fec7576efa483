"""The DOCKER runner: one task run in a container of its image, or of the environment image
derived from it (``images.py``). Imported only when a task runs in Docker, so that the Docker SDK
costs nothing to flows that never use it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from docker import DockerClient
from docker.models.containers import Container

from plait_python.containers import (
    LABEL_EXECUTION,
    LABEL_TASK,
    LABEL_TASKRUN,
    connect,
    default_owner,
    ensure_image,
    remove_orphans,
    run_container,
)
from plait_python.images import prepare
from plait_python.installs import InstallLog
from plait_python.process import Finished
from plait_python.selection import ContainerSpec, container_spec
from plait_python.shell import command_line
from plait_python.streams import Watch

if TYPE_CHECKING:
    from plait_python.tasks import Launch

IMAGE_LOCKS = "python-images"
"""Engine cache directory holding the locks of environment image builds."""


def run_in_docker(launch: Launch) -> Finished:
    """Clear containers that dead engines left behind, make sure the image (and the environment
    image) exists, then run the task's command line."""
    props, ctx = launch.props, launch.ctx
    with connect() as client:
        remove_orphans(client, ctx.log)
        spec = container_spec(props)
        ensure_image(client, spec.image, spec.options.pullPolicy, ctx.log)
        run = _Runner(launch, client)

        def build(
            spec: ContainerSpec,
            argv: list[str],
            output: InstallLog,
            keep: Callable[[Container], None],
        ) -> Finished:
            env = dict(launch.recipe.installer_env)
            return run(spec, argv, env, output, Watch(cancelled=ctx.cancelled), keep)

        prepared = prepare(
            client,
            spec,
            launch.recipe,
            props.interpreter,
            build,
            ctx.cache_dir(IMAGE_LOCKS),
            ctx.log,
            ctx.cancelled,
        )
        argv = command_line(
            props.interpreter, prepared.before_commands, launch.commands, fail_fast=props.failFast
        )
        return run(prepared.spec, argv, launch.env, launch.collector, launch.watch)


class _Runner:
    """Runs command lines in containers labelled with the task run, in its working directory."""

    def __init__(self, launch: Launch, client: DockerClient) -> None:
        self._launch = launch
        self._client = client

    def __call__(
        self,
        spec: ContainerSpec,
        argv: list[str],
        env: Mapping[str, str],
        on_line: Callable[[str, str], None],
        watch: Watch,
        keep: Callable[[Container], None] | None = None,
    ) -> Finished:
        ctx = self._launch.ctx
        labels = {
            LABEL_EXECUTION: ctx.execution_id,
            LABEL_TASK: ctx.task_id,
            LABEL_TASKRUN: ctx.taskrun_id,
        }
        return run_container(
            self._client,
            spec,
            argv,
            host_workdir=self._launch.workspace.root,
            env=env,
            labels=labels,
            on_line=on_line,
            watch=watch,
            owner=default_owner(),
            log=ctx.log,
            keep=keep,
        )
