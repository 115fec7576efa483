"""FILE inputs are uploaded into the execution's storage; `read()` only reads this execution's
files."""

from __future__ import annotations

FLOW = """\
id: files
namespace: dev
inputs:
  - id: data
    type: FILE
tasks:
  - id: show
    type: plait.core.Return
    format: "{{ read(inputs.data) | upper }}"
"""


def test_file_input_is_stored_and_readable(cli, write_flow, tmp_path):
    local = tmp_path / "notes.txt"
    local.write_text("hello file")
    done = cli("run", str(write_flow(FLOW)), "-i", f"data={local}", "--json")
    assert done.code == 0, done.stderr
    doc = done.json()
    uri = doc["inputs"]["data"]
    assert uri.startswith(f"plait:///dev/files/executions/{doc['id']}/inputs/data/")
    assert doc["taskRunList"][0]["outputs"] == {"value": "HELLO FILE"}
    assert cli("storage", "get", uri).stdout == "hello file"


def test_read_refuses_another_executions_file(cli, write_flow, tmp_path):
    local = tmp_path / "notes.txt"
    local.write_text("secret stuff")
    first = cli("run", str(write_flow(FLOW)), "-i", f"data={local}", "--json").json()
    other = write_flow(
        "id: thief\nnamespace: dev\ninputs:\n  - id: target\n    type: STRING\ntasks:\n"
        '  - id: steal\n    type: plait.core.Return\n    format: "{{ read(inputs.target) }}"\n',
        "thief.yml",
    )
    done = cli("run", str(other), "-i", f"target={first['inputs']['data']}", "--json")
    assert done.code == 1
    run = done.json()["taskRunList"][0]
    assert run["state"]["current"] == "FAILED"
    assert "does not belong" in run["error"] or "execution" in run["error"]
    assert "secret stuff" not in done.stdout + done.stderr


def test_missing_file_input_path_is_refused_before_running(cli, write_flow, tmp_path):
    done = cli("run", str(write_flow(FLOW)), "-i", f"data={tmp_path / 'nope.txt'}")
    assert done.code == 2
    assert "data" in done.stderr


CHILD = """\
id: reader
namespace: dev.kids
inputs:
  - id: data
    type: FILE
tasks:
  - id: show
    type: plait.core.Return
    format: "{{ read(inputs.data) }}"
outputs:
  - id: text
    type: STRING
    value: "{{ outputs.show.value }}"
"""

PARENT = """\
id: parent
namespace: dev
inputs:
  - id: data
    type: FILE
tasks:
  - id: child
    type: plait.core.Subflow
    namespace: dev.kids
    flowId: reader
    inputs:
      data: "{{ inputs.data }}"
"""


def test_a_parents_file_reaches_the_subflow(cli, write_flow, tmp_path):
    local = tmp_path / "notes.txt"
    local.write_text("shared with the child")
    assert cli("flows", "deploy", str(write_flow(CHILD, "child.yml"))).code == 0
    done = cli("run", str(write_flow(PARENT, "parent.yml")), "-i", f"data={local}", "--json")
    assert done.code == 0, done.stderr
    outputs = done.json()["taskRunList"][0]["outputs"]
    assert outputs["outputs"] == {"text": "shared with the child"}
    child = cli("executions", "show", outputs["executionId"], "--json").json()
    assert child["inputs"]["data"].startswith(
        f"plait:///dev/kids/reader/executions/{outputs['executionId']}/inputs/data/"
    )


def test_a_uri_of_another_execution_is_refused_as_a_file_input(cli, write_flow, tmp_path):
    local = tmp_path / "notes.txt"
    local.write_text("x")
    first = cli("run", str(write_flow(FLOW)), "-i", f"data={local}", "--json").json()
    done = cli("run", str(write_flow(FLOW, "again.yml")), "-i", f"data={first['inputs']['data']}")
    assert done.code == 2
    assert "belongs to another execution" in done.stderr
