"""plait.python.Script and Commands in local processes, run through the real engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SCRIPT = "io.kestra.plugin.scripts.python.Script"
COMMANDS = "io.kestra.plugin.scripts.python.Commands"
Messages = Callable[..., list[str]]
RunLocal = Callable[..., Any]


@pytest.fixture
def run_local(plait_runner: Any) -> RunLocal:
    """``run_local(SCRIPT, script=...)``: run one task with the given properties in a local
    process (``runner: PROCESS``)."""

    def run(task_type: str, **properties: Any) -> Any:
        return plait_runner.run_task(task_type, {"runner": "PROCESS", **properties})

    return run


def test_stdout_is_info_and_stderr_is_warning_in_order(run_local: RunLocal, log_messages: Messages):
    script = (
        "import sys\n"
        "for i in range(5):\n"
        "    print(f'out {i}', flush=True)\n"
        "    print(f'err {i}', file=sys.stderr, flush=True)\n"
    )
    result = run_local(SCRIPT, script=script)
    assert result.state == "WARNING", result.error
    assert [m for m in log_messages(result, "INFO") if m.startswith("out")] == [
        f"out {i}" for i in range(5)
    ]
    assert [m for m in log_messages(result, "WARN") if m.startswith("err")] == [
        f"err {i}" for i in range(5)
    ]
    assert result.outputs["exitCode"] == 0


def test_stderr_is_accepted_with_warning_on_stderr_false(run_local: RunLocal):
    script = "import sys\nprint('progress...', file=sys.stderr)\n"
    result = run_local(SCRIPT, warningOnStdErr=False, script=script)
    assert result.state == "SUCCESS", result.error


def test_quiet_stderr_means_success(run_local: RunLocal):
    result = run_local(SCRIPT, script="print('fine')")
    assert result.state == "SUCCESS", result.error


def test_control_lines_fill_vars_and_logs(run_local: RunLocal, log_messages: Messages):
    script = (
        "import json\n"
        "def send(payload):\n"
        "    print('::' + json.dumps(payload) + '::')\n"
        "send({'outputs': {'rows': 3, 'names': ['a', 'b']}})\n"
        "send({'outputs': {'rows': 4, 'ok': True}})\n"
        "send({'logs': [{'level': 'ERROR', 'message': 'from the script'}]})\n"
    )
    result = run_local(SCRIPT, script=script)
    assert result.state == "SUCCESS", result.error
    assert result.outputs["vars"] == {"rows": 4, "names": ["a", "b"], "ok": True}
    assert "from the script" in log_messages(result, "ERROR")
    assert not any(m.startswith("::") for m in log_messages(result))


def test_output_dir_and_globs_become_output_files(run_local: RunLocal):
    script = (
        "import os\n"
        "os.makedirs('{{ outputDir }}/nested', exist_ok=True)\n"
        "open('{{ outputDir }}/products.csv', 'w').write('brand,price\\nacme,3\\n')\n"
        "open(os.environ['OUTPUT_DIR'] + '/nested/deep.txt', 'w').write('deep')\n"
        "open('report.json', 'w').write('{}')\n"
        "open('ignored.txt', 'w').write('not an output')\n"
    )
    result = run_local(SCRIPT, outputFiles=["*.json"], script=script)
    assert result.state == "SUCCESS", result.error
    files = result.outputs["outputFiles"]
    assert sorted(files) == ["nested/deep.txt", "products.csv", "report.json"]
    assert result.read(files["products.csv"]) == b"brand,price\nacme,3\n"
    assert result.read(files["nested/deep.txt"]) == b"deep"


def test_input_files_inline_and_from_storage(plait_runner: Any, log_messages: Messages):
    flow = """
id: files
namespace: test.python
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.python.Script
    runner: PROCESS
    script: |
      open("{{ outputDir }}/data.txt", "w").write("stored line")
  - id: consume
    type: io.kestra.plugin.scripts.python.Commands
    runner: PROCESS
    inputFiles:
      in/data.txt: "{{ outputs.produce.outputFiles['data.txt'] }}"
      main.py: |
        print(open("in/data.txt").read().upper())
    commands:
      - python main.py
"""
    result = plait_runner.run_flow(flow)
    assert result.state == "SUCCESS", {k: t.error for k, t in result.tasks.items()}
    assert "STORED LINE" in log_messages(result.tasks["consume"], "INFO")


def test_non_zero_exit_fails_with_the_end_of_stderr(run_local: RunLocal):
    script = (
        "import sys\n"
        "for i in range(30):\n"
        "    print(f'noise {i}', file=sys.stderr)\n"
        "print('the real reason', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    result = run_local(SCRIPT, script=script)
    assert result.state == "FAILED"
    assert "exited with code 3" in result.error
    assert "the real reason" in result.error
    assert "noise 29" in result.error and "noise 0\n" not in result.error


def test_traceback_keeps_line_numbers_and_future_imports(run_local: RunLocal):
    script = (
        "from __future__ import annotations\n"
        '"""A docstring."""\n'
        "def broken() -> Undefined:\n"
        "    raise ValueError('boom')\n"
        "broken()\n"
    )
    result = run_local(SCRIPT, script=script)
    assert result.state == "FAILED"
    assert "line 4, in broken" in result.error
    assert "ValueError: boom" in result.error
    assert "runpy" not in result.error


def test_json_rendered_into_the_script_runs(plait_runner: Any, log_messages: Messages):
    flow = """
id: json_in_code
namespace: test.python
variables:
  products: [{"brand": "acme", "price": 3.5, "inStock": true, "discount": null},
             {"brand": "zeta", "price": 1, "inStock": false, "discount": 0.1}]
tasks:
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    runner: PROCESS
    script: |
      data = {{ vars.products }}
      print(sum(p["price"] for p in data if p["inStock"]), data[0]["discount"])
"""
    result = plait_runner.run_flow(flow)
    task = result.tasks["python"]
    assert task.state == "SUCCESS", task.error
    assert "3.5 None" in log_messages(task, "INFO")


def test_working_dir_variables_are_host_paths(run_local: RunLocal, log_messages: Messages):
    script = (
        "import os\n"
        "print('cwd', os.getcwd() == '{{ workingDir }}' == os.environ['WORKING_DIR'])\n"
        "print('out', '{{ outputDir }}' == os.environ['OUTPUT_DIR'])\n"
        "print('outdir exists', os.path.isdir('{{ outputDir }}'))\n"
    )
    result = run_local(SCRIPT, script=script)
    assert result.state == "SUCCESS", result.error
    assert log_messages(result, "INFO")[-3:] == ["cwd True", "out True", "outdir exists True"]


def test_timeout_kills_the_script_and_its_children(
    run_local: RunLocal, tmp_path: Path, process_gone: Callable[[int], bool]
):
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, time\n"
        f"child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(300)\n"
    )
    result = run_local(SCRIPT, timeout="PT1S", script=script)
    assert result.state == "FAILED"
    assert "timed out" in result.error
    assert process_gone(int(pid_file.read_text()))


def test_fail_fast_stops_at_the_first_failing_command(run_local: RunLocal, log_messages: Messages):
    commands = ["echo before", "false", "echo after"]
    strict = run_local(COMMANDS, commands=commands)
    assert strict.state == "FAILED"
    assert "exited with code 1" in strict.error
    assert "after" not in log_messages(strict, "INFO")

    lenient = run_local(COMMANDS, failFast=False, commands=commands)
    assert lenient.state == "SUCCESS", lenient.error
    assert log_messages(lenient, "INFO")[-2:] == ["before", "after"]


def test_interpreter_and_env(run_local: RunLocal, log_messages: Messages, monkeypatch):
    monkeypatch.setenv("SECRET_API_TOKEN", "c2VjcmV0")
    result = run_local(
        COMMANDS,
        interpreter=["/bin/bash", "-c"],
        env={"GREETING": "hello"},
        commands=[
            'if [[ -n "$BASH_VERSION" ]]; then echo "bash says $GREETING"; fi',
            'echo "secret visible: ${SECRET_API_TOKEN:-no}"',
        ],
    )
    assert result.state == "SUCCESS", result.error
    assert log_messages(result, "INFO")[-2:] == ["bash says hello", "secret visible: no"]


def test_bad_pull_policy_is_a_validation_error(plait_runner: Any):
    with pytest.raises(Exception, match="pullPolicy"):
        plait_runner.run_task(
            SCRIPT, {"docker": {"image": "python:slim", "pullPolicy": "SOMETIMES"}, "script": "1"}
        )


def test_commands_outputs_follow_the_schema(plait_runner: Any):
    result = plait_runner.run_task(
        COMMANDS,
        {
            "taskRunner": {"type": "io.kestra.plugin.core.runner.Process"},
            "commands": ['echo \'::{"outputs": {"n": 1}}::\''],
        },
    )
    assert result.state == "SUCCESS", result.error
    assert json.loads(json.dumps(result.outputs)) == {
        "exitCode": 0,
        "vars": {"n": 1},
        "outputFiles": {},
    }
