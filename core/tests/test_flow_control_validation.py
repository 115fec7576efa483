"""Validation of flows with flow control: nested tasks are read as tasks, every problem at its
FILE:LINE:COLUMN, and the static check of ``outputs`` understands loops and branches."""

from __future__ import annotations

from textwrap import dedent

import pytest
from plait.errors import FlowValidationError
from plait.expressions import ExpressionEngine
from plait.flows import check_flow
from plait.plugins import Registry, build_registry

FLOW = "io.kestra.plugin.core.flow"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(load=[])


@pytest.fixture(scope="module")
def engine(registry: Registry) -> ExpressionEngine:
    return ExpressionEngine(registry.filters, registry.functions)


def problems(source: str, registry: Registry, engine: ExpressionEngine) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        check_flow(dedent(source), registry, engine, file="flow.yml")
    return [str(p) for p in info.value.problems]


def test_nested_tasks_are_checked_like_top_level_ones(
    registry: Registry, engine: ExpressionEngine
) -> None:
    found = problems(
        f"""\
        id: nested
        namespace: dev
        tasks:
          - id: check
            type: {FLOW}.If
            condition: "true"
            then:
              - id: inner
                type: plait.core.Return
                formt: x
              - id: unknown_type
                type: plait.core.Nope
            else: []
          - id: loop
            type: {FLOW}.ForEach
            tasks:
              - id: inner
                type: plait.core.Log
                message: hi
        """,
        registry,
        engine,
    )
    assert found[0].startswith(
        "flow.yml:10:9: task 'inner': unknown property 'formt' for task type plait.core.Return"
    )
    assert found[1].startswith("flow.yml:12:15: task 'unknown_type': unknown task type")
    assert found[2:] == [
        "flow.yml:13:11: task 'check': 'else' must contain at least one task",
        "flow.yml:14:5: task 'loop': missing required property 'values' for task type "
        f"{FLOW}.ForEach (plait.core.flow.ForEach)",
        "flow.yml:17:13: duplicate task id 'inner' (first used at line 8); task ids must be "
        "unique in a flow, nested tasks included",
    ]


def test_flowable_properties_and_children_shapes(
    registry: Registry, engine: ExpressionEngine
) -> None:
    found = problems(
        f"""\
        id: shapes
        namespace: dev
        tasks:
          - id: par
            type: {FLOW}.Parallel
            concurrent: -1
            tasks: not a list
          - id: pick
            type: {FLOW}.Switch
            value: a
            cases: [a]
          - id: seq
            type: {FLOW}.Sequential
            tasks:
              - just text
          - id: check
            type: {FLOW}.If
            condition: "true"
            then:
        errors: []
        """,
        registry,
        engine,
    )
    assert found == [
        "flow.yml:6:17: task 'par': property 'concurrent' of task type "
        f"{FLOW}.Parallel (plait.core.flow.Parallel): input should be greater than or equal "
        "to 0; got -1",
        "flow.yml:7:12: 'tasks' must be a list, got 'not a list'",
        "flow.yml:11:12: task 'pick': 'cases' must be a mapping of names to lists of tasks, "
        "got a list",
        "flow.yml:15:9: each entry of 'tasks' must be a mapping, got 'just text'",
        "flow.yml:19:10: task 'check': 'then' must contain at least one task",
        "flow.yml:20:9: 'errors' must contain at least one task",
    ]


def test_a_loop_child_read_without_its_value_gets_a_hint(
    registry: Registry, engine: ExpressionEngine
) -> None:
    found = problems(
        f"""\
        id: loop
        namespace: dev
        tasks:
          - id: each
            type: {FLOW}.ForEach
            values: [a, b]
            tasks:
              - id: child
                type: plait.core.Return
                format: "{{{{ taskrun.value }}}}"
              - id: same_iteration
                type: plait.core.Return
                format: "{{{{ outputs.child[taskrun.value].value }}}}"
          - id: after
            type: plait.core.Return
            format: "{{{{ outputs.child.value }}}} {{{{ outputs.child['a'].value }}}}"
        """,
        registry,
        engine,
    )
    assert found == [
        "flow.yml:16:14: task 'after': expression `{{ outputs.child.value }}`: task 'child' "
        "runs inside the loop 'each', so its outputs are keyed by loop value: write "
        "outputs.child[taskrun.value].value in the same iteration, or "
        "outputs.child['<value>'].value for one value"
    ]


def test_references_follow_document_order_through_the_tree(
    registry: Registry, engine: ExpressionEngine
) -> None:
    found = problems(
        f"""\
        id: order
        namespace: dev
        tasks:
          - id: check
            type: {FLOW}.If
            condition: "{{{{ outputs.later.value }}}}"
            then:
              - id: inside
                type: plait.core.Return
                format: "{{{{ outputs.check.evaluationResult }}}} {{{{ outputs.check.nope }}}}"
          - id: later
            type: plait.core.Return
            format: "{{{{ outputs.inside.value }}}}"
            runIf: "{{{{ outputs.missing.value }}}}"
        errors:
          - id: alert
            type: plait.core.Log
            message: "{{{{ outputs.later.value }}}}"
        """,
        registry,
        engine,
    )
    assert [p.split(": ", 1)[0] for p in found] == [
        "flow.yml:6:17",
        "flow.yml:10:55",
        "flow.yml:14:13",
    ]
    assert "references task 'later', which runs after 'check'" in found[0]
    assert "has no output 'nope'" in found[1]
    assert "references unknown task 'missing'" in found[2]


def test_valid_flow_control_flow_passes(registry: Registry, engine: ExpressionEngine) -> None:
    flow = check_flow(
        dedent(
            f"""\
            id: fine
            namespace: dev
            tasks:
              - id: loop
                type: io.kestra.core.tasks.flows.EachParallel
                value: '["a", "b"]'
                tasks:
                  - id: child
                    type: plait.core.Return
                    format: x
            finally:
              - id: bye
                type: {FLOW}.Sleep
                duration: PT0.01S
            """
        ),
        registry,
        engine,
    )
    assert [t.id for t in flow.walk()] == ["loop", "child", "bye"]
