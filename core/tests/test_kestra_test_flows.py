"""Kestra's own test flows (kestra-io/kestra core/src/test/resources/flows) where plait used to
differ, run as Kestra's tests expect them to run. Each test names the flow and the Kestra test
that checks it; the flows are written here as in Kestra (retry intervals aside)."""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest
from plait.api import Engine
from plait.builtin.triggers import Flow as FlowTrigger
from plait.errors import FlowValidationError
from plait.executor.nesting import MAX_SUBFLOW_DEPTH
from plait.state.model import Execution, State
from plait_sdk.trigger import EndedExecution
from support.flows import run_of, run_text

NS = "io.kestra.tests"


def messages(engine: Engine, execution: Execution, task_id: str) -> list[str]:
    return [e.message for e in engine.repository.logs(execution.id, task_id=task_id)]


def load_problems(engine: Engine, source: str) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        engine.load(dedent(source), file="flow.yml")
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------ taskrun.attemptsCount


def test_retry_success_sees_the_attempts_before_the_current_one(engine: Engine) -> None:
    """Kestra flows/valids/retry-success.yaml, RetryCaseTest.retrySuccess: the fourth attempt
    sees ``attemptsCount == 3`` and succeeds; warningOnRetry ends the execution WARNING."""
    execution = run_text(
        engine,
        f"""\
        id: retry-success
        namespace: {NS}
        tasks:
        - id: failed
          type: io.kestra.plugin.core.log.Log
          message: "{{{{ taskrun.attemptsCount == 3 ? 'ok' : ko}}}}"
          retry:
            type: constant
            interval: PT0.01S
            maxAttempt: 4
            maxDuration: PT15S
            warningOnRetry: true
        errors:
          - id: never-happen
            type: io.kestra.plugin.core.log.Log
            message: Never {{{{task.id}}}}
        """,
    )
    assert str(execution.state) == "WARNING"
    assert [run.task_id for run in execution.task_runs] == ["failed"]
    assert len(run_of(execution, "failed").attempts) == 4


def test_each_retry_inside_the_worker_counts_the_attempts_before_it(engine: Engine) -> None:
    """Kestra RunVariables: ``attemptsCount`` is the number of earlier attempts, 0 first."""
    execution = run_text(
        engine,
        """\
        id: attempts
        namespace: try
        tasks:
          - id: r
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: "count={{ taskrun.attemptsCount }}"
            retry:
              type: constant
              interval: PT0.01S
              maxAttempt: 3
        """,
    )
    found = re.findall(r"count=\d", " ".join(messages(engine, execution, "r")))
    assert found == ["count=0", "count=1", "count=2"]


def test_restart_last_failed_sees_one_attempt_before_the_restart(engine: Engine) -> None:
    """Kestra flows/valids/restart_last_failed.yaml, RestartCaseTest.restartFailedThenSuccess:
    task ``c`` fails on its first attempt (count 0) and succeeds once restarted (count 1)."""
    first = run_text(
        engine,
        f"""\
        id: restart_last_failed
        namespace: {NS}
        tasks:
        - id: a
          type: io.kestra.plugin.core.log.Log
          message: "{{{{ task.id }}}}"
        - id: b
          type: io.kestra.plugin.core.log.Log
          message: "{{{{ task.id }}}}"
        - id: c
          type: io.kestra.plugin.core.log.Log
          message: "{{{{taskrun.attemptsCount == 1 ? 'ok' : ko}}}}"
        - id: d
          type: io.kestra.plugin.core.log.Log
          message: "{{{{ task.id }}}}"
        """,
    )
    assert str(first.state) == "FAILED"
    assert [run.task_id for run in first.task_runs] == ["a", "b", "c"]
    assert str(run_of(first, "c").state) == "FAILED"

    restarted = engine.restart(first.id)

    assert str(restarted.state) == "SUCCESS"
    assert [run.task_id for run in restarted.task_runs] == ["a", "b", "c", "d"]
    assert len(run_of(restarted, "c").attempts) == 2
    assert {str(run.state) for run in restarted.task_runs} == {"SUCCESS"}


# ------------------------------------------------------------------ Switch

EACH_SWITCH = f"""\
id: each-switch
namespace: {NS}
tasks:
  - id: t1
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{task.id}}}} > {{{{taskrun.startDate}}}}"
  - id: 2_each
    type: io.kestra.plugin.core.flow.ForEach
    values: '["a", "b"]'
    tasks:
      - id: 2-1_switch
        type: io.kestra.plugin.core.flow.Switch
        value: "{{{{taskrun.value}}}}"
        cases:
          a:
            - id: 2-1_switch-letter-a
              type: io.kestra.plugin.core.debug.Return
              format: "{{{{task.id}}}}"
          b:
            - id: 2-1_switch-letter-b
              type: io.kestra.plugin.core.debug.Return
              format: "{{{{task.id}}}}"
            - id: 2-1_each
              type: io.kestra.plugin.core.flow.ForEach
              values: '["1", "2"]'
              tasks:
              - id: 2-1-1_switch
                type: io.kestra.plugin.core.flow.Switch
                value: "{{{{taskrun.value}}}}"
                cases:
                  1:
                    - id: 2-1-1_switch-number-1
                      type: io.kestra.plugin.core.debug.Return
                      format: "{{{{parents[0].taskrun.value}}}}"
                  2:
                    - id: 2-1-1_switch-number-2
                      type: io.kestra.plugin.core.debug.Return
                      format: "{{{{parents[0].taskrun.value}}}} {{{{parents[1].taskrun.value}}}}"
  - id: 2_end
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{task.id}}}} > {{{{taskrun.startDate}}}}"
"""


def test_each_switch_takes_integer_case_names_as_text(engine: Engine) -> None:
    """Kestra flows/valids/each-switch.yaml, EachSequentialTest.eachSwitch: cases written
    ``1:`` and ``2:`` match the values "1" and "2"."""
    execution = engine.run(EACH_SWITCH)
    assert str(execution.state) == "SUCCESS"
    assert len(execution.task_runs) == 12
    assert run_of(execution, "2-1-1_switch-number-1").outputs == {"value": "1"}
    assert run_of(execution, "2-1-1_switch-number-2").outputs == {"value": "2 b"}


def test_a_case_name_written_twice_as_number_and_text_is_reported(engine: Engine) -> None:
    found = load_problems(
        engine,
        """\
        id: twice
        namespace: dev
        tasks:
          - id: pick
            type: io.kestra.plugin.core.flow.Switch
            value: "1"
            cases:
              1:
                - id: one
                  type: plait.core.Log
                  message: one
              "1":
                - id: also_one
                  type: plait.core.Log
                  message: one
        """,
    )
    assert found == ["flow.yml:12:7: task 'pick': 'cases' has the name '1' twice"]


def test_switch_defaults_null_is_no_defaults(engine: Engine) -> None:
    """Kestra flows/valids/switch-impossible.yaml (SwitchTest.switchImpossible): a null
    ``defaults`` is absent, and a Switch whose value matches no case then fails."""
    execution = engine.run(
        dedent(
            f"""\
            id: switch-impossible
            namespace: {NS}
            inputs:
              - id: string
                type: STRING
            tasks:
              - id: impossible
                type: io.kestra.plugin.core.flow.Switch
                value: "{{{{inputs.string}}}}"
                cases:
                  "NO":
                  - id: date
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{{{taskrun.startDate}}}}"
                defaults: null
            """
        ),
        {"string": "impossible"},
    )
    assert [run.task_id for run in execution.task_runs] == ["impossible"]
    assert str(execution.state) == "FAILED"
    assert "no case matches 'impossible' and there are no defaults" in str(
        run_of(execution, "impossible").error
    )


def test_a_required_task_list_written_null_is_still_refused(engine: Engine) -> None:
    found = load_problems(
        engine,
        """\
        id: empty_then
        namespace: dev
        tasks:
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "true"
            then: null
        """,
    )
    assert found == ["flow.yml:7:11: task 'check': 'then' must contain at least one task"]


# ------------------------------------------------------------------ allowWarning on a flowable


def test_allow_warning_on_a_flowable_ends_it_success(engine: Engine) -> None:
    """Kestra flows/valids/task-allow-warning-flowable.yml, TaskWithAllowWarningTest
    .flowableTask: allowFailure and allowWarning on a Sequential whose child fails."""
    source = f"""\
        id: task-allow-warning-flowable
        namespace: {NS}
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            allowFailure: true
            allowWarning: true
            tasks:
              - id: fail
                type: io.kestra.plugin.core.execution.Fail
              - id: log-not-allowed
                type: io.kestra.plugin.core.log.Log
                message: not allowed
          - id: log-allowed
            type: io.kestra.plugin.core.log.Log
            message: I'm allowed
        """
    execution = run_text(engine, source)
    assert str(execution.state) == "SUCCESS"
    assert len(execution.task_runs) == 3
    assert str(run_of(execution, "seq").state) == "SUCCESS"

    only_failure = run_text(engine, source.replace("allowWarning: true", "allowWarning: false"))
    assert str(run_of(only_failure, "seq").state) == "WARNING"  # Kestra's guessFinalState
    assert str(only_failure.state) == "WARNING"


# ------------------------------------------------------------------ conditions


@pytest.mark.parametrize(
    "prefix, suffix",
    [
        ("io.kestra.plugin.core.condition", ""),
        ("io.kestra.plugin.core.condition", "Condition"),
        ("io.kestra.core.models.conditions.types", "Condition"),
    ],
)
def test_flow_trigger_conditions_by_kestras_names_and_aliases(
    engine: Engine, prefix: str, suffix: str
) -> None:
    """Kestra flows/valids/trigger-flow-listener-no-inputs.yaml and
    trigger-flow-listener-namespace-condition.yaml (ExecutionFlow, ExecutionStatus,
    ExecutionNamespace and their aliases)."""
    flow = engine.load(
        dedent(
            f"""\
            id: trigger-flow-listener-no-inputs
            namespace: {NS}.trigger
            tasks:
              - id: only-no-input
                type: io.kestra.plugin.core.debug.Return
                format: "v1: {{{{trigger.executionId}}}}"
            triggers:
              - id: listen-flow
                type: io.kestra.plugin.core.trigger.Flow
                conditions:
                  - type: {prefix}.ExecutionStatus{suffix}
                    in:
                      - SUCCESS
                  - type: {prefix}.ExecutionFlow{suffix}
                    namespace: {NS}.trigger
                    flowId: trigger-flow
              - id: listen-namespace
                type: io.kestra.plugin.core.trigger.Flow
                conditions:
                  - type: {prefix}.ExecutionNamespace{suffix}
                    namespace: {NS}.trigger
            """
        )
    )
    by_flow, by_namespace = (
        FlowTrigger.Properties.model_validate(t.properties) for t in flow.triggers
    )

    def ended(flow_id: str, state: str, namespace: str = f"{NS}.trigger") -> EndedExecution:
        return EndedExecution(id="x", namespace=namespace, flow_id=flow_id, state=state)

    trigger = FlowTrigger()
    assert trigger.matches(by_flow, ended("trigger-flow", "SUCCESS"))
    assert not trigger.matches(by_flow, ended("trigger-flow", "FAILED"))
    assert not trigger.matches(by_flow, ended("other-flow", "SUCCESS"))
    assert trigger.matches(by_namespace, ended("any-flow", "FAILED"))
    assert not trigger.matches(by_namespace, ended("any-flow", "SUCCESS", namespace="else"))


# ------------------------------------------------------------------ recursive subflows


def test_a_flow_calling_itself_is_refused_at_its_subflow_task(engine: Engine) -> None:
    """Kestra flows/invalids/recursive-flow.yaml, FlowValidationTest.invalidRecursiveFlow."""
    found = load_problems(
        engine,
        f"""\
        id: recursive-flow
        namespace: {NS}

        tasks:
          - id: taskInvalid
            type: io.kestra.plugin.core.flow.Subflow
            flowId: recursive-flow
            namespace: {NS}
        """,
    )
    assert found == [
        f"flow.yml:5:5: task 'taskInvalid': recursive call to flow [{NS}.recursive-flow]: a "
        "flow cannot run itself as a subflow (it would start itself without end)"
    ]


def _caller(flow_id: str, calls: str) -> str:
    return (
        f"id: {flow_id}\nnamespace: cycle\ntasks:\n  - id: call_{calls}\n"
        f"    type: io.kestra.plugin.core.flow.Subflow\n    namespace: cycle\n"
        f"    flowId: {calls}\n"
    )


def test_flows_calling_each_other_stop_at_the_nesting_limit(engine: Engine) -> None:
    """A calls B, B calls A: each is valid alone, so the runner's limit ends the chain."""
    engine.repository.save_flow("cycle", "a", _caller("a", "b"))
    engine.repository.save_flow("cycle", "b", _caller("b", "a"))

    top = engine.run(_caller("a", "b"))

    assert str(top.state) == "FAILED"
    everything = engine.repository.list(namespace="cycle", limit=1000)
    child_of = {e.parent_id: e for e in everything}
    chain = [top]
    while chain[-1].id in child_of:
        chain.append(child_of[chain[-1].id])
    assert len(chain) == len(everything) == MAX_SUBFLOW_DEPTH + 1
    assert {str(e.state) for e in chain} == {"FAILED"}
    deepest = chain[-1]
    assert deepest.task_runs[0].state is State.FAILED
    assert deepest.task_runs[0].error == (
        f"subflow cycle.{'a' if deepest.flow_id == 'b' else 'b'} not started: it would run "
        f"under {MAX_SUBFLOW_DEPTH + 1} parent executions, more than the limit of "
        f"{MAX_SUBFLOW_DEPTH} (do flows call each other in a cycle?)"
    )


# ------------------------------------------------------------------ dates to the millisecond


def test_execution_start_date_prints_milliseconds(engine: Engine, tmp_path: Path) -> None:
    """Kestra flows/valids/execution.yaml, JdbcRunnerTest.executionDate: ``\\.\\d{3}Z`` (an
    instant whose milliseconds are 0 prints none, as Java's Instant does)."""
    execution = run_text(
        engine,
        f"""\
        id: execution-start-date
        namespace: {NS}
        tasks:
          - id: hello
            type: io.kestra.plugin.core.debug.Return
            format: "{{{{ execution.startDate }}}} {{{{ taskrun.startDate }}}}"
        """,
    )
    pattern = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z"
    assert re.fullmatch(f"{pattern} {pattern}", run_of(execution, "hello").outputs["value"])
    stored = execution.to_document()["state"]["startDate"]
    assert re.fullmatch(r".*\.\d{6}Z", stored)  # the store keeps microseconds (sortable)
