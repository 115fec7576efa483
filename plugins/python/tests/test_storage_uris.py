"""Internal-storage URIs written in a script or commands are downloaded and replaced with local
paths, as Kestra's script tasks do, through the real engine and real storage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from plait_python.selection import CONTAINER_WORKDIR
from plait_python.storage_uris import STORAGE_FOLDER, URI_PATTERN

SCRIPT = "io.kestra.plugin.scripts.python.Script"
Messages = Callable[..., list[str]]
ORDERS = "id,amount\n1,10\n2,32\n"


def _flow(consumer: str, runner: str = "runner: PROCESS") -> str:
    """A flow whose ``extract`` task stores ``orders.csv``, then ``consumer`` (a task's YAML
    body after its type, indented by four spaces) runs with ``runner``."""
    return f"""
id: storage_uris
namespace: test.python
tasks:
  - id: extract
    type: {SCRIPT}
    runner: PROCESS
    script: |
      open("{{{{ outputDir }}}}/orders.csv", "w").write({ORDERS!r})
  - id: use
    {runner}
{consumer}"""


def test_script_reads_a_uri_as_a_local_file(plait_runner: Any, log_messages: Messages):
    result = plait_runner.run_flow(
        _flow(f"""\
    type: {SCRIPT}
    script: |
      import csv, os
      uri = "{{{{ outputs.extract.outputFiles['orders.csv'] }}}}"
      rows = list(csv.DictReader(open(uri)))
      print("total", sum(int(row["amount"]) for row in rows))
      print("same file", uri == "{{{{ outputs.extract.outputFiles['orders.csv'] }}}}")
      print("path", uri)
      print("inside", os.path.abspath(uri).startswith(os.getcwd() + "/"))
""")
    )
    task = result.tasks["use"]
    assert task.state == "SUCCESS", task.error
    info = log_messages(task, "INFO")
    assert "total 42" in info
    assert "same file True" in info
    assert "inside True" in info
    (path,) = [line for line in info if line.startswith("path ")]
    assert path.endswith(f"/{STORAGE_FOLDER}/1/orders.csv")
    assert "plait://" not in path


def test_commands_get_local_paths(plait_runner: Any, log_messages: Messages):
    result = plait_runner.run_flow(
        _flow("""\
    type: io.kestra.plugin.scripts.python.Commands
    commands:
      - wc -l < {{ outputs.extract.outputFiles['orders.csv'] }}
""")
    )
    task = result.tasks["use"]
    assert task.state == "SUCCESS", task.error
    assert "3" in log_messages(task, "INFO")


def test_uri_of_another_execution_is_refused(plait_runner: Any):
    first = plait_runner.run_flow(_flow(f"    type: {SCRIPT}\n    script: print('first')\n"))
    assert first.state == "SUCCESS"
    foreign = first.tasks["extract"].outputs["outputFiles"]["orders.csv"]
    second = plait_runner.run_flow(
        _flow(f"    type: {SCRIPT}\n    script: print(open('{foreign}').read())\n")
    )
    task = second.tasks["use"]
    assert task.state == "FAILED"
    assert foreign in task.error
    assert "does not belong to execution" in task.error
    assert not any(ORDERS.splitlines()[1] in line.message for line in task.logs)


def test_missing_file_fails_naming_the_uri(plait_runner: Any):
    missing = "plait:///test/python/storage_uris/executions/{{ execution.id }}/nowhere.csv"
    result = plait_runner.run_flow(
        _flow(f"    type: {SCRIPT}\n    script: print(open('{missing}').read())\n")
    )
    task = result.tasks["use"]
    assert task.state == "FAILED"
    uri = missing.replace("{{ execution.id }}", result.execution_id)
    assert f"{uri} does not exist" in task.error


def test_uri_pattern_stops_at_quotes_spaces_and_hashes():
    text = 'read("plait:///a/b%20c.csv") plait:///d/e.txt#note plait://x'
    assert URI_PATTERN.findall(text) == ["plait:///a/b%20c.csv", "plait:///d/e.txt", "plait://x"]
    assert URI_PATTERN.findall("kestra:///a/b.csv and plaits") == []


@pytest.mark.docker
def test_container_sees_the_file_at_its_mounted_path(
    plait_runner: Any, docker_engine: str, log_messages: Messages
):
    result = plait_runner.run_flow(
        _flow(
            f"""\
    type: {SCRIPT}
    script: |
      uri = "{{{{ outputs.extract.outputFiles['orders.csv'] }}}}"
      print("path", uri)
      print("lines", len(open(uri).read().splitlines()))
""",
            runner="docker:\n      image: python:slim",
        )
    )
    task = result.tasks["use"]
    assert task.state == "SUCCESS", task.error
    info = log_messages(task, "INFO")
    assert f"path {CONTAINER_WORKDIR}/{STORAGE_FOLDER}/1/orders.csv" in info
    assert "lines 3" in info
