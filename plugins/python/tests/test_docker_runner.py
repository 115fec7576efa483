"""plait.python.Script and Commands in Docker containers, against a real Docker engine."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import docker
import pytest
from plait_python.containers import LABEL_ENGINE, LABEL_EXECUTION, connect, run_container
from plait_python.properties import ContainerOptions
from plait_python.selection import CONTAINER_WORKDIR, ContainerSpec
from plait_python.streams import Watch
from plait_sdk.testing import FlowRunResult, TaskRunResult

SCRIPT = "io.kestra.plugin.scripts.python.Script"
COMMANDS = "io.kestra.plugin.scripts.python.Commands"
IMAGE = "python:slim"
Messages = Callable[..., list[str]]

docker_only = pytest.mark.docker


@pytest.fixture
def client(docker_engine: str) -> Iterator[docker.DockerClient]:
    with connect() as engine_client:
        yield engine_client


class StrictLog:
    def debug(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None:
        pytest.fail(f"unexpected warning: {message}")

    def error(self, message: str) -> None:
        pytest.fail(f"unexpected error: {message}")


def _run_python(
    plait_runner: Any, task_type: str, properties: str, variables: str = ""
) -> tuple[FlowRunResult, TaskRunResult]:
    """Run a flow of one task, `python`, of ``task_type`` with ``properties`` (YAML), after an
    optional whole ``variables:`` section: the execution, whose id finds its containers, and
    the task run."""
    task = f"  - id: python\n    type: {task_type}\n{properties}"
    result = plait_runner.run_flow(
        f"id: docker_test\nnamespace: test.python\n{variables}tasks:\n{task}"
    )
    return result, result.tasks["python"]


def _containers_of(execution_id: str) -> list[str]:
    """Every container, running or not, labelled with this execution (as `docker ps -a`)."""
    listing = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label={LABEL_EXECUTION}={execution_id}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return listing.stdout.split()


@docker_only
def test_script_runs_in_the_container_with_container_paths(
    plait_runner: Any, docker_engine: str, log_messages: Messages
) -> None:
    result, task = _run_python(
        plait_runner,
        SCRIPT,
        """\
    docker:
      image: python:slim
    beforeCommands:
      - echo prepared > before.txt
    script: |
      import os, json
      print("in container:", os.path.exists("/.dockerenv"))
      print("paths:", "{{ workingDir }}", os.getcwd(), os.environ["WORKING_DIR"])
      print("before:", open("before.txt").read().strip())
      flags = {{ vars.flags }}
      print("::" + json.dumps({"outputs": {"flags": flags}}) + "::")
      with open("{{ outputDir }}/result.txt", "w") as out:
          out.write("written in the container")
""",
        variables='variables:\n  flags: {"a": true, "b": null}\n',
    )
    assert task.state == "SUCCESS", task.error
    info = log_messages(task, "INFO")
    assert "in container: True" in info
    assert f"paths: {CONTAINER_WORKDIR} {CONTAINER_WORKDIR} {CONTAINER_WORKDIR}" in info
    assert "before: prepared" in info
    assert task.outputs["vars"] == {"flags": {"a": True, "b": None}}
    assert task.read(task.outputs["outputFiles"]["result.txt"]) == b"written in the container"
    assert _containers_of(result.execution_id) == []


@docker_only
def test_exit_code_and_stderr_of_a_failing_container(
    plait_runner: Any, docker_engine: str, log_messages: Messages
) -> None:
    result, task = _run_python(
        plait_runner,
        COMMANDS,
        """\
    containerImage: python:slim
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
    commands:
      - echo on stdout
      - echo broken >&2
      - exit 4
""",
    )
    assert task.state == "FAILED"
    assert "exited with code 4" in task.error and "broken" in task.error
    assert "on stdout" in log_messages(task, "INFO")
    assert "broken" in log_messages(task, "WARN")
    assert _containers_of(result.execution_id) == []


@docker_only
def test_timeout_kills_the_container_and_removes_it(plait_runner: Any, docker_engine: str):
    result, task = _run_python(
        plait_runner,
        SCRIPT,
        """\
    timeout: PT2S
    docker:
      image: python:slim
    script: |
      import time
      print("sleeping", flush=True)
      time.sleep(300)
""",
    )
    assert task.state == "FAILED"
    assert "timed out" in task.error
    assert _containers_of(result.execution_id) == []


@docker_only
def test_never_pull_policy_with_a_missing_image(plait_runner: Any, docker_engine: str):
    result = plait_runner.run_task(
        SCRIPT,
        {
            "docker": {"image": "plait-tests/not-there:1", "pullPolicy": "NEVER"},
            "script": "print(1)",
        },
    )
    assert result.state == "FAILED"
    assert "'plait-tests/not-there:1'" in result.error
    assert "NEVER" in result.error


@docker_only
def test_missing_image_that_cannot_be_pulled(plait_runner: Any, docker_engine: str):
    result = plait_runner.run_task(
        SCRIPT, {"containerImage": "plait-tests/not-there:1", "script": "print(1)"}
    )
    assert result.state == "FAILED"
    assert "the image 'plait-tests/not-there:1'" in result.error
    assert "cannot be pulled" in result.error


def test_unreachable_engine_names_the_socket(
    plait_runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "no-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    result = plait_runner.run_task(SCRIPT, {"docker": {"image": IMAGE}, "script": "print(1)"})
    assert result.state == "FAILED"
    assert f"unix://{socket_path}" in result.error
    assert "runner: PROCESS" in result.error


@docker_only
def test_containers_of_dead_engines_are_removed(
    plait_runner: Any, client: docker.DockerClient
) -> None:
    dead_pid = _a_dead_pid()
    orphan = client.containers.run(
        IMAGE,
        ["sleep", "300"],
        detach=True,
        network_mode="none",
        labels={LABEL_ENGINE: f"{socket.gethostname()}:{dead_pid}"},
    )
    try:
        result = plait_runner.run_task(SCRIPT, {"containerImage": IMAGE, "script": "print(1)"})
        assert result.state == "SUCCESS", result.error
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(orphan.id)
    finally:
        with suppress(docker.errors.NotFound):
            orphan.remove(force=True)


@docker_only
def test_interrupted_run_leaves_no_container(client: docker.DockerClient, tmp_path: Path):
    labels = {LABEL_EXECUTION: "interrupted-run"}

    def interrupt(stream: str, line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_container(
            client,
            ContainerSpec(IMAGE, ContainerOptions()),
            ["/bin/sh", "-c", "echo started; sleep 300"],
            host_workdir=tmp_path,
            env={},
            labels=labels,
            on_line=interrupt,
            watch=Watch(cancelled=lambda: False),
            owner=None,
            log=StrictLog(),
        )
    assert _containers_of("interrupted-run") == []


@docker_only
def test_files_written_as_root_are_handed_back(client: docker.DockerClient, tmp_path: Path):
    lines: list[str] = []
    finished = run_container(
        client,
        ContainerSpec(IMAGE, ContainerOptions()),
        ["/bin/sh", "-c", "mkdir -p _outputs/deep && echo x > _outputs/deep/file && id -u"],
        host_workdir=tmp_path,
        env={},
        labels={LABEL_EXECUTION: "hand-back"},
        on_line=lambda stream, line: lines.append(line),
        watch=Watch(cancelled=lambda: False),
        owner=(4321, 4322),
        log=StrictLog(),
    )
    assert finished.exit_code == 0
    assert lines == ["0"]  # written by root in the container...
    for name in ("_outputs", "_outputs/deep", "_outputs/deep/file"):
        stat = (tmp_path / name).stat()
        assert (stat.st_uid, stat.st_gid) == (4321, 4322), name  # ...owned by the engine's user
    assert _containers_of("hand-back") == []


@docker_only
@pytest.mark.slow
def test_pip_install_in_the_container_reaches_the_package_index(
    plait_runner: Any, docker_engine: str, log_messages: Messages
) -> None:
    result = plait_runner.run_task(
        SCRIPT,
        {
            "docker": {"image": IMAGE},
            "beforeCommands": ["pip install --quiet six"],
            "warningOnStdErr": False,
            "script": "import six\nprint('six', six.__version__)",
        },
    )
    assert result.state == "SUCCESS", result.error
    assert any(m.startswith("six 1.") for m in log_messages(result, "INFO"))


@docker_only
def test_network_mode_none_isolates_the_container(
    plait_runner: Any, docker_engine: str, log_messages: Messages
) -> None:
    script = (
        "import socket\n"
        "try:\n"
        "    socket.getaddrinfo('pypi.org', 443)\n"
        "    print('network: reachable')\n"
        "except OSError:\n"
        "    print('network: isolated')\n"
    )
    result = plait_runner.run_task(
        SCRIPT, {"docker": {"image": IMAGE, "networkMode": "none"}, "script": script}
    )
    assert result.state == "SUCCESS", result.error
    assert "network: isolated" in log_messages(result, "INFO")


def _a_dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
