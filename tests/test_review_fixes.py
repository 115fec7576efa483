"""User mistakes found in review: each gets a clear message (no traceback) or a typed value."""

from __future__ import annotations

import base64
import json

TYPED = """\
id: typed
namespace: dev
tasks:
  - id: r
    type: plait.core.Return
    format: "{{ inputs.n }}"
inputs:
  - id: n
    type: STRING
outputs:
  - id: number
    type: INT
    value: "{{ outputs.r.value }}"
  - id: doc
    type: JSON
    value: '{"a": [1, 2]}'
"""


def test_flow_outputs_take_their_declared_type(cli, write_flow):
    flow = write_flow(TYPED)
    done = cli("run", str(flow), "-i", "n=8", "--json")
    assert done.code == 0, done.stderr
    assert done.json()["outputs"] == {"number": 8, "doc": {"a": [1, 2]}}
    summary = cli("run", str(flow), "-i", "n=8").stdout
    assert 'doc: {"a": [1, 2]}' in summary
    bad = cli("run", str(flow), "-i", "n=abc", "--json")
    assert bad.code == 1
    assert bad.json()["state"]["current"] == "FAILED"
    logs = cli("logs", bad.json()["id"]).stdout
    assert "flow output 'number'" in logs and "INT" in logs


def test_eval_masks_secrets_and_names_unknown_tasks(cli, write_flow):
    env = {"SECRET_API_TOKEN": base64.b64encode(b"s3cr3tvalue").decode()}
    flow = write_flow(
        "id: e\nnamespace: dev\ntasks:\n  - id: a\n    type: plait.core.Log\n    message: hi\n"
    )
    execution_id = cli("run", str(flow), "--json").json()["id"]
    done = cli("eval", execution_id, "{{ secret('API_TOKEN') }}", env=env)
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == "********"
    as_map = cli("eval", execution_id, "{{ {'t': secret('API_TOKEN')} }}", env=env)
    assert json.loads(as_map.stdout) == {"t": "********"}
    unknown = cli("eval", execution_id, "{{ task.id }}", "--task", "nope")
    assert unknown.code == 1
    assert "no task 'nope'" in unknown.stderr and "a" in unknown.stderr


def test_download_to_a_missing_folder_is_a_clear_error(cli, write_flow, tmp_path):
    notes = tmp_path / "n.txt"
    notes.write_text("x")
    flow = write_flow(
        "id: f\nnamespace: dev\ninputs:\n  - id: f\n    type: FILE\ntasks:\n"
        "  - id: a\n    type: plait.core.Log\n    message: hi\n"
    )
    uri = cli("run", str(flow), "-i", f"f={notes}", "--json").json()["inputs"]["f"]
    done = cli("storage", "get", uri, "-o", str(tmp_path / "missing" / "x.txt"))
    assert done.code == 1
    assert done.stderr.startswith("error: cannot write")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "missing").exists()


def test_unusable_home_is_a_clear_error(cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = cli("executions", "list", env={"PLAIT_HOME": str(blocker / "home")})
    assert done.code == 1
    assert "PLAIT_HOME" in done.stderr
    assert "Traceback" not in done.stderr


def test_preview_survives_files_that_are_not_what_their_name_says(cli, write_flow, tmp_path):
    flow = write_flow(
        "id: p\nnamespace: dev\ntasks:\n  - id: s\n    type: plait.python.Script\n"
        "    runner: PROCESS\n    script: |\n"
        "      open('{{ outputDir }}/ragged.csv', 'w').write('a,b\\n1,2,3,4\\n5\\n')\n"
        "      open('{{ outputDir }}/latin.jsonl', 'wb').write(b'caf\\xe9\\n')\n"
        "      open('{{ outputDir }}/broken.parquet', 'w').write('nope')\n"
    )
    done = cli("run", str(flow), "--json")
    assert done.code == 0, done.stderr
    files = done.json()["taskRunList"][0]["outputs"]["outputFiles"]
    ragged = cli("storage", "preview", files["ragged.csv"])
    assert ragged.code == 0, ragged.stderr
    assert ragged.stdout.splitlines()[2].split() == ["1", "2"]
    latin = cli("storage", "preview", files["latin.jsonl"])
    assert latin.code == 0 and "caf" in latin.stdout
    parquet = cli("storage", "preview", files["broken.parquet"])
    assert parquet.code == 1
    assert "Parquet" in parquet.stderr and "Traceback" not in parquet.stderr


def test_a_container_holding_an_expression_is_still_type_checked(cli, write_flow):
    flow = write_flow(
        "id: nt\nnamespace: dev\nvariables:\n  n: 1\ntasks:\n  - id: q\n"
        "    type: plait.duckdb.Query\n    sql: SELECT 1\n    parameters:\n"
        '      - "{{ vars.n }}"\n'
    )
    done = cli("validate", str(flow))
    assert done.code == 2
    assert f"{flow}:9:" in done.stderr or f"{flow}:10:" in done.stderr
    assert "parameters" in done.stderr
    ok = write_flow(
        "id: ok\nnamespace: dev\nvariables:\n  n: 1\ntasks:\n  - id: q\n"
        "    type: plait.duckdb.Query\n    sql: SELECT $n\n    parameters:\n"
        '      n: "{{ vars.n }}"\n',
        "ok.yml",
    )
    assert cli("validate", str(ok)).code == 0


def test_nested_unknown_keys_and_durations_read_the_same_before_and_during_a_run(cli, write_flow):
    written = write_flow(
        "id: w\nnamespace: dev\ntasks:\n  - id: s\n    type: plait.python.Script\n"
        "    script: print(1)\n    docker:\n      imag: python:slim\n"
        "  - id: r\n    type: plait.http.Request\n    uri: http://127.0.0.1:9/\n"
        "    options:\n      bogus: 1\n      connectTimeout: 5s\n"
    )
    done = cli("validate", str(written))
    assert done.code == 2
    assert (
        f"{written}:8:7: task 's': unknown property 'docker.imag' for task type "
        "plait.python.Script; did you mean 'image'? (properties of 'docker': " in done.stderr
    )
    assert (
        f"{written}:13:7: task 'r': unknown property 'options.bogus' for task type "
        "plait.http.Request (properties of 'options': timeout, connectTimeout," in done.stderr
    )
    assert (
        f"{written}:14:23: task 'r': property 'options.connectTimeout' of task type "
        "plait.http.Request: expected an ISO-8601 duration such as PT5S (got '5s')" in done.stderr
    )
    rendered = write_flow(
        "id: rendered\nnamespace: dev\nvariables:\n  opts:\n    connectTimeout: 5s\n"
        "    readTimout: PT1S\ntasks:\n  - id: r\n    type: plait.http.Request\n"
        '    uri: http://127.0.0.1:9/\n    options: "{{ vars.opts }}"\n',
        "rendered.yml",
    )
    assert cli("validate", str(rendered)).code == 0
    run = cli("run", str(rendered), "--json")
    assert run.code != 0
    error = run.json()["taskRunList"][0]["error"]
    assert (
        "property 'options.connectTimeout': expected an ISO-8601 duration such as PT5S "
        "(got '5s')" in error
    )
    assert (
        "unknown property 'options.readTimout'; did you mean 'readTimeout' or "
        "'readIdleTimeout'? (properties of 'options': timeout, connectTimeout," in error
    )
    assert "Traceback" not in run.stderr
