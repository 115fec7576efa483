"""The web UI's executions views over HTTP, against a real ``plait server``: the list and its
filters, paging and live polling; an execution's page (ForEach iterations grouped), its kill,
restart and replay forms; its logs with level and search; the HTML 404.

The browser-driven acceptance checks are in tests/ui/test_executions.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.execution_flows import FAILING, SLEEPING
from support.server import Server, running_server, wait_for

YAML = {"Content-Type": "application/x-yaml"}

LOOP = """\
id: loop
namespace: uiexec.loops
labels:
  team: data
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["alpha", "beta"]
    tasks:
      - id: child
        type: plait.core.Return
        format: "{{ taskrun.value }}!"
  - id: say
    type: plait.core.Log
    message: the loop ran
"""

CHATTY = """\
id: chatty
namespace: uiexec.logs
tasks:
  - id: quiet
    type: plait.core.Log
    level: DEBUG
    message: a debug detail
  - id: loud
    type: plait.core.Log
    level: WARN
    message: a warning worth reading
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home: Path = tmp_path_factory.mktemp("uiexec") / "home"
    with running_server(home) as started:
        for source in (LOOP, CHATTY, SLEEPING, FAILING):
            response = started.client.post("/api/v1/flows", content=source, headers=YAML)
            assert response.status_code == 200, response.text
        yield started


def run(server: Server, namespace: str, flow_id: str, *labels: str) -> dict[str, Any]:
    """An ended execution (labels as ``key:value``)."""
    response = server.client.post(
        f"/api/v1/executions/{namespace}/{flow_id}",
        params=[("wait", "true"), *(("labels", label) for label in labels)],
    )
    assert response.status_code == 200, response.text
    return response.json()


def start(server: Server, namespace: str, flow_id: str) -> str:
    response = server.client.post(f"/api/v1/executions/{namespace}/{flow_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def page_of(execution: dict[str, Any]) -> str:
    return f"/ui/executions/{execution['namespace']}/{execution['flowId']}/{execution['id']}"


def listed(html: str) -> list[str]:
    """The execution ids a list page shows."""
    return re.findall(r'title="(\w{22})"', html)


def test_list_filters_by_namespace_flow_state_labels_and_time(server: Server) -> None:
    tagged = run(server, "uiexec.loops", "loop", "env:prod")
    plain = run(server, "uiexec.loops", "loop")
    failed = run(server, "uiexec.fail", "failing")
    client = server.client

    def ids(**params: Any) -> list[str]:
        response = client.get("/ui/executions", params=params)
        assert response.status_code == 200, response.text
        return listed(response.text)

    assert ids(namespace="uiexec.loops")[:2] == [plain["id"], tagged["id"]]  # newest first
    assert failed["id"] not in ids(namespace="uiexec.loops")
    assert ids(namespace="uiexec")[0] == failed["id"]  # a namespace matches its children
    assert ids(flow="failing", state="FAILED") == [failed["id"]]
    assert ids(flow="failing", state=["SUCCESS", "WARNING"]) == []
    assert ids(label="env:prod") == [tagged["id"]]
    assert ids(label=["env:prod", "team:nope"]) == []
    created = tagged["state"]["startDate"]  # 2026-...T..:..:..ffffffZ
    assert ids(flow="loop", **{"from": created}) == [plain["id"], tagged["id"]]
    assert tagged["id"] not in ids(flow="loop", **{"from": plain["state"]["startDate"]})
    assert ids(flow="loop", to="2000-01-01T00:00") == []
    assert tagged["id"] in ids(flow="loop", to=created[:10])  # a day covers all of it


def test_list_pages_and_says_what_is_wrong(server: Server) -> None:
    source = LOOP.replace("uiexec.loops", "uiexec.pages")
    assert server.client.post("/api/v1/flows", content=source, headers=YAML).status_code == 200
    made = [run(server, "uiexec.pages", "loop", f"n:{i % 2}")["id"] for i in range(5)]
    newest = made[::-1]
    first = server.client.get("/ui/executions", params={"namespace": "uiexec.pages", "size": 2})
    assert listed(first.text) == newest[:2] and "5 executions" in first.text
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    third = server.client.get(
        "/ui/executions", params={"namespace": "uiexec.pages", "size": 2, "page": 3}
    )
    assert listed(third.text) == newest[4:] and 'rel="next"' not in third.text
    # labels are filtered over the candidates: the pages stay exact
    even = [made[i] for i in (4, 2, 0)]
    labelled = {"namespace": "uiexec.pages", "label": "n:0", "size": 2}
    assert listed(server.client.get("/ui/executions", params=labelled).text) == even[:2]
    second = server.client.get("/ui/executions", params={**labelled, "page": 2})
    assert listed(second.text) == even[2:] and 'rel="next"' not in second.text

    for params, message in [
        ({"state": "DONE"}, "unknown state &#39;DONE&#39;"),
        ({"label": "nocolon"}, "label filter &#39;nocolon&#39; must be written key:value"),
        ({"from": "yesterday"}, "&#39;from&#39; must be a date and time"),
        ({"page": "0"}, "&#39;page&#39; must be between 1"),
    ]:
        response = server.client.get("/ui/executions", params=params)
        assert response.status_code == 400
        assert message in response.text and "Traceback" not in response.text


def test_execution_page_groups_foreach_iterations(server: Server) -> None:
    execution = run(server, "uiexec.loops", "loop")
    response = server.client.get(page_of(execution))
    assert response.status_code == 200
    html = response.text
    groups = re.findall(
        r'<details class="gantt-group" id="[^"]+" open[^>]*><summary[^>]*>'
        r'<span class="gantt-name"><span class="gantt-value">(\w+)</span>',
        html,
    )
    assert groups == ["alpha", "beta"]
    alpha = html.split('<span class="gantt-value">alpha</span>')[1].split("</details>")[0]
    assert ">child</a>" in alpha and ">say</a>" not in alpha
    assert html.count('<div class="gantt-row" style="--depth:') == len(execution["taskRunList"])
    assert "hx-trigger" not in html  # ended: nothing polls
    assert 'href="' + page_of(execution) + '/logs"' in html
    assert 'href="' + page_of(execution) + '/outputs"' in html
    assert "team:data" in html and "the loop ran" not in html


def test_unfinished_views_poll_until_the_execution_ends(server: Server) -> None:
    execution_id = start(server, "uiexec.live", "sleeping")
    wait_for(server.client, execution_id, states={"RUNNING"})
    path = f"/ui/executions/uiexec.live/sleeping/{execution_id}"
    fragment = {"HX-Request": "true"}
    rows = server.client.get("/ui/executions", params={"flow": "sleeping"}, headers=fragment)
    assert rows.text.startswith('<tbody id="execution-rows" hx-get="/ui/executions?flow=sleeping"')
    assert "<html" not in rows.text
    live = server.client.get(path, headers=fragment)
    assert live.text.startswith(f'<div id="execution-live" data-state="RUNNING" hx-get="{path}"')
    assert "/kill" in live.text

    killed = server.client.post(path + "/kill")
    assert killed.status_code == 303 and killed.headers["location"] == path
    wait_for(server.client, execution_id, states={"KILLED"})
    live = server.client.get(path, headers=fragment)
    assert 'data-state="KILLED"' in live.text and "hx-trigger" not in live.text
    rows = server.client.get("/ui/executions", params={"flow": "sleeping"}, headers=fragment)
    assert "hx-trigger" not in rows.text and "KILLED" in rows.text

    again = server.client.post(path + "/kill")  # an error is shown in place
    assert again.status_code == 409
    assert f"execution {execution_id} already ended KILLED" in again.text


def test_restart_and_replay_lead_to_their_execution(server: Server) -> None:
    failed = run(server, "uiexec.fail", "failing")
    assert failed["state"]["current"] == "FAILED"
    path = page_of(failed)
    html = server.client.get(path).text
    assert "/restart" in html and "/kill" not in html

    restarted = server.client.post(path + "/restart")
    assert restarted.status_code == 303 and restarted.headers["location"] == path
    again = wait_for(server.client, failed["id"])
    assert again["metadata"]["attemptNumber"] == 2 and again["state"]["current"] == "FAILED"

    boom = next(r for r in failed["taskRunList"] if r["taskId"] == "boom")
    replayed = server.client.post(path + "/replay", data={"taskrun": boom["id"]})
    assert replayed.status_code == 303
    new_id = replayed.headers["location"].rsplit("/", 1)[1]
    assert replayed.headers["location"] == f"/ui/executions/uiexec.fail/failing/{new_id}"
    replay = wait_for(server.client, new_id)
    assert replay["originalId"] == failed["id"]
    assert [r["taskId"] for r in replay["taskRunList"]] == ["ok", "boom"]
    kept = next(r for r in replay["taskRunList"] if r["taskId"] == "ok")
    assert kept["outputs"] == {"value": "fine"}

    wrong = server.client.post(path + "/replay?taskrun=nope")
    assert wrong.status_code == 400 and "has no task run or task &#39;nope&#39;" in wrong.text


def test_actions_refuse_another_sites_forms(server: Server) -> None:
    failed = run(server, "uiexec.fail", "failing")
    response = server.client.post(
        page_of(failed) + "/restart", headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403 and "not sent from this server" in response.text
    assert server.client.get(f"/api/v1/executions/{failed['id']}").json()["metadata"] == {
        "attemptNumber": 1,
        "originalCreatedDate": failed["state"]["startDate"],
    }


def test_logs_filter_by_level_and_text(server: Server) -> None:
    execution = run(server, "uiexec.logs", "chatty")
    logs = page_of(execution) + "/logs"
    everything = server.client.get(logs, params={"level": "TRACE"}).text
    assert "a debug detail" in everything and "a warning worth reading" in everything
    default = server.client.get(logs).text
    assert "a debug detail" not in default and "a warning worth reading" in default
    warn = server.client.get(logs, params={"level": "WARN"}).text
    assert "a warning worth reading" in warn and "a debug detail" not in warn
    assert "data-follow" not in warn  # ended: nothing to tail
    found = server.client.get(logs, params={"level": "TRACE", "q": "DEBUG DET"}).text
    assert "a debug detail" in found and "a warning worth reading" not in found
    by_task = server.client.get(logs, params={"level": "TRACE", "q": "loud"}).text
    assert "a warning worth reading" in by_task and "a debug detail" not in by_task
    bad = server.client.get(logs, params={"level": "LOUD"})
    assert bad.status_code == 400 and "unknown log level &#39;LOUD&#39;" in bad.text


def test_live_logs_page_tails_from_where_it_stopped(server: Server) -> None:
    execution_id = start(server, "uiexec.live", "sleeping")
    wait_for(server.client, execution_id, states={"RUNNING"})
    html = server.client.get(f"/ui/executions/uiexec.live/sleeping/{execution_id}/logs").text
    assert f'data-follow="/api/v1/logs/{execution_id}/follow?minLevel=INFO"' in html
    assert 'data-sent="' in html and "static/executions.js" in html
    server.client.post(f"/api/v1/executions/{execution_id}/kill")
    wait_for(server.client, execution_id)


def test_unknown_execution_is_an_html_404_and_prefixes_redirect(server: Server) -> None:
    missing = server.client.get("/ui/executions/uiexec.loops/loop/doesNotExist")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "doesNotExist" in missing.text and "Traceback" not in missing.text
    logs = server.client.get("/ui/executions/uiexec.loops/loop/doesNotExist/logs")
    assert logs.status_code == 404
    post = server.client.post("/ui/executions/uiexec.loops/loop/doesNotExist/kill")
    assert post.status_code == 404

    execution = run(server, "uiexec.loops", "loop")
    short = server.client.get(f"/ui/executions/other/flow/{execution['id'][:12]}/logs?q=x")
    assert short.status_code == 307
    assert short.headers["location"] == page_of(execution) + "/logs?q=x"
