"""The flows and plugins pages of the web UI against a real ``plait server``, without a
browser: the HTML each view answers (flows list and search, topology, revisions diff, the
Execute form and what its POST starts, plugin docs), read with the standard HTML parser.
The browser tests (tests/ui/test_flows_views.py) drive the same pages in chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from support.server import Server, running_server

YAML = {"Content-Type": "application/x-yaml"}

NESTED = """\
id: nested
namespace: ui.flows
description: |
  Shows **every** kind of nesting. <script>alert("x")</script>
labels:
  team: data
inputs:
  - id: size
    type: INT
    defaults: 3
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: together
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - id: left
            type: plait.core.Return
            format: "{{ parent.taskrun.value }}"
          - id: right
            type: plait.core.Log
            message: off
            disabled: true
  - id: big
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.size > 10 }}"
    then:
      - id: say_big
        type: plait.core.Return
        format: big
    else:
      - id: say_small
        type: plait.core.Return
        format: small
  - id: parity
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.size % 2 }}"
    cases:
      "0":
        - id: even
          type: plait.core.Log
          message: even
    defaults:
      - id: odd
        type: plait.core.Log
        message: odd
errors:
  - id: alert
    type: plait.core.Log
    message: failed
finally:
  - id: cleanup
    type: plait.core.Log
    message: done
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
outputs:
  - id: said
    type: STRING
    value: "{{ outputs.say_small.value }}"
"""

FORM = """\
id: form
namespace: ui.flows
inputs:
  - id: name
    type: STRING
    description: Who to greet
    validator: "[a-z]+"
  - id: count
    type: INT
    defaults: 3
    min: 1
    max: 10
  - id: ratio
    type: FLOAT
    required: false
  - id: flag
    type: BOOLEAN
    defaults: true
  - id: when
    type: DATETIME
    defaults: "2024-01-31T12:00:00+02:00"
  - id: day
    type: DATE
    required: false
    after: "2024-01-01"
  - id: at
    type: TIME
    required: false
  - id: wait
    type: DURATION
    defaults: PT5M
  - id: color
    type: SELECT
    values: [red, green, blue]
    defaults: green
  - id: tags
    type: MULTISELECT
    values: [a, b, c]
    required: false
  - id: config
    type: JSON
    defaults: {"a": [1, 2]}
  - id: doc
    type: YAML
    required: false
  - id: numbers
    type: ARRAY
    itemType: INT
    required: false
  - id: data
    type: FILE
    required: false
  - id: link
    type: URI
    required: false
  - id: token
    type: SECRET
    required: false
tasks:
  - id: greet
    type: plait.core.Return
    format: "{{ inputs.name }} x{{ inputs.count }}"
"""


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""


class Page(HTMLParser):
    """Every element with its attributes and the text directly inside it, in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in ("input", "br", "meta", "link", "img"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> Element:
        found = self.find(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]


def text(html: str) -> str:
    """The page's text with whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("ui-flows") / "home") as running:
        yield running


@pytest.fixture(scope="module")
def api(server: Server) -> httpx.Client:
    return server.client


def deploy(api: httpx.Client, source: str) -> dict[str, Any]:
    response = api.post("/api/v1/flows", content=source, headers=YAML)
    assert response.status_code == 200, response.text
    return response.json()


def html_page(api: httpx.Client, path: str, status: int = 200) -> str:
    response = api.get(path)
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


# -- flows list ----------------------------------------------------------------------------------


def test_an_empty_list_links_to_creating_a_flow(tmp_path: Any) -> None:
    with running_server(tmp_path / "home") as empty:
        html = html_page(empty.client, "/ui/flows")
    assert "No flow is stored yet" in html
    assert Page(html).find("a", href="/ui/flows/new")


def test_the_list_searches_namespace_id_and_description(api: httpx.Client) -> None:
    deploy(api, NESTED)
    deploy(api, FORM)
    deploy(
        api,
        "id: other\nnamespace: elsewhere\ntasks:\n  - id: a\n    type: plait.core.Log\n"
        "    message: hi\n",
    )
    every = Page(html_page(api, "/ui/flows"))
    flows = {e.attrs["href"] for e in every.elements if e.attrs.get("href", "").count("/") == 4}
    assert {"/ui/flows/ui.flows/nested", "/ui/flows/ui.flows/form"} <= flows
    assert "/ui/flows/elsewhere/other" in flows

    by_description = html_page(api, "/ui/flows?q=every+NESTING")
    assert "/ui/flows/ui.flows/nested" in by_description
    assert "/ui/flows/ui.flows/form" not in by_description
    assert "/ui/flows/elsewhere/other" not in by_description
    # The search form keeps the query: the URL is the state.
    assert Page(by_description).one("input", name="q").attrs["value"] == "every NESTING"

    by_namespace = html_page(api, "/ui/flows?q=elsewhere")
    assert "/ui/flows/elsewhere/other" in by_namespace
    assert "/ui/flows/ui.flows/nested" not in by_namespace

    none = html_page(api, "/ui/flows?q=no-such-flow")
    assert "No flow matches" in none


def test_the_list_shows_task_count_and_last_execution(api: httpx.Client) -> None:
    deploy(api, NESTED)
    done = api.post("/api/v1/executions/ui.flows/nested", params={"wait": "true"}, timeout=60)
    assert done.status_code == 200, done.text
    execution = done.json()
    html = html_page(api, "/ui/flows?q=ui.flows.nested")
    row = text(html)
    assert "nested" in row and " 12 " in row  # twelve tasks, nested ones included
    link = f"/ui/executions/ui.flows/nested/{execution['id']}"
    assert link in html
    assert f"state-{execution['state']['current']}" in html


# -- a flow's topology ---------------------------------------------------------------------------


def test_topology_nests_flowables_and_shows_triggers_inputs_outputs(api: httpx.Client) -> None:
    deploy(api, NESTED)
    html = html_page(api, "/ui/flows/ui.flows/nested")
    page = Page(html)
    box = {e.attrs["id"]: e for e in page.find("div") if e.attrs.get("id", "").startswith("task-")}
    # Nesting: each box holds the boxes of its child lists, labelled by list.
    assert "together" in box["task-each"].text and "left" in box["task-together"].text
    assert "Parallel" in box["task-together"].text
    assert "then" in box["task-big"].text and "say_big" in box["task-big"].text
    assert "else" in box["task-big"].text and "say_small" in box["task-big"].text
    assert "cases: 0" in box["task-parity"].text and "defaults" in box["task-parity"].text
    assert "left" not in box["task-big"].text
    assert "disabled" in box["task-right"].attrs["class"]
    assert "task-alert" in box and "task-cleanup" in box
    # A task's type links to its plugin page, which knows the alias.
    link = page.one("a", href="/ui/plugins/io.kestra.plugin.core.flow.ForEach")
    assert link.text == "ForEach"
    assert "Run a list of tasks for each of a list of values" in text(
        html_page(api, link.attrs["href"])
    )
    flat = text(html)
    assert "nightly" in flat and "0 2 * * *" in flat
    assert "size" in flat and "said" in flat and "team:data" in flat
    # The description is Markdown; its HTML is escaped, never run.
    assert "<strong>every</strong>" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    tabs = page.one("nav", class_="tabs")
    assert "Topology" in tabs.text and "Edit" in tabs.text
    assert page.find("a", href="/ui/flows/ui.flows/nested/edit")


def test_a_missing_flow_is_an_html_404(api: httpx.Client) -> None:
    for path in (
        "/ui/flows/ui.flows/nope",
        "/ui/flows/ui.flows/nope/revisions",
        "/ui/flows/ui.flows/nope/execute",
    ):
        html = html_page(api, path, status=404)
        assert "flow &#39;ui.flows.nope&#39; not found" in html


# -- revisions -----------------------------------------------------------------------------------


def test_revisions_diff_the_latest_with_the_previous_by_default(api: httpx.Client) -> None:
    first = deploy(api, NESTED.replace("id: nested", "id: revised"))
    second = deploy(
        api, NESTED.replace("id: nested", "id: revised").replace("defaults: 3", "defaults: 4")
    )
    assert second["revision"] == first["revision"] + 1
    html = html_page(api, "/ui/flows/ui.flows/revised/revisions")
    page = Page(html)
    removed = [e.text for e in page.find("tr", class_="diff-removed")]
    added = [e.text for e in page.find("tr", class_="diff-added")]
    assert len(removed) == len(added) == 1
    assert "defaults: 3" in removed[0] and "defaults: 4" in added[0]
    chosen = [o.attrs["value"] for o in page.find("option") if "selected" in o.attrs]
    assert chosen == [str(first["revision"]), str(second["revision"])]

    same = html_page(
        api,
        f"/ui/flows/ui.flows/revised/revisions?left={second['revision']}"
        f"&right={second['revision']}",
    )
    assert "compared with itself" in same and not Page(same).find("tr", class_="diff-added")

    backwards = Page(
        html_page(
            api,
            f"/ui/flows/ui.flows/revised/revisions?left="
            f"{second['revision']}&right={first['revision']}",
        )
    )
    assert "defaults: 4" in backwards.one("tr", class_="diff-removed").text

    missing = html_page(api, "/ui/flows/ui.flows/revised/revisions?left=99", status=404)
    assert "has no revision &#39;99&#39;" in missing

    # Each revision links to its own topology.
    older = f"/ui/flows/ui.flows/revised?revision={first['revision']}"
    assert page.find("a", href=older)
    shown = text(html_page(api, older))
    assert f"Revision {first['revision']}," in shown and "size INT 3" in shown
    assert "size INT 4" in text(html_page(api, "/ui/flows/ui.flows/revised"))
    assert "has no revision 99" in html_page(api, "/ui/flows/ui.flows/revised?revision=99", 404)


# -- the Execute form ----------------------------------------------------------------------------


def test_the_form_has_a_widget_per_input_type_with_defaults(api: httpx.Client) -> None:
    deploy(api, FORM)
    page = Page(html_page(api, "/ui/flows/ui.flows/form/execute"))
    form = page.one("form", class_="execute-form")
    assert form.attrs["enctype"] == "multipart/form-data" and "novalidate" in form.attrs

    def field(name: str) -> Element:
        found = [e for e in page.elements if e.attrs.get("name") == name]
        assert len(found) == 1, name
        return found[0]

    name = field("name")
    assert (name.tag, name.attrs["type"], "required" in name.attrs) == ("input", "text", True)
    count = field("count")
    assert (
        count.attrs.items()
        >= {
            "type": "number",
            "value": "3",
            "min": "1",
            "max": "10",
            "step": "1",
        }.items()
    )
    assert field("ratio").attrs["step"] == "any" and "required" not in field("ratio").attrs
    flag = field("flag")
    assert flag.tag == "select"
    assert next(o.attrs["value"] for o in page.find("option") if "selected" in o.attrs) == "true"
    # A DATETIME shows its default in UTC, as datetime-local takes it.
    assert (
        field("when").attrs.items()
        >= {"type": "datetime-local", "value": "2024-01-31T10:00:00"}.items()
    )
    assert field("day").attrs.items() >= {"type": "date", "min": "2024-01-01"}.items()
    assert field("at").attrs["type"] == "time"
    assert field("wait").attrs.items() >= {"type": "text", "value": "PT5M"}.items()
    assert field("color").tag == "select" and "multiple" in field("tags").attrs
    assert field("config").tag == "textarea" and '{"a": [1, 2]}' in field("config").text
    assert field("doc").tag == "textarea" and field("numbers").tag == "textarea"
    assert field("data").attrs["type"] == "file"
    assert field("link").attrs["type"] == "url"
    assert field("token").attrs["type"] == "password"
    # Descriptions and hints are help text, tied to their field.
    help_id = name.attrs["aria-describedby"].split()[0]
    assert "Who to greet" in page.one("div", id=help_id).text


def executions_of(api: httpx.Client, flow_id: str) -> int:
    found = api.get("/api/v1/executions", params={"namespace": "ui.flows", "flowId": flow_id})
    return int(found.json()["total"])


def test_invalid_values_come_back_next_to_their_fields(api: httpx.Client) -> None:
    deploy(api, FORM)
    before = executions_of(api, "form")
    response = api.post(
        "/ui/flows/ui.flows/form/execute",
        files={
            "count": (None, "99"),
            "day": (None, "2023-05-05"),
            "ratio": (None, "abc"),
            "tags": (None, "a"),
        },
    )
    assert response.status_code == 422, response.text[:500]
    page = Page(response.text)
    errors = {}
    for block in page.find("div"):
        if "field-invalid" in block.attrs.get("class", ""):
            errors[block.attrs["data-input"]] = block.text
    assert set(errors) == {"name", "count", "day", "ratio"}
    assert "is required" in errors["name"]
    assert "expected INT <= 10, got 99" in errors["count"]
    assert "on or after 2024-01-01" in errors["day"]
    assert "expected FLOAT" in errors["ratio"]
    # The values typed are kept; the message is tied to its field for screen readers.
    count = page.one("input", name="count")
    assert count.attrs["value"] == "99" and count.attrs["aria-invalid"] == "true"
    assert page.one("p", id=count.attrs["aria-describedby"].split()[-1]).text.startswith(
        "input 'count'"
    )
    assert [o.attrs["value"] for o in page.find("option") if "selected" in o.attrs][-1] == "a"
    assert executions_of(api, "form") == before, "a refused form starts nothing"


def test_a_bad_label_is_shown_on_the_labels_field(api: httpx.Client) -> None:
    deploy(api, FORM)
    response = api.post(
        "/ui/flows/ui.flows/form/execute",
        files={"name": (None, "bob"), "_labels": (None, "team:x\nsystem.flow:y")},
    )
    assert response.status_code == 422
    error = Page(response.text).one("p", id="exec-labels-error")
    assert "system label" in error.text


def test_a_valid_form_starts_the_execution_and_redirects_to_it(api: httpx.Client) -> None:
    deploy(api, FORM)
    response = api.post(
        "/ui/flows/ui.flows/form/execute",
        files=[
            ("name", (None, "bob")),
            ("count", (None, "4")),
            ("when", (None, "2024-02-01T10:30")),
            ("tags", (None, "a")),
            ("tags", (None, "c")),  # a multi-select repeats its name
            ("numbers", (None, "[1, 2]")),
            ("ratio", (None, "")),  # an empty field is no value
            ("data", ("rows.csv", b"a,b\n1,2\n")),
            ("_labels", (None, "team:ui\n\n")),
        ],
    )
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    match = re.fullmatch(r"/ui/executions/ui\.flows/form/(\w+)", location)
    assert match, location
    execution = api.get(f"/api/v1/executions/{match[1]}").json()
    inputs = execution["inputs"]
    assert inputs["name"] == "bob" and inputs["count"] == 4 and inputs["ratio"] is None
    assert inputs["when"] == "2024-02-01T10:30:00Z"
    assert inputs["tags"] == ["a", "c"] and inputs["numbers"] == [1, 2]
    assert inputs["flag"] is True and inputs["config"] == {"a": [1, 2]}
    assert {"key": "team", "value": "ui"} in execution["labels"]
    stored = api.get(f"/api/v1/executions/{match[1]}/file", params={"path": inputs["data"]})
    assert stored.status_code == 200 and stored.content == b"a,b\n1,2\n"


def test_a_disabled_flow_is_refused_with_its_reason(api: httpx.Client) -> None:
    deploy(
        api,
        "id: off\nnamespace: ui.flows\ndisabled: true\ntasks:\n  - id: a\n"
        "    type: plait.core.Log\n    message: hi\n",
    )
    response = api.post("/ui/flows/ui.flows/off/execute", files={"x": (None, "")})
    assert response.status_code == 409
    assert "disabled" in Page(response.text).one("div", id="form-errors").text


def test_a_form_posted_from_another_site_is_refused(api: httpx.Client) -> None:
    deploy(api, FORM)
    response = api.post(
        "/ui/flows/ui.flows/form/execute",
        files={"name": (None, "bob")},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert response.status_code == 403


# -- plugin docs ---------------------------------------------------------------------------------


def test_plugins_index_groups_types_filters_and_functions_by_plugin(api: httpx.Client) -> None:
    html = html_page(api, "/ui/plugins")
    page = Page(html)
    flow_tasks = page.one("section", id="plugin-builtin.flow_tasks")
    assert "plait.core.flow.Parallel" in flow_tasks.text
    assert "io.kestra.plugin.core.flow.Parallel" in flow_tasks.text  # its alias
    assert page.find("a", href="/ui/plugins/plait.core.flow.Parallel")
    assert page.find("a", href="/ui/plugins/expressions#filter-jq")
    # The type pages link to the keys every task accepts: the anchor is on this page.
    assert page.find("h2", id="keys-every-task-accepts")
    assert page.find("h2", id="keys-every-trigger-accepts")


def test_a_type_page_is_the_reference_page(api: httpx.Client) -> None:
    page = Page(html_page(api, "/ui/plugins/io.kestra.plugin.core.trigger.Schedule"))
    assert "cron" in page.one("article", class_="reference").text
    task = html_page(api, "/ui/plugins/plait.core.Return")
    flat = text(task)
    assert "Properties" in flat and "Outputs" in flat and "format" in flat
    assert 'href="/ui/plugins#keys-every-task-accepts"' in task
    missing = html_page(api, "/ui/plugins/no.such.Type", status=404)
    assert "no.such.Type" in missing


def test_the_expressions_page_anchors_every_filter(api: httpx.Client) -> None:
    html = html_page(api, "/ui/plugins/expressions")
    assert 'id="filter-jq"' in html and 'id="function-render"' in html


def test_a_deleted_flow_keeps_its_revisions_marked_deleted(api: httpx.Client) -> None:
    source = NESTED.replace("id: nested", "id: gone")
    deploy(api, source)
    assert api.delete("/api/v1/flows/ui.flows/gone").status_code == 204
    assert "was deleted" in html_page(api, "/ui/flows/ui.flows/gone", status=404)
    page = Page(html_page(api, "/ui/flows/ui.flows/gone/revisions"))
    assert [e.text for e in page.find("span", class_="badge badge-off")] == ["deleted"]
    assert [r["deleted"] for r in api.get("/api/v1/flows/ui.flows/gone/revisions").json()] == [True]
    revived = deploy(api, source)  # saving it again starts a revision that is not deleted
    page = Page(html_page(api, "/ui/flows/ui.flows/gone/revisions"))
    marks = [e.text for e in page.find("span") if "badge" in e.attrs.get("class", "")]
    assert marks == ["latest", "deleted"] and revived["deleted"] is False
