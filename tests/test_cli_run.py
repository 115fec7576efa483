"""`plait run` end to end in a subprocess: exit codes, JSON document, outputs, failures."""

from __future__ import annotations

CHAIN = """\
id: chain
namespace: dev.tests
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: first
    type: plait.core.Return
    format: "hello {{ inputs.who }}"
  - id: second-step
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.first.value | upper }}"
  - id: log
    type: plait.core.Log
    message: "got {{ outputs['second-step'].value }}"
outputs:
  - id: shout
    type: STRING
    value: "{{ outputs['second-step'].value }}"
"""


def test_run_json_document(cli, write_flow):
    flow = write_flow(CHAIN)
    done = cli("run", str(flow), "-i", "who=plait", "--json")
    assert done.code == 0, done.stderr
    doc = done.json()
    assert doc["state"]["current"] == "SUCCESS"
    assert doc["namespace"] == "dev.tests"
    assert doc["flowId"] == "chain"
    assert doc["inputs"] == {"who": "plait"}
    assert doc["outputs"] == {"shout": "HELLO PLAIT"}
    runs = {r["taskId"]: r for r in doc["taskRunList"]}
    assert runs["first"]["outputs"] == {"value": "hello plait"}
    assert runs["second-step"]["outputs"] == {"value": "HELLO PLAIT"}
    assert all(r["state"]["current"] == "SUCCESS" for r in doc["taskRunList"])
    assert "got HELLO PLAIT" in done.stderr  # logs go to stderr, the document alone to stdout


def test_run_without_json_prints_a_summary(cli, write_flow):
    done = cli("run", str(write_flow(CHAIN)))
    assert done.code == 0, done.stderr
    assert "SUCCESS" in done.stdout
    assert "plait outputs" in done.stdout


FAILING = """\
id: failing
namespace: dev
tasks:
  - id: ok
    type: plait.core.Return
    format: fine
  - id: broken
    type: plait.core.Return
    format: "{{ inputs.missing }}"
  - id: never
    type: plait.core.Log
    message: should not run
"""


def test_failure_stops_later_tasks_and_exits_1(cli, write_flow):
    done = cli("run", str(write_flow(FAILING)), "--json")
    assert done.code == 1
    doc = done.json()
    assert doc["state"]["current"] == "FAILED"
    states = {r["taskId"]: r["state"]["current"] for r in doc["taskRunList"]}
    assert states == {"ok": "SUCCESS", "broken": "FAILED"}
    broken = next(r for r in doc["taskRunList"] if r["taskId"] == "broken")
    assert "Unable to find `missing`" in broken["error"]
    assert "{{ inputs.missing }}" in broken["error"]
    assert "Traceback" not in done.stderr


def test_allow_failure_continues_and_ends_in_warning(cli, write_flow):
    flow = FAILING.replace(
        '    format: "{{ inputs.missing }}"',
        '    format: "{{ inputs.missing }}"\n    allowFailure: true',
    )
    done = cli("run", str(write_flow(flow)), "--json")
    assert done.code == 0, done.stderr
    doc = done.json()
    assert doc["state"]["current"] == "WARNING"
    assert [r["taskId"] for r in doc["taskRunList"]] == ["ok", "broken", "never"]


def test_invalid_flow_exits_2_and_runs_nothing(cli, write_flow):
    flow = write_flow(
        "id: bad\nnamespace: dev\ntasks:\n  - id: a\n    type: plait.core.Retrun\n    format: x\n"
    )
    done = cli("run", str(flow))
    assert done.code == 2
    assert f"{flow}:5:" in done.stderr
    assert "plait.core.Return" in done.stderr  # the close match is suggested
    listed = cli("executions", "list", "--json")
    assert listed.json() == []


def test_bad_input_exits_2_naming_the_input(cli, write_flow):
    flow = write_flow(
        "id: typed\nnamespace: dev\ninputs:\n  - id: count\n    type: INT\ntasks:\n"
        '  - id: a\n    type: plait.core.Return\n    format: "{{ inputs.count }}"\n'
    )
    done = cli("run", str(flow), "-i", "count=abc")
    assert done.code == 2
    assert "count" in done.stderr and "INT" in done.stderr
    assert "Traceback" not in done.stderr
    missing = cli("run", str(flow))
    assert missing.code == 2
    assert "count" in missing.stderr


def test_malformed_input_pair_is_refused(cli, write_flow):
    done = cli("run", str(write_flow(CHAIN)), "-i", "novalue")
    assert done.code == 2
    assert "NAME=VALUE" in done.stderr


def test_validate_reports_every_problem_of_every_file(cli, write_flow):
    good = write_flow(CHAIN, "good.yml")
    bad = write_flow(
        "id: bad\nnamespace: dev\ntasks:\n  - id: a\n    type: plait.core.Return\n"
        "    formt: x\n  - id: a\n    type: plait.core.Log\n    message: hi\n",
        "bad.yml",
    )
    done = cli("validate", str(good), str(bad))
    assert done.code == 2
    assert f"{good}: valid" in done.stdout
    assert f"{bad}:6:" in done.stderr  # unknown property 'formt'
    assert "format" in done.stderr  # ... with the close match
    assert f"{bad}:7:" in done.stderr  # duplicate task id


def test_static_check_catches_unknown_output_before_running(cli, write_flow):
    flow = write_flow(
        "id: refs\nnamespace: dev\ntasks:\n  - id: a\n    type: plait.core.Return\n"
        "    format: x\n  - id: b\n    type: plait.core.Log\n"
        '    message: "{{ outputs.a.vaule }}"\n'
    )
    done = cli("run", str(flow))
    assert done.code == 2
    assert f"{flow}:9:" in done.stderr
    assert "value" in done.stderr  # did you mean
