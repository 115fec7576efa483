"""The trigger scheduler of ``plait server``: fires Schedule, Flow and polling triggers of the
stored flows, and webhook triggers on request.

Every firing is first claimed in the repository (a compare-and-set of the trigger's last date),
so a date fires once even across a restart or with two servers on one home; a crash between the
claim and the start of the execution loses that one firing rather than doubling it. Dates that
came due while no server ran are *missed*, and the trigger's recovery policy says which of them
fire.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plait_sdk.trigger import (
    EndedExecution,
    ExecutionTrigger,
    PollingTrigger,
    ScheduleTrigger,
    Trigger,
    WebhookTrigger,
)

from plait.errors import PlaitError
from plait.expressions.text import to_text
from plait.flows import Flow
from plait.flows.model import TriggerDef
from plait.server.runtime import ServerRuntime
from plait.server.trigger_render import render_for_trigger
from plait.state.model import Execution, StoredFlow, format_datetime, parse_datetime, utcnow

log = logging.getLogger("plait.server.scheduler")

TICK_SECONDS = 0.25
MAX_DATES = 1000
"""Most due dates of one trigger looked at in one tick (a long outage with a fast cron)."""


@dataclass
class ArmedTrigger:
    """A trigger of a stored flow, ready to evaluate."""

    flow: Flow
    definition: TriggerDef
    trigger: Trigger[Any]
    props: Any

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.flow.namespace, self.flow.id, self.definition.id)


class Scheduler:
    def __init__(self, runtime: ServerRuntime) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.started = utcnow()
        self._armed: dict[tuple[str, str, int], list[ArmedTrigger]] = {}
        self._stamp: tuple[int, int, int] | None = None
        """The repository's flows stamp when ``_found`` was built (None: not yet)."""
        self._found: list[ArmedTrigger] = []
        self._cache_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the loop --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="plait-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick(utcnow())
            except Exception:  # a bad flow or a busy database must not stop the scheduler
                log.exception("scheduler tick failed")

    def tick(self, now: dt.datetime) -> None:
        states = {
            (s.namespace, s.flow_id, s.trigger_id): s
            for s in self.engine.repository.trigger_states()
        }
        for armed in self.armed():
            state = states.get(armed.key)
            if state is not None and state.disabled:
                continue
            last = state.last_date if state else None
            if isinstance(armed.trigger, ScheduleTrigger):
                self._schedule(armed, last, now)
            elif isinstance(armed.trigger, ExecutionTrigger):
                self._upstream(armed, last, now)
            elif isinstance(armed.trigger, PollingTrigger):
                self._poll(armed, last, now)

    # -- which triggers ----------------------------------------------------------------------

    def armed(self) -> list[ArmedTrigger]:
        """Every enabled trigger of the latest revision of every stored flow (the scheduler's
        thread and request threads ask at once: the cache is read under a lock). The flows are
        read again only when the repository's flows stamp changed (a flow saved or deleted,
        by this server or another process): each tick costs one small query."""
        repository = self.engine.repository
        stamp = repository.flows_stamp()  # before the flows: a change meanwhile shows next tick
        with self._cache_lock:
            if stamp != self._stamp:
                self._found = self._rearm(repository.list_flows())
                self._stamp = stamp
            return list(self._found)

    def _rearm(self, stored_flows: list[StoredFlow]) -> list[ArmedTrigger]:
        """The triggers of ``stored_flows``; revisions armed before are reused (called under
        the cache lock)."""
        found: list[ArmedTrigger] = []
        current = set()
        for stored in stored_flows:
            key = (stored.namespace, stored.flow_id, stored.revision)
            current.add(key)
            if key not in self._armed:
                self._armed[key] = self._arm(stored)
            found += self._armed[key]
        for gone in self._armed.keys() - current:  # older revisions, deleted flows
            del self._armed[gone]
        return found

    def _arm(self, stored: StoredFlow) -> list[ArmedTrigger]:
        """The triggers of one stored revision, read once (revisions never change)."""
        try:
            flow = self.runtime.stored_flow(stored)
        except PlaitError as exc:  # stored before a plugin went away, say
            log.warning("flow %s.%s is not valid: %s", stored.namespace, stored.flow_id, exc)
            return []
        armed = []
        for definition in [] if flow.disabled else flow.triggers:  # Kestra arms none either
            cls = self.engine.registry.trigger_types.get(definition.type)
            if definition.disabled or cls is None:
                continue
            props = cls.Properties.model_validate(definition.properties)
            armed.append(ArmedTrigger(flow, definition, cls(), props))
        return armed

    def webhook(self, namespace: str, flow_id: str, key: str) -> ArmedTrigger | None:
        """The webhook trigger of a flow whose key is ``key`` (compared in constant time)."""
        states = {
            s.trigger_id: s
            for s in self.engine.repository.trigger_states(namespace)
            if s.flow_id == flow_id
        }
        found = None
        for armed in self.armed():
            if (armed.flow.namespace, armed.flow.id) != (namespace, flow_id):
                continue
            if not isinstance(armed.trigger, WebhookTrigger):
                continue
            state = states.get(armed.definition.id)
            expected = self._webhook_key(armed, armed.trigger)
            if (
                expected
                and hmac.compare_digest(key.encode(), expected.encode())
                and not (state and state.disabled)
            ):
                found = armed
        return found

    def _webhook_key(self, armed: ArmedTrigger, trigger: WebhookTrigger[Any]) -> str | None:
        """The webhook's key rendered now, as Kestra does on each request (``{{ flow.id }}``,
        ``{{ secret('KEY') }}``); None, and the webhook ignored, when it does not render."""
        try:
            key = render_for_trigger(self.engine, armed.flow, trigger.key(armed.props))
        except PlaitError as exc:
            log.warning(
                "the key of webhook %s of %s.%s does not render; the webhook is ignored: %s",
                armed.definition.id,
                armed.flow.namespace,
                armed.flow.id,
                exc,
            )
            return None
        return to_text(key).strip()

    # -- kinds -----------------------------------------------------------------------------

    def _claim(self, armed: ArmedTrigger, previous: str | None, date: str) -> bool:
        return self.engine.repository.claim_trigger(*armed.key, previous, date)

    def _schedule(self, armed: ArmedTrigger, last: str | None, now: dt.datetime) -> None:
        trigger: ScheduleTrigger[Any] = armed.trigger  # type: ignore[assignment]
        if last is None:  # first seen: from now on
            self._claim(armed, None, format_datetime(now))
            return
        dates = []
        cursor = parse_datetime(last)
        while len(dates) < MAX_DATES:
            following = trigger.next_date(armed.props, cursor)
            if following is None or following > now:
                break
            dates.append(following)
            cursor = following
        if not dates:
            return
        missed = [d for d in dates if d < self.started]
        current = [d for d in dates if d >= self.started]
        policy = trigger.recover_missed(armed.props)
        chosen = {"ALL": missed, "LAST": missed[-1:], "NONE": []}.get(policy, missed) + current
        if not self._claim(armed, last, format_datetime(dates[-1])):
            return  # another server fired them
        previous = parse_datetime(last)
        for date in chosen:
            following = trigger.next_date(armed.props, date)
            variables = {
                "date": _iso(date),
                "next": _iso(following) if following else None,
                "previous": _iso(previous),
            }
            self.fire(armed, variables)
            previous = date

    def _upstream(self, armed: ArmedTrigger, last: str | None, now: dt.datetime) -> None:
        trigger: ExecutionTrigger[Any] = armed.trigger  # type: ignore[assignment]
        if last is None:  # first seen: executions ending from now on
            self._claim(armed, None, format_datetime(now))
            return
        ended = self.engine.repository.ended_since(last)
        if not ended:
            return
        assert ended[-1].ended is not None
        if not self._claim(armed, last, format_datetime(ended[-1].ended)):
            return
        for execution in ended:
            if (execution.namespace, execution.flow_id) == (armed.flow.namespace, armed.flow.id):
                continue  # a flow never triggers itself
            seen = _ended(execution)
            if trigger.matches(armed.props, seen):
                self.fire(armed, _upstream_variables(execution))

    def _poll(self, armed: ArmedTrigger, last: str | None, now: dt.datetime) -> None:
        trigger: PollingTrigger[Any] = armed.trigger  # type: ignore[assignment]
        if last is not None and now - parse_datetime(last) < trigger.interval(armed.props):
            return
        if not self._claim(armed, last, format_datetime(now)):
            return
        variables = trigger.poll(armed.props)
        if variables is not None:
            self.fire(armed, dict(variables))

    # -- firing ----------------------------------------------------------------------------

    def fire(self, armed: ArmedTrigger, variables: Mapping[str, Any]) -> Execution | None:
        """Start an execution of the trigger's flow, its inputs rendered with ``trigger``."""
        definition = armed.definition
        try:
            inputs = self.engine.expressions.render_value(
                armed.props.inputs or {}, {"trigger": variables}
            )
            run = self.engine.prepare(armed.flow, inputs)
        except PlaitError as exc:
            log.warning(
                "trigger %s of %s.%s could not start an execution: %s",
                definition.id,
                armed.flow.namespace,
                armed.flow.id,
                exc,
            )
            return None
        run.execution.trigger = {
            "id": definition.id,
            "type": armed.trigger.type,
            "variables": dict(variables),
        }
        return self.runtime.start(run)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _ended(execution: Execution) -> EndedExecution:
    return EndedExecution(
        id=execution.id,
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        state=str(execution.state),
        outputs=execution.outputs or {},
        labels=execution.labels,
    )


def _upstream_variables(execution: Execution) -> dict[str, Any]:
    return {
        "executionId": execution.id,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "flowRevision": execution.flow_revision,
        "state": str(execution.state),
        "outputs": execution.outputs or {},
        "executionLabels": execution.labels,
    }
