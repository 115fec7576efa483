"""``plait server`` end to end: a real server process, real HTTP requests to Kestra's REST API
(flows, executions, files, logs, plugins), errors as JSON, authentication."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.cli import PLAIT
from support.server import (
    Server,
    free_port,
    running_server,
    server_env,
    sse_events,
    wait_for,
)

API = "/api/v1"
MAIN = "/api/v1/main"
PREFIXES = [API, MAIN]
YAML = {"Content-Type": "application/x-yaml"}
TEXT = {"Content-Type": "text/plain"}

UPLOAD = """\
id: upload
namespace: api.files
inputs:
  - id: file
    type: FILE
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: content
    type: plait.core.Return
    format: "{{ read(inputs.file) }}"
  - id: greet
    type: plait.core.Log
    message: "hello {{ inputs.who }}"
"""

LOOP = """\
id: loop
namespace: api.eval
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c"]
    tasks:
      - id: child
        type: plait.core.Return
        format: "{{ taskrun.value }}!"
"""

NAP = """\
id: nap
namespace: api.runs
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.6S
  - id: after
    type: plait.core.Return
    format: awake
"""

LONG_SLEEP = """\
id: long
namespace: api.runs
tasks:
  - id: sleep
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
  - id: never
    type: plait.core.Log
    message: not reached
"""

CHAIN = """\
id: chain
namespace: api.runs
tasks:
  - id: a
    type: plait.core.Return
    format: "{{ execution.id }}"
  - id: b
    type: plait.core.Return
    format: "{{ execution.id }}"
  - id: c
    type: plait.core.Return
    format: "{{ outputs.a.value }}/{{ outputs.b.value }}"
"""

CHILD_FAILING = """\
id: child
namespace: api.restart
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: the child is not ready
"""

CHILD_FIXED = """\
id: child
namespace: api.restart
tasks:
  - id: fine
    type: plait.core.Return
    format: ready
"""

PARENT = """\
id: parent
namespace: api.restart
tasks:
  - id: first
    type: plait.core.Return
    format: "{{ execution.id }}"
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: api.restart
    flowId: child
  - id: last
    type: plait.core.Return
    format: "child ended {{ outputs.call.state }}"
"""

ALWAYS_FAILS = """\
id: doomed
namespace: api.restart
tasks:
  - id: ok
    type: plait.core.Return
    format: fine
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "failing on purpose"
"""

LOGS = """\
id: chatty
namespace: api.logs
tasks:
  - id: quiet
    type: plait.core.Log
    level: DEBUG
    message: debug line
  - id: info
    type: plait.core.Log
    message: info line
  - id: warn
    type: plait.core.Log
    level: WARN
    message: warn line
  - id: error
    type: plait.core.Log
    level: ERROR
    message: error line
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x", "y"]
    tasks:
      - id: say
        type: plait.core.Log
        message: "value {{ taskrun.value }}"
"""


PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (auth off): every test uses namespaces of its own."""
    with running_server(tmp_path_factory.mktemp("server") / "home") as running:
        yield running


@pytest.fixture(scope="module")
def api(server: Server) -> httpx.Client:
    return server.client


@pytest.fixture(autouse=True)
def _server_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """What the module's server wrote to stderr during a test, printed (pytest shows it when
    the test fails: an internal error's traceback is there)."""
    if "server" not in request.fixturenames:
        yield
        return
    server: Server = request.getfixturevalue("server")
    before = len(server.stderr())
    yield
    written = server.stderr()[before:]
    if written.strip():
        print(f"plait server stderr during the test:\n{written}")


def returning(namespace: str, flow_id: str, value: str | None = None) -> str:
    """The source of a flow of one ``plait.core.Return`` task ``r``."""
    source = f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n"
    source += "  - id: r\n    type: plait.core.Return\n"
    return source + (f"    format: {value}\n" if value is not None else "")


def deploy(api: httpx.Client, source: str, prefix: str = API) -> dict[str, Any]:
    response = api.post(f"{prefix}/flows", content=source, headers=YAML)
    assert response.status_code == 200, response.text
    return response.json()


def execute(
    api: httpx.Client,
    namespace: str,
    flow_id: str,
    *,
    prefix: str = API,
    wait: bool = True,
    **kwargs: Any,
) -> dict[str, Any]:
    params = kwargs.pop("params", {})
    if wait:
        params = {**params, "wait": "true"}
    response = api.post(f"{prefix}/executions/{namespace}/{flow_id}", params=params, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def runs(execution: dict[str, Any], task_id: str) -> list[dict[str, Any]]:
    return [run for run in execution["taskRunList"] if run["taskId"] == task_id]


def only_run(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    found = runs(execution, task_id)
    assert len(found) == 1, found
    return found[0]


def states(execution: dict[str, Any]) -> list[str]:
    return [change["state"] for change in execution["state"]["histories"]]


def assert_error(response: httpx.Response, status: int, *fragments: str) -> dict[str, Any]:
    """A JSON error of ``status`` whose message has every fragment; never a traceback."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert "Traceback" not in response.text
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    for fragment in fragments:
        assert fragment in body["message"], body["message"]
    return body


def evaluate(
    api: httpx.Client, execution_id: str, taskrun_id: str, expression: str, path: str = "eval"
) -> dict[str, Any]:
    response = api.post(
        f"{API}/executions/{execution_id}/{path}/{taskrun_id}", content=expression, headers=TEXT
    )
    assert response.status_code == 200, response.text
    return response.json()


# -- health, OpenAPI -----------------------------------------------------------------------------


def test_health(api: httpx.Client) -> None:
    health = api.get("/health")
    assert health.status_code == 200
    assert health.text == "ok"


def test_openapi_document(api: httpx.Client) -> None:
    document = api.get(f"{API}/openapi.json")
    assert document.status_code == 200
    spec = document.json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert {"post"} <= set(paths[f"{API}/flows"])
    assert {"get", "put", "delete"} <= set(paths[f"{API}/flows/{{namespace}}/{{flow_id}}"])
    assert "post" in paths[f"{API}/executions/{{namespace}}/{{flow_id}}"]
    assert "delete" in paths[f"{API}/executions/{{execution_id}}/kill"]
    assert "get" in paths[f"{API}/logs/{{execution_id}}"]
    assert paths[f"{API}/executions/{{execution_id}}"]["get"]["summary"]


# -- flows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_flow_lifecycle_under_both_prefixes(api: httpx.Client, prefix: str) -> None:
    namespace = "api.flows" + prefix.replace("/", ".")
    first = returning(namespace, "life", "one")
    second = first.replace("format: one", "format: two")

    created = deploy(api, first, prefix)
    assert created["id"] == "life" and created["namespace"] == namespace
    assert created["revision"] == 1
    assert created["source"] == first
    assert created["tasks"] == [{"id": "r", "type": "plait.core.Return", "format": "one"}]

    # Written through one prefix, read through the other: they are the same API.
    other = MAIN if prefix == API else API
    read = api.get(f"{other}/flows/{namespace}/life")
    assert read.status_code == 200
    assert read.json()["source"] == first and read.json()["revision"] == 1

    updated = api.put(f"{prefix}/flows/{namespace}/life", content=second, headers=YAML)
    assert updated.status_code == 200, updated.text
    assert updated.json()["revision"] == 2
    assert updated.json()["tasks"][0]["format"] == "two"

    latest = api.get(f"{prefix}/flows/{namespace}/life").json()
    assert latest["revision"] == 2 and latest["source"] == second
    old = api.get(f"{prefix}/flows/{namespace}/life", params={"revision": 1}).json()
    assert old["revision"] == 1 and old["source"] == first
    bare = api.get(f"{prefix}/flows/{namespace}/life", params={"source": "false"}).json()
    assert "source" not in bare and bare["revision"] == 2 and bare["tasks"][0]["format"] == "two"

    revisions = api.get(f"{prefix}/flows/{namespace}/life/revisions")
    assert revisions.status_code == 200
    assert [(r["revision"], r["source"]) for r in revisions.json()] == [(1, first), (2, second)]

    assert_error(api.get(f"{prefix}/flows/{namespace}/life", params={"revision": 9}), 404, "9")

    ran = execute(api, namespace, "life", prefix=prefix)
    assert ran["flowRevision"] == 2 and only_run(ran, "r")["outputs"] == {"value": "two"}

    deleted = api.delete(f"{prefix}/flows/{namespace}/life")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(api.get(f"{prefix}/flows/{namespace}/life"), 404)
    assert_error(api.get(f"{other}/flows/{namespace}/life"), 404)
    assert_error(api.post(f"{prefix}/executions/{namespace}/life"), 404)
    # Its executions stay readable.
    kept = api.get(f"{prefix}/executions/{ran['id']}")
    assert kept.status_code == 200 and kept.json()["state"]["current"] == "SUCCESS"


def test_a_revision_that_is_not_a_number_is_a_bad_request(api: httpx.Client) -> None:
    deploy(api, returning("api.revs", "revs"))
    deploy(api, returning("api.revs", "revs", "later"))
    for revision in ("two", "-1", "1.0"):
        answer = api.get(f"{API}/flows/api.revs/revs", params={"revision": revision})
        # Not the latest revision as if none had been asked for.
        assert_error(answer, 400, "revision")


def test_update_refuses_a_missing_flow_and_a_body_naming_another_flow(api: httpx.Client) -> None:
    source = returning("api.update", "kept")
    assert_error(api.put(f"{API}/flows/api.update/kept", content=source, headers=YAML), 404)
    assert api.get(f"{API}/flows/api.update/kept").status_code == 404  # and nothing was created

    deploy(api, source)
    other = source.replace("id: kept", "id: renamed")
    refused = assert_error(
        api.put(f"{MAIN}/flows/api.update/kept", content=other, headers=YAML), 422, "renamed"
    )
    assert refused["problems"] and refused["problems"][0]["message"]
    assert api.get(f"{API}/flows/api.update/kept/revisions").json()[-1]["revision"] == 1
    assert api.get(f"{API}/flows/api.update/renamed").status_code == 404


def test_invalid_flow_is_a_422_with_located_problems(api: httpx.Client) -> None:
    source = (
        "id: broken\nnamespace: api.invalid\ntasks:\n"
        "  - id: r\n    type: plait.core.Return\n"
        "  - id: nope\n    type: io.example.DoesNotExist\n"
    )
    body = assert_error(api.post(f"{API}/flows", content=source, headers=YAML), 422)
    problems = body["problems"]
    assert problems, body
    assert {"message", "file", "line", "column"} <= set(problems[0])
    unknown = [p for p in problems if "io.example.DoesNotExist" in p["message"]]
    assert unknown, problems
    assert unknown[0]["line"] in (6, 7), unknown  # the second task, not the top of the file
    assert api.get(f"{API}/flows/api.invalid/broken").status_code == 404

    not_yaml = assert_error(api.post(f"{MAIN}/flows", content="id: [unclosed\n", headers=YAML), 422)
    assert not_yaml["problems"][0]["line"] >= 1


def test_flow_search_pages_and_filters(api: httpx.Client) -> None:
    for name in ("alpha", "beta", "gamma"):
        deploy(api, returning("api.search", name))
    deploy(api, returning("api.elsewhere", "alpha"))

    pages = []
    for page in (1, 2, 3, 4):
        response = api.get(
            f"{API}/flows/search", params={"namespace": "api.search", "size": 1, "page": page}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == 3
        pages.append([flow["id"] for flow in body["results"]])
    assert [len(p) for p in pages] == [1, 1, 1, 0]
    assert sorted(p[0] for p in pages[:3]) == ["alpha", "beta", "gamma"]
    assert all("source" not in flow for flow in body["results"])

    everything = api.get(f"{MAIN}/flows/search", params={"namespace": "api.search"}).json()
    assert everything["total"] == 3 and len(everything["results"]) == 3
    assert {f["namespace"] for f in everything["results"]} == {"api.search"}

    matched = api.get(f"{API}/flows/search", params={"q": "alpha"}).json()
    assert {(f["namespace"], f["id"]) for f in matched["results"]} >= {
        ("api.search", "alpha"),
        ("api.elsewhere", "alpha"),
    }
    assert all("alpha" in f["id"] or "alpha" in f["namespace"] for f in matched["results"])

    assert_error(api.get(f"{API}/flows/search", params={"page": "two"}), 400, "page")
    assert_error(api.get(f"{API}/flows/search", params={"size": 0}), 400, "size")


def test_validate_reports_on_each_document(api: httpx.Client) -> None:
    body = (
        "id: good\nnamespace: api.validate\ntasks:\n  - id: r\n    type: plait.core.Return\n"
        "---\n"
        "id: bad\nnamespace: api.validate\ntasks:\n  - id: r\n    type: io.example.Missing\n"
        "---\n"
        "id: other\nnamespace: api.validate\ntasks:\n  - id: l\n    type: plait.core.Log\n"
        "    message: hi\n"
    )
    response = api.post(f"{MAIN}/flows/validate", content=body, headers=YAML)
    assert response.status_code == 200, response.text
    reports = response.json()
    assert [r["index"] for r in reports] == [0, 1, 2]

    good, bad, other = reports
    assert (good["flow"], good["namespace"], good["constraints"]) == ("good", "api.validate", None)
    assert good["problems"] == []
    assert (other["flow"], other["constraints"]) == ("other", None)
    assert isinstance(bad["constraints"], str) and "io.example.Missing" in bad["constraints"]
    assert bad["problems"] and "io.example.Missing" in bad["problems"][0]["message"]
    # Validating stores nothing.
    assert api.get(f"{API}/flows/api.validate/good").status_code == 404


def test_flow_schema_for_editors(api: httpx.Client) -> None:
    response = api.get(f"{API}/plugins/schemas/flow")
    assert response.status_code == 200
    schema = response.json()
    assert {"id", "namespace", "tasks"} <= set(schema["properties"])
    text = response.text
    for task_type in ("plait.core.Return", "io.kestra.plugin.core.flow.ForEach"):
        assert task_type in text


# -- executions: create, inputs, files -----------------------------------------------------------


def test_execution_with_a_file_input_and_labels_then_its_file(api: httpx.Client) -> None:
    deploy(api, UPLOAD)
    csv = b"name,qty\napple,3\npear,5\nplum,7\n"
    execution = execute(
        api,
        "api.files",
        "upload",
        prefix=MAIN,
        files={"file": ("fruit.csv", csv, "text/csv")},
        data={"who": "server"},
        params={"labels": ["team:data", "env:test"]},
    )
    assert execution["state"]["current"] == "SUCCESS"
    assert states(execution) == ["CREATED", "RUNNING", "SUCCESS"]
    assert execution["namespace"] == "api.files" and execution["flowId"] == "upload"
    assert execution["flowRevision"] == 1
    assert execution["originalId"] == execution["id"]
    assert {"key": "team", "value": "data"} in execution["labels"]
    assert {"key": "env", "value": "test"} in execution["labels"]
    uri = execution["inputs"]["file"]
    assert uri.startswith("plait:///") and uri.endswith("/fruit.csv")
    assert execution["id"] in uri
    assert execution["inputs"]["who"] == "server"

    content = only_run(execution, "content")
    assert content["outputs"] == {"value": csv.decode()}
    assert content["state"]["current"] == "SUCCESS"
    assert content["parentTaskRunId"] is None and content["value"] is None
    assert [a["state"]["current"] for a in content["attempts"]] == ["SUCCESS"]
    assert only_run(execution, "greet")["state"]["current"] == "SUCCESS"

    base = f"{API}/executions/{execution['id']}"
    download = api.get(f"{base}/file", params={"path": uri})
    assert download.status_code == 200
    assert download.content == csv
    assert download.headers["content-disposition"].startswith("attachment")
    assert "fruit.csv" in download.headers["content-disposition"]
    kestra_uri = uri.replace("plait:///", "kestra:///", 1)
    assert api.get(f"{base}/file", params={"path": kestra_uri}).content == csv

    metas = api.get(f"{MAIN}/executions/{execution['id']}/file/metas", params={"path": uri})
    assert metas.status_code == 200 and metas.json() == {"size": len(csv)}

    preview = api.get(f"{base}/file/preview", params={"path": uri})
    assert preview.status_code == 200
    assert preview.json() == {
        "extension": "csv",
        "type": "LIST",
        "content": [
            {"name": "apple", "qty": "3"},
            {"name": "pear", "qty": "5"},
            {"name": "plum", "qty": "7"},
        ],
        "truncated": False,
    }
    short = api.get(f"{base}/file/preview", params={"path": uri, "maxRows": 2}).json()
    assert short["content"] == [{"name": "apple", "qty": "3"}, {"name": "pear", "qty": "5"}]
    assert short["truncated"] is True
    assert_error(
        api.get(f"{base}/file/preview", params={"path": uri, "encoding": "no-such-codec"}), 400
    )

    # JSON lines are a LIST too, Markdown is MARKDOWN, an image is IMAGE (base64); an upload's
    # name cannot climb out of the execution's folder.
    jsonl = execute(
        api,
        "api.files",
        "upload",
        files={"file": ("../../rows.jsonl", b'{"price": 1.10, "ok": true}\n{"price": 2}\n')},
    )
    assert jsonl["inputs"]["file"].endswith(f"/executions/{jsonl['id']}/inputs/file/rows.jsonl")
    answer = api.get(
        f"{API}/executions/{jsonl['id']}/file/preview", params={"path": jsonl["inputs"]["file"]}
    )
    rendered = json.loads(answer.text, parse_float=Decimal)
    assert rendered["type"] == "LIST" and rendered["extension"] == "jsonl"
    # Numbers stay numbers, written as in the file (a float would turn 1.10 into 1.1).
    assert rendered["content"] == [{"price": Decimal("1.10"), "ok": True}, {"price": 2}]
    assert '"price":1.10' in answer.text
    markdown = execute(api, "api.files", "upload", files={"file": ("read.md", b"# Title\n")})
    shown = api.get(
        f"{API}/executions/{markdown['id']}/file/preview",
        params={"path": markdown["inputs"]["file"]},
    ).json()
    assert shown == {
        "extension": "md",
        "type": "MARKDOWN",
        "content": "# Title\n",
        "truncated": False,
    }
    pixel = PNG_PIXEL
    image = execute(api, "api.files", "upload", files={"file": ("dot.png", pixel, "image/png")})
    shown = api.get(
        f"{API}/executions/{image['id']}/file/preview", params={"path": image["inputs"]["file"]}
    ).json()
    assert (shown["type"], shown["extension"]) == ("IMAGE", "png")
    assert base64.b64decode(shown["content"]) == pixel

    # A text file previews as TEXT; the file of another execution is refused.
    text = execute(api, "api.files", "upload", files={"file": ("note.txt", b"just a note\n")})
    text_uri = text["inputs"]["file"]
    shown = api.get(f"{API}/executions/{text['id']}/file/preview", params={"path": text_uri}).json()
    assert shown["type"] == "TEXT" and shown["extension"] == "txt"
    assert shown["content"].startswith("just a note")
    assert execution["inputs"]["who"] == "server" and text["inputs"]["who"] == "world"
    for route in ("file", "file/metas", "file/preview"):
        assert_error(api.get(f"{base}/{route}", params={"path": text_uri}), 400, text["id"])
    assert_error(api.get(f"{base}/file", params={"path": "file:///etc/passwd"}), 400)
    missing = uri.rsplit("/", 1)[0] + "/missing.csv"
    assert api.get(f"{base}/file/metas", params={"path": missing}).status_code == 404


def test_an_execution_may_carry_a_correlation_id_but_no_other_system_label(
    api: httpx.Client,
) -> None:
    # ExecutionController: "none can be passed at execution creation time except
    # system.correlationId".
    deploy(api, returning("api.labels", "labelled"))
    made = execute(
        api, "api.labels", "labelled", params={"labels": "system.correlationId:upstream"}
    )
    assert {"key": "system.correlationId", "value": "upstream"} in made["labels"]
    refused = api.post(
        f"{API}/executions/api.labels/labelled", params={"labels": "system.username:me"}
    )
    assert_error(refused, 400, "system label")


def test_create_without_waiting_then_get_and_search(api: httpx.Client) -> None:
    deploy(api, NAP)
    started = execute(api, "api.runs", "nap", wait=False)
    assert started["state"]["current"] in ("CREATED", "RUNNING")
    assert started["state"]["endDate"] is None

    ended = wait_for(api, started["id"], prefix=MAIN)
    assert ended["id"] == started["id"]
    assert ended["state"]["current"] == "SUCCESS"
    assert ended["state"]["endDate"] is not None
    assert only_run(ended, "after")["outputs"] == {"value": "awake"}

    second = execute(api, "api.runs", "nap")
    assert second["state"]["current"] == "SUCCESS"  # wait=true answers once it ended

    found = api.get(
        f"{API}/executions/search", params={"namespace": "api.runs", "flowId": "nap"}
    ).json()
    assert found["total"] == 2
    assert {e["id"] for e in found["results"]} == {started["id"], second["id"]}
    paged = api.get(
        f"{MAIN}/executions/search",
        params={"namespace": "api.runs", "flowId": "nap", "size": 1, "page": 2},
    ).json()
    assert paged["total"] == 2 and len(paged["results"]) == 1
    assert paged["results"][0]["id"] in {started["id"], second["id"]}
    failed = api.get(f"{API}/executions/search", params={"flowId": "nap", "state": "FAILED"}).json()
    assert failed == {"results": [], "total": 0}
    succeeded = api.get(
        f"{API}/executions/search", params={"flowId": "nap", "state": "SUCCESS"}
    ).json()
    assert succeeded["total"] == 2

    # Kestra's startDate, endDate and labels (key:value, every one must match)
    labelled = execute(api, "api.runs", "nap", params={"labels": "team:data"})
    search = f"{API}/executions/search"
    mine = api.get(search, params={"flowId": "nap", "labels": "team:data"}).json()
    assert [e["id"] for e in mine["results"]] == [labelled["id"]]
    since = {"flowId": "nap", "startDate": labelled["state"]["startDate"]}
    assert [e["id"] for e in api.get(search, params=since).json()["results"]] == [labelled["id"]]
    until = {"flowId": "nap", "endDate": second["state"]["startDate"]}
    assert api.get(search, params=until).json()["total"] == 2
    both = {"flowId": "nap", "labels": ["team:data", "team:other"]}
    assert api.get(search, params=both).json()["total"] == 0
    assert_error(api.get(search, params={"startDate": "yesterday"}), 400, "startDate")
    assert_error(api.get(search, params={"labels": "nocolon"}), 400, "key:value")


# -- eval, follow, kill, restart, replay ---------------------------------------------------------


def test_eval_inside_a_foreach_iteration_sees_its_value(api: httpx.Client) -> None:
    deploy(api, LOOP)
    execution = execute(api, "api.eval", "loop")
    assert execution["state"]["current"] == "SUCCESS"
    loop = only_run(execution, "each")
    children = runs(execution, "child")
    assert sorted(run["value"] for run in children) == ["a", "b", "c"]
    assert all(run["parentTaskRunId"] == loop["id"] for run in children)
    assert {run["value"]: run["outputs"]["value"] for run in children} == {
        "a": "a!",
        "b": "b!",
        "c": "c!",
    }

    for run in children:
        path = "eval" if run["value"] != "b" else "actions/eval"
        answer = evaluate(api, execution["id"], run["id"], "{{ taskrun.value }}", path)
        assert answer == {"result": run["value"], "error": None, "stackTrace": None}

    child_b = next(run for run in children if run["value"] == "b")
    assert (
        evaluate(api, execution["id"], child_b["id"], "{{ outputs.child['c'].value }}")["result"]
        == "c!"
    )
    assert evaluate(api, execution["id"], loop["id"], "{{ 6 * 7 }}")["result"] == "42"
    whole = api.post(
        f"{MAIN}/executions/{execution['id']}/eval", content="{{ execution.id }}", headers=TEXT
    )
    assert whole.status_code == 200 and whole.json()["result"] == execution["id"]

    broken = evaluate(api, execution["id"], child_b["id"], "{{ nope.missing }}")
    assert broken["result"] is None
    assert "nope" in broken["error"]
    syntax = evaluate(api, execution["id"], child_b["id"], "{{ 1 + }}")
    assert syntax["result"] is None and syntax["error"]

    assert_error(
        api.post(
            f"{API}/executions/{execution['id']}/eval/noSuchTaskRun",
            content="{{ 1 }}",
            headers=TEXT,
        ),
        404,
        "noSuchTaskRun",
    )
    assert_error(
        api.post(f"{API}/executions/noSuchExecution/eval/x", content="{{ 1 }}", headers=TEXT),
        404,
    )


def test_follow_streams_progress_until_the_end(api: httpx.Client) -> None:
    deploy(api, NAP)
    started = execute(api, "api.runs", "nap", wait=False)
    seen = []
    with api.stream("GET", f"{MAIN}/executions/{started['id']}/follow") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in sse_events(response, timeout=20):
            seen.append(event)
            if event.event == "end":
                break
    names = [event.event for event in seen]
    assert names[-1] == "end", names
    assert set(names[:-1]) <= {"progress"}
    assert "progress" in names  # the Sleep takes long enough to be seen running
    last = seen[-1].json()
    assert last["id"] == started["id"]
    assert last["state"]["current"] == "SUCCESS"
    assert [run["taskId"] for run in last["taskRunList"]] == ["nap", "after"]
    assert all(e.json()["state"]["current"] != "SUCCESS" for e in seen[:-1])

    # Following an execution that already ended: one `end` event, then the stream closes.
    with api.stream("GET", f"{API}/executions/{started['id']}/follow") as response:
        again = list(sse_events(response, timeout=10))
    assert [event.event for event in again] == ["end"]
    assert_error(api.get(f"{API}/executions/noSuchExecution/follow"), 404)


def _running(api: httpx.Client, execution_id: str, task_id: str) -> dict[str, Any]:
    """The execution once ``task_id`` is RUNNING."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        execution = api.get(f"{API}/executions/{execution_id}").json()
        if any(
            run["taskId"] == task_id and run["state"]["current"] == "RUNNING"
            for run in execution["taskRunList"]
        ):
            return execution
        time.sleep(0.05)
    raise AssertionError(f"{task_id} of {execution_id} never ran")


@pytest.mark.parametrize("path", ["kill", "actions/kill"])
def test_kill_a_running_sleep(api: httpx.Client, path: str) -> None:
    deploy(api, LONG_SLEEP)
    started = execute(api, "api.runs", "long", wait=False)
    _running(api, started["id"], "sleep")

    assert_error(api.post(f"{API}/executions/{started['id']}/restart"), 409, "running")

    begun = time.monotonic()
    killed = api.delete(f"{MAIN}/executions/{started['id']}/{path}")
    assert killed.status_code == 202, killed.text
    assert killed.json()["id"] == started["id"]

    ended = wait_for(api, started["id"], timeout=15)
    assert time.monotonic() - begun < 10  # not the 30 s of the Sleep
    assert ended["state"]["current"] == "KILLED"
    assert only_run(ended, "sleep")["state"]["current"] == "KILLED"
    assert not runs(ended, "never")

    assert_error(api.delete(f"{API}/executions/{started['id']}/kill"), 409, "KILLED")
    assert_error(api.delete(f"{API}/executions/noSuchExecution/kill"), 404)


def test_restart_a_failed_execution_after_fixing_its_subflow(api: httpx.Client) -> None:
    deploy(api, CHILD_FAILING)
    deploy(api, PARENT)
    failed = execute(api, "api.restart", "parent")
    assert failed["state"]["current"] == "FAILED"
    call = only_run(failed, "call")
    assert call["state"]["current"] == "FAILED"
    assert "FAILED" in call["error"]
    assert not runs(failed, "last")
    first_value = only_run(failed, "first")["outputs"]["value"]

    # The cause is fixed (a new revision of the subflow); the parent restarts as it was.
    fixed = api.put(f"{API}/flows/api.restart/child", content=CHILD_FIXED, headers=YAML)
    assert fixed.status_code == 200 and fixed.json()["revision"] == 2
    restarted = api.post(f"{API}/executions/{failed['id']}/restart")
    assert restarted.status_code == 200, restarted.text
    assert restarted.json()["id"] == failed["id"]

    ended = wait_for(api, failed["id"])
    assert ended["state"]["current"] == "SUCCESS"
    assert ended["metadata"]["attemptNumber"] == 2
    assert states(ended) == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "SUCCESS"]
    first = only_run(ended, "first")
    assert len(first["attempts"]) == 1 and first["outputs"]["value"] == first_value
    call = only_run(ended, "call")
    assert [a["state"]["current"] for a in call["attempts"]] == ["FAILED", "SUCCESS"]
    assert call["outputs"]["state"] == "SUCCESS"
    assert only_run(ended, "last")["outputs"] == {"value": "child ended SUCCESS"}

    assert_error(api.post(f"{API}/executions/{failed['id']}/restart"), 400, "SUCCESS")


def test_restart_without_a_fix_fails_again_with_a_second_attempt(api: httpx.Client) -> None:
    deploy(api, ALWAYS_FAILS)
    failed = execute(api, "api.restart", "doomed")
    assert failed["state"]["current"] == "FAILED"
    assert only_run(failed, "fail")["error"] == "failing on purpose"

    restarted = api.post(f"{MAIN}/executions/{failed['id']}/actions/restart")
    assert restarted.status_code == 200, restarted.text
    assert restarted.json()["id"] == failed["id"]
    # The restart is stored before the answer, so polling cannot see the first FAILED again
    # (the answer itself may already show the second end: it is built while the run goes on).
    assert restarted.json()["metadata"]["attemptNumber"] == 2
    ended = wait_for(api, failed["id"])
    assert ended["metadata"]["attemptNumber"] == 2
    assert states(ended) == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "FAILED"]
    assert ended["state"]["current"] == "FAILED"
    fail = only_run(ended, "fail")
    assert [a["state"]["current"] for a in fail["attempts"]] == ["FAILED", "FAILED"]
    assert len(only_run(ended, "ok")["attempts"]) == 1
    assert_error(api.post(f"{API}/executions/noSuchExecution/restart"), 404)


def test_replay_from_a_task_run_is_a_new_execution(api: httpx.Client) -> None:
    deploy(api, CHAIN)
    original = execute(api, "api.runs", "chain")
    assert original["state"]["current"] == "SUCCESS"
    b_run = only_run(original, "b")

    response = api.post(
        f"{API}/executions/{original['id']}/replay", params={"taskRunId": b_run["id"]}
    )
    assert response.status_code == 200, response.text
    replay = response.json()
    assert replay["id"] != original["id"]
    assert replay["originalId"] == original["id"]

    ended = wait_for(api, replay["id"])
    assert ended["state"]["current"] == "SUCCESS"
    assert ended["originalId"] == original["id"]
    # `a` is kept from the original; `b` and `c` ran again, in the replay.
    assert only_run(ended, "a")["outputs"] == {"value": original["id"]}
    assert only_run(ended, "b")["outputs"] == {"value": replay["id"]}
    assert only_run(ended, "c")["outputs"] == {"value": f"{original['id']}/{replay['id']}"}
    # The original is untouched.
    assert (
        api.get(f"{API}/executions/{original['id']}").json()["taskRunList"]
        == original["taskRunList"]
    )

    whole = api.post(f"{MAIN}/executions/{original['id']}/actions/replay")
    assert whole.status_code == 200, whole.text
    whole_ended = wait_for(api, whole.json()["id"])
    assert whole_ended["originalId"] == original["id"]
    assert only_run(whole_ended, "a")["outputs"] == {"value": whole_ended["id"]}

    assert_error(
        api.post(f"{API}/executions/{original['id']}/replay", params={"taskRunId": "bogus"}),
        400,
        "bogus",
    )


# -- logs ----------------------------------------------------------------------------------------


def test_logs_filters_download_and_follow(api: httpx.Client) -> None:
    deploy(api, LOGS)
    execution = execute(api, "api.logs", "chatty")
    assert execution["state"]["current"] == "SUCCESS"
    base = f"{API}/logs/{execution['id']}"

    everything = api.get(base)
    assert everything.status_code == 200
    lines = everything.json()
    messages = [line["message"] for line in lines]
    for expected in ("info line", "warn line", "error line", "value x", "value y"):
        assert expected in messages, messages
    assert messages.index("info line") < messages.index("warn line") < messages.index("error line")
    first = next(line for line in lines if line["message"] == "warn line")
    assert first["executionId"] == execution["id"]
    assert first["taskId"] == "warn"
    assert first["taskRunId"] == only_run(execution, "warn")["id"]
    assert first["level"] == "WARN"
    assert first["namespace"] == "api.logs" and first["flowId"] == "chatty"
    assert first["timestamp"].endswith("Z")

    warnings = api.get(base, params={"minLevel": "WARN"}).json()
    assert [(line["level"], line["message"]) for line in warnings] == [
        ("WARN", "warn line"),
        ("ERROR", "error line"),
    ]
    errors = api.get(f"{MAIN}/logs/{execution['id']}", params={"minLevel": "ERROR"}).json()
    assert [line["message"] for line in errors] == ["error line"]

    info_task = api.get(base, params={"taskId": "info"}).json()
    assert [line["message"] for line in info_task] == ["info line"]
    say = api.get(base, params={"taskId": "say"}).json()
    assert sorted(line["message"] for line in say) == ["value x", "value y"]
    y_run = next(run for run in runs(execution, "say") if run["value"] == "y")
    only_y = api.get(base, params={"taskRunId": y_run["id"]}).json()
    assert [line["message"] for line in only_y] == ["value y"]
    assert api.get(base, params={"taskId": "nope"}).json() == []
    rest = api.get(base, params={"after": 2}).json()
    assert [line["message"] for line in rest] == messages[2:]
    assert_error(api.get(base, params={"after": "-1"}), 400, "after")

    download = api.get(f"{base}/download", params={"minLevel": "INFO"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/plain")
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment") and execution["id"] in disposition
    text = download.text
    assert "debug line" not in text
    assert "[warn] warn line" in text and "ERROR" in text and "value y" in text
    assert text.index("info line") < text.index("error line")

    followed: list[str] = []
    with api.stream("GET", f"{base}/follow", params={"taskId": "say"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in sse_events(response, timeout=15):
            assert event.event == "progress"
            followed.append(event.json()["message"])
            if len(followed) == 2:
                break
    assert sorted(followed) == ["value x", "value y"]

    assert_error(api.get(f"{API}/logs/noSuchExecution"), 404)
    assert_error(api.get(f"{API}/logs/noSuchExecution/download"), 404)
    assert_error(api.get(f"{API}/logs/noSuchExecution/follow"), 404)


def test_an_unknown_log_level_is_a_bad_request(api: httpx.Client) -> None:
    deploy(api, LOGS)
    execution = execute(api, "api.logs", "chatty")
    for route in ("", "/download", "/follow"):
        answer = api.get(f"{API}/logs/{execution['id']}{route}", params={"minLevel": "LOUD"})
        assert_error(answer, 400, "LOUD")
    assert api.get(f"{API}/logs/{execution['id']}", params={"minLevel": "warning"}).json()


# -- plugins -------------------------------------------------------------------------------------


def test_plugins_and_a_task_type_documentation(api: httpx.Client) -> None:
    response = api.get(f"{API}/plugins")
    assert response.status_code == 200
    plugins = response.json()
    tasks = {task for plugin in plugins for task in plugin["tasks"]}
    assert {"plait.core.Return", "plait.core.Log", "plait.python.Script"} <= tasks
    python = next(p for p in plugins if "plait.python.Script" in p["tasks"])
    assert python["distribution"] == "plait-python" and python["version"]

    for name in ("plait.core.Return", "io.kestra.plugin.core.debug.Return"):
        doc = api.get(f"{MAIN}/plugins/{name}")
        assert doc.status_code == 200, doc.text
        body = doc.json()
        assert "Return a value" in body["markdown"]
        assert "format" in body["schema"]["properties"]["properties"]
        assert "value" in body["schema"]["outputs"]["properties"]

    assert_error(api.get(f"{API}/plugins/io.example.Nothing"), 404, "io.example.Nothing")


# -- errors --------------------------------------------------------------------------------------


def test_errors_are_json_messages(api: httpx.Client) -> None:
    assert_error(api.get(f"{API}/executions/noSuchExecution"), 404, "noSuchExecution")
    assert_error(api.get(f"{MAIN}/executions/noSuchExecution"), 404)
    assert_error(api.get(f"{API}/flows/api.none/nothing"), 404)
    assert_error(api.get(f"{API}/no/such/route"), 404)
    assert_error(api.post(f"{API}/executions/api.none/nothing"), 404, "nothing")
    assert_error(api.get(f"{API}/executions/search", params={"page": "abc"}), 400, "page")
    assert_error(api.get(f"{API}/executions/search", params={"page": 0}), 400, "page")
    assert_error(api.get(f"{API}/executions/search", params={"size": 100_000}), 400, "size")
    assert_error(api.post(f"{API}/flows", content="id: x\nnamespace: api.err\n", headers=YAML), 422)

    deploy(api, UPLOAD)
    bad_label = api.post(
        f"{API}/executions/api.files/upload",
        params={"labels": "no-colon"},
        files={"file": ("a.txt", b"a")},
    )
    assert_error(bad_label, 400, "no-colon")
    missing_input = api.post(f"{API}/executions/api.files/upload", params={"wait": "true"})
    assert_error(missing_input, 422, "file")
    assert missing_input.json()["problems"][0]["message"]

    done = execute(api, "api.files", "upload", files={"file": ("a.txt", b"a")})
    assert_error(api.delete(f"{API}/executions/{done['id']}/kill"), 409, "SUCCESS")
    assert_error(api.post(f"{MAIN}/executions/{done['id']}/actions/kill"), 409)


# -- a server that died ----------------------------------------------------------------------


RESUMED = """\
id: resumed
namespace: api.recover
tasks:
  - id: first
    type: plait.core.Return
    format: "{{ execution.id }}"
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: last
    type: plait.core.Return
    format: "after {{ outputs.first.value }}"
"""


def test_a_new_server_carries_on_what_a_killed_one_left_running(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running_server(home) as first:
        deploy(first.client, RESUMED)
        started = execute(first.client, "api.recover", "resumed", wait=False)
        _running(first.client, started["id"], "nap")
        first.process.kill()  # no chance to clean up: the execution stays RUNNING
        first.process.wait(10)

    with running_server(home) as second:
        ended = wait_for(second.client, started["id"], timeout=20)
        assert ended["state"]["current"] == "SUCCESS"
        assert only_run(ended, "first")["outputs"] == {"value": started["id"]}
        assert only_run(ended, "last")["outputs"] == {"value": f"after {started['id']}"}
        assert started["id"] in second.stderr()  # "resuming 1 execution(s): <id>"


# -- authentication, binding ---------------------------------------------------------------------


def test_authentication_with_basic_and_bearer(tmp_path: Path) -> None:
    env = {"PLAIT_SERVER_USERS": "alice:s3cret,bob:pa:ss", "PLAIT_SERVER_TOKENS": "tok-1,tok-2"}
    # With authentication, listening on every interface is allowed.
    with running_server(tmp_path / "home", env=env, host="0.0.0.0") as auth_server:
        url = auth_server.url
        assert httpx.get(f"{url}/health").text == "ok"

        for path in (f"{API}/flows/search", f"{MAIN}/flows/search", f"{API}/openapi.json"):
            refused = httpx.get(url + path)
            assert_error(refused, 401)
            assert refused.headers["www-authenticate"].startswith("Basic")
        assert_error(httpx.post(f"{url}{API}/flows", content=UPLOAD, headers=YAML), 401)
        assert api_status(url, auth=("alice", "wrong")) == 401
        assert api_status(url, auth=("mallory", "s3cret")) == 401
        assert api_status(url, headers={"Authorization": "Bearer tok-3"}) == 401
        assert api_status(url, headers={"Authorization": "Token tok-1"}) == 401
        garbage = {"Authorization": "Basic " + "!!not-base64!!"}
        assert api_status(url, headers=garbage) == 401

        assert api_status(url, auth=("alice", "s3cret")) == 200
        assert api_status(url, auth=("bob", "pa:ss")) == 200
        assert api_status(url, headers={"Authorization": "Bearer tok-2"}) == 200
        raw = base64.b64encode(b"alice:s3cret").decode()
        assert api_status(url, headers={"Authorization": f"basic {raw}"}) == 200

        created = httpx.post(
            f"{url}{MAIN}/flows",
            content=UPLOAD,
            headers={**YAML, "Authorization": "Bearer tok-1"},
        )
        assert created.status_code == 200 and created.json()["revision"] == 1
    assert "Traceback" not in auth_server.stderr()


def api_status(url: str, **kwargs: Any) -> int:
    return httpx.get(f"{url}{API}/flows/search", **kwargs).status_code


def test_a_server_without_auth_answers_without_credentials(api: httpx.Client) -> None:
    assert api.get(f"{API}/flows/search").status_code == 200
    assert "authorization" not in {k.lower() for k in api.headers}


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_refuses_to_listen_publicly_without_authentication(tmp_path: Path, host: str) -> None:
    done = subprocess.run(
        [*PLAIT, "server", "--host", host, "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=server_env(tmp_path / "home"),
        timeout=30,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "refusing" in done.stderr and "PLAIT_SERVER_USERS" in done.stderr
    assert host in done.stderr
