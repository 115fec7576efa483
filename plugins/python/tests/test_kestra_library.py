"""`from kestra import Kestra` in Python tasks, as in Kestra's Python guide ("Run Python inside of
your Flows": `Kestra.outputs`, `Kestra.counter`, `Kestra.timer`, `Kestra.logger()`), in both
runners, without installing anything; and the published library winning when it is installed.

The lines checked are those Kestra's library prints (`::{"outputs": ...}::`, `::{"metrics":
[...]}::`, `::{"logs": [...]}::` with the UTC time before the message)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from plait_python.control import Metric, parse_control_line
from plait_python.library import with_library

SCRIPT = "io.kestra.plugin.scripts.python.Script"
COMMANDS = "io.kestra.plugin.scripts.python.Commands"
Messages = Callable[..., list[str]]

KESTRA_SCRIPT = """\
import time
from kestra import Kestra

Kestra.outputs({"rows": 3, "names": ["a", "b"]})
Kestra.counter("rows.read", 3, {"source": "api"})
Kestra.gauge("ratio", 0.5)
Kestra.timer("sleep", lambda: time.sleep(0.05))
Kestra.timer("given", 1.5)
logger = Kestra.logger()
logger.debug("details")
logger.info("hello from the logger")
logger.error("bad news")
"""
STAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z - (.*)$")


def _stamped(messages: list[str]) -> list[str]:
    """The messages written by Kestra's logger, without the time they start with."""
    return [match.group(1) for m in messages if (match := STAMPED.match(m))]


def _check_kestra_calls(result: Any, log_messages: Messages) -> None:
    assert result.state == "SUCCESS", result.error
    assert result.outputs["vars"] == {"rows": 3, "names": ["a", "b"]}
    debug = log_messages(result, "DEBUG")
    assert "metric counter rows.read = 3 source=api" in debug
    assert "metric gauge ratio = 0.5" in debug
    assert "metric timer given = 1.5" in debug
    [timed] = [m for m in debug if m.startswith("metric timer sleep = ")]
    assert 0.04 < float(timed.rsplit(" ", 1)[1]) < 10  # seconds, measured around the call
    assert _stamped(debug) == ["details"]
    assert _stamped(log_messages(result, "INFO")) == ["hello from the logger"]
    assert _stamped(log_messages(result, "ERROR")) == ["bad news"]
    assert not any("::" in m for m in log_messages(result))


@pytest.mark.parametrize(
    "runner",
    [
        pytest.param({"runner": "PROCESS"}, id="process"),
        pytest.param({"containerImage": "python:slim"}, id="docker", marks=pytest.mark.docker),
    ],
)
def test_kestra_library_in_both_runners(
    plait_runner: Any,
    request: pytest.FixtureRequest,
    log_messages: Messages,
    runner: dict[str, str],
) -> None:
    if "containerImage" in runner:
        request.getfixturevalue("docker_engine")
    result = plait_runner.run_task(SCRIPT, {**runner, "script": KESTRA_SCRIPT})
    _check_kestra_calls(result, log_messages)


@pytest.mark.docker
def test_kestra_library_for_commands_in_a_container(
    plait_runner: Any, docker_engine: str, log_messages: Messages
) -> None:
    """A program of the working directory imports it too (not only the inline script)."""
    result = plait_runner.run_task(
        COMMANDS,
        {
            "containerImage": "python:slim",
            "inputFiles": {"main.py": "from kestra import Kestra\nKestra.outputs({'n': 1})\n"},
            "env": {"PYTHONPATH": "/plait/work/lib"},
            "commands": ["python main.py", "python -c 'import sys; print(sys.path[1:3])'"],
        },
    )
    assert result.state == "SUCCESS", result.error
    assert result.outputs["vars"] == {"n": 1}
    assert "['/plait/work/lib', '/plait/lib']" in log_messages(result, "INFO")


def test_the_published_library_wins_when_installed(
    plait_runner: Any, published_kestra_wheel: Path, log_messages: Messages
) -> None:
    result = plait_runner.run_task(
        SCRIPT,
        {
            "runner": "PROCESS",
            "beforeCommands": [f"pip install --quiet --no-index {published_kestra_wheel}"],
            "warningOnStdErr": False,
            "script": "from kestra import Kestra\nKestra.outputs({'b': 2, 'a': 1})\n",
        },
    )
    assert result.state == "SUCCESS", result.error
    assert "published library got ['a', 'b']" in log_messages(result, "INFO")
    assert result.outputs["vars"] == {}


def test_the_tasks_own_kestra_module_wins(plait_runner: Any, log_messages: Messages) -> None:
    own = "class Kestra:\n    @staticmethod\n    def outputs(values):\n        print('mine')\n"
    result = plait_runner.run_task(
        COMMANDS,
        {
            "runner": "PROCESS",
            "inputFiles": {"kestra.py": own, "main.py": "import kestra\nkestra.Kestra.outputs({})"},
            "commands": ["python main.py"],
        },
    )
    assert result.state == "SUCCESS", result.error
    assert "mine" in log_messages(result, "INFO")


def test_metrics_lines_are_parsed() -> None:
    line = '::{"metrics": [{"name": "n", "type": "counter", "value": 2, "tags": {"k": "v"}}]}::'
    control = parse_control_line(line)
    assert control is not None
    assert control.metrics == (Metric("n", "counter", 2, {"k": "v"}),)
    assert control.metrics[0].describe() == "metric counter n = 2 k=v"
    assert parse_control_line('::{"metrics": {"name": "n"}}::') is None


def test_library_goes_after_the_tasks_or_the_images_path() -> None:
    assert with_library({}, None, "/lib")["PYTHONPATH"] == "/lib"
    assert with_library({}, "/image", "/lib")["PYTHONPATH"] == "/image:/lib"
    assert with_library({"PYTHONPATH": "/task"}, "/image", "/lib")["PYTHONPATH"] == "/task:/lib"
