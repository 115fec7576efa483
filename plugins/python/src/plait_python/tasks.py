"""The task types: ``plait.python.Script`` and ``plait.python.Commands``.

Both prepare a working directory, build one command line (``beforeCommands`` then the script or
the commands) and hand it to a runner: a local process inside a cached virtual environment, or a
Docker container. Output is logged live; the run's verdict comes from its exit status and,
with ``warningOnStdErr``, from whether it wrote to stderr.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from plait_sdk import Example, RunContext, Task, TaskFailure, reporting_os_errors
from plait_sdk.files import Workspace, host_environment

from plait_python import examples
from plait_python.collector import OutputCollector
from plait_python.library import KESTRA_LIBRARY, with_library
from plait_python.process import Finished, run_process
from plait_python.properties import (
    CommandsProperties,
    ExecOutputs,
    ExecProperties,
    ScriptProperties,
)
from plait_python.recipe import Recipe
from plait_python.selection import (
    CONTAINER_WORKDIR,
    RunnerKind,
    runner_kind,
)
from plait_python.shell import command_line, run_python_script
from plait_python.storage_uris import StorageFiles
from plait_python.streams import Watch
from plait_python.venvs import VenvCache, cache_root

SCRIPT_FILE = "_plait_script.py"
"""Name of the rendered script in the working directory (visible in tracebacks)."""
HIDDEN_ENV_PREFIXES = ("SECRET_",)
"""The engine's secrets (``SECRET_<NAME>``) are not handed to local processes."""

P = TypeVar("P", bound=ExecProperties)


class _ExecTask(Task[P, ExecOutputs], Generic[P]):
    Outputs = ExecOutputs
    what: ClassVar[str]
    """How error messages name what ran: "the script", "the commands"."""

    def variables(self, raw: Mapping[str, Any], ctx: RunContext) -> Mapping[str, Any]:
        return Workspace(ctx.working_dir()).variables(_seen_root(runner_kind(raw)))

    @abstractmethod
    def main_commands(
        self, props: P, workspace: Workspace, seen_root: str, files: StorageFiles
    ) -> list[str]:
        """The commands after ``beforeCommands``, with paths as the runner sees them and the
        storage URIs they mention (``files.localize``) replaced with local files."""

    def run(self, props: P, ctx: RunContext) -> ExecOutputs:
        kind = runner_kind(props.model_dump(exclude_none=True))
        seen_root = _seen_root(kind) or str(ctx.working_dir())
        workspace = Workspace.create(ctx)
        workspace.write_input_files(ctx, props.inputFiles)
        files = StorageFiles(ctx, workspace, seen_root)
        commands = self.main_commands(props, workspace, seen_root, files)
        env = {
            "PYTHONUNBUFFERED": "1",
            **(props.env or {}),
            **workspace.environment(seen_root),
        }
        collector = OutputCollector(ctx.log)
        launch = Launch(
            props, ctx, workspace, commands, env, collector, Watch(cancelled=ctx.cancelled)
        )
        finished = launch.in_container() if kind is RunnerKind.DOCKER else launch.in_process()
        self._judge(finished, collector, props, ctx, kind)
        return ExecOutputs(
            exitCode=finished.exit_code,
            vars=collector.vars,
            outputFiles=workspace.collect_output_files(ctx, props.outputFiles),
        )

    def _judge(
        self,
        finished: Finished,
        collector: OutputCollector,
        props: P,
        ctx: RunContext,
        kind: RunnerKind,
    ) -> None:
        if finished.cancelled:
            victim = "container" if kind is RunnerKind.DOCKER else "process group"
            raise TaskFailure(f"{self.what} was stopped (timeout or kill): its {victim} was killed")
        if finished.exit_code != 0:
            message = f"{self.what} exited with code {finished.exit_code}"
            if tail := collector.stderr_tail:
                message += f"; last lines of stderr:\n{tail}"
            raise TaskFailure(ctx.mask(message))
        if collector.stderr_lines and props.warningOnStdErr:
            ctx.flag_warning(
                f"{self.what} wrote {collector.stderr_lines} line(s) to stderr "
                "(set warningOnStdErr: false if that is expected)"
            )


def _seen_root(kind: RunnerKind) -> str | None:
    """The working directory's path as the script sees it; None means the host path."""
    return CONTAINER_WORKDIR if kind is RunnerKind.DOCKER else None


@dataclass(frozen=True)
class Launch:
    """One task run's command line and what either runner needs to run it."""

    props: ExecProperties
    ctx: RunContext
    workspace: Workspace
    commands: Sequence[str]
    env: Mapping[str, str]
    collector: OutputCollector
    watch: Watch

    @property
    def recipe(self) -> Recipe:
        props = self.props
        return Recipe.of(props.beforeCommands, props.dependencies, props.packageManager, props.env)

    def in_process(self) -> Finished:
        """Run locally, in the cached virtual environment that ``beforeCommands`` set up,
        without the engine's secrets in the environment."""
        props, ctx = self.props, self.ctx
        base = {
            name: value
            for name, value in host_environment().items()
            if not name.startswith(HIDDEN_ENV_PREFIXES)
        }
        base.update(self.env)
        venvs = VenvCache(cache_root(ctx))
        with venvs.lease(self.recipe, base, ctx.log, ctx.cancelled) as lease:
            before = lease.pending(props.beforeCommands or [], ctx.log)
            marker = str(lease.marker) if lease.marker is not None else None
            argv = command_line(
                props.interpreter, before, self.commands, fail_fast=props.failFast, marker=marker
            )
            self.watch.on_tick = lease.poll
            env = with_library(
                lease.environment(base), self.env.get("PYTHONPATH"), str(KESTRA_LIBRARY)
            )
            return run_process(
                argv,
                cwd=self.workspace.root,
                env=env,
                on_line=self.collector,
                watch=self.watch,
            )

    def in_container(self) -> Finished:
        """Run in a Docker container labelled with the run (see ``docker_runner``)."""
        from plait_python.docker_runner import run_in_docker  # the Docker SDK loads only here

        return run_in_docker(self)


class Script(_ExecTask[ScriptProperties]):
    """Run a Python script, in a local process or a Docker container.

    The script is rendered, written to a file in the working directory and run with `python`.
    `true`, `false` and `null` are defined so that JSON rendered into the code, such as
    `data = {{ outputs.api.body }}`, runs as is. Print `::{"outputs": {...}}::` on a line to add
    to the `vars` output, or use Kestra's library: `from kestra import Kestra` then
    `Kestra.outputs({...})` works without installing it. Write files under `{{ outputDir }}` to
    make them output files. Internal-storage URIs in the script, such as
    `pd.read_csv("{{ outputs.extract.uri }}")`, are downloaded into the working directory first
    and replaced with the local file's path (as the container sees it with Docker).

    `dependencies` and the package installs that start `beforeCommands` (e.g. `pip install
    polars`) go into an environment cached across runs: a virtual environment of its own with
    the PROCESS runner, an image derived from the task's with Docker. Later runs reuse it
    without installing again.
    """

    type = "plait.python.Script"
    aliases = ("io.kestra.plugin.scripts.python.Script",)
    Properties = ScriptProperties
    what = "the script"
    examples: ClassVar[tuple[Example, ...]] = examples.SCRIPT

    def main_commands(
        self, props: ScriptProperties, workspace: Workspace, seen_root: str, files: StorageFiles
    ) -> list[str]:
        source = files.localize(props.script)
        script = workspace.root / SCRIPT_FILE
        with reporting_os_errors(script):
            script.write_text(source, "utf-8")
        return [run_python_script(f"{seen_root.rstrip('/')}/{SCRIPT_FILE}")]


class Commands(_ExecTask[CommandsProperties]):
    """Run shell commands, typically `python` programs, in a local process or a Docker container.

    Commands run one after the other in one shell, in the working directory, after
    `beforeCommands`; with `failFast` (the default) the first failing command fails the task.
    Files come in through `inputFiles`, or as internal-storage URIs written in a command (each
    is downloaded into the working directory and replaced with the local path), and go out
    through `outputFiles` or `{{ outputDir }}`.
    """

    type = "plait.python.Commands"
    aliases = ("io.kestra.plugin.scripts.python.Commands",)
    Properties = CommandsProperties
    what = "the commands"
    examples: ClassVar[tuple[Example, ...]] = examples.COMMANDS

    def main_commands(
        self, props: CommandsProperties, workspace: Workspace, seen_root: str, files: StorageFiles
    ) -> list[str]:
        return [files.localize(command) for command in props.commands]
