"""The KV store from flows: Kestra's ``io.kestra.plugin.core.kv`` tasks (Set, Get, Delete,
GetKeys) and the ``kv()`` function, over the store the run context gives
(:meth:`plait_sdk.RunContext.kv`), so they behave the same whatever repository holds it.

Reading the flow's own namespace falls back on its parent namespaces (``company.team`` then
``company``), as Kestra's ``kv()`` (without a namespace) and Get (on the flow's namespace) do;
any other namespace is read alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from plait_sdk import (
    Example,
    ExpressionServices,
    RunContext,
    Task,
    TaskFailure,
    TaskOutputs,
    TaskProperties,
    hookimpl,
    needs_context,
    output,
    prop,
)
from plait_sdk.kv import KVMissing, KVStore, KVType
from plait_sdk.task import example_flow

from plait.state.kv import missing

_KV = "io.kestra.plugin.core.kv"


def lookup(open_store: Callable[[str | None], KVStore], namespace: str | None, key: str) -> Any:
    """The value of ``key`` in ``namespace``; None (the flow's namespace) falls back on its
    parents. Raises the :class:`KVMissing` of the namespace asked for."""
    store = open_store(namespace)
    try:
        return store.get(key)
    except KVMissing as first:
        if namespace is not None:
            raise
        parent = store.namespace
        while "." in parent:
            parent = parent.rsplit(".", 1)[0]
            try:
                return open_store(parent).get(key)
            except KVMissing:
                continue
        raise first from None


def _namespace_prop() -> Any:
    return prop(
        None,
        description="The namespace of the KV store; the flow's namespace by default.",
        examples=["company.team"],
    )


def _key_prop(action: str) -> Any:
    return prop(description=f"The key to {action}.", examples=["last_run"])


def _error_on_missing_prop(action: str) -> Any:
    return prop(
        False,
        description=f"Fail the task when there is no value to {action} (or it expired).",
        dynamic=False,
    )


class SetProperties(TaskProperties):
    key: str = _key_prop("set")
    value: Any = prop(
        description="The value: text, a number, a boolean, a list or a map (an expression "
        "that is a whole `{{ }}` keeps its type).",
        examples=["{{ outputs.download.uri }}"],
    )
    namespace: str | None = _namespace_prop()
    overwrite: bool = prop(
        True,
        description="Replace a value the key already holds; false fails the task instead.",
        dynamic=False,
    )
    ttl: timedelta | None = prop(
        None,
        description="How long the value lives, as an ISO-8601 duration (`PT1H`, `P7D`); "
        "without it the value never expires.",
        examples=["P1D"],
    )
    kvType: KVType | None = prop(
        None,
        description="Parse a text value as this type (`123` as NUMBER, `{...}` as JSON); "
        "without it the value keeps the type it renders to.",
        dynamic=False,
    )


class Set(Task[SetProperties, TaskOutputs]):
    """Store a value in the namespace's KV store, for later executions and other flows.

    Read it back with the `kv()` function or a Get task."""

    type = "plait.core.kv.Set"
    aliases = (f"{_KV}.Set",)
    Properties = SetProperties
    Outputs = TaskOutputs
    examples = (
        Example(
            "Remember when the flow last ran",
            example_flow(
                "remember",
                "  - id: remember\n    type: io.kestra.plugin.core.kv.Set\n    key: last_run\n"
                '    value: "{{ execution.startDate }}"\n    kvType: DATETIME\n',
            ),
        ),
    )

    def run(self, props: SetProperties, ctx: RunContext) -> TaskOutputs:
        store = ctx.kv(props.namespace)
        store.put(
            props.key, props.value, ttl=props.ttl, overwrite=props.overwrite, kv_type=props.kvType
        )
        return TaskOutputs()


class GetProperties(TaskProperties):
    key: str = _key_prop("read")
    namespace: str | None = _namespace_prop()
    errorOnMissing: bool = _error_on_missing_prop("read")


class GetOutputs(TaskOutputs):
    value: Any = output(
        None, description="The stored value, with the type it was stored with (null if none)."
    )


class Get(Task[GetProperties, GetOutputs]):
    """Read a value from a namespace's KV store, as the output `value`.

    Without `namespace`, a key missing from the flow's namespace is looked up in its parent
    namespaces."""

    type = "plait.core.kv.Get"
    aliases = (f"{_KV}.Get",)
    Properties = GetProperties
    Outputs = GetOutputs
    examples = (
        Example(
            "Read a value, failing when it is not set",
            example_flow(
                "recall",
                "  - id: recall\n    type: io.kestra.plugin.core.kv.Get\n    key: last_run\n"
                "    errorOnMissing: true\n",
            ),
        ),
    )

    def run(self, props: GetProperties, ctx: RunContext) -> GetOutputs:
        namespace = None if props.namespace == ctx.namespace else props.namespace
        try:
            return GetOutputs(value=lookup(ctx.kv, namespace, props.key))
        except KVMissing as exc:
            if props.errorOnMissing:
                raise TaskFailure(str(exc)) from None
            return GetOutputs(value=None)


class DeleteProperties(TaskProperties):
    key: str = _key_prop("delete")
    namespace: str | None = _namespace_prop()
    errorOnMissing: bool = _error_on_missing_prop("delete")


class DeleteOutputs(TaskOutputs):
    deleted: bool = output(description="Whether the key held a value that is now deleted.")


class Delete(Task[DeleteProperties, DeleteOutputs]):
    """Delete a key from a namespace's KV store."""

    type = "plait.core.kv.Delete"
    aliases = (f"{_KV}.Delete",)
    Properties = DeleteProperties
    Outputs = DeleteOutputs
    examples = (
        Example(
            "Forget a value",
            example_flow(
                "forget",
                "  - id: forget\n    type: io.kestra.plugin.core.kv.Delete\n    key: last_run\n",
            ),
        ),
    )

    def run(self, props: DeleteProperties, ctx: RunContext) -> DeleteOutputs:
        store = ctx.kv(props.namespace)
        deleted = store.delete(props.key)
        if not deleted and props.errorOnMissing:
            raise TaskFailure(str(missing(store.namespace, props.key)))
        return DeleteOutputs(deleted=deleted)


class GetKeysProperties(TaskProperties):
    prefix: str | None = prop(
        None, description="Only the keys starting with this text.", examples=["orders_"]
    )
    namespace: str | None = _namespace_prop()


class GetKeysOutputs(TaskOutputs):
    keys: list[str] = output(
        default_factory=list, description="The keys holding a live value, sorted."
    )


class GetKeys(Task[GetKeysProperties, GetKeysOutputs]):
    """List the keys of a namespace's KV store (those that have not expired)."""

    type = "plait.core.kv.GetKeys"
    aliases = (f"{_KV}.GetKeys",)
    Properties = GetKeysProperties
    Outputs = GetKeysOutputs
    examples = (
        Example(
            "List the keys starting with `orders_`",
            example_flow(
                "inventory",
                "  - id: keys\n    type: io.kestra.plugin.core.kv.GetKeys\n    prefix: orders_\n",
            ),
        ),
    )

    def run(self, props: GetKeysProperties, ctx: RunContext) -> GetKeysOutputs:
        return GetKeysOutputs(keys=ctx.kv(props.namespace).keys(props.prefix))


@needs_context
def kv(
    services: ExpressionServices,
    key: str,
    namespace: str | None = None,
    errorOnMissing: bool = True,
) -> Any:
    """A value of the KV store: the flow's namespace (then its parents) or ``namespace``.

    Fails when the key holds no value (or it expired), as Kestra does since 0.22, unless
    ``errorOnMissing=false``, which gives null. See docs/kv.md.
    Example: ``{{ kv('last_run', errorOnMissing=false) ?? 'never' }}``
    """
    try:
        return lookup(services.kv, namespace, key)
    except KVMissing:
        if errorOnMissing:
            raise
        return None


@hookimpl
def register_task_types() -> list[type[Task[Any, Any]]]:
    return [Set, Get, Delete, GetKeys]


@hookimpl
def register_functions() -> dict[str, Callable[..., Any]]:
    return {"kv": kv}
