"""Kestra's functions that look at the running execution: ``fileSize``, ``currentEachOutput``
and ``errorLogs``, run through flows. Each case reproduces the Kestra test or test flow named
in its comment (``core/src/test/...`` of kestra-io/kestra)."""

from __future__ import annotations

from pathlib import Path

import pytest
from plait.api import Engine
from plait.errors import ExpressionError
from plait.state.model import State
from support.expression_cases import builtin_engine
from support.flows import run_text, runs_of

FILE_TEXT = "Hello from a task output"  # 24 bytes, as FileSizeFunctionTest's file

SIZES = """\
    id: sizes
    namespace: dev
    inputs:
      - id: data
        type: FILE
    tasks:
      - id: size
        type: plait.core.Return
        format: "{{ fileSize(inputs.data) }}"
    """


def test_file_size_of_a_file_of_the_execution(engine: Engine, tmp_path: Path) -> None:
    # FileSizeFunctionTest.returnsCorrectSize_givenStringUri_andCurrentExecution
    data = tmp_path / "data.txt"
    data.write_text(FILE_TEXT, encoding="utf-8")
    execution = run_text(engine, SIZES, {"data": str(data)})
    assert execution.state == State.SUCCESS
    assert runs_of(execution, "size")[0].outputs == {"value": "24"}


def test_file_size_refuses_a_file_of_another_execution(engine: Engine) -> None:
    # FileSizeFunctionTest.shouldThrowIllegalArgumentException_givenMissingTrigger_and...
    # ParentExecution: a file of another execution is refused (whether or not it exists).
    execution = run_text(
        engine,
        """\
        id: other
        namespace: dev
        tasks:
          - id: size
            type: plait.core.Return
            format: "{{ fileSize('plait:///dev/other/executions/e0/tasks/t/r/file.txt') }}"
        """,
    )
    assert execution.state == State.FAILED
    error = runs_of(execution, "size")[0].error or ""
    assert "fileSize('plait:///dev/other/executions/e0/tasks/t/r/file.txt')" in error
    assert f"does not belong to execution {execution.id}" in error


def test_file_size_needs_a_running_execution() -> None:
    with pytest.raises(ExpressionError, match=r"fileSize\(\) is only available while an exec"):
        builtin_engine().render_value("{{ fileSize('plait:///x') }}", {}, task_id="t")


NESTED_LOOPS = """\
    id: test-current-output
    namespace: io.kestra.tests
    tasks:
      - id: 1_each
        type: io.kestra.plugin.core.flow.ForEach
        values: '["v11", "v12"]'
        tasks:
          - id: 1-1_each
            type: io.kestra.plugin.core.flow.ForEach
            values: '["v21", "v22"]'
            tasks:
              - id: 1-1-1_output
                type: io.kestra.plugin.core.debug.Return
                format: "{{ parents[0].taskrun.value }}-{{ taskrun.value }}"
              - id: 1-1-1_return
                type: io.kestra.plugin.core.debug.Return
                format: "return-{{ currentEachOutput(outputs['1-1-1_output']).value }}"
      - id: 2_each
        type: io.kestra.plugin.core.flow.ForEach
        values: '["v41", "v42"]'
        tasks:
          - id: 2-1_output
            type: io.kestra.plugin.core.debug.Return
            format: "{{ taskrun.value }}"
          - id: 2-1_return
            type: io.kestra.plugin.core.debug.Return
            format: "return-{{ currentEachOutput(outputs['2-1_output']).value }}"
    """


def test_current_each_output_picks_the_current_iteration(engine: Engine) -> None:
    # core/src/test/resources/flows/valids/current-output.yaml (one loop level fewer): the
    # output of the same iteration, in a loop and in nested loops.
    execution = run_text(engine, NESTED_LOOPS)
    assert execution.state == State.SUCCESS
    nested = sorted(run.outputs["value"] for run in runs_of(execution, "1-1-1_return"))
    assert nested == [
        f"return-{outer}-{inner}" for outer in ("v11", "v12") for inner in ("v21", "v22")
    ]
    single = sorted(run.outputs["value"] for run in runs_of(execution, "2-1_return"))
    assert single == ["return-v41", "return-v42"]


def test_current_each_output_wants_a_map(engine: Engine) -> None:
    # CurrentEachOutputFunction: "expects an argument 'outputs' with type map".
    execution = run_text(
        engine,
        """\
        id: not-a-map
        namespace: dev
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: [a]
            tasks:
              - id: bad
                type: plait.core.Return
                format: "{{ currentEachOutput('text') }}"
        """,
    )
    assert execution.state == State.FAILED
    assert "expects the outputs of a task in a loop (a map)" in (
        runs_of(execution, "bad")[0].error or ""
    )


def test_error_logs_in_an_errors_branch(engine: Engine) -> None:
    # JdbcRunnerTest.errors with flows/valids/errors.yaml: the errors branch logs
    # "- task: failed, message: Task failure" (the ERROR logged when 'failed' failed).
    execution = run_text(
        engine,
        """\
        id: errors
        namespace: io.kestra.tests
        tasks:
          - id: failed
            type: io.kestra.plugin.core.execution.Fail
        errors:
          - id: t2
            type: io.kestra.plugin.core.log.Log
            message: |
              {%- for log in errorLogs() -%}
              - task: {{ log.taskId }}, message: {{ log.message }}
              {%- endfor -%}
        """,
    )
    assert execution.state == State.FAILED
    logged = [entry.message for entry in engine.repository.logs(execution.id, task_id="t2")]
    assert logged == ["- task: failed, message: Task failure"]


def test_error_logs_is_empty_without_errors(engine: Engine) -> None:
    # ErrorLogsFunctionTest.shouldReturnNothingWhenNoErrors: INFO logs are not returned.
    execution = run_text(
        engine,
        """\
        id: calm
        namespace: dev
        tasks:
          - id: hello
            type: plait.core.Log
            message: some log message
          - id: errors
            type: plait.core.Return
            format: "{{ errorLogs() | length }} {{ errorLogs()[0].message ?? 'no error' }}"
        """,
    )
    assert execution.state == State.SUCCESS
    assert runs_of(execution, "errors")[0].outputs == {"value": "0 no error"}
