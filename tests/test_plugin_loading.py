"""The plugin manager: entry points, PLAIT_LOAD_PLUGINS, conflicts, SDK compatibility."""

from __future__ import annotations

import json
import textwrap
import types
from pathlib import Path

from plait.plugins import build_registry
from plait_sdk import SDK_MAJOR, Task, TaskOutputs, TaskProperties, hookimpl


def _plugin(name: str, type_id: str, aliases: tuple[str, ...] = (), sdk_major: int = SDK_MAJOR):
    module = types.ModuleType(name)

    class Thing(Task[TaskProperties, TaskOutputs]):
        """A test task."""

        type = type_id

        def run(self, props, ctx):
            return TaskOutputs()

    Thing.aliases = aliases

    @hookimpl
    def register_task_types():
        return [Thing]

    module.register_task_types = register_task_types
    module.PLAIT_SDK_MAJOR = sdk_major
    return module


def test_builtin_task_types_and_aliases_are_registered():
    registry = build_registry(load=[])
    assert registry.find_task_type("plait.core.Return") is registry.find_task_type(
        "io.kestra.plugin.core.debug.Return"
    )
    assert {"plait.core.Log", "plait.core.Return", "plait.core.Subflow"} <= set(
        registry.canonical_types
    )
    assert {"jq", "first", "toJson"} <= set(registry.filters)
    assert "local" in registry.storage_backends


def test_duplicate_type_names_both_plugins():
    first = _plugin("plugin_one", "acme.Thing")
    second = _plugin("plugin_two", "acme.Other", aliases=("acme.Thing",))
    third = _plugin("plugin_three", "acme.Third")
    registry = build_registry(load=[], extra=[first, second, third])
    assert registry.find_task_type("acme.Thing").__module__ == first.register_task_types.__module__
    assert registry.find_task_type("acme.Other") is None  # the later plugin is refused whole
    assert registry.find_task_type("acme.Third") is not None
    assert "plugin_two" not in {info.name for info in registry.plugins}
    (reason,) = registry.skipped
    assert "plugin_one" in reason and "plugin_two" in reason and "acme.Thing" in reason


def test_a_builtin_name_wins_over_a_plugin():
    module = _plugin("jq_thief", "thief.Thing")

    @hookimpl
    def register_filters():
        return {"jq": lambda value: value}

    module.register_filters = register_filters
    registry = build_registry(load=[], extra=[module])
    assert registry.filters["jq"].__module__ == "plait.builtin.filters"
    assert registry.find_task_type("thief.Thing") is None
    assert any("filter 'jq'" in r and "builtin.filters" in r for r in registry.skipped)


def test_a_register_hook_that_raises_refuses_only_its_plugin():
    broken = _plugin("broken_plugin", "broken.Thing")

    @hookimpl
    def register_filters():
        raise RuntimeError("boom")

    broken.register_filters = register_filters
    good = _plugin("good_plugin", "good.Thing")
    registry = build_registry(load=[], extra=[broken, good])
    assert registry.find_task_type("good.Thing") is not None
    assert registry.find_task_type("broken.Thing") is None
    (reason,) = registry.skipped
    assert "broken_plugin" in reason and "register_filters" in reason and "boom" in reason


def install_plugin(site: Path, name: str, source: str) -> dict[str, str]:
    """Install a plugin distribution plait-NAME into ``site`` as pip would lay it out (its
    module and a dist-info with the entry point); the env that puts it on the path."""
    module = f"plait_{name}"
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text("")
    (site / module / "plugin.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: plait-{name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[plait]\n{name} = {module}.plugin\n")
    return {"PYTHONPATH": str(site)}


BROKEN = """
    from plait_sdk import SDK_MAJOR, hookimpl

    PLAIT_SDK_MAJOR = SDK_MAJOR

    @hookimpl
    def register_filters():
        raise RuntimeError("boom in register_filters")
"""

CLASH = """
    from plait_sdk import SDK_MAJOR, hookimpl
    from plait_http.request import Request

    PLAIT_SDK_MAJOR = SDK_MAJOR

    class Clash(Request):
        \"\"\"Claims the id of plait-http's Request.\"\"\"

        type = "plait.http.Request"

    @hookimpl
    def register_task_types():
        return [Clash]
"""


def test_a_broken_installed_plugin_leaves_every_command_working(cli, tmp_path, write_flow):
    env = install_plugin(tmp_path / "site", "broken", BROKEN)
    listed = cli("plugins", "list", "--json", env=env)
    assert listed.code == 0, listed.stderr
    data = listed.json()
    assert "plait-http" in {p["distribution"] for p in data["plugins"]}
    assert "plait-broken" not in {p["distribution"] for p in data["plugins"]}
    assert any("boom in register_filters" in r for r in data["notLoaded"])
    flow = write_flow(
        "id: f\nnamespace: dev\ntasks:\n  - id: r\n    type: plait.core.Return\n"
        "    format: \"{{ 'a' | upper }}\"\n"
    )
    ran = cli("run", str(flow), env=env)
    assert ran.code == 0, ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_plugin_taking_an_installed_id_is_refused_and_checked(cli, tmp_path):
    env = install_plugin(tmp_path / "site", "zclash", CLASH)
    listed = cli("plugins", "list", "--json", env=env)
    assert listed.code == 0, listed.stderr
    data = listed.json()
    assert "plait-zclash" not in {p["distribution"] for p in data["plugins"]}
    assert any(
        "plait-zclash" in r and "plait-http" in r and "plait.http.Request" in r
        for r in data["notLoaded"]
    )
    checked = cli("plugin", "check", "plait-zclash", "--no-run", env=env)
    assert checked.code == 1, checked.stderr
    assert any(
        line.startswith("PROBLEM") and ": ids: " in line and "plait.http.Request" in line
        for line in checked.stdout.splitlines()
    ), checked.stdout


def test_check_reports_an_sdk_mismatch(cli, tmp_path):
    source = BROKEN.replace("PLAIT_SDK_MAJOR = SDK_MAJOR", "PLAIT_SDK_MAJOR = SDK_MAJOR + 1")
    env = install_plugin(tmp_path / "site", "future", source)
    checked = cli("plugin", "check", "plait-future", env=env)
    assert checked.code == 1
    assert any(
        line.startswith("PROBLEM") and ": sdk: built for " in line
        for line in checked.stdout.splitlines()
    ), checked.stdout + checked.stderr


def test_plugins_list_names_each_builtin_plugin(cli):
    done = cli("plugins", "list", env={"PLAIT_LOAD_PLUGINS": ""})
    assert done.code == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split()[:2] == ["PLUGIN", "DISTRIBUTION"]
    names = {row.split()[0] for row in rows if row and not row.startswith(" ")}
    assert {"builtin.tasks", "builtin.filters", "builtin.storage", "builtin.secrets"} <= names
    assert "filters" in done.stdout  # what a plugin without task types contributes
    data = cli("plugins", "list", "--json", env={"PLAIT_LOAD_PLUGINS": ""}).json()
    filters = next(p for p in data["plugins"] if p["name"] == "builtin.filters")
    assert "jq" in filters["provides"]["filters"]


def test_incompatible_sdk_major_is_refused_and_others_keep_running():
    old = _plugin("old_plugin", "old.Thing", sdk_major=SDK_MAJOR - 1)
    good = _plugin("good_plugin", "good.Thing")
    registry = build_registry(load=[], extra=[old, good])
    assert registry.find_task_type("good.Thing") is not None
    assert registry.find_task_type("old.Thing") is None
    assert any("old_plugin" in reason and "plait-sdk" in reason for reason in registry.skipped)
    assert "old_plugin" in registry.unknown_task_type_message("old.Thing")


def test_load_plugins_env_selects_distributions(cli):
    everything = cli("plugins", "list", "--json").json()
    distributions = {p["distribution"] for p in everything["plugins"]}
    assert {"plait", "plait-http", "plait-python", "plait-duckdb"} <= distributions
    only_http = cli("plugins", "list", "--json", env={"PLAIT_LOAD_PLUGINS": "plait-http"}).json()
    assert {p["distribution"] for p in only_http["plugins"]} == {"plait", "plait-http"}
    none = cli("plugins", "list", "--json", env={"PLAIT_LOAD_PLUGINS": ""}).json()
    assert {p["distribution"] for p in none["plugins"]} == {"plait"}


def test_unknown_type_message_explains_how_to_get_it(cli, write_flow):
    flow = write_flow(
        "id: q\nnamespace: dev\ntasks:\n  - id: q\n    type: io.kestra.plugin.jdbc.duckdb.Query\n"
        "    sql: SELECT 1\n"
    )
    done = cli("validate", str(flow), env={"PLAIT_LOAD_PLUGINS": "plait-http"})
    assert done.code == 2
    assert "io.kestra.plugin.jdbc.duckdb.Query" in done.stderr
    assert "PLAIT_LOAD_PLUGINS" in done.stderr
    assert "plait plugins list" in done.stderr


def test_a_plugin_left_out_by_load_plugins_is_said_installed(cli, write_flow):
    flow = write_flow(
        "id: q\nnamespace: dev\ntasks:\n  - id: q\n    type: io.kestra.plugin.jdbc.duckdb.Query\n"
        "    sql: SELECT 1\n"
    )
    done = cli("validate", str(flow), env={"PLAIT_LOAD_PLUGINS": "plait-http,plait-python"})
    assert done.code == 2
    assert "pip install plait-duckdb" not in done.stderr
    assert "plait-duckdb, which is installed but not loaded" in done.stderr
    assert "PLAIT_LOAD_PLUGINS leaves it out" in done.stderr


def test_a_load_plugins_name_that_is_not_installed_is_reported(cli):
    done = cli("plugins", "list", "--json", env={"PLAIT_LOAD_PLUGINS": "plait-htp,plait-python"})
    assert done.code == 0, done.stderr
    assert "PLAIT_LOAD_PLUGINS names 'plait-htp', which is not installed" in json.dumps(
        done.json()["notLoaded"]
    )
