"""Every user mistake ends with a message and exit status 2 (invalid) or 1 (failed), never a
Python traceback: a table of bad files, inputs, ids and expressions, each given to the real
``plait`` command in a subprocess; then the same limits through the server's REST API."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.cli import run_plait
from support.server import Server, running_server
from support.wheels import Completed

UNSET = (
    "PLAIT_MAX_FLOW_BYTES",
    "PLAIT_MAX_NESTING",
    "PLAIT_MAX_INPUT_BYTES",
    "PLAIT_DISTRIBUTION",
    "PLAIT_SERVER",
)
"""Left out of the inherited environment: each row sets the ones it is about."""

INVALID, FAILED = 2, 1

TYPED = """\
id: typed
namespace: dev.bad
inputs:
  - id: n
    type: INT
    defaults: 1
  - id: x
    type: FLOAT
    defaults: 1.5
  - id: j
    type: JSON
    required: false
  - id: who
    type: STRING
    required: false
tasks:
  - id: t
    type: plait.core.Return
    format: "{{ inputs.n }}"
"""

FILES: dict[str, str | bytes] = {
    "typed.yml": TYPED,
    "required.yml": TYPED.replace("    required: false\ntasks", "tasks"),
    "nul.yml": TYPED.replace('format: "{{', 'format: "\0{{'),
    "latin1.yml": TYPED.replace("format: ", "format: café ").encode("latin-1"),
    "image.yml": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "syntax.yml": TYPED.replace("    type: plait.core.Return", "    type: [plait"),
    "deep.yml": TYPED + "variables:\n  v: " + "[" * 99 + "]" * 99 + "\n",  # 101 levels
    "big.yml": TYPED + "# " + "x" * (1024 * 1024) + "\n",
    "unknown-type.yml": TYPED.replace("plait.core.Return", "plait.core.Nothing"),
    "deep.toml": 'name = "d"\nx = ' + "[" * 3000 + "]" * 3000 + "\n",
    "latin1.toml": 'name = "café"\n'.encode("latin-1"),
}


@dataclass(frozen=True)
class Workspace:
    folder: Path
    home: Path
    execution: str
    """The id of one execution of typed.yml."""

    def run(self, *args: str, env: dict[str, str] | None = None) -> Completed:
        """``plait ARGS`` on this workspace's home; ``@DIR@`` and ``@EXEC@`` in an argument
        stand for the folder of the files and the execution's id."""
        return run_plait(
            *(a.replace("@DIR@", str(self.folder)).replace("@EXEC@", self.execution) for a in args),
            home=self.home,
            cwd=self.folder,
            env=env,
            unset=UNSET,
            timeout=120,
        )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    folder = tmp_path_factory.mktemp("bad-input")
    for name, content in FILES.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    unreadable = folder / "unreadable.yml"
    unreadable.write_text(TYPED)
    unreadable.chmod(0)
    made = Workspace(folder, folder / "home", "")
    done = made.run("run", "@DIR@/typed.yml", "--json")
    assert done.code == 0, done.stderr
    return Workspace(folder, made.home, done.json()["id"])


@dataclass(frozen=True)
class Row:
    args: tuple[str, ...]
    code: int
    says: tuple[str, ...]
    """Each must appear in stderr: what is at fault (file and place, input, id) and why."""
    env: dict[str, str] = field(default_factory=dict)


def row(
    name: str,
    args: tuple[str, ...],
    code: int,
    *says: str,
    env: dict[str, str] | None = None,
    marks: tuple[pytest.MarkDecorator, ...] = (),
) -> object:
    return pytest.param(Row(args, code, says, env or {}), id=name, marks=marks)


AS_ROOT = pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: chmod 000 does not stop root from reading the file",
)
LONG_INT = "9" * 5000
NOT_FOUND = "execution 'nope' not found"

ROWS = [
    # -- flow files -------------------------------------------------------------------------
    row("missing file", ("run", "@DIR@/missing.yml"), INVALID, "missing.yml", "does not exist"),
    row("directory", ("run", "@DIR@"), INVALID, "is a directory"),
    row(
        "binary garbage",
        ("validate", "@DIR@/image.yml"),
        INVALID,
        "image.yml:1:1: not UTF-8 text: byte 0x89",
    ),
    row("NUL byte", ("run", "@DIR@/nul.yml"), INVALID, "nul.yml:19:14: a NUL character"),
    row("invalid UTF-8", ("run", "@DIR@/latin1.yml"), INVALID, "latin1.yml:19:16: not UTF-8 text"),
    row("YAML syntax", ("validate", "@DIR@/syntax.yml"), INVALID, "syntax.yml:", "YAML syntax"),
    row(
        "deep YAML",
        ("validate", "@DIR@/deep.yml"),
        INVALID,
        "deep.yml:21:104: the document nests lists and mappings deeper than the 100 levels",
    ),
    row(
        "deep YAML, setting raised",
        ("validate", "@DIR@/deep.yml"),
        0,
        "deep.yml: valid",
        env={"PLAIT_MAX_NESTING": "101"},
    ),
    row(
        "oversized flow",
        ("run", "@DIR@/big.yml"),
        INVALID,
        f"big.yml: the flow file is {len(TYPED) + 1024 * 1024 + 3:,} bytes, more than the "
        "1,048,576 bytes allowed (setting PLAIT_MAX_FLOW_BYTES)",
    ),
    row(
        "flow over a lowered size",
        ("validate", "@DIR@/typed.yml"),
        INVALID,
        "typed.yml: the flow file is",
        env={"PLAIT_MAX_FLOW_BYTES": "100"},
    ),
    row(
        "bad size setting",
        ("validate", "@DIR@/typed.yml"),
        FAILED,
        "PLAIT_MAX_FLOW_BYTES='1MB' must be a whole number",
        env={"PLAIT_MAX_FLOW_BYTES": "1MB"},
    ),
    row(
        "unknown task type",
        ("validate", "@DIR@/unknown-type.yml"),
        INVALID,
        "unknown-type.yml:18:11: task 't': unknown task type 'plait.core.Nothing'",
    ),
    row(
        "one bad file among good ones",
        ("validate", "@DIR@/typed.yml", "@DIR@/nul.yml"),
        INVALID,
        "nul.yml:19:14",
    ),
    row(
        "unreadable file",
        ("run", "@DIR@/unreadable.yml"),
        INVALID,
        "unreadable.yml",
        "not readable",
        marks=(AS_ROOT,),
    ),
    row(
        "flows deploy of a bad file", ("flows", "deploy", "@DIR@/deep.yml"), INVALID, "deep.yml:21"
    ),
    row("flows source, unknown flow", ("flows", "source", "dev", "nope"), FAILED, "'dev.nope'"),
    row(
        "flows source, unknown revision",
        ("flows", "source", "dev.bad", "typed", "--revision", "99"),
        FAILED,
        "no revision 99",
    ),
    # -- inputs -----------------------------------------------------------------------------
    row(
        "missing required input",
        ("run", "@DIR@/required.yml"),
        INVALID,
        "required.yml:13:5: input 'who' (STRING) is required",
    ),
    row(
        "unknown input",
        ("run", "@DIR@/typed.yml", "-i", "bogus=1"),
        INVALID,
        "unknown input 'bogus'",
    ),
    row(
        "INT of 5,000 digits",
        ("run", "@DIR@/typed.yml", "-i", f"n={LONG_INT}"),
        INVALID,
        "typed.yml:4:5: input 'n': expected INT between -9223372036854775808 and "
        "9223372036854775807",
    ),
    row(
        "INT just past a long",
        ("run", "@DIR@/typed.yml", "-i", "n=9223372036854775808"),
        INVALID,
        "input 'n': expected INT between",
    ),
    row(
        "FLOAT 1e999",
        ("run", "@DIR@/typed.yml", "-i", "x=1e999"),
        INVALID,
        "typed.yml:7:5: input 'x': expected a finite FLOAT",
    ),
    row(
        "FLOAT nan",
        ("run", "@DIR@/typed.yml", "-i", "x=nan"),
        INVALID,
        "input 'x': expected a finite FLOAT",
    ),
    row(
        "malformed --input",
        ("run", "@DIR@/typed.yml", "--input", "no-equals-sign"),
        INVALID,
        "-i: input 'no-equals-sign' must be written NAME=VALUE",
    ),
    row(
        "--input without a name",
        ("run", "@DIR@/typed.yml", "-i", "=3"),
        INVALID,
        "must be written NAME=VALUE",
    ),
    row(
        "deeply nested JSON input",
        ("run", "@DIR@/typed.yml", "-i", "j=" + '{"a":' + "[" * 5000 + "]" * 5000 + "}"),
        INVALID,
        "typed.yml:10:5: input 'j': the JSON value nests lists and mappings deeper than the 100 "
        "levels allowed, from character 105",
    ),
    row(
        "JSON input with a 5,000-digit number",
        ("run", "@DIR@/typed.yml", "-i", f"j=[{LONG_INT}]"),
        INVALID,
        "input 'j': a number in the JSON value has 5,000 digits",
    ),
    row(
        "malformed JSON input",
        ("run", "@DIR@/typed.yml", "-i", 'j={"a":'),
        INVALID,
        "input 'j': expected JSON",
    ),
    row(
        "input over the size limit",
        ("run", "@DIR@/typed.yml", "-i", "who=" + "w" * 20),
        INVALID,
        "-i: the value of input 'who' is 20 bytes, more than the 10 bytes allowed "
        "(setting PLAIT_MAX_INPUT_BYTES)",
        env={"PLAIT_MAX_INPUT_BYTES": "10"},
    ),
    # -- executions, outputs, expressions ---------------------------------------------------
    row(
        "eval, bad expression syntax",
        ("eval", "@EXEC@", "{{ 1 + }}"),
        FAILED,
        "expression `{{ 1 + }}`: syntax error",
    ),
    row("eval, unknown execution", ("eval", "nope", "{{ 1 }}"), FAILED, NOT_FOUND),
    row(
        "eval, huge integer",
        ("eval", "@EXEC@", "{{ 9 ** 9999 }}"),
        FAILED,
        "expression `{{ 9 ** 9999 }}`",
        "digits",
    ),
    row(
        "eval, unknown task",
        ("eval", "@EXEC@", "{{ 1 }}", "--task", "nope"),
        FAILED,
        "no task 'nope'",
    ),
    row(
        "eval, --value without --task",
        ("eval", "@EXEC@", "{{ 1 }}", "--value", "3"),
        FAILED,
        "--value needs --task",
    ),
    *(
        row(f"{' '.join(command)}, unknown execution", (*command, "nope"), FAILED, NOT_FOUND)
        for command in (
            ("outputs",),
            ("logs",),
            ("executions", "show"),
            ("executions", "restart"),
            ("executions", "replay"),
        )
    ),
    row(
        "executions replay, unknown task",
        ("executions", "replay", "@EXEC@", "--from", "nope"),
        FAILED,
        "no task run or task 'nope'",
    ),
    row(
        "executions list, bad limit",
        ("executions", "list", "--limit", "0"),
        INVALID,
        "'--limit': 0 is not in the range x>=1",
    ),
    # -- storage ----------------------------------------------------------------------------
    row(
        "storage get, not a URI",
        ("storage", "get", "nope"),
        FAILED,
        "'nope' is not an internal storage URI",
    ),
    row(
        "storage get, missing file",
        ("storage", "get", "plait:///dev/nope.txt"),
        FAILED,
        "plait:///dev/nope.txt does not exist",
    ),
    row(
        "storage preview, escaping path",
        ("storage", "preview", "plait:///dev/../../etc/passwd"),
        FAILED,
        "'.' and '..' segments are not allowed",
    ),
    # -- other commands taking files, names or numbers --------------------------------------
    row(
        "dist build, deeply nested manifest",
        ("dist", "build", "@DIR@/deep.toml", "-o", "@DIR@/out"),
        FAILED,
        "deep.toml: invalid TOML: nested too deeply",
    ),
    row(
        "dist build, manifest not UTF-8",
        ("dist", "build", "@DIR@/latin1.toml", "-o", "@DIR@/out"),
        FAILED,
        "latin1.toml: not UTF-8 text",
    ),
    row(
        "dist info, bad configuration",
        ("dist", "info"),
        FAILED,
        "deep.toml: invalid TOML",
        env={"PLAIT_DISTRIBUTION": "deep.toml"},
    ),
    row("schema task, unknown type", ("schema", "task", "nope.Nothing"), FAILED, "'nope.Nothing'"),
    row("plugin new, bad name", ("plugin", "new", "Bad Name"), FAILED, "'Bad Name'"),
    row(
        "plugin new, folder that cannot be written",
        ("plugin", "new", "acme", "--dir", "/proc/plait-test"),
        FAILED,
        "error: /proc/plait-test",
    ),
    row("plugin check, unknown", ("plugin", "check", "nope-nothing"), FAILED, "'nope-nothing'"),
    row("server, bad port", ("server", "--port", "70000"), INVALID, "'--port': 70000"),
]


@pytest.mark.parametrize("case", ROWS)
def test_a_bad_input_gets_a_message_and_an_exit_status(workspace: Workspace, case: Row) -> None:
    done = workspace.run(*case.args, env=case.env)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.code == case.code, output
    for expected in case.says:
        assert expected in (done.stdout if case.code == 0 else done.stderr), output


# -- the same limits through the server -----------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("bad-input-server") / "home"
    env = {"PLAIT_MAX_FLOW_BYTES": "4000", "PLAIT_MAX_INPUT_BYTES": "2000"}
    with running_server(home, env=env) as started:
        for flow in (TYPED, HOOKED):
            code, problems = post_flow(started, flow)
            assert code == 200, problems
        yield started


HOOKED = """\
id: hooked
namespace: dev.bad
tasks:
  - id: t
    type: plait.core.Return
    format: "{{ trigger.body }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: the-webhook-key
"""


def post_flow(server: Server, text: str) -> tuple[int, list[dict[str, object]]]:
    response = server.client.post(
        "/api/v1/flows", content=text.encode(), headers={"Content-Type": "application/x-yaml"}
    )
    return response.status_code, response.json().get("problems", [])


def test_the_server_refuses_flows_beyond_the_limits(server: Server) -> None:
    code, problems = post_flow(server, TYPED + "variables:\n  v: " + "[" * 99 + "]" * 99 + "\n")
    assert code == 422
    assert [(p["line"], p["column"]) for p in problems] == [(21, 104)]
    assert "deeper than the 100 levels allowed" in str(problems[0]["message"])
    response = server.client.post(
        "/api/v1/flows", content=(TYPED + "# " + "x" * 4000 + "\n").encode()
    )
    assert response.status_code == 413  # refused from its declared length, before reading it
    size = len(TYPED) + 4003
    assert f"the flow is {size:,} bytes, more than the 4,000 bytes allowed" in response.text
    response = server.client.post(
        "/api/v1/flows", content=TYPED.encode().replace(b"format: ", b"format: \xff")
    )
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["line"] == 19 and "not UTF-8" in str(problem["message"])
    code, problems = post_flow(server, TYPED.replace("format: ", "format: \0"))
    assert code == 422
    assert problems[0]["line"] == 19 and "NUL" in str(problems[0]["message"])


def start(server: Server, **fields: str) -> tuple[int, str]:
    """Start typed.yml with these inputs, sent as the text fields of a multipart form."""
    parts = {name: (None, value) for name, value in fields.items()}
    response = server.client.post("/api/v1/executions/dev.bad/typed", files=parts)
    return response.status_code, response.text


def test_the_server_refuses_inputs_beyond_the_limits(server: Server) -> None:
    code, text = start(server, j="[" * 101 + "]" * 101)
    assert code == 422, text
    assert "input 'j': the JSON value nests lists and mappings deeper" in text
    code, text = start(server, n=LONG_INT[:1500])
    assert code == 422, text
    assert "input 'n': expected INT between" in text
    code, text = start(server, who="w" * 2001)
    assert code == 400, text
    assert "could not read the request's inputs" in text
    code, text = start(server, who="w" * 2000, x="2.5")
    assert code == 200, text
    assert json.loads(text)["inputs"]["who"] == "w" * 2000


def test_the_server_refuses_a_webhook_body_nested_too_deeply(server: Server) -> None:
    url = "/api/v1/executions/webhook/dev.bad/hooked/the-webhook-key"
    response = server.client.post(url, content="[" * 5000 + "]" * 5000)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == (
        "the webhook's body: the JSON value nests lists and mappings deeper than the 100 levels "
        "allowed, from character 101 (setting PLAIT_MAX_NESTING)"
    )
    response = server.client.post(url, content="[" * 100 + "]" * 100)
    assert response.status_code == 200, response.text
    assert "Traceback" not in server.stderr()
