"""Trigger types: what starts a flow's executions under ``plait server``.

A trigger type declares its properties once (a pydantic model, as task types do: the same
declaration validates flows, feeds the flow schema and the docs) and says when it fires, by
subclassing one of the kinds the server knows how to run:

- :class:`ScheduleTrigger`: at dates it computes (``next_date``);
- :class:`ExecutionTrigger`: when another execution ends and ``matches`` says so;
- :class:`WebhookTrigger`: on an HTTP request to ``/api/v1/executions/webhook/{namespace}/
  {flowId}/{key}`` carrying its ``key``;
- :class:`PollingTrigger`: every ``interval``, when ``poll`` finds something.

Each firing starts an execution whose expressions read what fired it as ``{{ trigger.* }}``,
and whose inputs are the trigger's ``inputs`` rendered with those variables. Register them with
the ``register_trigger_types`` hook.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from plait_sdk.task import Described, Example, prop


class TriggerProperties(BaseModel):
    """Base of a trigger type's properties; ``inputs`` are given to the executions it starts
    (rendered with ``{{ trigger.* }}``). Built when first used, as task properties are."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    inputs: dict[str, Any] | None = prop(
        None,
        description="Inputs of the executions it starts, by input id; expressions read what "
        "fired it as `{{ trigger.* }}`.",
    )


@dataclass(frozen=True)
class EndedExecution:
    """What an :class:`ExecutionTrigger` sees of an execution that ended."""

    id: str
    namespace: str
    flow_id: str
    state: str
    outputs: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


P = TypeVar("P", bound=TriggerProperties)


class Trigger(Described, ABC, Generic[P]):
    """Base class of trigger types: ``type`` (``plait.<plugin>.<Name>``), ``aliases``,
    ``Properties``, ``examples``; the docstring's first line is its title."""

    type: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    Properties: ClassVar[type[TriggerProperties]] = TriggerProperties
    examples: ClassVar[tuple[Example, ...]] = ()

    def check(self, props: P) -> str | None:
        """A problem with otherwise valid properties (a cron that does not parse...), reported
        when the flow is validated; None when there is none."""
        return None


class ScheduleTrigger(Trigger[P]):
    """Fires at the dates :meth:`next_date` computes; the server remembers the last date it
    fired for, so a date never fires twice, even across a restart."""

    @abstractmethod
    def next_date(self, props: P, after: datetime) -> datetime | None:
        """The first date strictly after ``after`` (aware, UTC or not) to fire at; None: never."""

    def recover_missed(self, props: P) -> str:
        """What to do with dates missed while no server ran: ``ALL`` fire each, ``LAST`` only
        the latest, ``NONE`` none."""
        return "ALL"


class ExecutionTrigger(Trigger[P]):
    """Fires when an execution of another flow ends and :meth:`matches` accepts it; the
    execution's id, namespace, flowId, state and outputs are ``{{ trigger.* }}``."""

    @abstractmethod
    def matches(self, props: P, execution: EndedExecution) -> bool: ...


class WebhookTrigger(Trigger[P]):
    """Fires on a request to the flow's webhook URL with the right key; the request's body
    (JSON decoded when it is JSON), headers and query parameters are ``{{ trigger.* }}``."""

    @abstractmethod
    def key(self, props: P) -> str:
        """The key as written; the server renders it on each request (``{{ flow.id }}``,
        ``{{ secret('KEY') }}``) before comparing it with the URL's."""


class PollingTrigger(Trigger[P]):
    """Every :meth:`interval`, :meth:`poll` looks for something to start an execution for."""

    def interval(self, props: P) -> timedelta:
        return timedelta(seconds=60)

    @abstractmethod
    def poll(self, props: P) -> Mapping[str, Any] | None:
        """The ``trigger`` variables of an execution to start, or None."""
