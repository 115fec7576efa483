"""The UI's Outputs tab over real executions (an engine on a private home, the app served
in-process): the tree groups loop runs by iteration value, values show by type, stored files
preview as tables / JSON / Markdown (sanitised) and download through the API, a file outside
the execution is refused, and the Render expression box answers as the chosen task run sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from plait.api import Engine
from plait.server.app import build_app
from plait.server.runtime import ServerRuntime
from plait.server.ui.output_tree import build_tree, output_expression, readable_value
from plait.state.model import Execution
from starlette.testclient import TestClient

LOOPS = """\
id: loops
namespace: ui.outputs
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", {"k": 1, "name": "x"}]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: [1, 2]
        tasks:
          - id: child
            type: plait.core.Return
            format: "{{ taskrun.value }}!"
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: deep
            type: plait.core.Return
            format: "{{ parent.taskrun.value }}"
  - id: after
    type: plait.core.Return
    format: done
outputs:
  - id: result
    type: STRING
    value: "{{ outputs.after.value }}"
"""

FILES = """\
id: files
namespace: ui.outputs
tasks:
  - id: make
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      notes.md: |
        # Notes
        <script>alert(1)</script>
        Some *emphasis* and [a link](javascript:alert(1)).
      data.ion: |
        {name:"a",n:1}
        {name:"b",extra:true}
      doc.json: '{"k": [1, 2], "name": "x"}'
    sql: |
      COPY (SELECT i AS n, 'name ' || i AS label FROM range(1, 251) t(i))
        TO 'rows.parquet' (FORMAT parquet);
      COPY (SELECT i AS n, 'name ' || i AS label FROM range(1, 251) t(i)) TO 'rows.csv' (HEADER);
      SELECT 42 AS answer, 'x' AS name;
    outputFiles: ["*.md", "*.ion", "*.json", "*.parquet", "*.csv"]
    store: true
  - id: one
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: >
      SELECT 42 AS answer, 2.5::DOUBLE AS ratio, 'plain' AS name, NULL AS nothing, true AS yes,
      [1, 2, 3] AS list, repeat('x', 400) AS long_text
    fetchType: FETCH_ONE
"""

REFS = """\
id: refs
namespace: ui.outputs
tasks:
  - id: gone
    type: plait.core.Return
    format: "plait:///ui/outputs/refs/executions/{{ execution.id }}/tasks/gone/x/purged.csv"
  - id: foreign
    type: plait.core.Return
    format: "plait:///ui/outputs/files/executions/SomeOtherExecution/tasks/t/r/data.csv"
"""


@dataclass
class Scene:
    client: TestClient
    engine: Engine
    loops: Execution
    files: Execution
    other_files: Execution
    refs: Execution

    def url(self, execution: Execution) -> str:
        return f"/ui/executions/{execution.namespace}/{execution.flow_id}/{execution.id}/outputs"

    def run_id(self, execution: Execution, task_id: str, *values: str) -> str:
        """The run of ``task_id`` whose chain has loop ``values`` (outermost first)."""
        runs = {run.id: run for run in execution.task_runs}
        for run in execution.task_runs:
            chain, node = [], run
            while node is not None:
                if node.value is not None:
                    chain.append(node.value)
                node = runs.get(node.parent_id) if node.parent_id else None
            if run.task_id == task_id and list(reversed(chain)) == list(values):
                return run.id
        raise AssertionError(f"no run of {task_id} for {values}")

    def outputs(self, execution: Execution, task_id: str) -> dict[str, Any]:
        run = execution.task_run(task_id)
        assert run is not None and run.outputs is not None
        return run.outputs


def _run(engine: Engine, source: str) -> Execution:
    flow = engine.load(source)
    engine.repository.save_flow(flow.namespace, flow.id, source)
    execution = engine.run(flow)
    assert str(execution.state) == "SUCCESS", execution.task_runs
    return execution


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    home: Path = tmp_path_factory.mktemp("ui-outputs") / "home"
    engine = Engine.create(home=home)
    runtime = ServerRuntime(engine)
    try:
        loops, files, other = _run(engine, LOOPS), _run(engine, FILES), _run(engine, FILES)
        refs = _run(engine, REFS)
        with TestClient(build_app(runtime)) as client:
            yield Scene(client, engine, loops, files, other, refs)
    finally:
        runtime.close()
        engine.close()


def text_of(html: str) -> str:
    """The page's text, tags dropped and spaces collapsed (what a reader sees)."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<section id="{element_id}".*?</section>', html, re.S)
    assert match, f"no #{element_id} in the page"
    return match[0]


# -- the tree ------------------------------------------------------------------------------


def test_tree_groups_loop_runs_by_iteration_value_and_nests_loops(scene: Scene) -> None:
    tree = build_tree(scene.loops, {})
    assert [task.task_id for task in tree] == ["each", "after"]
    (each,) = tree[0].runs
    assert [(i.number, i.label) for i in each.iterations] == [
        (1, "a"),
        (2, "b"),
        (3, "k: 1, name: x"),
    ]
    inner = each.iterations[2].tasks[0]
    assert inner.task_id == "inner"
    (inner_run,) = inner.runs
    assert [i.value for i in inner_run.iterations] == ["1", "2"]
    child = inner_run.iterations[1].tasks[0].runs[0]
    assert child.keys == ['{"k":1,"name":"x"}', "2"]
    assert child.run.outputs == {"value": "2!"}
    deep = each.iterations[0].tasks[1].runs[0].tasks[0].runs[0]
    assert (deep.run.task_id, deep.keys) == ("deep", ["a"])


def test_page_shows_iterations_readably_and_the_flow_outputs(scene: Scene) -> None:
    response = scene.client.get(scene.url(scene.loops))
    assert response.status_code == 200
    html = response.text
    labels = re.findall(r'<span class="iteration-value"[^>]*>([^<]*)</span>', html)
    assert labels[:3] == ["a", "1", "2"]  # each #1 a, then inner's iterations inside it
    assert "k: 1, name: x" in labels
    assert not any("{" in label for label in labels)  # never the raw JSON key
    assert "ForEach" in html
    assert text_of(section_between(html, "outputs-detail")).startswith("Flow outputs")
    assert 'id="out-result"' in html
    assert "done" in text_of(section_between(html, "outputs-detail"))


def section_between(html: str, css_class: str) -> str:
    match = re.search(rf'<section class="{css_class}".*?</section>\s*</div>', html, re.S)
    assert match, f"no .{css_class}"
    return match[0]


def test_selecting_a_loop_run_is_a_deep_link_with_its_place_and_outputs(scene: Scene) -> None:
    run_id = scene.run_id(scene.loops, "child", "b", "2")
    html = scene.client.get(scene.url(scene.loops), params={"taskrun": run_id}).text
    assert f'?taskrun={run_id}" aria-current="true"' in html
    detail = text_of(section_between(html, "outputs-detail"))
    step = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "
    assert detail.startswith(f"each{step}inner b{step}child 2")
    assert "b!" not in detail and "2!" in detail
    assert "{{ outputs.child['b']['2'].value }}" in detail
    # the box starts with an expression that reads this run's output, and it works
    assert "{{ outputs.child[&#39;b&#39;][&#39;2&#39;].value }}</textarea>" in html


def test_unknown_task_run_and_execution_are_html_404_pages(scene: Scene) -> None:
    missing = scene.client.get(scene.url(scene.loops), params={"taskrun": "nope"})
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert "has no task run &#39;nope&#39;" in missing.text
    gone = scene.client.get("/ui/executions/ui.outputs/loops/NoSuchExecution/outputs")
    assert gone.status_code == 404 and "text/html" in gone.headers["content-type"]


# -- values --------------------------------------------------------------------------------


def test_values_are_rendered_by_type(scene: Scene) -> None:
    run_id = scene.files.task_run("one").id  # type: ignore[union-attr]
    html = scene.client.get(scene.url(scene.files), params={"taskrun": run_id}).text
    row = re.search(r'<tr id="out-row">.*?</tr>\s*</tbody>\s*</table>\s*</td>', html, re.S)
    assert row, html
    cells = dict(re.findall(r'<tr><th scope="row">(\w+)</th><td>(.*?)</td></tr>', row[0], re.S))
    assert cells["answer"] == '<span class="v-number">42</span>'
    assert cells["ratio"] == '<span class="v-number">2.5</span>'
    assert cells["name"] == '<span class="v-string">plain</span>'
    assert cells["nothing"] == '<em class="v-null">null</em>'
    assert cells["yes"] == '<span class="v-boolean">true</span>'
    assert cells["list"].startswith('<ol class="v-list" start="0"><li><span class="v-number">1')
    assert cells["long_text"].startswith('<details class="v-long"><summary>' + "x" * 120)
    assert "(400 characters)" in cells["long_text"]


def test_files_are_links_with_preview_and_download(scene: Scene) -> None:
    make = scene.files.task_run("make")
    assert make is not None and make.outputs is not None
    html = scene.client.get(scene.url(scene.files), params={"taskrun": make.id}).text
    uri = make.outputs["outputFiles"]["rows.csv"]
    preview = f"{scene.url(scene.files)}?taskrun={make.id}&amp;file={quote(uri)}"
    assert f'href="{preview}"' in html
    download = f"/api/v1/executions/{scene.files.id}/file?path={quote(uri)}"
    assert f'href="{download}"' in html
    served = scene.client.get(download.replace("&amp;", "&"))
    assert served.status_code == 200
    assert served.content == scene.engine.storage.open(uri).read()


def test_a_file_gone_from_the_storage_or_of_another_execution_has_no_preview(
    scene: Scene,
) -> None:
    for task_id, said in [("gone", "no longer in the storage"), ("foreign", "another execution")]:
        run = scene.refs.task_run(task_id)
        assert run is not None
        html = scene.client.get(scene.url(scene.refs), params={"taskrun": run.id}).text
        value = section_between(html, "outputs-detail").split('id="out-value"', 1)[1]
        value = value.split("</tr>", 1)[0]
        assert said in value
        assert "Preview" not in value and "Download" not in value


def quote(uri: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(uri)


# -- previews ------------------------------------------------------------------------------


def preview_of(scene: Scene, name: str, **params: Any) -> str:
    uri = scene.outputs(scene.files, "make")["outputFiles"][name]
    response = scene.client.get(scene.url(scene.files), params={"file": uri, **params})
    assert response.status_code == 200, response.text
    return section(response.text, "file-preview")


def table_of(html: str) -> tuple[list[str], list[list[str]]]:
    head = re.findall(r'<th scope="col">([^<]*)</th>', html)
    rows = re.findall(r"<tr><td class=\"muted\">\d+</td>(.*?)</tr>", html, re.S)
    return head, [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in rows]


def test_csv_and_parquet_preview_as_tables_with_a_row_limit(scene: Scene) -> None:
    for name in ("rows.csv", "rows.parquet"):
        html = preview_of(scene, name)
        head, rows = table_of(html)
        assert head == ["n", "label"]
        assert len(rows) == 100 and rows[0] == ["1", "name 1"] and rows[99] == ["100", "name 100"]
        assert "more follow" in html
        assert "Show up to 1,000 rows" in html
        more = preview_of(scene, name, rows="1000")
        assert len(table_of(more)[1]) == 250 and "more follow" not in more
    assert 'class="v-number">7<' in preview_of(scene, "rows.parquet")  # typed cells


def test_ion_preview_is_a_table_with_every_rows_keys(scene: Scene) -> None:
    head, rows = table_of(preview_of(scene, "data.ion"))
    assert head == ["name", "n", "extra"]  # "extra" only in the second row still a column
    assert rows == [["a", "1", ""], ["b", "", "true"]]


def test_json_preview_is_pretty_printed(scene: Scene) -> None:
    html = preview_of(scene, "doc.json")
    assert '<pre class="preview-text">{\n  &#34;k&#34;: [\n    1,\n    2\n  ],' in html


def test_markdown_preview_is_rendered_without_the_files_html(scene: Scene) -> None:
    html = preview_of(scene, "notes.md")
    assert '<h1 id="notes">Notes</h1>' in html
    assert "<em>emphasis</em>" in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html


def test_preview_of_a_file_outside_the_execution_is_refused(scene: Scene) -> None:
    other_uri = scene.outputs(scene.other_files, "make")["outputFiles"]["rows.csv"]
    own_uri = scene.outputs(scene.files, "make")["outputFiles"]["rows.csv"]
    prefix = own_uri.rsplit("/executions/", 1)[0]
    escapes = [
        other_uri,  # another execution's file
        own_uri.replace(f"/{scene.files.id}/", f"/{scene.files.id}/../{scene.other_files.id}/"),
        f"{prefix}/executions/{scene.files.id}/%2e%2e/{scene.other_files.id}/x.csv",
        "file:///etc/passwd",
    ]
    for uri in escapes:
        response = scene.client.get(scene.url(scene.files), params={"file": uri})
        assert response.status_code == 400, uri
        found = section(response.text, "file-preview")
        assert 'class="error"' in found and "invalid path" in found
        assert "name 1" not in found and "<table" not in found
    missing = scene.client.get(scene.url(scene.files), params={"file": own_uri + ".gone"})
    assert missing.status_code == 404 and "does not exist" in missing.text


def test_preview_answers_htmx_with_its_fragment(scene: Scene) -> None:
    uri = scene.outputs(scene.files, "make")["outputFiles"]["rows.csv"]
    headers = {"HX-Request": "true", "HX-Target": "file-preview"}
    response = scene.client.get(scene.url(scene.files), params={"file": uri}, headers=headers)
    assert response.status_code == 200
    assert "<html" not in response.text and "<nav" not in response.text
    assert 'id="expression-file"' in response.text and 'hx-swap-oob="true"' in response.text
    assert table_of(response.text)[0] == ["n", "label"]


# -- the Render expression box -----------------------------------------------------------


def render(scene: Scene, execution: Execution, expression: str, **params: str) -> str:
    headers = {"HX-Request": "true", "HX-Target": "expression-result"}
    response = scene.client.get(
        scene.url(execution), params={"expression": expression, **params}, headers=headers
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    return response.text


def test_expression_inside_a_loop_iteration_sees_that_iteration(scene: Scene) -> None:
    child = scene.run_id(scene.loops, "child", "b", "2")
    result = render(
        scene, scene.loops, "{{ taskrun.value }}/{{ parent.taskrun.value }}", taskrun=child
    )
    assert '<span class="v-string">2/b</span>' in result
    deep = scene.run_id(scene.loops, "deep", "a")
    result = render(scene, scene.loops, "outputs.deep[parent.taskrun.value].value", taskrun=deep)
    assert '<span class="v-string">a</span>' in result


def test_expression_result_is_rendered_by_type(scene: Scene) -> None:
    one = scene.files.task_run("one")
    assert one is not None
    result = render(scene, scene.files, "{{ outputs.one.row }}", taskrun=one.id)
    assert "Result (map)" in result and '<th scope="row">answer</th>' in result
    number = render(scene, scene.files, "outputs.one.row.answer + 1")
    assert '<span class="v-number">43</span>' in number


def test_expression_error_points_at_the_fault(scene: Scene) -> None:
    result = render(scene, scene.loops, "{{ outputs.after.value | upperr }}")
    assert 'role="alert"' in result and "No filter named &#39;upperr&#39;" in result
    fault = re.search(
        r'<pre class="fault">(.*?)\n<span class="caret error">( *)(\^+)</span>', result
    )
    assert fault, result
    assert fault[1].index("upperr") == len(fault[2]) and len(fault[3]) == len("upperr")
    unknown = render(scene, scene.loops, "{{ outputs.aftr.value }}")
    assert "no task &#39;aftr&#39; in the flow" in unknown
    caret = re.search(r'<span class="caret error">( *)\^{4}</span>', unknown)
    assert caret and len(caret[1]) == "{{ outputs.aftr.value }}".index("aftr")


def test_expression_and_preview_state_is_in_a_pasteable_url(scene: Scene) -> None:
    make = scene.files.task_run("make")
    assert make is not None and make.outputs is not None
    uri = make.outputs["outputFiles"]["doc.json"]
    params = {"taskrun": make.id, "file": uri, "expression": "{{ task.id }}"}
    html = scene.client.get(scene.url(scene.files), params=params).text
    assert '<span class="v-string">make</span>' in section(html, "expression-result")
    assert "preview-text" in section(html, "file-preview")


def test_expression_path_quotes_ids_and_keys() -> None:
    assert output_expression("api", [], ["body"]) == "outputs.api.body"
    assert output_expression("task-id", ["it's"], ["x-y", 0]) == (
        "outputs['task-id']['it\\'s']['x-y'][0]"
    )
    assert readable_value('[1, {"a": null}]') == "[1, a: null]"
    assert readable_value("{not json") == "{not json"
