"""Running a command line in a Docker container through the Docker engine API (docker SDK).

The task's working directory is bind-mounted at ``CONTAINER_WORKDIR``, and plait's ``kestra``
module, read-only, at ``CONTAINER_LIBRARY`` (last on ``PYTHONPATH``). Each container carries
labels naming its execution, task run and engine process, and is removed whatever happens: after
success, failure, timeout, kill and interruption (``finally``), and, should the engine die without
running its ``finally`` blocks, by the next Docker run on the same machine, which removes the
containers of engine processes that no longer exist.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.models.images import Image
from docker.utils import parse_bytes, parse_repository_tag
from plait_sdk import TaskFailure, TaskLogger

from plait_python.library import CONTAINER_LIBRARY, KESTRA_LIBRARY, with_library
from plait_python.process import Finished
from plait_python.properties import ContainerOptions
from plait_python.selection import CONTAINER_WORKDIR, ContainerSpec
from plait_python.streams import STDERR, STDOUT, LinePump, Watch, supervise

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
LABEL_EXECUTION = "plait.execution"
LABEL_TASK = "plait.task"
LABEL_TASKRUN = "plait.taskrun"
LABEL_ENGINE = "plait.engine"
"""``<hostname>:<pid>`` of the engine process that started the container."""
KILL_WAIT_SECONDS = 30


def engine_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


@contextmanager
def connect() -> Iterator[docker.DockerClient]:
    """A client of the engine named by ``DOCKER_HOST`` (the local socket by default)."""
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        raise TaskFailure(
            f"cannot reach the Docker engine at {docker_host()} ({_reason(exc)}). Start Docker "
            "(or point DOCKER_HOST at a running engine), or run the task as a local process "
            "with `runner: PROCESS` (or a taskRunner of type "
            "io.kestra.plugin.core.runner.Process)."
        ) from exc
    try:
        yield client
    finally:
        client.close()


def ensure_image(client: docker.DockerClient, image: str, policy: str, log: TaskLogger) -> None:
    """Make ``image`` available locally according to the pull policy."""
    if policy != "ALWAYS":
        try:
            client.images.get(image)
            return
        except ImageNotFound:
            if policy == "NEVER":
                raise TaskFailure(
                    f"the image {image!r} is not present on the Docker engine and pullPolicy is "
                    "NEVER: build or load it first (docker build / docker load), or allow pulls "
                    "with pullPolicy IF_NOT_PRESENT"
                ) from None
    repository, tag = parse_repository_tag(image)
    log.info(f"pulling image {image}")
    try:
        client.images.pull(repository, tag=tag or "latest")
    except DockerException as exc:
        raise TaskFailure(
            f"the image {image!r} is not available on the Docker engine and cannot be pulled: "
            f"{_reason(exc)}"
        ) from exc


def remove_orphans(client: docker.DockerClient, log: TaskLogger) -> None:
    """Remove containers of engine processes on this machine that died without cleaning up."""
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL_ENGINE}):
        owner_host, _, pid = container.labels.get(LABEL_ENGINE, "").rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            log.debug(f"removing container {container.short_id} left by engine process {pid}")
            with suppress(NotFound, APIError):
                container.remove(force=True)


def run_container(
    client: docker.DockerClient,
    spec: ContainerSpec,
    argv: Sequence[str],
    *,
    host_workdir: Path,
    env: Mapping[str, str],
    labels: Mapping[str, str],
    on_line: Callable[[str, str], None],
    watch: Watch,
    owner: tuple[int, int] | None,
    log: TaskLogger,
    keep: Callable[[Container], None] | None = None,
) -> Finished:
    """Run ``argv`` in a new container and remove it afterwards, whatever happens.

    ``owner`` (uid, gid) gets back every file the container wrote in the working directory, so
    an engine that is not root can still read and delete what a root container left there.
    ``keep`` is called with the container after a successful run, before its removal (to commit
    it as an image).
    """
    mounts = {
        str(host_workdir): {"bind": CONTAINER_WORKDIR, "mode": "rw"},
        str(KESTRA_LIBRARY): {"bind": CONTAINER_LIBRARY, "mode": "ro"},
    }
    labels = {**labels, LABEL_ENGINE: engine_label()}
    try:
        image_path = image_env(client.images.get(spec.image)).get("PYTHONPATH")
        container = client.containers.create(
            spec.image,
            command=list(argv),
            working_dir=CONTAINER_WORKDIR,
            environment=with_library(env, image_path, CONTAINER_LIBRARY),
            volumes=mounts,
            labels=labels,
            detach=True,
            **_options(spec.options),
        )
    except DockerException as exc:
        raise TaskFailure(f"cannot create a container from {spec.image!r}: {_reason(exc)}") from exc
    streams = []
    try:
        container.start()
        pump = LinePump()
        for name in (STDOUT, STDERR):
            stream = container.logs(
                stdout=name == STDOUT, stderr=name == STDERR, stream=True, follow=True
            )
            streams.append(stream)
            pump.add(name, stream)
        cancelled = supervise(pump, on_line, kill=lambda: _kill(container), watch=watch)
        exit_code = int(container.wait(timeout=KILL_WAIT_SECONDS)["StatusCode"])
        if keep is not None and exit_code == 0 and not cancelled:
            keep(container)
        return Finished(exit_code, cancelled)
    except DockerException as exc:
        raise TaskFailure(f"the container of {spec.image!r} failed: {_reason(exc)}") from exc
    finally:
        for stream in streams:
            with suppress(Exception):
                stream.close()
        with suppress(NotFound, APIError):
            container.remove(force=True)
        if owner is not None:
            _hand_back(client, spec.image, mounts, labels, owner, log)


def image_env(image: Image) -> dict[str, str]:
    """The environment variables ``image`` sets (``ENV`` lines of its Dockerfile)."""
    entries = (image.attrs.get("Config") or {}).get("Env") or []
    return dict(entry.partition("=")[::2] for entry in entries)


def _options(options: ContainerOptions) -> dict[str, object]:
    settings: dict[str, object] = {
        "entrypoint": options.entryPoint or [""],
        "network_mode": options.networkMode,
    }
    if options.user:
        settings["user"] = options.user
    if options.extraHosts:
        settings["extra_hosts"] = list(options.extraHosts)
    if options.cpu is not None:
        settings["nano_cpus"] = int(options.cpu.cpus * 1_000_000_000)
    if options.memory is not None:
        settings["mem_limit"] = parse_bytes(options.memory.memory)
    return settings


def _kill(container: Container) -> None:
    with suppress(NotFound, APIError):
        container.kill()


def _hand_back(
    client: docker.DockerClient,
    image: str,
    mounts: Mapping[str, Mapping[str, str]],
    labels: Mapping[str, str],
    owner: tuple[int, int],
    log: TaskLogger,
) -> None:
    uid, gid = owner
    try:
        client.containers.run(
            image,
            ["chown", "-R", f"{uid}:{gid}", CONTAINER_WORKDIR],
            entrypoint=[""],
            user="0",
            volumes=dict(mounts),
            labels=dict(labels),
            network_mode="none",
            remove=True,
        )
    except DockerException as exc:
        log.warning(
            f"could not give the files of {CONTAINER_WORKDIR} back to uid {uid}: {_reason(exc)}; "
            "the engine may be unable to remove some of them"
        )


def default_owner() -> tuple[int, int] | None:
    """Who must own the container's files afterwards: the engine's user, unless it is root
    (root reads and removes anything already)."""
    uid = os.geteuid()
    return None if uid == 0 else (uid, os.getegid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reason(exc: DockerException) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc).strip()
