"""``--server``: the CLI runs and inspects executions on a real ``plait server`` process, whose
``PLAIT_HOME`` differs from the CLI's own (which stays untouched)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.cli import run_plait
from support.server import Server, free_port, running_server
from support.wheels import Completed

SERVER_SETTINGS = ("PLAIT_SERVER", "PLAIT_SERVER_TOKEN", "PLAIT_SERVER_USER")
"""Left out of the inherited environment: only a test's own ``--server`` reaches a server."""

OK_FLOW = """\
id: remote-ok
namespace: dev
inputs:
  - id: f
    type: FILE
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: read
    type: plait.core.Return
    format: "{{ read(inputs.f) }}"
  - id: greet
    type: plait.core.Log
    message: "hello {{ inputs.who }}, the file says {{ outputs.read.value }}"
outputs:
  - id: text
    type: STRING
    value: "{{ outputs.read.value }}"
"""

FAILING_FLOW = """\
id: remote-fails
namespace: dev
tasks:
  - id: before
    type: plait.core.Return
    format: kept
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: it broke
"""

LOOP_FLOW = """\
id: remote-loop
namespace: dev
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b]
    tasks:
      - id: child
        type: plait.core.Return
        format: "{{ taskrun.value }}-done"
"""

INVALID_FLOW = """\
id: remote-invalid
namespace: dev
tasks:
  - id: nope
    type: plait.core.DoesNotExist
"""

TRIGGERED_FLOW = """\
id: remote-hooked
namespace: dev
tasks:
  - id: hi
    type: plait.core.Return
    format: hi
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: s3cr3tkey
"""

Cli = Callable[..., Completed]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("server") / "home") as started:
        yield started


@pytest.fixture
def local_home(tmp_path: Path) -> Path:
    return tmp_path / "local-home"


@pytest.fixture
def plait(tmp_path: Path, local_home: Path) -> Cli:
    """``plait ARGS`` in a subprocess with its own (local) PLAIT_HOME and no server settings."""

    def run(*args: str, env: dict[str, str] | None = None) -> Completed:
        done = run_plait(
            *args, home=local_home, cwd=tmp_path, env=env, unset=SERVER_SETTINGS, timeout=60
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_run_uploads_file_inputs_and_reads_back_over_http(
    server: Server, plait: Cli, tmp_path: Path, local_home: Path
) -> None:
    flow = write(tmp_path, "ok.yml", OK_FLOW)
    write(tmp_path, "data.txt", "HELLO FROM DISK")
    done = plait(
        "run", str(flow), "-i", "f=data.txt", "-i", "who=remote", "--json", "--server", server.url
    )
    assert done.code == 0, done.stderr
    doc = done.json()
    assert doc["state"]["current"] == "SUCCESS"
    assert [run["taskId"] for run in doc["taskRunList"]] == ["read", "greet"]
    assert doc["taskRunList"][0]["outputs"] == {"value": "HELLO FROM DISK"}
    assert doc["outputs"] == {"text": "HELLO FROM DISK"}
    assert "hello remote, the file says HELLO FROM DISK" in done.stderr  # logs, as they came
    execution_id = doc["id"]
    # The server has it; the CLI's own home was never used.
    assert server.client.get(f"/api/v1/executions/{execution_id}").status_code == 200
    assert not local_home.exists()

    env = {"PLAIT_SERVER": server.url}  # the environment variable works as --server does
    outputs = plait("outputs", execution_id, "--json", env=env)
    assert outputs.code == 0, outputs.stderr
    assert outputs.json() == {
        "tasks": {"read": {"value": "HELLO FROM DISK"}, "greet": {}},
        "flow": {"text": "HELLO FROM DISK"},
    }
    text = plait("outputs", execution_id, env=env)
    assert text.stdout.splitlines()[:2] == ["read:", "  value: HELLO FROM DISK"]

    logs = plait("logs", execution_id, "--task", "greet", env=env)
    assert logs.code == 0, logs.stderr
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00 INFO  \[greet\] hello remote, the file says "
        r"HELLO FROM DISK\n",
        logs.stdout,
    )

    listed = plait("executions", "list", "--flow", "remote-ok", "--json", env=env)
    assert execution_id in [e["id"] for e in listed.json()]
    table = plait("executions", "list", "--namespace", "dev", env=env)
    assert table.stdout.startswith("ID ") and execution_id in table.stdout
    shown = plait("executions", "show", execution_id[:10], env=env)
    assert shown.code == 0, shown.stderr
    assert shown.stdout.startswith("flow      dev.remote-ok (revision ")
    assert f"execution {execution_id}  dev.remote-ok  SUCCESS" in shown.stdout
    missing = plait("executions", "show", "doesnotexist", env=env)
    assert missing.code == 1
    assert "doesnotexist" in missing.stderr and "answered 404" in missing.stderr

    replayed = plait("executions", "replay", execution_id, "--json", env=env)
    assert replayed.code == 0, replayed.stderr
    assert replayed.json()["id"] != execution_id
    assert replayed.json()["originalId"] == execution_id
    assert replayed.json()["outputs"] == {"text": "HELLO FROM DISK"}
    assert not local_home.exists()


def test_failure_exit_code_and_restart_in_place(server: Server, plait: Cli, tmp_path: Path) -> None:
    flow = write(tmp_path, "fails.yml", FAILING_FLOW)
    done = plait("run", str(flow), "--server", server.url)
    assert done.code == 1, done.stderr
    assert "boom" in done.stdout and "FAILED" in done.stdout and "it broke" in done.stdout
    found = re.search(r"^execution (\S+)", done.stdout, re.M)
    assert found, done.stdout
    execution_id = found.group(1)

    again = plait("executions", "restart", execution_id, "--json", "--server", server.url)
    assert again.code == 1, again.stderr
    doc = again.json()
    assert doc["id"] == execution_id
    assert doc["state"]["current"] == "FAILED"
    assert doc["metadata"]["attemptNumber"] == 2
    before = next(run for run in doc["taskRunList"] if run["taskId"] == "before")
    assert len(before["attempts"]) == 1  # succeeded: not run again


def test_invalid_flow_exits_2_with_located_problems(
    server: Server, plait: Cli, tmp_path: Path
) -> None:
    flow = write(tmp_path, "invalid.yml", INVALID_FLOW)
    done = plait("run", str(flow), "--server", server.url)
    assert done.code == 2, done.stderr
    assert re.search(rf"^{re.escape(str(flow))}:5:11: .*DoesNotExist", done.stderr, re.M), (
        done.stderr
    )
    assert "invalid: 1 problem" in done.stderr
    missing_file = plait(
        "run", str(write(tmp_path, "ok.yml", OK_FLOW)), "-i", "f=absent.txt", "--server", server.url
    )
    assert missing_file.code == 2
    assert "input 'f'" in missing_file.stderr and "no such file" in missing_file.stderr


def test_eval_in_a_loop_iteration(server: Server, plait: Cli, tmp_path: Path) -> None:
    env = {"PLAIT_SERVER": server.url}
    done = plait("run", str(write(tmp_path, "loop.yml", LOOP_FLOW)), "--json", env=env)
    assert done.code == 0, done.stderr
    execution_id = done.json()["id"]

    value = plait(
        "eval", execution_id, "{{ taskrun.value }}", "--task", "child", "--value", "b", env=env
    )
    assert (value.code, value.stdout) == (0, "b\n"), value.stderr
    output = plait(
        "eval",
        execution_id,
        "outputs.child[taskrun.value].value",
        "--task",
        "child",
        "--value",
        "a",
        env=env,
    )
    assert (output.code, output.stdout) == (0, "a-done\n"), output.stderr
    whole = plait("eval", execution_id, "{{ outputs.child }}", env=env)
    assert whole.code == 0, whole.stderr
    assert whole.json() == {"a": {"value": "a-done"}, "b": {"value": "b-done"}}

    ambiguous = plait("eval", execution_id, "{{ taskrun.value }}", "--task", "child", env=env)
    assert ambiguous.code == 1
    assert "choose one with --value" in ambiguous.stderr
    broken = plait("eval", execution_id, "{{ outputs.nope.value }}", env=env)
    assert (broken.code, broken.stdout) == (1, "")
    assert broken.stderr.startswith("error: ") and "nope" in broken.stderr

    tree = plait("outputs", execution_id, "--json", env=env)
    assert tree.json()["tasks"]["child"] == {"a": {"value": "a-done"}, "b": {"value": "b-done"}}


def test_triggers_are_noted(server: Server, plait: Cli, tmp_path: Path) -> None:
    flow = write(tmp_path, "hooked.yml", TRIGGERED_FLOW)
    local = plait("run", str(flow))
    assert local.code == 0, local.stderr
    assert (
        "note: this flow's triggers (hook) fire only under `plait server`; "
        "`plait run` starts one execution now"
    ) in local.stderr
    remote = plait("run", str(flow), "--server", server.url)
    assert remote.code == 0, remote.stderr
    assert "note: this flow's triggers (hook)" in remote.stderr


def test_bearer_token(plait: Cli, tmp_path: Path) -> None:
    home = tmp_path / "secured" / "home"
    with running_server(home, env={"PLAIT_SERVER_TOKENS": "t0k3n"}) as secured:
        refused = plait("executions", "list", "--server", secured.url)
        assert refused.code == 1
        assert refused.stderr.count("\n") == 1
        assert "authentication required" in refused.stderr
        assert "PLAIT_SERVER_TOKEN" in refused.stderr and secured.url in refused.stderr

        wrong = plait(
            "executions", "list", "--server", secured.url, env={"PLAIT_SERVER_TOKEN": "wrong"}
        )
        assert wrong.code == 1 and "authentication required" in wrong.stderr

        env = {"PLAIT_SERVER": secured.url, "PLAIT_SERVER_TOKEN": "t0k3n"}
        flow = write(tmp_path, "loop.yml", LOOP_FLOW)
        done = plait("run", str(flow), env=env)
        assert done.code == 0, done.stderr
        assert "SUCCESS" in done.stdout
        listed = plait("executions", "list", env=env)
        assert listed.code == 0 and "remote-loop" in listed.stdout


def test_unreachable_server(plait: Cli, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (
        ("run", str(write(tmp_path, "loop.yml", LOOP_FLOW))),
        ("eval", "someid", "{{ 1 }}"),
    ):
        done = plait(*args, "--server", url)
        assert done.code == 1, (args, done.stderr)
        assert done.stderr.startswith(f"error: cannot reach the plait server at {url}/api/v1")
        assert done.stderr.count("\n") == 1
