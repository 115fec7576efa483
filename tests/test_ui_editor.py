"""The flow editor's pages (the app served in-process over a private home): the editor on a
stored flow, on an older revision and on a starter flow, what the page gives its script (each
task type's outputs, the API and the pages to go to), 404s as HTML; then the editor's own
modules (the YAML path at the cursor, the schema's completions, the ``outputs.`` lint) run by
``node --test`` against the very schema and catalog the page uses. The browser tests
(tests/ui/test_editor.py) drive the same pages in chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from plait.api import Engine
from plait.server.app import build_app
from plait.server.runtime import ServerRuntime
from plait.server.ui.editor_views import STARTER_FLOW
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
YAML = {"Content-Type": "application/x-yaml"}
FLOW = """\
id: edited
namespace: ui.editor
tasks:
  - id: first
    type: plait.core.Return
    format: "<one>"
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    engine = Engine.create(home=tmp_path_factory.mktemp("ui-editor") / "home")
    runtime = ServerRuntime(engine)
    try:
        with TestClient(build_app(runtime)) as test_client:
            for source in (FLOW, FLOW.replace("<one>", "<two>")):
                test_client.post("/api/v1/flows", content=source, headers=YAML).raise_for_status()
            yield test_client
    finally:
        runtime.close()
        engine.close()


def editor_data(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="editor-data">(.*?)</script>', html, re.S
    )
    assert found, "the page embeds the editor's data"
    return json.loads(found.group(1))


def editor_source(html: str) -> str:
    found = re.search(r'<textarea id="editor-source"[^>]*>(.*?)</textarea>', html, re.S)
    assert found
    return unescape(found.group(1))


def test_edit_page_holds_the_latest_revision_and_the_editor(client: TestClient) -> None:
    response = client.get("/ui/flows/ui.editor/edited/edit")
    assert response.status_code == 200
    html = response.text
    assert editor_source(html) == FLOW.replace("<one>", "<two>")
    assert "&lt;two&gt;" in html and "<two>" not in html, "the flow's text is escaped"
    assert 'src="/ui/static/bundle/editor.js"' in html
    assert 'aria-current="page">Edit</a>' in html, "the flow's tab bar, Edit current"
    assert "revision 2" in html
    assert "Esc then Tab" in html, "the keyboard escape hatch is documented on the page"
    data = editor_data(html)
    assert data["flow"] == {"namespace": "ui.editor", "id": "edited", "revision": 2}
    assert (data["api"], data["schemaUrl"]) == ("/api/v1", "/api/v1/plugins/schemas/flow")
    assert data["urls"]["edit"] == "/ui/flows/__namespace__/__flow_id__/edit"
    assert data["urls"]["execute"] == "/ui/flows/__namespace__/__flow_id__/execute"
    assert data["urls"]["execution"] == "/ui/executions/__namespace__/__flow_id__/__execution_id__"
    ret = data["taskTypes"]["plait.core.Return"]
    assert ret["outputs"][0]["name"] == "value" and ret["outputs"][0]["description"]
    assert data["taskTypes"]["io.kestra.plugin.core.debug.Return"] == ret, "aliases too"
    assert data["taskTypes"]["plait.core.flow.ForEach"]["loops"] is True
    assert [o["name"] for o in data["taskTypes"]["plait.http.Request"]["outputs"]] == [
        "uri",
        "code",
        "headers",
        "body",
    ]


def test_an_older_revision_can_be_edited(client: TestClient) -> None:
    html = client.get("/ui/flows/ui.editor/edited/edit?revision=1").text
    assert editor_source(html) == FLOW
    assert "revision 1 (the latest is 2; saving makes this text revision 3)" in unescape(html)
    assert editor_data(html)["flow"]["revision"] == 2


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/ui/flows/ui.editor/missing/edit", "missing"),
        ("/ui/flows/ui.editor/edited/edit?revision=9", "9"),
        ("/ui/flows/ui.editor/edited/edit?revision=last", "a revision is a number"),
    ],
)
def test_a_missing_flow_or_revision_is_an_html_404(
    client: TestClient, path: str, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert message in unescape(response.text)
    assert "editor.js" not in response.text


def test_new_flow_starts_from_a_valid_starter(client: TestClient) -> None:
    response = client.get("/ui/flows/new")
    assert response.status_code == 200, "not taken for a flow 'new' of some namespace"
    assert editor_source(response.text) == STARTER_FLOW
    assert editor_data(response.text)["flow"] is None
    report = client.post("/api/v1/flows/validate", content=STARTER_FLOW, headers=YAML).json()
    assert report[0]["problems"] == [], "the starter flow is valid as it is"


def test_only_editor_pages_load_the_editor_bundle(client: TestClient) -> None:
    assert "bundle/editor.js" not in client.get("/ui/flows").text
    assert client.get("/ui/static/bundle/editor.js").status_code == 200


def test_editor_modules(client: TestClient, tmp_path: Path) -> None:
    schema = tmp_path / "flow-schema.json"
    schema.write_bytes(client.get("/api/v1/plugins/schemas/flow").content)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(editor_data(client.get("/ui/flows/new").text)))
    clean = [
        *sorted((ROOT / "examples").rglob("*.yml")),
        *(ROOT / "core/tests/data/flows").glob("*.yml"),
    ]
    for flow in clean:  # clean for the server too, or the test's premise is wrong
        report = client.post("/api/v1/flows/validate", content=flow.read_bytes(), headers=YAML)
        assert report.json()[0]["problems"] == [], flow
    done = subprocess.run(
        ["node", "--test", str(ROOT / "tools/ui/test")],
        env={
            **os.environ,
            "PLAIT_FLOW_SCHEMA": str(schema),
            "PLAIT_EDITOR_CATALOG": str(catalog),
            "PLAIT_CLEAN_FLOWS": "\n".join(map(str, clean)),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^# pass [1-9]", done.stdout, re.M), done.stdout
