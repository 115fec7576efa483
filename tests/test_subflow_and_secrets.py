"""Subflows found by namespace and id; secrets masked wherever logs or outputs would show them."""

from __future__ import annotations

import base64

CHILD = """\
id: child
namespace: dev.kids
inputs:
  - id: name
    type: STRING
tasks:
  - id: greet
    type: plait.core.Return
    format: "hi {{ inputs.name }}"
outputs:
  - id: greeting
    type: STRING
    value: "{{ outputs.greet.value }}"
"""

PARENT = """\
id: parent
namespace: dev
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dev.kids
    flowId: child
    inputs:
      name: plait
  - id: use
    type: plait.core.Return
    format: "{{ outputs.call.outputs.greeting }}!"
"""


def test_subflow_outputs_flow_to_the_parent(cli, write_flow):
    deployed = cli("flows", "deploy", str(write_flow(CHILD, "child.yml")))
    assert deployed.code == 0, deployed.stderr
    done = cli("run", str(write_flow(PARENT, "parent.yml")), "--json")
    assert done.code == 0, done.stderr
    runs = {r["taskId"]: r for r in done.json()["taskRunList"]}
    assert runs["use"]["outputs"] == {"value": "hi plait!"}
    child_id = runs["call"]["outputs"]["executionId"]
    assert runs["call"]["outputs"]["state"] == "SUCCESS"
    child = cli("executions", "show", child_id, "--json").json()
    assert child["flowId"] == "child"
    assert child["parentId"] == done.json()["id"]


def test_failed_subflow_fails_the_parent(cli, write_flow):
    cli("flows", "deploy", str(write_flow(CHILD, "child.yml")))
    parent = PARENT.replace("    inputs:\n      name: plait\n", "")
    done = cli("run", str(write_flow(parent, "parent.yml")), "--json")
    assert done.code == 1
    call = done.json()["taskRunList"][0]
    assert call["state"]["current"] == "FAILED"
    assert "name" in call["error"]


def test_unknown_subflow_fails_with_a_clear_message(cli, write_flow):
    done = cli("run", str(write_flow(PARENT, "parent.yml")), "--json")
    assert done.code == 1
    error = done.json()["taskRunList"][0]["error"]
    assert "dev.kids" in error and "plait flows deploy" in error


SECRETS = """\
id: secrets
namespace: dev
inputs:
  - id: password
    type: SECRET
tasks:
  - id: leak-input
    type: plait.core.Log
    message: "password is {{ inputs.password }}"
  - id: leak-secret
    type: plait.core.Return
    format: "token={{ secret('API_TOKEN') }}"
"""


def test_secrets_are_masked_in_logs_outputs_and_documents(cli, write_flow):
    env = {"SECRET_API_TOKEN": base64.b64encode(b"tok-123456").decode()}
    done = cli("run", str(write_flow(SECRETS)), "-i", "password=hunter2-xyz", "--json", env=env)
    assert done.code == 0, done.stderr
    for text in (done.stdout, done.stderr):
        assert "hunter2-xyz" not in text
        assert "tok-123456" not in text
    doc = done.json()
    assert doc["taskRunList"][1]["outputs"] == {"value": "token=********"}
    logs = cli("logs", doc["id"], env=env)
    assert "password is ********" in logs.stdout
    assert "hunter2-xyz" not in logs.stdout


def test_unknown_secret_fails_the_task(cli, write_flow):
    done = cli("run", str(write_flow(SECRETS)), "-i", "password=x", "--json")
    assert done.code == 1
    assert "API_TOKEN" in done.json()["taskRunList"][1]["error"]
