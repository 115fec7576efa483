"""A distribution's configuration as the core honours it (PLAIT_DISTRIBUTION pointing at a
manifest in the development environment): plugins and task types restricted, plugin defaults
applied to every flow, default locations; a manifest's mistakes named by key; and the
configuration a build writes reads back as written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from plait.dist_build import config_text
from plait.distribution import (
    Backend,
    Distribution,
    DistributionError,
    Package,
    load_distribution,
)
from plait.flows import PluginDefault

if TYPE_CHECKING:
    from conftest import CliRunner

MANIFEST = """\
name = "acme"
version = "3.0"
plugins = ["plait-http>=0.1", "plait-duckdb"]
taskTypes = ["plait.core.Return", "plait.core.Log", "io.kestra.plugin.core.http"]

[state]
type = "sqlite"
path = "${PLAIT_HOME}/state/acme.db"

[[pluginDefaults]]
type = "plait.core.Return"
values = { format = "from the distribution" }

[[pluginDefaults]]
type = "plait.core.Log"
forced = true
values = { level = "WARN" }
"""

FLOW = """\
id: defaults
namespace: acme
tasks:
  - id: plain
    type: plait.core.Return
  - id: own
    type: plait.core.Return
    format: mine
  - id: log
    type: plait.core.Log
    message: hello
    level: DEBUG
"""


@pytest.fixture
def distribution(tmp_path: Path) -> dict[str, str]:
    manifest = tmp_path / "plait-distribution.toml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    return {"PLAIT_DISTRIBUTION": str(manifest)}


def test_only_its_plugins_and_enabled_types_load(cli: CliRunner, distribution: dict) -> None:
    listed = cli("plugins", "list", "--json", env=distribution).json()

    by_distribution = {p["distribution"]: p["taskTypes"] for p in listed["plugins"]}
    assert set(by_distribution) == {"plait", "plait-http", "plait-duckdb"}
    assert [t["type"] for t in by_distribution["plait-http"]] == [
        "plait.http.Download",
        "plait.http.Request",
    ]
    assert by_distribution["plait-duckdb"] == []
    types = {t["type"] for entries in by_distribution.values() for t in entries}
    assert "plait.core.Subflow" not in types


def test_a_type_left_out_fails_validation_saying_so(
    cli: CliRunner, distribution: dict, write_flow
) -> None:
    flow = write_flow(
        "id: f\nnamespace: acme\ntasks:\n  - id: q\n    type: plait.duckdb.Query\n"
        "    sql: SELECT 1\n  - id: s\n    type: plait.python.Script\n    script: print(1)\n"
    )

    done = cli("validate", str(flow), env=distribution)

    assert done.code == 2
    assert (
        f"{flow}:5:11: task 'q': task type 'plait.duckdb.Query' is excluded by the distribution "
        "'acme' 3.0: its taskTypes (plait.core.Return, plait.core.Log, "
        "io.kestra.plugin.core.http) do not enable it; see `plait dist info`"
    ) in done.stderr
    assert (
        "This installation is the distribution 'acme' 3.0, which excludes every plugin but its "
        "own (plait-duckdb, plait-http): 'plait.python.Script' comes from plait-python"
    ) in done.stderr


TRIGGERED = """\
id: triggered
namespace: acme
tasks:
  - id: log
    type: plait.core.Log
    message: hi
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 3 * * *"
  - id: hook
    type: plait.core.trigger.Webhook
    key: secret-key
"""


def test_trigger_types_are_restricted_by_their_own_list(
    cli: CliRunner, distribution: dict, write_flow
) -> None:
    """``triggerTypes`` restricts trigger types as ``taskTypes`` does task types; without it
    (the fixture's manifest), every loaded trigger type stays usable."""
    flow = write_flow(TRIGGERED)
    assert cli("validate", str(flow), env=distribution).code == 0
    manifest = Path(distribution["PLAIT_DISTRIBUTION"])
    manifest.write_text(
        MANIFEST.replace(
            "\n\n[state]", '\ntriggerTypes = ["plait.core.trigger.Schedule"]\n\n[state]'
        ),
        encoding="utf-8",
    )

    done = cli("validate", str(flow), env=distribution)

    assert done.code == 2
    assert done.stderr.count("excluded by the distribution") == 1
    assert (
        f"{flow}:12:11: trigger 'hook': trigger type 'plait.core.trigger.Webhook' is excluded by "
        "the distribution 'acme' 3.0: its triggerTypes (plait.core.trigger.Schedule) do not "
        "enable it; see `plait dist info`"
    ) in done.stderr
    schema = cli("schema", "flow", env=distribution).json()["definitions"]
    assert "plait.core.trigger.Schedule" in schema
    assert "plait.core.trigger.Webhook" not in schema
    info = cli("dist", "info", "--json", env=distribution).json()
    assert info["distribution"]["triggerTypes"] == ["plait.core.trigger.Schedule"]
    assert info["excludedTriggerTypes"] == ["plait.core.trigger.Flow", "plait.core.trigger.Webhook"]


def test_its_plugin_defaults_apply_to_every_flow_and_its_state_location(
    cli: CliRunner, distribution: dict, write_flow, tmp_path: Path
) -> None:
    done = cli("run", str(write_flow(FLOW)), "--json", env=distribution)

    assert done.code == 0, done.stderr
    runs = {run["taskId"]: run for run in done.json()["taskRunList"]}
    assert runs["plain"]["outputs"]["value"] == "from the distribution"
    assert runs["own"]["outputs"]["value"] == "mine"
    assert "WARN  [log] hello" in done.stderr  # forced: beats the task's own DEBUG
    assert (tmp_path / "home" / "state" / "acme.db").is_file()
    assert not (tmp_path / "home" / "plait.db").exists()


def test_a_default_setting_an_unknown_property_is_refused(
    cli: CliRunner, distribution: dict, write_flow
) -> None:
    manifest = Path(distribution["PLAIT_DISTRIBUTION"])
    manifest.write_text(MANIFEST.replace("values = { format", "values = { formt"), "utf-8")

    done = cli("run", str(write_flow(FLOW)), env=distribution)

    assert done.code == 1
    assert done.stderr == (
        f"error: {manifest}: pluginDefaults[0]: unknown property 'formt' for task type "
        "plait.core.Return; did you mean 'format'?\n"
    )


def test_dist_info_without_a_distribution(cli: CliRunner, tmp_path: Path) -> None:
    done = cli("dist", "info", env={"PLAIT_DISTRIBUTION": ""})

    assert done.code == 0, done.stderr
    assert done.stdout.splitlines()[:4] == [
        "distribution: none (every installed plugin loads)",
        f"home:         {tmp_path / 'home'}",
        f"storage:      local (root={tmp_path / 'home' / 'storage'})",
        f"state:        sqlite (path={tmp_path / 'home' / 'plait.db'})",
    ]


def test_dist_info_reports_an_entry_that_matches_nothing(
    cli: CliRunner, distribution: dict
) -> None:
    manifest = Path(distribution["PLAIT_DISTRIBUTION"])
    manifest.write_text(MANIFEST.replace('"plait.core.Log",', '"plait.core.Lg",'), "utf-8")

    info = cli("dist", "info", "--json", env=distribution).json()

    assert info["distribution"]["unmatchedTaskTypes"] == ["plait.core.Lg"]
    assert info["state"]["path"].endswith("/home/state/acme.db")


def test_a_missing_configuration_is_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    done = cli("plugins", "list", env={"PLAIT_DISTRIBUTION": str(tmp_path / "nope.toml")})

    assert done.code == 1
    missing = tmp_path / "nope.toml"
    assert done.stderr == f"error: PLAIT_DISTRIBUTION names {missing}, which is not a file\n"


def test_every_mistake_of_a_manifest_is_named(tmp_path: Path) -> None:
    manifest = tmp_path / "plait-distribution.toml"
    manifest.write_text(
        'version = 1\nplugins = ["plait-http", "plait_http", 7, { path = "nowhere" }]\n'
        'taskTypes = "plait.http"\nmystery = true\n[storage]\nroot = "/x"\n'
        '[[pluginDefaults]]\ntype = "plait.http"\nvalues = "no"\n',
        encoding="utf-8",
    )

    with pytest.raises(DistributionError) as error:
        load_distribution(manifest)

    assert str(error.value).splitlines() == [
        f"{manifest}: {problem}"
        for problem in [
            "unknown key 'mystery' (known: core, description, home, name, pluginDefaults, "
            "plugins, state, storage, taskTypes, triggerTypes, version)",
            "missing required key 'name'",
            "taskTypes: expected a list of non-empty strings, got 'plait.http'",
            "version: expected a non-empty string, got 1",
            "plugins[2]: expected a requirement such as 'plait-http>=0.1' or a table "
            '{ path = "plugins/my-plugin" }, got 7',
            f"plugins[3]: path {tmp_path / 'nowhere'} does not exist",
            "plugins: 'plait-http' is listed more than once",
            "pluginDefaults[0]: 'values' must be a table of property values",
            "storage: expected a table with a 'type' and its options",
        ]
    ]


def test_storage_and_state_are_checked_against_the_registered_backends(
    cli: CliRunner, distribution: dict
) -> None:
    manifest = Path(distribution["PLAIT_DISTRIBUTION"])
    text = MANIFEST.replace("path = ", "pth = ") + '[storage]\ntype = "s3"\nbucket = "b"\n'
    manifest.write_text(text, encoding="utf-8")

    with pytest.raises(DistributionError) as error:
        load_distribution(manifest)

    assert str(error.value).splitlines() == [
        f"{manifest}: state: unknown option 'pth' for sqlite (known: path); did you mean 'path'?",
        f"{manifest}: storage: unknown storage backend 's3' (available: local); a plugin of the "
        "distribution must register it",
    ]
    done = cli("dist", "info", env=distribution)
    assert done.code == 1
    assert "unknown storage backend 's3'" in done.stderr and "'pth'" in done.stderr
    built = cli("dist", "build", str(manifest), "-o", str(manifest.parent / "out"))
    assert built.code == 1 and "unknown storage backend 's3'" in built.stderr
    assert not (manifest.parent / "out").exists()


def test_a_backend_type_is_not_checked_while_a_plugin_is_not_installed(tmp_path: Path) -> None:
    manifest = tmp_path / "plait-distribution.toml"
    manifest.write_text(
        'name = "x"\nversion = "1"\nplugins = ["plait-s3"]\n[storage]\ntype = "s3"\n',
        encoding="utf-8",
    )

    assert load_distribution(manifest).storage == Backend(type="s3")


def test_a_bad_manifest_builds_nothing(cli: CliRunner, tmp_path: Path) -> None:
    manifest = tmp_path / "plait-distribution.toml"
    manifest.write_text('name = "x"\nversion = "1"\nplugins = [[]]\n', encoding="utf-8")

    done = cli("dist", "build", str(manifest), "-o", str(tmp_path / "out"))

    assert done.code == 1
    assert "plugins[0]: expected a requirement" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_failed_pip_leaves_nothing_behind(cli: CliRunner, tmp_path: Path) -> None:
    wheel = tmp_path / "broken-1.0-py3-none-any.whl"
    wheel.write_bytes(b"not a zip file")
    manifest = tmp_path / "plait-distribution.toml"
    manifest.write_text(
        f'name = "x"\nversion = "1"\ncore = [{{ path = "{wheel.name}" }}]\n', encoding="utf-8"
    )
    env = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}

    done = cli("dist", "build", str(manifest), "-o", str(tmp_path / "out"), env=env)

    assert done.code == 1
    assert "error: pip could not build the wheelhouse (exit 1): " in done.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "home")
    assert left == ["broken-1.0-py3-none-any.whl", "plait-distribution.toml"]


def test_the_built_configuration_reads_back_as_written(tmp_path: Path) -> None:
    tricky = 'quote " backslash \\ tab \t newline \n unicode é \x01 end'
    original = Distribution(
        name="acme",
        version="1.0",
        source=tmp_path / "plait-distribution.toml",
        description=tricky,
        plugins=(Package(requirement="plait-s3"),),  # not installed: its backend not checked
        task_types=("plait.core",),
        trigger_types=("plait.core.trigger.Schedule",),
        plugin_defaults=(
            PluginDefault(
                type="plait.python",
                values={"env": {"A B": tricky, "n": 1, "x": 2.5}, "list": [True, [], {}]},
                forced=True,
            ),
        ),
        home="~/acme",
        storage=Backend("s3", {"root": "/srv/files", "dotted.key": "v"}),
    )
    path = tmp_path / "distribution.toml"
    pins = {"plait": "plait==0.1.0", "plait-s3": "plait-s3==1.0"}
    path.write_text(config_text(original, pins), encoding="utf-8")

    read = load_distribution(path)

    assert read.description == tricky
    assert read.plugin_defaults == original.plugin_defaults
    assert read.storage == original.storage
    assert (read.home, read.task_types) == ("~/acme", ("plait.core",))
    assert read.trigger_types == ("plait.core.trigger.Schedule",)
    assert [package.requirement for package in read.core] == ["plait==0.1.0"]
