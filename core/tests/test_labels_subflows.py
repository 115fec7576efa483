"""Execution labels as Kestra sets them: ``system.correlationId`` on every execution, carried
to subflows at any depth; a Subflow task's ``inheritLabels`` and ``labels``; system labels read
as ``{{ labels.system.* }}``. Each test names the Kestra source or test it reproduces
(kestra-io/kestra)."""

from __future__ import annotations

from textwrap import dedent

import pytest
from plait.api import Engine
from plait.state.model import Execution, State
from support.flows import run_text, runs_of

CHILD = """\
id: child
namespace: io.kestra.tests
labels:
  own: child
  team: kids
tasks:
  - id: grand
    type: io.kestra.plugin.core.flow.Subflow
    namespace: io.kestra.tests
    flowId: grand-child
  - id: seen
    type: plait.core.Return
    format: "{{ labels.system.correlationId }}"
"""

GRAND_CHILD = """\
id: grand-child
namespace: io.kestra.tests
tasks:
  - id: seen
    type: plait.core.Return
    format: "{{ labels.system.correlationId }}"
"""


def parent(subflow_keys: str = "") -> str:
    return dedent(
        """\
        id: parent
        namespace: io.kestra.tests
        labels:
          team: data
          env: test
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: io.kestra.tests
            flowId: child
        """
    ) + "".join(f"    {line}\n" for line in dedent(subflow_keys).splitlines())


@pytest.fixture
def family(engine: Engine) -> Engine:
    for source in (CHILD, GRAND_CHILD):
        flow = engine.load(source)
        engine.repository.save_flow(flow.namespace, flow.id, flow.source)
    return engine


def child_of(engine: Engine, execution: Execution, task_id: str = "call") -> Execution:
    [call] = runs_of(execution, task_id)
    return engine.repository.get(call.outputs["executionId"])


def test_a_root_executions_correlation_id_is_its_own_id(engine: Engine) -> None:
    # Execution.newExecution: "add a correlation ID if none exist", set to the execution's id.
    done = run_text(
        engine,
        """\
        id: root
        namespace: dev
        labels:
          team: data
        tasks:
          - id: seen
            type: plait.core.Return
            format: "{{ labels.system.correlationId }} {{ labels.team }}"
        """,
    )
    assert done.labels == {"team": "data", "system.correlationId": done.id}
    # RunVariables.mapLabel: a system label reads as labels.system.<name>.
    assert runs_of(done, "seen")[0].outputs == {"value": f"{done.id} data"}
    assert {"key": "system.correlationId", "value": done.id} in done.to_document()["labels"]


def test_subflows_at_any_depth_carry_the_roots_correlation_id(family: Engine) -> None:
    # CorrelationIdTest.shouldHaveCorrelationId (subflow-parent -> child -> grand-child).
    done = run_text(family, parent())
    assert done.state is State.SUCCESS
    child = child_of(family, done)
    grand = child_of(family, child, "grand")
    for execution in (child, grand):
        assert execution.labels["system.correlationId"] == done.id
        assert runs_of(execution, "seen")[0].outputs == {"value": done.id}


def test_without_inherit_labels_a_subflow_gets_only_system_labels(family: Engine) -> None:
    # ExecutableUtils.subflowExecution: inheritLabels false passes the system labels only;
    # the child's own flow labels come first.
    done = run_text(family, parent())
    child = child_of(family, done)
    assert child.labels == {"own": "child", "team": "kids", "system.correlationId": done.id}


def test_inherit_labels_gives_the_subflow_every_label_of_the_parent(family: Engine) -> None:
    # Subflow.inheritLabels ("the child flow execution will inherit all labels from the parent
    # execution"); a label the child's flow declares keeps the child's value (Kestra keeps the
    # first of a key in {{ labels }}).
    done = run_text(family, parent("inheritLabels: true"))
    child = child_of(family, done)
    assert child.labels == {
        "own": "child",
        "team": "kids",
        "env": "test",
        "system.correlationId": done.id,
    }


@pytest.mark.parametrize(
    "labels",
    [
        "labels:\n  source: '{{ flow.id }}'\n  flag: true",
        "labels:\n  - key: source\n    value: '{{ flow.id }}'\n  - key: flag\n    value: true",
    ],
    ids=["map", "list"],
)
def test_subflow_labels_are_added_to_the_child(family: Engine, labels: str) -> None:
    # Subflow.labels, a map or Kestra's list of {key, value} (ListOrMapOfLabelDeserializer).
    done = run_text(family, parent(labels))
    child = child_of(family, done)
    assert child.labels["source"] == "parent"
    assert child.labels["flag"] == "true"
    assert "env" not in child.labels


def test_subflow_labels_cannot_be_system_labels(family: Engine) -> None:
    # Subflow.labels is List<@NoSystemLabelValidation Label>.
    done = run_text(family, parent("labels:\n  system.correlationId: forged"))
    assert done.state is State.FAILED
    [call] = runs_of(done, "call")
    assert "system.correlationId" in call.error and "only the engine sets" in call.error
