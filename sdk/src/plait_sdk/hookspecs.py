"""The hook specifications: the whole surface through which plait is extended.

Every hook is a small ``register_*`` function, as in datasette and llm: a plugin returns what it
contributes and the kernel decides how to combine it. The kernel's own features (core tasks,
filters, local storage, the environment secret provider) use exactly these hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from plait_sdk.repository import RepositoryFactory
    from plait_sdk.secrets import SecretProvider
    from plait_sdk.storage import StorageFactory
    from plait_sdk.task import Task
    from plait_sdk.trigger import Trigger

PROJECT_NAME = "plait"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_task_types() -> list[type[Task]]:  # type: ignore[empty-body]
    """Return the task classes this plugin provides.

    Each class carries its canonical id (``plait.<plugin>.<Name>``), its aliases, and its
    property and output models. Two plugins claiming the same id or alias is an error.
    """


@hookspec
def register_trigger_types() -> list[type[Trigger]]:  # type: ignore[empty-body]
    """Return the trigger classes this plugin provides (subclasses of
    :class:`plait_sdk.trigger.ScheduleTrigger`, ``ExecutionTrigger``, ``WebhookTrigger`` or
    ``PollingTrigger``). Ids and aliases share one space with task types: unique across
    plugins."""


@hookspec
def register_filters() -> Mapping[str, Callable[..., Any]]:  # type: ignore[empty-body]
    """Return expression filters by name, e.g. ``{"jq": jq_filter}``.

    A filter receives the piped value first: ``{{ x | name(a) }}`` calls ``name(x, a)``.
    Decorate with :func:`plait_sdk.expressions.needs_context` to receive the
    :class:`~plait_sdk.expressions.ExpressionServices` of the running execution first.
    """


@hookspec
def register_functions() -> Mapping[str, Callable[..., Any]]:  # type: ignore[empty-body]
    """Return expression functions by name, e.g. ``{"uuid": make_uuid}``.

    Same calling rules as filters, without the piped value.
    """


@hookspec
def register_storage_backends() -> Mapping[str, StorageFactory]:  # type: ignore[empty-body]
    """Return internal-storage backend factories by name (``"local"`` is built in).

    The factory receives the plait home directory and the backend's options mapping.
    """


@hookspec
def register_secret_providers() -> Mapping[str, SecretProvider]:  # type: ignore[empty-body]
    """Return secret providers by name; ``secret(name)`` asks each in turn until one answers."""


@hookspec
def register_repositories() -> Mapping[str, RepositoryFactory]:  # type: ignore[empty-body]
    """Return execution-state repository factories by name (``"sqlite"`` is built in)."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``plait`` command line."""
