"""The plugin manager: entry points, PLAIT_LOAD_PLUGINS, conflicts, SDK compatibility."""

from __future__ import annotations

import types

import pytest
from plait.errors import PluginError
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
    with pytest.raises(PluginError) as error:
        build_registry(load=[], extra=[first, second])
    assert "plugin_one" in str(error.value) and "plugin_two" in str(error.value)
    assert "acme.Thing" in str(error.value)


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
