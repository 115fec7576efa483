"""What a client of `plait server` must never reach: the server's own files through a FILE
input sent as text, or another execution's files."""

from __future__ import annotations

from pathlib import Path

from support.server import running_server

FLOW = """\
id: reader
namespace: dev
inputs:
  - id: f
    type: FILE
tasks:
  - id: show
    type: plait.core.Return
    format: "{{ read(inputs.f) }}"
"""


def test_a_file_input_sent_as_text_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "server-secret.txt"
    secret.write_text("SERVER ONLY")
    upload = tmp_path / "mine.txt"
    upload.write_text("from the client")
    with running_server(tmp_path / "home") as server:
        client = server.client
        deployed = client.post(
            "/api/v1/flows", content=FLOW, headers={"Content-Type": "application/x-yaml"}
        )
        assert deployed.status_code == 200, deployed.text
        refused = client.post("/api/v1/executions/dev/reader", data={"f": str(secret)})
        assert refused.status_code == 422
        assert "must be sent as a file part" in refused.json()["message"]
        assert client.get("/api/v1/executions/search").json()["total"] == 0

        with upload.open("rb") as file:
            done = client.post(
                "/api/v1/executions/dev/reader?wait=true", files={"f": ("mine.txt", file)}
            )
        assert done.status_code == 200, done.text
        run = done.json()["taskRunList"][0]
        assert run["outputs"] == {"value": "from the client"}
        uri = done.json()["inputs"]["f"]

        other = client.post(
            "/api/v1/executions/dev/reader?wait=true", files={"f": ("mine.txt", b"x")}
        ).json()
        foreign = client.get(f"/api/v1/executions/{other['id']}/file", params={"path": uri})
        assert foreign.status_code == 400
        as_input = client.post("/api/v1/executions/dev/reader?wait=true", data={"f": uri})
        assert as_input.status_code == 422
        assert "belongs to another execution" in as_input.json()["message"]


def test_a_change_sent_by_another_sites_page_is_refused(tmp_path: Path) -> None:
    """A page of another site may make a logged-in browser POST to the server (with its stored
    Basic credentials): the browser's ``Origin`` gives it away. Clients send no Origin."""
    yaml = {"Content-Type": "application/x-yaml"}
    with running_server(tmp_path / "home") as server:
        client = server.client
        evil = {**yaml, "Origin": "http://evil.example"}
        refused = client.post("/api/v1/flows", content=FLOW, headers=evil)
        assert refused.status_code == 403
        assert "not sent from this server" in refused.json()["message"]
        assert client.get("/api/v1/flows/search").json()["total"] == 0
        killed = client.delete("/api/v1/executions/any/kill", headers={"Origin": "null"})
        assert killed.status_code == 403
        ours = client.post("/api/v1/flows", content=FLOW, headers={**yaml, "Origin": server.url})
        assert ours.status_code == 200, ours.text
        read = client.get("/api/v1/flows/search", headers={"Origin": "http://evil.example"})
        assert read.status_code == 200 and read.json()["total"] == 1  # reading changes nothing
        from_client = client.post("/api/v1/flows/validate", content=FLOW, headers=yaml)
        assert from_client.status_code == 200
