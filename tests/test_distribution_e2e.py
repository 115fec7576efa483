"""A platform team's distribution, end to end: a manifest with only the HTTP and Python plugins
is built into a wheelhouse with a lock and an installer, installed with no package index into a
fresh virtual environment, and that installation runs a flow with the distribution's plugin
defaults and locations, refuses what the distribution leaves out, and reports what it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.wheels import (
    REPO,
    Venv,
    clean_environment,
    offline_environment,
    products_server,
    workspace_wheel,
)

pytestmark = pytest.mark.slow

MANIFEST = """\
name = "acme-data"
version = "2.1.0"
description = "plait for the data team: HTTP and Python only"
core = [{{ path = "{sdk}" }}, {{ path = "{core}" }}]
plugins = [{{ path = "{http}" }}, {{ path = "{python}" }}]
taskTypes = ["plait.core", "plait.http", "plait.python.Script"]
home = "~/acme-plait"

[storage]
type = "local"
root = "${{PLAIT_HOME}}/files"

[[pluginDefaults]]
type = "io.kestra.plugin.scripts.python"
values = {{ warningOnStdErr = false }}
"""

FLOW = """\
id: apple_report
namespace: acme.data
inputs:
  - id: api_url
    type: STRING
tasks:
  - id: api
    type: plait.http.Request
    uri: "{{ inputs.api_url }}"
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    runner: PROCESS
    script: |
      import json, sys
      products = {{ outputs.api.body }}["products"]
      apple = [p["title"] for p in products if p["brand"] == "Apple"]
      print("counting Apple products", file=sys.stderr)
      with open("{{ outputDir }}/apple.json", "w") as out:
          json.dump(apple, out)
      print("::" + json.dumps({"outputs": {"apple": len(apple)}}) + "::")
  - id: report
    type: plait.core.Return
    format: "{{ outputs.python.vars.apple }} Apple products"
"""

EXCLUDED_FLOWS = {
    "query": ("io.kestra.plugin.jdbc.duckdb.Query", "sql: SELECT 1"),
    "commands": ("plait.python.Commands", "commands: [echo hi]"),
}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manifest and two builds of it (``out`` and ``again``), side by side."""
    root = tmp_path_factory.mktemp("distribution")
    manifest = root / "plait-distribution.toml"
    manifest.write_text(
        MANIFEST.format(
            sdk=workspace_wheel("plait-sdk"),
            core=workspace_wheel("plait"),
            http=REPO / "plugins" / "http",  # a project folder: built by pip like a user's own
            python=workspace_wheel("plait-python"),
        ),
        encoding="utf-8",
    )
    for name in ("out", "again"):
        done = subprocess.run(
            [sys.executable, "-m", "plait.cli", "dist", "build", str(manifest), "-o", name],
            capture_output=True,
            text=True,
            cwd=root,
            env=clean_environment(),
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="module")
def venv(build: Path) -> Venv:
    """Installed by the artifact's installer, with no package index nor configured folder."""
    target = build / "acme"
    done = subprocess.run(
        ["sh", str(build / "out" / "install.sh"), str(target)],
        capture_output=True,
        text=True,
        cwd=build,
        env=offline_environment(),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert f"installed acme-data 2.1.0 in {target}" in done.stdout
    return Venv(target)


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user of the installation: their own HOME, no PLAIT_HOME."""
    return clean_environment(HOME=str(tmp_path / "user"))


def test_the_artifact_holds_wheelhouse_lock_config_and_installer(build: Path) -> None:
    out = build / "out"
    lock = (out / "requirements.lock").read_text(encoding="utf-8")
    pins = [line.split(" ")[0] for line in lock.splitlines() if "==" in line]
    names = {pin.split("==")[0] for pin in pins}

    assert sorted(p.name for p in out.iterdir()) == [
        "distribution.toml",
        "install.sh",
        "plait-distribution.toml",
        "requirements.lock",
        "wheelhouse",
    ]
    assert {"plait==0.1.0", "plait-sdk==1.3.0", "plait-http==0.1.0", "plait-python==0.1.0"} <= set(
        pins
    )
    assert {"httpx", "docker", "pydantic", "jq"} <= names
    assert not {name for name in names if "duckdb" in name}
    assert lock.count("--hash=sha256:") == len(pins) == len(list((out / "wheelhouse").iterdir()))
    config = (out / "distribution.toml").read_text(encoding="utf-8")
    assert 'plugins = ["plait-http==0.1.0", "plait-python==0.1.0"]' in config
    assert (out / "plait-distribution.toml").read_bytes() == (
        build / "plait-distribution.toml"
    ).read_bytes()


def test_the_same_manifest_builds_the_same_lock_and_config(build: Path) -> None:
    for name in ("requirements.lock", "distribution.toml"):
        assert (build / "out" / name).read_text() == (build / "again" / name).read_text(), name


def test_a_flow_runs_with_the_distribution_defaults_and_locations(
    venv: Venv, tmp_path: Path, user_env: dict[str, str]
) -> None:
    flow = tmp_path / "apple.yml"
    flow.write_text(FLOW, encoding="utf-8")

    with products_server() as url:
        done = venv.run("plait", "run", flow, "-i", f"api_url={url}", "--json", env=user_env)

    assert done.code == 0, done.stderr
    execution = done.json()
    runs = {run["taskId"]: run for run in execution["taskRunList"]}
    # warningOnStdErr: false comes from the distribution's pluginDefaults
    assert execution["state"]["current"] == "SUCCESS", done.stderr
    assert runs["report"]["outputs"]["value"] == "2 Apple products"
    home = tmp_path / "user" / "acme-plait"
    assert (home / "plait.db").is_file()
    (stored,) = (home / "files").rglob("apple.json")
    assert json.loads(stored.read_text()) == ["Phone", "Laptop"]


def test_without_the_distribution_the_defaults_no_longer_apply(
    venv: Venv, tmp_path: Path, user_env: dict[str, str]
) -> None:
    flow = tmp_path / "apple.yml"
    flow.write_text(FLOW, encoding="utf-8")
    env = {**user_env, "PLAIT_DISTRIBUTION": "", "PLAIT_HOME": str(tmp_path / "plain")}

    with products_server() as url:
        done = venv.run("plait", "run", flow, "-i", f"api_url={url}", "--json", env=env)

    assert done.code == 0, done.stderr
    assert done.json()["state"]["current"] == "WARNING"  # the script wrote to stderr


@pytest.mark.parametrize("task", sorted(EXCLUDED_FLOWS))
def test_a_type_the_distribution_leaves_out_fails_validation(
    venv: Venv, tmp_path: Path, user_env: dict[str, str], task: str
) -> None:
    type_id, properties = EXCLUDED_FLOWS[task]
    flow = tmp_path / "flow.yml"
    flow.write_text(
        f"id: f\nnamespace: acme.data\ntasks:\n  - id: {task}\n    type: {type_id}\n"
        f"    {properties}\n",
        encoding="utf-8",
    )

    done = venv.run("plait", "validate", flow, env=user_env)

    assert done.code == 2
    assert f"task '{task}':" in done.stderr
    if task == "query":
        assert "unknown task type 'io.kestra.plugin.jdbc.duckdb.Query'" in done.stderr
        assert (
            "This installation is the distribution 'acme-data' 2.1.0, which excludes every "
            "plugin but its own (plait-http, plait-python): 'io.kestra.plugin.jdbc.duckdb.Query'"
            " comes from plait-duckdb" in done.stderr
        )
    else:
        assert (
            "task type 'plait.python.Commands' is excluded by the distribution 'acme-data' "
            "2.1.0: its taskTypes (plait.core, plait.http, plait.python.Script) do not enable it"
            in done.stderr
        )


def test_plugins_list_shows_only_the_distribution(venv: Venv, user_env: dict[str, str]) -> None:
    listed = venv.run("plait", "plugins", "list", "--json", env=user_env).json()

    assert {p["distribution"] for p in listed["plugins"]} == {"plait", "plait-http", "plait-python"}
    types = {t["type"] for p in listed["plugins"] for t in p["taskTypes"]}
    assert "plait.python.Script" in types
    assert "plait.python.Commands" not in types


def test_dist_info_reports_the_manifest(
    venv: Venv, tmp_path: Path, user_env: dict[str, str]
) -> None:
    info = venv.run("plait", "dist", "info", "--json", env=user_env).json()
    home = tmp_path / "user" / "acme-plait"

    assert info["distribution"]["name"] == "acme-data"
    assert info["distribution"]["version"] == "2.1.0"
    assert info["distribution"]["plugins"] == ["plait-http==0.1.0", "plait-python==0.1.0"]
    assert info["distribution"]["taskTypes"] == ["plait.core", "plait.http", "plait.python.Script"]
    assert info["config"] == str(venv.path / "share" / "plait" / "distribution.toml")
    assert info["excludedTaskTypes"] == ["plait.python.Commands"]
    assert info["pluginDefaults"] == [
        {
            "type": "io.kestra.plugin.scripts.python",
            "forced": False,
            "values": {"warningOnStdErr": False},
        }
    ]
    assert info["home"] == str(home)
    assert info["storage"] == {"type": "local", "root": f"{home}/files"}
    assert info["state"] == {"type": "sqlite", "path": f"{home}/plait.db"}
    text = venv.run("plait", "dist", "info", env=user_env)
    assert text.stdout.startswith(
        "distribution: acme-data 2.1.0 - plait for the data team: HTTP and Python only\n"
    )


def test_load_plugins_narrows_the_distribution_further(
    venv: Venv, user_env: dict[str, str]
) -> None:
    env = {**user_env, "PLAIT_LOAD_PLUGINS": "plait-http,plait-duckdb"}
    listed = venv.run("plait", "plugins", "list", "--json", env=env).json()

    assert {p["distribution"] for p in listed["plugins"]} == {"plait", "plait-http"}
    assert listed["notLoaded"] == [
        "PLAIT_LOAD_PLUGINS names 'plait-duckdb', which the distribution 'acme-data' 2.1.0 "
        "does not contain"
    ]
