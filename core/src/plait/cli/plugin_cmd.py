"""``plait plugins new`` and ``plait plugins check``, for plugin authors: scaffold a new plugin,
check one against the contract."""

from __future__ import annotations

import importlib
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import click

from plait.cli.main import user_errors
from plait.cli.output import EXIT_FAILED, print_json
from plait.cli.plugins import plugins

if TYPE_CHECKING:
    from plait.api import Engine
    from plait.plugins import PluginInfo, Refused, TaskType


@click.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which to create the project folder plait-NAME.",
)
@user_errors
def new_command(name: str, parent: Path) -> None:
    """Create the plugin project plait-NAME: pyproject.toml with its entry point, one task type
    with properties, outputs and an example, tests using the SDK harness, a README and a CI
    workflow."""
    from plait.scaffold import create_plugin

    names, target = create_plugin(name, parent)
    click.echo(f"created {target} (task type plait.{names.namespace}.WordCount)")
    python = shlex.quote(sys.executable)
    click.echo(
        "next, in this environment (the one with plait: plait and plait-sdk are not on PyPI yet, "
        f"so a fresh one cannot install them):\n  cd {shlex.quote(str(target))}\n"
        f"  {python} -m pip install -e '.[test]'\n  {python} -m pytest\n"
        f"  plait plugin check {names.distribution}"
    )


@click.command("check")
@click.argument("target", required=False)
@click.option(
    "--run/--no-run",
    default=True,
    show_default=True,
    help="Run each valid example and check the outputs against the output schema.",
)
@click.option(
    "--require-runs",
    is_flag=True,
    help="Count an example that cannot run here (missing input, unreachable service) as a "
    "problem, not a note.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@user_errors
def check_command(target: str | None, run: bool, require_runs: bool, as_json: bool) -> None:
    """Check plugins against the contract: schemas described, examples that validate and run,
    outputs that match the output schema, unique ids and aliases, the SDK major declared.

    TARGET is an installed distribution (plait-acme), an entry point name, or an importable
    plugin module not installed yet (plait_acme.plugin); default: every installed plugin.
    Examples run on a temporary PLAIT_HOME. Exit status 1 if any problem is found.
    """
    from plait.contract import Finding, check_module, check_task_types, problems
    from plait.plugins import CORE_DISTRIBUTION

    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="plait-check-") as home:
        engine, selected = _select(target, Path(home))
        try:
            for plugin in selected:
                info = plugin.info
                if info.distribution != CORE_DISTRIBUTION:  # the core's modules ship with it
                    findings += check_module(plugin.module, info.distribution)
                findings += [
                    Finding(info.distribution, refusal.check, "problem", refusal.reason)
                    for refusal in plugin.refusals
                    if refusal.check != "sdk"  # check_module says it
                ]
                findings += check_task_types(plugin.classes, engine, run=run, must_run=require_runs)
        finally:
            engine.close()
    if as_json:
        print_json([f.__dict__ for f in findings])
    else:
        for finding in findings:
            mark = {"ok": "ok     ", "note": "note   ", "problem": "PROBLEM"}[finding.level]
            click.echo(f"{mark} {finding}")
        found = problems(findings)
        names = ", ".join(plugin.info.distribution for plugin in selected)
        verdict = f"{len(found)} problem(s)" if found else "no problems"
        click.echo(f"checked {names}: {verdict}", err=True)
    if problems(findings):
        sys.exit(EXIT_FAILED)


@dataclass
class _Checked:
    """One plugin to check: loaded, or refused (with why) but still examinable."""

    info: PluginInfo
    module: ModuleType
    classes: list[TaskType]
    refusals: list[Refused] = field(default_factory=list)
    """Why it, or one of its types (a model that cannot be built), was refused."""


def _select(target: str | None, home: Path) -> tuple[Engine, list[_Checked]]:
    """The engine to check with, and the plugins to check with their modules: loaded ones, and
    refused ones (an SDK mismatch, a failing hook, a name already taken) so that the check
    says why they were refused; a loaded one carries its types refused for a model that
    cannot be built."""
    from plait.api import Engine
    from plait.errors import PlaitError
    from plait.plugins import CORE_DISTRIBUTION

    engine = Engine.create(home=home)
    registry = engine.registry
    candidates = [
        _Checked(
            info,
            registry.pm.get_plugin(info.name),
            [registry.canonical_types[t] for t in sorted(info.task_types)],
        )
        for info in registry.plugins
    ]
    loaded = {id(candidate.info): candidate for candidate in candidates}
    for refusal in registry.refused:
        if refusal.check == "schema" and id(refusal.info) in loaded:
            loaded[id(refusal.info)].refusals.append(refusal)  # one type refused, not the plugin
        else:
            candidates.append(_Checked(refusal.info, refusal.module, refusal.classes, [refusal]))
    if target is None:
        chosen = [c for c in candidates if c.info.distribution != CORE_DISTRIBUTION]
        if not chosen:
            engine.close()
            raise PlaitError("no plugin installed besides the core's; name one to check")
        return engine, chosen
    wanted = target.strip().lower().replace("_", "-")
    chosen = [
        c
        for c in candidates
        if wanted in (c.info.distribution.lower().replace("_", "-"), c.info.name)
        or c.module.__name__ == target
    ]
    if chosen:
        return engine, chosen
    engine.close()
    try:
        module = importlib.import_module(target)
    except ImportError as exc:
        installed = ", ".join(sorted({c.info.distribution for c in candidates}))
        raise PlaitError(
            f"'{target}' is neither an installed plugin distribution ({installed}) nor an "
            f"importable module ({exc})"
        ) from None
    engine = Engine.create(home=home, extra_plugins=[module])
    registry = engine.registry
    for refusal in registry.refused:
        if refusal.module is module:
            return engine, [_Checked(refusal.info, module, refusal.classes, [refusal])]
    info = next(info for info in registry.plugins if info.name == module.__name__)
    classes = [registry.canonical_types[t] for t in sorted(info.task_types)]
    return engine, [_Checked(info, module, classes)]


plugins.add_command(new_command)
plugins.add_command(check_command)
