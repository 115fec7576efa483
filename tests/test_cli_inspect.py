"""After a run: executions, outputs, eval, logs, storage, as a flow author inspects them."""

from __future__ import annotations

import json

FLOW = """\
id: inspect-me
namespace: dev
tasks:
  - id: api
    type: plait.core.Return
    format: '{"products": [{"id": 1, "brand": "Acme", "price": 9.5}]}'
  - id: log
    type: plait.core.Log
    message: "first brand is {{ outputs.api.value | jq('.products[0].brand') | first }}"
"""


def _run(cli, write_flow):
    done = cli("run", str(write_flow(FLOW)), "--json")
    assert done.code == 0, done.stderr
    return done.json()["id"]


def test_eval_prints_the_value_alone(cli, write_flow):
    execution_id = _run(cli, write_flow)
    done = cli("eval", execution_id, "{{ outputs.api.value | jq('.products') | first }}")
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout) == [{"id": 1, "brand": "Acme", "price": 9.5}]
    bare = cli("eval", execution_id, "outputs.api.value | jq('.products[0].price') | first")
    assert bare.code == 0, bare.stderr
    assert bare.stdout.strip() == "9.5"


def test_eval_error_goes_to_stderr_with_exit_1(cli, write_flow):
    execution_id = _run(cli, write_flow)
    done = cli("eval", execution_id, "{{ outputs.nope.value }}")
    assert done.code == 1
    assert done.stdout == ""
    assert "Unable to find `nope`" in done.stderr


def test_eval_with_task_context(cli, write_flow):
    execution_id = _run(cli, write_flow)
    done = cli("eval", execution_id, "{{ task.id }}", "--task", "log")
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == "log"


def test_outputs_logs_executions(cli, write_flow):
    execution_id = _run(cli, write_flow)
    outputs = cli("outputs", execution_id, "--json")
    assert outputs.code == 0, outputs.stderr
    assert "products" in outputs.json()["tasks"]["api"]["value"]
    text = cli("outputs", execution_id)
    assert text.stdout.startswith("api:")
    logs = cli("logs", execution_id, "--task", "log")
    assert "first brand is Acme" in logs.stdout
    listed = cli("executions", "list", "--json")
    assert [e["id"] for e in listed.json()] == [execution_id]
    shown = cli("executions", "show", execution_id[:8])
    assert shown.code == 0, shown.stderr
    assert "SUCCESS" in shown.stdout
    missing = cli("executions", "show", "doesnotexist")
    assert missing.code == 1
    assert "doesnotexist" in missing.stderr
    assert "Traceback" not in missing.stderr
