"""Kestra's official Python clients, installed from PyPI in an environment of their own, drive a
real ``plait server`` through the user guide's getting-started flow (its PROCESS-runner form,
fed by the local products API): ``kestrapy`` deploys it, executes it with an input and waits,
searches, previews and downloads the stored DuckDB result, evaluates expressions on a task run
and reads the logs; the ``kestra`` library's ``Flow().execute`` runs it again and polls it to
the end. The clients are used as they are: nothing of them is patched.

The clients' environment is kept under ``$PLAIT_TEST_CACHE/kestra-clients`` (default
``~/.cache/plait/kestra-clients``), keyed by the pinned versions and this Python, so only the
first run installs from PyPI.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.dummyjson import products_api
from support.server import running_server
from support.wheels import Venv, clean_environment

REPO = Path(__file__).resolve().parent.parent
FLOW = REPO / "core" / "tests" / "data" / "flows" / "guide_getting_started_process.yml"
SCRIPT = Path(__file__).resolve().parent / "support" / "kestra_clients_script.py"
CLIENTS = ("kestrapy==2.0.3", "kestra==2.0.0", "regex==2026.11.19")
"""The clients as tested. ``kestrapy`` imports ``regex`` without declaring it (2.0.3), so it is
installed beside them."""
USER, PASSWORD, TOKEN = "alice", "s3cret", "tok-1"


def _cache_root() -> Path:
    configured = os.environ.get("PLAIT_TEST_CACHE")
    if configured:
        return Path(configured) / "kestra-clients"
    return Path.home() / ".cache" / "plait" / "kestra-clients"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clients_venv() -> Venv:
    """The environment holding the pinned clients: built once (under a lock, published by a
    rename once complete), then reused."""
    identity = json.dumps([CLIENTS, sys.version, os.path.realpath(sys.base_prefix)])
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    ready = root / key
    with _locked(root / f"{key}.lock"):
        if (ready / "ready").exists():
            return Venv(ready)
        shutil.rmtree(ready, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=root))
        try:
            venv = Venv.create(staging / "venv")
            venv.pip_install(*CLIENTS)
            (staging / "venv" / "ready").write_text("\n".join(CLIENTS) + "\n")
            # A venv's python finds its prefix from where it is, so a rename keeps it working
            # (only console scripts keep the old path in their shebang; none is used).
            (staging / "venv").rename(ready)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Venv(ready)


def expected_rows() -> list[tuple[str | None, float]]:
    """avg(price) by brand, rounded to 2 places, highest first: computed without DuckDB."""
    prices: dict[str | None, list[float]] = defaultdict(list)
    for product in products_api().load_products():
        prices[product.get("brand")].append(product["price"])
    rows = [(brand, round(sum(p) / len(p), 2)) for brand, p in prices.items()]
    return sorted(rows, key=lambda row: row[1], reverse=True)


def assert_rows(records: list[dict[str, Any]], want: list[tuple[str | None, float]]) -> None:
    """The records are ``want``'s rows: the same brands in order, the same average prices (a
    number, or a decimal kept as text)."""
    assert [record["brand"] for record in records] == [brand for brand, _ in want]
    got = [float(record["avg_price"]) for record in records]
    assert got == pytest.approx([price for _, price in want])


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the clients answered, as the script in their environment printed it."""
    venv = clients_venv()
    home = tmp_path_factory.mktemp("kestra-clients") / "home"
    auth = {"PLAIT_SERVER_USERS": f"{USER}:{PASSWORD}", "PLAIT_SERVER_TOKENS": TOKEN}
    with (
        products_api().serve_products() as products,
        running_server(home, env=auth) as server,
    ):
        config = {
            "url": server.url,
            "user": USER,
            "password": PASSWORD,
            "token": TOKEN,
            "flow_file": str(FLOW),
            "api_url": f"{products}/products",
        }
        env = clean_environment(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        done = venv.run("python", SCRIPT, json.dumps(config), env=env, timeout=900)
        assert done.code == 0, done.stderr[-6000:] + "\nserver:\n" + server.stderr()[-4000:]
    document = json.loads(done.stdout)
    document["api_url"] = config["api_url"]
    return document


@pytest.mark.slow
def test_client_answers_satisfy_the_clients_models(report: dict[str, Any]) -> None:
    # Each raw answer validates strictly against kestrapy's model of it (no required field
    # missing, no unexpected enum value), so nothing relies on the clients' lenient fallback.
    assert report["strict"] == {
        "flow": [],
        "execution": [],
        "create_execution": [],
        "file_metas": [],
        "eval": [],
        "logs": [],
    }


@pytest.mark.slow
def test_kestrapy_deploys_and_reads_back_the_guide_flow(report: dict[str, Any]) -> None:
    assert report["created"] == {
        "type": "FlowWithSource",
        "id": "getting_started",
        "namespace": "dev",
        "revision": 1,
        "tasks": ["api", "python", "sqlQuery"],
    }
    assert report["fetched"] == {
        "revision": 1,
        "source_matches": True,
        "disabled": False,
        "deleted": False,
    }
    assert report["unauthenticated"] == 401


@pytest.mark.slow
def test_kestrapy_executes_with_an_input_and_waits(report: dict[str, Any]) -> None:
    executed = report["executed"]
    execution_id = executed["id"]
    assert executed["type"] == "ExecutionControllerExecutionResponse"
    assert executed["state"] == "SUCCESS"
    # A root execution's system.correlationId is its own id, as Kestra sets it.
    assert executed["labels"] == {"client": "kestrapy", "system.correlationId": execution_id}
    assert executed["url"].endswith(f"/api/v1/main/executions/{execution_id}")

    execution = report["execution"]
    assert execution["type"] == "Execution"
    assert execution["state"] == "SUCCESS"
    assert execution["flowRevision"] == 1
    assert execution["inputs"] == {"api_url": report["api_url"]}
    assert list(execution["task_runs"]) == ["api", "python", "sqlQuery"]
    for run in execution["task_runs"].values():
        assert run["executionId"] == execution_id
        assert (run["namespace"], run["flowId"]) == ("dev", "getting_started")
        assert (run["state"], run["attempts"]) == ("SUCCESS", 1)
    assert execution["sql_outputs"]["size"] == len(expected_rows())
    assert report["csv_header"] == "brand,price"

    # follow: a finished execution's last state; a running one's progress, then its end.
    assert report["follow"] == ["SUCCESS"]
    assert report["followed_running"][-1] == "SUCCESS"
    assert set(report["followed_running"][:-1]) <= {"CREATED", "RUNNING"}


@pytest.mark.slow
def test_kestrapy_searches_with_kestra_filters(report: dict[str, Any]) -> None:
    search = report["search"]
    assert search["flows"] == [["dev", "getting_started"]]
    assert search["flows_total"] == 1
    assert search["flows_elsewhere"] == 0
    assert report["executed"]["id"] in search["executions"]


@pytest.mark.slow
def test_kestrapy_previews_and_downloads_the_stored_result(report: dict[str, Any]) -> None:
    want = expected_rows()
    preview = report["preview"]
    assert (preview["type"], preview["truncated"]) == ("LIST", True)
    assert preview["extension"] == "jsonl"
    assert_rows(preview["content"], want[:3])

    download = report["download"]
    assert report["metas"] == {"type": "FileMetas", "size": download["bytes"]}
    rows = [json.loads(line) for line in download["text"].splitlines() if line.strip()]
    assert_rows(rows, want)


@pytest.mark.slow
def test_kestrapy_evaluates_expressions_on_a_task_run(report: dict[str, Any]) -> None:
    evaluated = report["eval"]
    assert evaluated["type"] == "ExecutionControllerEvalResult"
    assert evaluated["result"] == f"{len(expected_rows())} rows from {report['api_url']}"
    assert evaluated["error"] is None
    assert evaluated["failed_result"] is None
    # kestrapy's eval_expression: the execution's context, without a task run.
    rows = len(expected_rows())
    assert evaluated["execution_level"]["result"] == f"{report['executed']['id']} {rows}"
    assert "nope" in evaluated["failed_error"]


@pytest.mark.slow
def test_kestrapy_reads_the_logs(report: dict[str, Any]) -> None:
    logs = report["logs"]
    assert logs["type"] == "LogEntry"
    assert logs["count"] > 0
    assert logs["task_ids"] == ["api", "python", "sqlQuery"]
    assert logs["execution_ids"] == [report["executed"]["id"]]
    assert logs["python_only"] == ["python"]
    assert report["logs_download"] == {"lines": logs["count"], "mentions_python": True}


@pytest.mark.slow
def test_the_kestra_library_executes_the_flow_and_reads_its_logs(report: dict[str, Any]) -> None:
    ran = report["kestra_flow"]
    assert ran["status"] == "SUCCESS"
    assert ran["error"] is None
    assert ran["execution_id"] != report["executed"]["id"]
    assert ran["log_lines"] > 0 and ran["log_mentions_sqlQuery"]
    # The same execution through the tenant paths of Kestra >= 1.0.
    assert report["kestra_flow_tenant"] == {"status": "SUCCESS", "logs": ran["log_lines"]}
    # labels_from_inputs: each input is also a label; without waiting, then followed to its end.
    labelled = report["kestra_flow_labels"]
    assert labelled["status"] == "STARTED"
    assert labelled["labels"].pop("system.correlationId")
    assert labelled["labels"] == {"api_url": report["api_url"]}
    assert labelled["state"] == "SUCCESS"


# -- what the clients rely on, checked on the raw API (fast: no PyPI, no guide flow) ------------

SMALL = """id: small
namespace: clients.shape
inputs:
  - name: who
    type: STRING
    defaults: world
tasks:
  - id: hello
    type: plait.core.Return
    format: "hello {{ inputs.who }}"
"""


def test_the_fields_kestra_clients_require(tmp_path: Path) -> None:
    with running_server(tmp_path / "home") as server:
        api = server.client
        yaml = {"Content-Type": "application/x-yaml"}
        assert api.post("/api/v1/main/flows", content=SMALL, headers=yaml).status_code == 200
        flow = api.get("/api/v1/main/flows/clients.shape/small").json()
        assert (flow["disabled"], flow["draft"], flow["deleted"]) == (False, False, False)
        # An input written with the deprecated `name` has its `id`, as Kestra answers.
        assert flow["inputs"] == [
            {"name": "who", "id": "who", "type": "STRING", "defaults": "world"}
        ]
        assert flow["source"] == SMALL

        created = api.post(
            "/api/v1/main/executions/clients.shape/small",
            params={"wait": "true"},
            files={"who": (None, "kestra")},
        ).json()
        execution_id = created["id"]
        assert created["url"] == f"{server.url}/api/v1/main/executions/{execution_id}"
        execution = api.get(f"/api/v1/executions/{execution_id}").json()
        assert "url" not in execution
        for document in (created, execution):
            assert document["deleted"] is False
            assert document["metadata"]["attemptNumber"] == 1
            created_at = document["state"]["histories"][0]["date"]
            assert document["metadata"]["originalCreatedDate"] == created_at
            [run] = document["taskRunList"]
            assert run["executionId"] == execution_id
            assert (run["namespace"], run["flowId"]) == ("clients.shape", "small")
            assert run["outputs"] == {"value": "hello kestra"}

        answer = api.post(
            f"/api/v1/main/executions/{execution_id}/actions/eval",
            content="{{ outputs.hello.value }}",
            headers={"Content-Type": "text/plain"},
        )
        assert answer.json()["result"] == "hello kestra"


def test_kestra_search_filters(tmp_path: Path) -> None:
    with running_server(tmp_path / "home") as server:
        api = server.client
        yaml = {"Content-Type": "application/x-yaml"}
        api.post("/api/v1/flows", content=SMALL, headers=yaml).raise_for_status()
        other = SMALL.replace("clients.shape", "clients.other")
        api.post("/api/v1/flows", content=other, headers=yaml).raise_for_status()
        ran = api.post("/api/v1/executions/clients.shape/small", params={"wait": "true"})

        def search(path: str, **params: str) -> httpx.Response:
            return api.get(f"/api/v1/main/{path}/search", params=params)

        flows = search("flows", **{"filters[namespace][EQUALS]": "clients.other"}).json()
        assert [(f["namespace"], f["id"]) for f in flows["results"]] == [("clients.other", "small")]
        flows = search("flows", **{"filters[q][EQUALS]": "shape"}).json()
        assert [f["namespace"] for f in flows["results"]] == ["clients.shape"]

        found = search(
            "executions",
            **{"filters[flowId][EQUALS]": "small", "filters[state][IN]": "FAILED,SUCCESS"},
        ).json()
        assert [e["id"] for e in found["results"]] == [ran.json()["id"]]
        found = search("executions", **{"filters[state][EQUALS]": "FAILED"}).json()
        assert found == {"results": [], "total": 0}

        # A filter plait cannot apply is refused, never ignored.
        refused = search("executions", **{"filters[labels][EQUALS]": "a:b"})
        assert refused.status_code == 400
        assert "filters[labels][EQUALS]" in refused.json()["message"]
        refused = search("flows", **{"filters[namespace][STARTS_WITH]": "clients"})
        assert refused.status_code == 400
