"""Flowable task types run by the executor: each type, nesting, outputs addressing inside and
after loops, errors and finally handlers, allowFailure, runIf and allowWarning, loop values."""

from __future__ import annotations

from pathlib import Path

from plait.api import Engine
from support.flows import run_text, runs_of, states

FLOW = "io.kestra.plugin.core.flow"


def test_sequential_runs_children_in_order_and_shares_outputs(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: seq
        namespace: dev
        tasks:
          - id: block
            type: {FLOW}.Sequential
            tasks:
              - id: one
                type: plait.core.Return
                format: "1"
              - id: two
                type: plait.core.Return
                format: "{{{{ outputs.one.value }}}}2"
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.two.value }}}}3"
        """,
    )
    assert str(execution.state) == "SUCCESS"
    assert execution.task_run("after").outputs == {"value": "123"}
    block = execution.task_run("block")
    assert execution.task_run("one").parent_id == block.id
    assert [r.task_id for r in execution.task_runs] == ["block", "one", "two", "after"]


def test_foreach_outputs_inside_and_after_the_loop(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: loop
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: ["a", "b"]
            tasks:
              - id: first
                type: plait.core.Return
                format: "{{{{ taskrun.value | upper }}}}"
              - id: second
                type: plait.core.Return
                format: "{{{{ outputs.first[taskrun.value].value }}}}!"
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.second['a'].value }}}} {{{{ outputs.second['b'].value }}}}"
          - id: keys
            type: plait.core.Return
            format: "{{{{ outputs.first | keys }}}}"
        """,
    )
    assert str(execution.state) == "SUCCESS", states(execution)
    assert execution.task_run("after").outputs == {"value": "A! B!"}
    assert execution.task_run("keys").outputs == {"value": '["a","b"]'}
    assert [(r.value, r.outputs) for r in runs_of(execution, "second")] == [
        ("a", {"value": "A!"}),
        ("b", {"value": "B!"}),
    ]
    assert execution.task_run("each").outputs is None  # ForEach outputs nothing, like Kestra's


def test_nested_loops_key_outputs_by_every_value(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: nested
        namespace: dev
        tasks:
          - id: outer
            type: {FLOW}.ForEach
            values: ["x", "y"]
            tasks:
              - id: inner
                type: {FLOW}.ForEach
                values: ["1", "2"]
                tasks:
                  - id: cell
                    type: plait.core.Return
                    format: "{{{{ parent.taskrun.value }}}}{{{{ taskrun.value }}}}"
                  - id: echo
                    type: plait.core.Return
                    format: "{{{{ outputs.cell[parent.taskrun.value][taskrun.value].value }}}}"
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.echo['y']['2'].value }}}}"
        """,
    )
    assert str(execution.state) == "SUCCESS", states(execution)
    assert [r.outputs["value"] for r in runs_of(execution, "echo")] == ["x1", "x2", "y1", "y2"]
    assert execution.task_run("after").outputs == {"value": "y2"}


def test_loop_values_are_text_deduplicated_and_may_be_json(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: values
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: [1, "1", {{"x": 1}}, true, "a", "a"]
            tasks:
              - id: show
                type: plait.core.Return
                format: "{{{{ taskrun.value }}}}"
          - id: from_json
            type: {FLOW}.ForEach
            values: '{{{{ ["p", "q"] | json }}}}'
            tasks:
              - id: letter
                type: plait.core.Return
                format: "{{{{ taskrun.value }}}}"
        """,
    )
    assert str(execution.state) == "SUCCESS", states(execution)
    assert [r.value for r in runs_of(execution, "show")] == ["1", '{"x":1}', "true", "a"]
    assert [r.value for r in runs_of(execution, "letter")] == ["p", "q"]


def test_null_loop_values_fail_the_loop(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: nulls
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: ["a", null]
            tasks:
              - id: show
                type: plait.core.Log
                message: "{{{{ taskrun.value }}}}"
        """,
    )
    assert str(execution.state) == "FAILED"
    assert "found 1 null values" in execution.task_run("each").error
    assert runs_of(execution, "show") == []


def test_if_takes_one_branch_and_outputs_its_evaluation(engine: Engine) -> None:
    text = f"""\
        id: branch
        namespace: dev
        inputs:
          - id: flag
            type: STRING
        tasks:
          - id: check
            type: {FLOW}.If
            condition: "{{{{ inputs.flag }}}}"
            then:
              - id: yes
                type: plait.core.Return
                format: "yes"
            else:
              - id: no
                type: plait.core.Return
                format: "no"
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.check.evaluationResult }}}}"
        """
    for flag, taken, result in [("true", "yes", "true"), ("0", "no", "false"), ("", "no", "false")]:
        execution = run_text(engine, text, {"flag": flag})
        assert str(execution.state) == "SUCCESS"
        assert {r.task_id for r in execution.task_runs} == {"check", taken, "after"}
        assert execution.task_run("after").outputs == {"value": result}


def test_reading_a_branch_that_did_not_run_names_the_branch(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: missing
        namespace: dev
        tasks:
          - id: check
            type: {FLOW}.If
            condition: "false"
            then:
              - id: yes
                type: plait.core.Return
                format: "yes"
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.yes.value }}}}"
        """,
    )
    assert str(execution.state) == "FAILED"
    error = execution.task_run("after").error
    assert "task 'yes' did not run: it is in 'then' of 'check'" in error


def test_switch_runs_the_matching_case_or_defaults(engine: Engine) -> None:
    text = f"""\
        id: switch
        namespace: dev
        inputs:
          - id: kind
            type: STRING
        tasks:
          - id: pick
            type: {FLOW}.Switch
            value: "{{{{ inputs.kind }}}}"
            cases:
              a:
                - id: case_a
                  type: plait.core.Return
                  format: A
              "2":
                - id: case_two
                  type: plait.core.Return
                  format: two
            defaults:
              - id: other
                type: plait.core.Return
                format: other
        """
    ran = {}
    for kind in ("a", "2", "zzz"):
        execution = run_text(engine, text, {"kind": kind})
        assert str(execution.state) == "SUCCESS"
        ran[kind] = [r.task_id for r in execution.task_runs]
        pick = execution.task_run("pick").outputs
        assert pick == {"value": kind, "defaults": kind == "zzz"}
    assert ran == {"a": ["pick", "case_a"], "2": ["pick", "case_two"], "zzz": ["pick", "other"]}


def test_parallel_inside_if_inside_foreach_and_switch_inside_foreach(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: deep
        namespace: dev
        tasks:
          - id: gate
            type: {FLOW}.If
            condition: "true"
            then:
              - id: both
                type: {FLOW}.Parallel
                tasks:
                  - id: loop
                    type: {FLOW}.ForEach
                    values: ["a", "b"]
                    concurrencyLimit: 0
                    tasks:
                      - id: kind
                        type: {FLOW}.Switch
                        value: "{{{{ taskrun.value }}}}"
                        cases:
                          a:
                            - id: is_a
                              type: plait.core.Return
                              format: "A {{{{ parent.taskrun.value }}}}"
                        defaults:
                          - id: not_a
                            type: plait.core.Return
                            format: "other"
                  - id: side
                    type: plait.core.Return
                    format: side
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.is_a['a'].value }}}} {{{{ outputs.not_a['b'].value }}}}"
        """,
    )
    assert str(execution.state) == "SUCCESS", states(execution)
    assert execution.task_run("after").outputs == {"value": "A a other"}
    chain = [execution.task_run("is_a")]
    while chain[-1].parent_id:
        chain.append(next(r for r in execution.task_runs if r.id == chain[-1].parent_id))
    assert [r.task_id for r in chain] == ["is_a", "kind", "loop", "both", "gate"]


def test_errors_and_finally_after_a_failure_keep_the_execution_failed(engine: Engine) -> None:
    execution = run_text(
        engine,
        """\
        id: handlers
        namespace: dev
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: "it broke"
          - id: never
            type: plait.core.Log
            message: never
        errors:
          - id: alert
            type: plait.core.Return
            format: "{{ outputs.boom ?? 'no outputs' }}"
        finally:
          - id: cleanup
            type: plait.core.Log
            message: cleanup
        """,
    )
    assert str(execution.state) == "FAILED"
    assert states(execution) == {
        "boom": "FAILED",
        "alert": "SUCCESS",
        "cleanup": "SUCCESS",
    }
    assert execution.task_run("boom").error == "it broke"


def test_finally_runs_after_success_and_errors_do_not(engine: Engine) -> None:
    execution = run_text(
        engine,
        """\
        id: tidy
        namespace: dev
        tasks:
          - id: fine
            type: plait.core.Log
            message: fine
        errors:
          - id: alert
            type: plait.core.Log
            message: alert
        finally:
          - id: cleanup
            type: plait.core.Log
            message: cleanup
        """,
    )
    assert str(execution.state) == "SUCCESS"
    assert states(execution) == {"fine": "SUCCESS", "cleanup": "SUCCESS"}


def test_a_failing_finally_fails_the_execution(engine: Engine) -> None:
    execution = run_text(
        engine,
        """\
        id: bad_finally
        namespace: dev
        tasks:
          - id: fine
            type: plait.core.Log
            message: fine
        finally:
          - id: cleanup
            type: io.kestra.plugin.core.execution.Fail
        """,
    )
    assert str(execution.state) == "FAILED"


def test_errors_of_a_flowable_run_inside_it(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: block_errors
        namespace: dev
        tasks:
          - id: block
            type: {FLOW}.Sequential
            tasks:
              - id: boom
                type: io.kestra.plugin.core.execution.Fail
            errors:
              - id: local_alert
                type: plait.core.Log
                message: "block failed"
            finally:
              - id: local_cleanup
                type: plait.core.Log
                message: cleanup
          - id: never
            type: plait.core.Log
            message: never
        """,
    )
    assert str(execution.state) == "FAILED"
    assert states(execution) == {
        "block": "FAILED",
        "boom": "FAILED",
        "local_alert": "SUCCESS",
        "local_cleanup": "SUCCESS",
    }
    block = execution.task_run("block")
    assert execution.task_run("local_alert").parent_id == block.id


def test_allow_failure_inside_a_loop_and_the_allow_failure_block(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: tolerant
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: ["ok", "bad"]
            tasks:
              - id: maybe
                type: io.kestra.plugin.core.execution.Fail
                condition: "{{{{ taskrun.value == 'bad' }}}}"
                allowFailure: true
              - id: next
                type: plait.core.Return
                format: "{{{{ taskrun.value }}}}"
          - id: block
            type: {FLOW}.AllowFailure
            tasks:
              - id: inner_fail
                type: io.kestra.plugin.core.execution.Fail
              - id: skipped_by_failure
                type: plait.core.Log
                message: never
          - id: after
            type: plait.core.Log
            message: still here
        """,
    )
    assert str(execution.state) == "WARNING", states(execution)
    assert states(execution) == {
        "each": "WARNING",
        "maybe[ok]": "SUCCESS",
        "maybe[bad]": "WARNING",
        "next[ok]": "SUCCESS",
        "next[bad]": "SUCCESS",
        "block": "WARNING",
        "inner_fail": "FAILED",
        "after": "SUCCESS",
    }


def test_run_if_skips_and_allow_warning_turns_warning_into_success(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: conditions
        namespace: dev
        tasks:
          - id: skipped
            type: plait.core.Log
            message: never
            runIf: "{{{{ 1 > 2 }}}}"
          - id: kept
            type: plait.core.Return
            format: kept
            runIf: true
          - id: loop
            type: {FLOW}.ForEach
            values: ["a", "b"]
            tasks:
              - id: only_b
                type: plait.core.Return
                format: "{{{{ taskrun.value }}}}"
                runIf: "{{{{ taskrun.value == 'b' }}}}"
          - id: warned
            type: {FLOW}.AllowFailure
            allowWarning: true
            tasks:
              - id: boom
                type: io.kestra.plugin.core.execution.Fail
        """,
    )
    assert str(execution.state) == "SUCCESS", states(execution)
    assert states(execution)["skipped"] == "SKIPPED"
    assert states(execution)["only_b[a]"] == "SKIPPED"
    assert states(execution)["only_b[b]"] == "SUCCESS"
    assert states(execution)["warned"] == "SUCCESS"


def test_disabled_children_are_left_out_and_empty_branches_succeed(engine: Engine) -> None:
    execution = run_text(
        engine,
        f"""\
        id: disabled
        namespace: dev
        tasks:
          - id: block
            type: {FLOW}.Parallel
            tasks:
              - id: off
                type: plait.core.Log
                message: never
                disabled: true
              - id: on
                type: plait.core.Log
                message: on
          - id: pick
            type: {FLOW}.Switch
            value: a
            cases:
              a:
                - id: never
                  type: plait.core.Log
                  message: never
                  disabled: true
        """,
    )
    assert str(execution.state) == "SUCCESS"
    assert states(execution) == {"block": "SUCCESS", "on": "SUCCESS", "pick": "SUCCESS"}


def test_a_failing_parallel_branch_stops_new_branches(engine: Engine, tmp_path: Path) -> None:
    count = tmp_path / "count.txt"
    execution = run_text(
        engine,
        f"""\
        id: stop
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: ["1", "2", "3", "4"]
            tasks:
              - id: step
                type: test.Count
                path: {count}
                label: "{{{{ taskrun.value }}}}"
              - id: fail_on_2
                type: io.kestra.plugin.core.execution.Fail
                condition: "{{{{ taskrun.value == '2' }}}}"
        """,
    )
    assert str(execution.state) == "FAILED"
    assert count.read_text().split() == ["1", "2"]
