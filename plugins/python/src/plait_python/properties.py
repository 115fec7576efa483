"""Properties and outputs of the Python task types, declared once for validation, schemas and docs.

Runner selection keeps both of Kestra's spellings: the legacy ``runner: PROCESS|DOCKER`` with a
``docker:`` block, and the newer ``taskRunner: {type: ...}`` with ``containerImage``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from plait_sdk import output, prop
from plait_sdk.files import FilesOutputs, FilesProperties
from pydantic import BaseModel, ConfigDict, Field, field_validator

PROCESS_RUNNER_TYPE = "io.kestra.plugin.core.runner.Process"
DOCKER_RUNNER_TYPE = "io.kestra.plugin.scripts.runner.docker.Docker"
DEFAULT_IMAGE = "python:slim"
DEFAULT_INTERPRETER = ("/bin/sh", "-c")

PullPolicy = Literal["IF_NOT_PRESENT", "ALWAYS", "NEVER"]


class _Options(BaseModel):
    """Nested option blocks refuse unknown keys, like the task properties themselves."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Cpu(_Options):
    cpus: float = Field(description="Maximum number of CPUs the container may use, e.g. 1.5.", gt=0)


class Memory(_Options):
    memory: str = Field(
        description="Memory limit of the container, e.g. `512MB` or `2g`.",
        examples=["512MB"],
    )

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: str) -> str:
        from docker.utils import parse_bytes  # the Docker SDK loads only when it is used

        try:
            parse_bytes(value)
        except Exception as exc:
            raise ValueError(f"{value!r} is not a memory size such as 512MB or 2g") from exc
        return value


class ContainerOptions(_Options):
    """How the container runs; shared by the legacy `docker` block and the Docker task runner."""

    pullPolicy: PullPolicy = Field(
        "IF_NOT_PRESENT",
        description=(
            "When to pull the image: `IF_NOT_PRESENT` pulls only when the image is missing "
            "locally, `ALWAYS` pulls before every run, `NEVER` uses the local image or fails."
        ),
    )
    networkMode: str = Field(
        "host",
        description=(
            "Docker network mode of the container: `host` (the default: the container reaches "
            "what the engine reaches, as a local process would, and needs no bridge "
            "networking), `bridge`, `none` or a network name."
        ),
        examples=["bridge"],
    )
    user: str | None = Field(
        None,
        description="User (name or `uid[:gid]`) the command runs as; the image's user when unset.",
        examples=["1000:1000"],
    )
    entryPoint: list[str] | None = Field(
        None,
        description=(
            "Entry point of the container. Unset clears the image's entry point so that the "
            "interpreter runs directly, as Kestra does."
        ),
        examples=[["/bin/bash", "-lc"]],
    )
    extraHosts: list[str] | None = Field(
        None,
        description="Extra `/etc/hosts` entries, as `hostname:ip`.",
        examples=[["host.docker.internal:host-gateway"]],
    )
    cpu: Cpu | None = Field(None, description="CPU limit of the container.")
    memory: Memory | None = Field(None, description="Memory limit of the container.")


class DockerOptions(ContainerOptions):
    """Kestra's legacy `docker:` block, used with `runner: DOCKER` (the default when present)."""

    image: str | None = Field(
        None,
        description=f"Image to run the script in; `containerImage` or `{DEFAULT_IMAGE}` if unset.",
        examples=["python:slim"],
    )


class ProcessTaskRunner(_Options):
    """Run in a local process on the engine's machine, inside a cached virtual environment."""

    type: Literal["io.kestra.plugin.core.runner.Process"] = Field(
        description="The Process task runner."
    )


class DockerTaskRunner(ContainerOptions):
    """Run in a Docker container; the image comes from the task's `containerImage`."""

    type: Literal["io.kestra.plugin.scripts.runner.docker.Docker"] = Field(
        description="The Docker task runner."
    )


TaskRunner = Annotated[ProcessTaskRunner | DockerTaskRunner, Field(discriminator="type")]


class ExecProperties(FilesProperties):
    """Properties shared by `Script` and `Commands`."""

    beforeCommands: list[str] | None = prop(
        None,
        description=(
            "Shell commands run before the script or commands, in the same shell, e.g. "
            "`pip install polars`. With the PROCESS runner they run inside an isolated virtual "
            "environment kept in a cache keyed by these commands, so the engine's own "
            "environment never changes. Package installs at the start of the list (`pip "
            "install polars`, not `pip install -r requirements.txt`) run once, when the cached "
            "environment (a virtual environment, or a Docker image derived from the task's) is "
            "built, and are skipped by later runs; the other commands run every time."
        ),
        examples=[["pip install polars"]],
    )
    dependencies: list[str] | None = prop(
        None,
        description=(
            "Python packages the script needs, as pip requirement specifiers (`polars`, "
            "`pandas==2.2.3`, `'duckdb>=1'`). They are installed once into an environment "
            "cached under a key made of this list (in any order), `packageManager`, the "
            "`beforeCommands` and the `PIP_*`/`UV_*` variables of `env`, and reused by every "
            "run with the same key: a virtual environment for the PROCESS runner, an image "
            "derived from the task's image for Docker."
        ),
        examples=[["polars", "kestra"]],
    )
    packageManager: Literal["UV", "PIP"] = prop(
        "UV",
        description=(
            "What installs `dependencies`: `UV` (the default, as in Kestra; pip when uv is "
            "missing) or `PIP`, which also honours pip's configuration files."
        ),
        dynamic=False,
    )
    env: dict[str, str] | None = prop(
        None,
        description=(
            "Extra environment variables. `WORKING_DIR` and `OUTPUT_DIR` are always set to the "
            "working and output directories as the script sees them."
        ),
        examples=[{"API_TOKEN": "{{ secret('API_TOKEN') }}"}],
    )
    interpreter: list[str] = prop(
        list(DEFAULT_INTERPRETER),
        description=(
            "Interpreter the commands are handed to, as one argument after these words; "
            "`failFast` relies on a POSIX shell."
        ),
        dynamic=False,
        min_length=1,
        examples=[["/bin/bash", "-c"]],
    )
    failFast: bool = prop(
        True,
        description=(
            "Stop at the first command that fails (`set -e`). When false every command runs "
            "and the last one's exit status decides the task's state."
        ),
        dynamic=False,
    )
    warningOnStdErr: bool = prop(
        True,
        description=(
            "End the task in WARNING when anything is written to stderr. A non-zero exit "
            "fails the task either way."
        ),
        dynamic=False,
    )
    runner: Literal["PROCESS", "DOCKER"] | None = prop(
        None,
        description=(
            "Kestra's legacy runner selection: `PROCESS` runs locally, `DOCKER` in a container. "
            "When neither `runner` nor `taskRunner` is set, the task runs in Docker if `docker` "
            "or `containerImage` is given and locally otherwise."
        ),
        dynamic=False,
    )
    docker: DockerOptions | None = prop(
        None,
        description="Container options of the legacy `runner: DOCKER` (implies DOCKER).",
        examples=[{"image": "python:slim", "pullPolicy": "IF_NOT_PRESENT"}],
    )
    taskRunner: TaskRunner | None = prop(
        None,
        description=(
            f"Where the task runs: `{PROCESS_RUNNER_TYPE}` or `{DOCKER_RUNNER_TYPE}` (with "
            "the container options of `docker`). Takes precedence over `runner`."
        ),
        dynamic=False,
        examples=[{"type": DOCKER_RUNNER_TYPE, "pullPolicy": "NEVER"}],
    )
    containerImage: str | None = prop(
        None,
        description=(
            f"Image of the Docker runner (default `{DEFAULT_IMAGE}`); setting it alone selects "
            "the Docker runner."
        ),
        examples=["python:slim"],
    )


class ScriptProperties(ExecProperties):
    script: str = prop(
        description=(
            "The Python script. It is rendered, written to a file in the working directory and "
            "run with `python`; `true`, `false` and `null` are defined so that JSON rendered "
            "into the code runs as is."
        ),
        min_length=1,
        examples=['import json\nprint(json.dumps({"ok": true}))'],
    )


class CommandsProperties(ExecProperties):
    commands: list[str] = prop(
        description="Shell commands to run, one after the other, in the working directory.",
        min_length=1,
        examples=[["python main.py --rows 10"]],
    )


class ExecOutputs(FilesOutputs):
    exitCode: int = output(0, description="Exit status of the script or the last command.")
    vars: dict[str, Any] = output(
        default_factory=dict,
        description=(
            'Values the script printed as a line `::{"outputs": {"name": value}}::`, merged '
            "in the order they were printed."
        ),
    )
