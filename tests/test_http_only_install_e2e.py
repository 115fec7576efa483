"""plait-http is a distribution of its own: a fresh virtual environment with only plait,
plait-sdk and plait-http (from wheels) runs an HTTP flow, and a flow that needs the DuckDB plugin
is refused before anything runs, with a message saying where that task type comes from."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.wheels import Venv, clean_environment, install_workspace, products_server

pytestmark = pytest.mark.slow

HTTP_FLOW = """\
id: products
namespace: http.only
inputs:
  - id: api_url
    type: STRING
tasks:
  - id: api
    type: io.kestra.plugin.core.http.Request
    uri: "{{ inputs.api_url }}"
  - id: brands
    type: plait.core.Return
    format: "{{ outputs.api.body | jq('[.products[].brand] | unique | join(\\",\\")') | first }}"
"""

DUCKDB_FLOW = """\
id: query
namespace: http.only
tasks:
  - id: query
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: SELECT 42 AS answer
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    venv = Venv.create(tmp_path_factory.mktemp("http-only") / "venv")
    install_workspace(venv, ["plait-sdk", "plait", "plait-http"])
    return venv


def test_only_the_three_distributions_are_installed(venv: Venv) -> None:
    plait_packages = {name for name in venv.distributions() if name.startswith("plait")}

    assert plait_packages == {"plait", "plait-sdk", "plait-http"}


def test_an_http_flow_runs(venv: Venv, tmp_path: Path) -> None:
    flow = tmp_path / "products.yml"
    flow.write_text(HTTP_FLOW, encoding="utf-8")
    env = clean_environment(PLAIT_HOME=str(tmp_path / "home"))

    with products_server() as url:
        done = venv.run("plait", "run", flow, "-i", f"api_url={url}", "--json", env=env)

    assert done.code == 0, done.stderr
    runs = {run["taskId"]: run for run in done.json()["taskRunList"]}
    assert runs["api"]["outputs"]["code"] == 200
    assert runs["brands"]["outputs"]["value"] == "Apple,Samsung"


def test_a_duckdb_flow_fails_validation_naming_the_type_and_its_provider(
    venv: Venv, tmp_path: Path
) -> None:
    flow = tmp_path / "query.yml"
    flow.write_text(DUCKDB_FLOW, encoding="utf-8")

    done = venv.run("plait", "validate", flow, env=clean_environment())

    assert done.code == 2
    assert f"{flow}:5:11: task 'query': unknown task type 'io.kestra.plugin.jdbc.duckdb.Query'" in (
        done.stderr
    )
    assert "It is provided by plait-duckdb: `pip install plait-duckdb`." in done.stderr
    assert "check `plait plugins list`" in done.stderr
    assert "Traceback" not in done.stderr
