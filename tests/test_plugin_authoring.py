"""For plugin authors, in the development environment: `plait plugin new` writes a complete,
lint-clean project; `plait plugin check` and the harness's `check_task_type` pass a good task
type and name every way a bad one breaks the contract."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
import types
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from plait_sdk.testing import PlaitRunner, check_task_type

if TYPE_CHECKING:
    from conftest import CliRunner

RUFF = Path(sys.executable).parent / "ruff"
UNDESCRIBED = (
    "schema: properties schema: no description for size (give one with prop(description=...))"
)

BROKEN_PLUGIN = '''\
from plait_sdk import Example, Task, TaskOutputs, TaskProperties, hookimpl, output, prop

HEAD = "id: x\\nnamespace: dev\\ntasks:\\n  - id: t\\n"


class Props(TaskProperties):
    size: int = prop(1, description="")


class Outs(TaskOutputs):
    total: int = output(description="A total.")
    label: str = output("x", description="A label.")


class Undocumented(Task[Props, Outs]):
    type = "broken.Undocumented"
    Properties = Props
    Outputs = Outs

    def run(self, props, ctx):
        return Outs(total=props.size)


class BadExample(Task[Props, Outs]):
    """A task whose example does not validate."""

    type = "broken.BadExample"
    Properties = Props
    Outputs = Outs
    examples = (
        Example("wrong", HEAD + "    type: broken.BadExample\\n    sise: 2\\n"),
        Example("other type", HEAD + "    type: plait.core.Log\\n    message: hi\\n"),
    )

    def run(self, props, ctx):
        return Outs(total=1)


class Failing(Task[Props, Outs]):
    """A task whose example cannot run here."""

    type = "broken.Failing"
    Properties = Props
    Outputs = Outs
    examples = (
        Example("fails", HEAD + "    type: broken.Failing\\n"),
    )

    def run(self, props, ctx):
        raise RuntimeError("no network here")


class Mismatch(Task[TaskProperties, Outs]):
    """A task whose outputs bypass their model's validation."""

    type = "broken.Mismatch"
    Outputs = Outs
    examples = (Example("runs", HEAD + "    type: broken.Mismatch\\n"),)

    def run(self, props, ctx):
        return Outs.model_construct(total="many", label="x")


@hookimpl
def register_task_types():
    return [Undocumented, BadExample, Failing, Mismatch]
'''


@pytest.fixture
def generated(cli: CliRunner, tmp_path: Path) -> Path:
    done = cli("plugin", "new", "my-tools", "--dir", str(tmp_path / "work"))
    assert done.code == 0, done.stderr
    return tmp_path / "work" / "plait-my-tools"


def test_new_writes_a_complete_project(generated: Path) -> None:
    files = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file())

    assert files == [
        ".github/workflows/ci.yml",
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/plait_my_tools/__init__.py",
        "src/plait_my_tools/plugin.py",
        "src/plait_my_tools/word_count.py",
        "tests/test_word_count.py",
    ]
    assert not [f for f in files if "@@" in (generated / f).read_text(encoding="utf-8")]
    project = tomllib.loads((generated / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "plait-my-tools"
    assert project["project"]["dependencies"] == ["plait-sdk>=1,<2"]
    assert project["project"]["entry-points"]["plait"] == {"my-tools": "plait_my_tools.plugin"}
    assert "pytest>=8" in project["project"]["optional-dependencies"]["test"]
    workflow = (generated / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    steps = [step.get("run") for step in yaml.safe_load(workflow)["jobs"]["test"]["steps"]]
    assert "plait plugin check plait-my-tools --require-runs" in steps
    task = (generated / "src/plait_my_tools/word_count.py").read_text(encoding="utf-8")
    assert 'type = "plait.my_tools.WordCount"' in task


def test_new_tells_to_install_into_the_environment_that_has_plait(
    cli: CliRunner, tmp_path: Path
) -> None:
    done = cli("plugin", "new", "acme", "--dir", str(tmp_path))

    assert done.code == 0, done.stderr
    assert "-m venv" not in done.stdout  # a fresh environment cannot get plait-sdk from PyPI
    assert f"  {sys.executable} -m pip install -e '.[test]'" in done.stdout.splitlines()
    workflow = (tmp_path / "plait-acme/.github/workflows/ci.yml").read_text(encoding="utf-8")
    assert "PIP_FIND_LINKS" in workflow and "not on PyPI" in workflow


def test_the_generated_code_is_lint_clean(generated: Path) -> None:
    for command in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [str(RUFF), *command, "--no-cache", "."], cwd=generated, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_generated_plugin_passes_the_check_before_it_is_installed(
    cli: CliRunner, generated: Path
) -> None:
    env = {"PYTHONPATH": str(generated / "src")}
    done = cli("plugin", "check", "plait_my_tools.plugin", "--require-runs", env=env)

    assert done.code == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "ok      plait_my_tools.plugin: sdk: built for plait-sdk 1.x",
        "ok      plait.my_tools.WordCount: ids: id and 0 alias(es) unique, registered to this type",
        "ok      plait.my_tools.WordCount: schema: 3 properties and 4 outputs, every field "
        "described",
        "ok      plait.my_tools.WordCount: examples: example 1 (Count words and use the result in "
        "the next task) validates",
        "ok      plait.my_tools.WordCount: run: example 1 ran SUCCESS; outputs of 1 task run(s) "
        "match the schema",
    ]


@pytest.mark.parametrize("name", ["Acme", "1acme", "my--tools", "acme!", "plait-"])
def test_new_refuses_invalid_names(cli: CliRunner, tmp_path: Path, name: str) -> None:
    done = cli("plugin", "new", name, "--dir", str(tmp_path))

    assert done.code == 1
    assert f"'{name}' is not a valid plugin name" in done.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "home"] or list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["sdk", "plait-sdk", "core", "http", "python", "duckdb"])
def test_new_refuses_names_plait_uses(cli: CliRunner, tmp_path: Path, name: str) -> None:
    done = cli("plugin", "new", name, "--dir", str(tmp_path / "out"))

    assert done.code == 1
    assert f"'{name}' is taken" in done.stderr and "choose another name" in done.stderr
    assert not (tmp_path / "out").exists()


def test_new_refuses_the_name_of_an_installed_distribution(cli: CliRunner, tmp_path: Path) -> None:
    info = tmp_path / "site" / "plait_acme-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plait-acme\nVersion: 0.1\n")

    done = cli(
        "plugin",
        "new",
        "acme",
        "--dir",
        str(tmp_path / "out"),
        env={"PYTHONPATH": str(tmp_path / "site")},
    )

    assert done.code == 1
    assert "plait-acme is already installed" in done.stderr
    assert not (tmp_path / "out").exists()


def test_new_never_overwrites(cli: CliRunner, generated: Path) -> None:
    (generated / "README.md").write_text("mine", encoding="utf-8")

    done = cli("plugin", "new", "my-tools", "--dir", str(generated.parent))

    assert done.code == 1
    assert "already exists" in done.stderr
    assert (generated / "README.md").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in generated.parent.iterdir()] == ["plait-my-tools"]


def test_check_names_every_broken_rule(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text(BROKEN_PLUGIN, encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path)}

    done = cli("plugin", "check", "broken_plugin", env=env)

    assert done.code == 1
    problems = [line for line in done.stdout.splitlines() if line.startswith("PROBLEM")]
    assert problems == [
        "PROBLEM broken_plugin: sdk: broken_plugin does not declare PLAIT_SDK_MAJOR; add "
        "`PLAIT_SDK_MAJOR = plait_sdk.SDK_MAJOR` so an incompatible core refuses it clearly",
        f"PROBLEM broken.BadExample: {UNDESCRIBED}",
        "PROBLEM broken.BadExample: examples: example 1 (wrong) is invalid: broken.BadExample "
        "example 1 (wrong):6:5: task 't': unknown property 'sise' for task type "
        "broken.BadExample; did you mean 'size'? (its properties: size)",
        "PROBLEM broken.BadExample: examples: example 2 (other type) does not use "
        "broken.BadExample",
        f"PROBLEM broken.Failing: {UNDESCRIBED}",
        "PROBLEM broken.Mismatch: run: example 1: the outputs of task 't' do not match the "
        "output schema: total: Input should be a valid integer, unable to parse string as an "
        "integer (got 'many')",
        "PROBLEM broken.Undocumented: schema: Undocumented has no docstring: its first line is "
        "the type's title",
        f"PROBLEM broken.Undocumented: {UNDESCRIBED}",
        "PROBLEM broken.Undocumented: examples: no example: add one (plait_sdk.Example) to the "
        "class's `examples`",
    ]
    assert (
        "note    broken.Failing: run: example 1 ended FAILED here (t: RuntimeError: no network "
        "here)" in done.stdout
    )
    assert "checked broken_plugin: 9 problem(s)" in done.stderr


def test_check_refuses_duplicate_ids(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "twice.py").write_text(
        BROKEN_PLUGIN.replace('type = "broken.Failing"', 'type = "broken.BadExample"'),
        encoding="utf-8",
    )

    done = cli("plugin", "check", "twice", env={"PYTHONPATH": str(tmp_path)})

    assert done.code == 1
    assert (
        "PROBLEM twice: ids: plugin 'twice (twice)' refused: task type 'broken.BadExample' is "
        "registered twice by plugin 'twice (twice)': task type ids and aliases must be unique"
    ) in done.stdout.splitlines()
    assert (
        "PROBLEM broken.BadExample: ids: 'broken.BadExample' is declared more than once (ids and "
        "aliases must be unique)"
    ) in done.stdout.splitlines()


def test_check_of_an_installed_plugin_without_running_examples(cli: CliRunner) -> None:
    done = cli("plugin", "check", "plait-http", "--no-run")

    assert done.code == 0, done.stdout + done.stderr
    assert "ok      plait.http.Request: examples: example 3 (Upload a file" in done.stdout
    assert ": run:" not in done.stdout


def test_check_of_an_unknown_target_is_a_clear_error(cli: CliRunner) -> None:
    done = cli("plugin", "check", "plait-nope")

    assert done.code == 1
    assert "'plait-nope' is neither an installed plugin distribution (" in done.stderr
    assert "Traceback" not in done.stderr


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("authored_plugin")
    exec(compile(textwrap.dedent(source), "authored_plugin", "exec"), module.__dict__)
    return module


def test_the_harness_helper_fails_a_test_listing_the_problems(plait_home: Path) -> None:
    module = _module(BROKEN_PLUGIN)
    runner = PlaitRunner(plait_home, load_plugins=[], plugins=[module])
    try:
        with pytest.raises(pytest.fail.Exception) as strict:
            check_task_type(module.Failing, runner)
        with pytest.raises(pytest.fail.Exception) as lenient:
            check_task_type(module.Failing, runner, examples_must_run=False)
        check_task_type(runner.engine.registry.task_types["plait.core.Return"], runner)
    finally:
        runner.engine.close()

    schema = f"  broken.Failing: {UNDESCRIBED}"
    assert str(strict.value).splitlines() == [
        "broken.Failing breaks the plugin contract:",
        schema,
        "  broken.Failing: run: example 1 ended FAILED here (t: RuntimeError: no network here)",
    ]
    assert str(lenient.value).splitlines() == ["broken.Failing breaks the plugin contract:", schema]
