"""The KV store from flows: Kestra's ``io.kestra.plugin.core.kv`` tasks and the ``kv()``
function, run by the real engine. Each test names the Kestra test (kestra-io/kestra:
``SetTest``, ``GetTest``, ``DeleteTest``, ``GetKeysTest``, ``KvFunctionTest``, the flow
``flows/valids/kv.yaml``) or documentation page it reproduces."""

from __future__ import annotations

import datetime as dt

import pytest
from plait.api import Engine
from plait.state.kv import NamespaceKV
from plait.state.model import State, utcnow
from support.flows import run_of, run_text

NAMESPACE = "io.kestra.tests"


def kv(engine: Engine, namespace: str = NAMESPACE) -> NamespaceKV:
    return NamespaceKV(engine.repository, namespace)


def test_set_without_namespace_stores_in_the_flows_namespace_keeping_the_type(
    engine: Engine,
) -> None:
    # SetTest.shouldSetKVGivenNoNamespace: a map value reads back as the same map, no expiry.
    done = run_text(
        engine,
        f"""\
        id: setter
        namespace: {NAMESPACE}
        tasks:
          - id: set
            type: io.kestra.plugin.core.kv.Set
            key: "{{{{ flow.id }}}}-key"
            value:
              int: 1
              string: string
        """,
    )
    assert done.state is State.SUCCESS
    entry = kv(engine).entry("setter-key")
    assert entry is not None and entry.value == {"int": 1, "string": "string"}
    assert entry.expires is None


def test_set_in_another_namespace_and_with_a_ttl(engine: Engine) -> None:
    # SetTest.shouldSetKVGivenChildNamespace and shouldSetKVGivenTTL.
    done = run_text(
        engine,
        """\
        id: setter
        namespace: io.kestra.test
        tasks:
          - id: set
            type: plait.core.kv.Set
            namespace: io.kestra
            key: test-key
            value: test-value
            ttl: PT5M
        """,
    )
    assert done.state is State.SUCCESS
    entry = kv(engine, "io.kestra").entry("test-key")
    assert entry is not None and entry.value == "test-value"
    assert utcnow() + dt.timedelta(minutes=4) < entry.expires < utcnow() + dt.timedelta(minutes=6)
    assert kv(engine, "io.kestra.test").keys() == []


def test_set_with_kv_type_parses_the_rendered_text(engine: Engine) -> None:
    # SetTest.typeSpecified
    done = run_text(
        engine,
        f"""\
        id: typed
        namespace: {NAMESPACE}
        tasks:
          - id: number
            type: io.kestra.plugin.core.kv.Set
            key: number
            value: "123.45"
            kvType: NUMBER
          - id: flag
            type: io.kestra.plugin.core.kv.Set
            key: flag
            value: "true"
            kvType: BOOLEAN
          - id: json
            type: io.kestra.plugin.core.kv.Set
            key: json
            value: '[{{"some":"value"}},{{"another":"value"}}]'
            kvType: JSON
          - id: when
            type: io.kestra.plugin.core.kv.Set
            key: when
            value: "2023-05-02T01:02:03Z"
            kvType: DATETIME
          - id: sum
            type: plait.core.Return
            format: "{{{{ kv('number')+1 }}}} {{{{ kv('flag') }}}} {{{{ kv('json')[1].another }}}}"
        """,
    )
    assert done.state is State.SUCCESS, [r.error for r in done.task_runs]
    store = kv(engine)
    assert store.get("number") == 123.45
    assert store.get("flag") is True
    assert store.entry("when").type == "DATETIME"
    assert run_of(done, "sum").outputs == {"value": "124.45 true value"}


def test_set_with_overwrite_false_fails_on_a_taken_key(engine: Engine) -> None:
    # SetTest.shouldFailGivenExistingKeyAndOverwriteFalse
    kv(engine).put("test-key", "first")
    done = run_text(
        engine,
        f"""\
        id: again
        namespace: {NAMESPACE}
        tasks:
          - id: set
            type: io.kestra.plugin.core.kv.Set
            key: test-key
            value: second
            overwrite: false
        """,
    )
    assert done.state is State.FAILED
    assert "already holds a value and overwrite is false" in str(run_of(done, "set").error)
    assert kv(engine).get("test-key") == "first"


def test_get_returns_the_value_or_null_and_fails_only_with_error_on_missing(
    engine: Engine,
) -> None:
    # GetTest.shouldGetGivenExistingKey and shouldGetGivenNonExistingKey.
    kv(engine).put("test-key", {"int": 1, "string": "string"})
    flow = f"""\
        id: getter
        namespace: {NAMESPACE}
        tasks:
          - id: present
            type: io.kestra.plugin.core.kv.Get
            namespace: "{{{{ flow.namespace }}}}"
            key: test-key
          - id: absent
            type: io.kestra.plugin.core.kv.Get
            key: my-key
        """
    done = run_text(engine, flow)
    assert done.state is State.SUCCESS
    assert run_of(done, "present").outputs == {"value": {"int": 1, "string": "string"}}
    assert run_of(done, "absent").outputs == {"value": None}
    failing = run_text(engine, flow + "    errorOnMissing: true\n")
    assert failing.state is State.FAILED
    assert (
        run_of(failing, "absent").error == f"KV key 'my-key' in namespace '{NAMESPACE}' is not set"
    )


def test_delete_outputs_whether_a_value_was_deleted(engine: Engine) -> None:
    # DeleteTest.shouldOutputTrueGivenExistingKey and shouldOutputFalseGivenNonExistingKey.
    kv(engine).put("test-key", "value")
    flow = f"""\
        id: deleter
        namespace: {NAMESPACE}
        tasks:
          - id: first
            type: io.kestra.plugin.core.kv.Delete
            key: test-key
          - id: second
            type: io.kestra.plugin.core.kv.Delete
            key: test-key
        """
    done = run_text(engine, flow)
    assert done.state is State.SUCCESS
    assert run_of(done, "first").outputs == {"deleted": True}
    assert run_of(done, "second").outputs == {"deleted": False}
    failing = run_text(engine, flow + "    errorOnMissing: true\n")
    assert failing.state is State.FAILED
    assert "KV key 'test-key'" in str(run_of(failing, "second").error)


def test_get_keys_lists_the_live_keys_with_a_prefix(engine: Engine) -> None:
    # GetKeysTest: keys filtered by prefix; without a prefix, all of them.
    store = kv(engine)
    for key in ("my-var-1", "my-var-2", "other"):
        store.put(key, 1)
    engine.repository.kv_put(
        NAMESPACE, "my-var-old", 1, "NUMBER", expires=utcnow() - dt.timedelta(seconds=1)
    )
    done = run_text(
        engine,
        f"""\
        id: lister
        namespace: {NAMESPACE}
        tasks:
          - id: prefixed
            type: io.kestra.plugin.core.kv.GetKeys
            prefix: my-var
          - id: every
            type: io.kestra.plugin.core.kv.GetKeys
        """,
    )
    assert run_of(done, "prefixed").outputs == {"keys": ["my-var-1", "my-var-2"]}
    assert run_of(done, "every").outputs == {"keys": ["my-var-1", "my-var-2", "other"]}


KV_FLOW = f"""\
    id: kv
    namespace: {NAMESPACE}
    inputs:
      - name: namespace
        type: STRING
        required: false
        defaults: "{NAMESPACE}"
      - name: errorOnMissing
        type: BOOLEAN
        required: false
        defaults: false
    tasks:
      - id: get
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ kv('my-key', errorOnMissing=false).field ?? null }}}}"
      - id: getWithArgs
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ kv('my-key', inputs.namespace, inputs.errorOnMissing).field }}}}"
    """
"""Kestra's ``flows/valids/kv.yaml``; the first call says ``errorOnMissing=false`` because
the default became true in Kestra 0.22."""


def test_kv_function_reads_a_map_value(engine: Engine) -> None:
    # KvFunctionTest.get
    kv(engine).put("my-key", {"field": "value"})
    done = run_text(engine, KV_FLOW)
    assert done.state is State.SUCCESS
    assert run_of(done, "get").outputs == {"value": "value"}
    assert run_of(done, "getWithArgs").outputs == {"value": "value"}


def test_kv_function_on_a_missing_key(engine: Engine) -> None:
    # KvFunctionTest.getKeyNotFound: null without errorOnMissing, a failure naming key and
    # namespace with it.
    done = run_text(engine, KV_FLOW, {"errorOnMissing": True})
    # Kestra's Return prints null as ""; a whole `{{ }}` keeps null here (not a KV matter).
    assert run_of(done, "get").outputs["value"] in ("", None)
    assert done.state is State.FAILED
    message = str(run_of(done, "getWithArgs").error)
    assert f"KV key 'my-key' in namespace '{NAMESPACE}' is not set" in message
    assert "kv('my-key', inputs.namespace, inputs.errorOnMissing)" in message


def test_kv_function_fails_on_a_missing_key_by_default(engine: Engine) -> None:
    # Kestra docs, migration guide 0.22 "KV function errors on missing key".
    done = run_text(
        engine,
        """\
        id: strict
        namespace: company.team
        tasks:
          - id: this_will_fail
            type: io.kestra.plugin.core.log.Log
            message: "Hello {{ kv('NON_EXISTING_KV_PAIR') }}"
          - id: this_will_not
            type: io.kestra.plugin.core.debug.Return
            format: "Hello {{ kv('NON_EXISTING_KV_PAIR', errorOnMissing=false) }}"
        """,
    )
    assert done.state is State.FAILED
    assert "KV key 'NON_EXISTING_KV_PAIR'" in str(run_of(done, "this_will_fail").error)


def test_kv_function_treats_an_expired_value_as_missing(engine: Engine) -> None:
    # KvFunction: an expired value fails with errorOnMissing, is null without it.
    engine.repository.kv_put(
        "dev", "stale", "v", "STRING", expires=utcnow() - dt.timedelta(seconds=1)
    )
    done = run_text(
        engine,
        """\
        id: stale
        namespace: dev
        tasks:
          - id: lenient
            type: plait.core.Return
            format: "[{{ kv('stale', errorOnMissing=false) }}]"
          - id: strict
            type: plait.core.Return
            format: "{{ kv('stale') }}"
        """,
    )
    assert run_of(done, "lenient").outputs == {"value": "[]"}
    assert "KV key 'stale' in namespace 'dev' expired" in str(run_of(done, "strict").error)


FAMILY = """\
    id: family
    namespace: company.team.sub
    tasks:
      - id: inherited
        type: plait.core.Return
        format: "{{ kv('shared') }}"
      - id: own
        type: plait.core.Return
        format: "{{ kv('mine') }}"
      - id: task
        type: io.kestra.plugin.core.kv.Get
        key: shared
      - id: explicit
        type: io.kestra.plugin.core.kv.Get
        namespace: company.team.sub
        key: shared
      - id: elsewhere
        type: plait.core.Return
        format: "{{ kv('shared', 'company.team', errorOnMissing=false) ?? 'not inherited' }}"
      - id: named
        type: plait.core.Return
        format: "{{ kv('shared', flow.namespace, errorOnMissing=false) ?? 'not inherited' }}"
    """


def test_the_flows_namespace_falls_back_on_its_parents(engine: Engine) -> None:
    # KvFunction.getValueWithInheritance; Get's "walks dot-delimited parents" (plugin docs).
    kv(engine, "company").put("shared", "from company")
    kv(engine, "company.team.sub").put("mine", "own")
    kv(engine, "company").put("mine", "shadowed")
    done = run_text(engine, FAMILY)
    assert done.state is State.SUCCESS, [r.error for r in done.task_runs]
    assert run_of(done, "inherited").outputs == {"value": "from company"}
    assert run_of(done, "own").outputs == {"value": "own"}
    assert run_of(done, "task").outputs == {"value": "from company"}
    assert run_of(done, "explicit").outputs == {
        "value": "from company"
    }  # the flow's own, written out
    # A namespace named in kv() is read alone (Kestra walks up only without one).
    assert run_of(done, "elsewhere").outputs == {"value": "not inherited"}
    assert run_of(done, "named").outputs == {"value": "not inherited"}


@pytest.mark.parametrize("key", ["bad$key", "-lead"])
def test_an_invalid_key_fails_the_task_with_the_rule(engine: Engine, key: str) -> None:
    # KVControllerTest.illegalKey's rule, from a task.
    done = run_text(
        engine,
        f"""\
        id: badkey
        namespace: dev
        tasks:
          - id: set
            type: io.kestra.plugin.core.kv.Set
            key: "{key}"
            value: 1
        """,
    )
    assert done.state is State.FAILED
    assert "invalid KV key" in str(run_of(done, "set").error)


def test_kv_in_a_flow_is_accepted_by_validation(engine: Engine) -> None:
    flow = engine.load(
        "id: ok\nnamespace: dev\ntasks:\n  - id: r\n    type: plait.core.Return\n"
        "    format: \"{{ kv('k', namespace='other', errorOnMissing=false) }}\"\n"
    )
    assert flow.tasks[0].type == "plait.core.Return"
