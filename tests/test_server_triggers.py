"""Triggers firing under a real ``plait server`` process: a schedule with seconds (on time,
each date once across restarts, missed dates recovered or not as told), a Flow trigger passing
the upstream's outputs on, a webhook (open without credentials, 404 for a wrong key) and
disabling a trigger through the triggers API. Everything waits by polling, with timeouts."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from support.server import Server, running_server, wait_for

API = "/api/v1"
YAML = {"Content-Type": "application/x-yaml"}
TOKEN = "trigger-test-token"
AUTH = {"PLAIT_SERVER_TOKENS": TOKEN}
BEARER = {"Authorization": f"Bearer {TOKEN}"}
TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"}

EVERY_2S = """\
id: every2_{policy_lower}
namespace: triggers.schedule
tasks:
  - id: date
    type: plait.core.Return
    format: "{{{{ trigger.date }}}}"
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "*/2 * * * * *"
    withSeconds: true
    recoverMissedSchedules: {policy}
"""


def schedule_flow(policy: str) -> str:
    return EVERY_2S.format(policy=policy, policy_lower=policy.lower())


def deploy(client: httpx.Client, source: str) -> None:
    response = client.post(f"{API}/flows", content=source, headers=YAML)
    assert response.status_code == 200, response.text


def executions(client: httpx.Client, namespace: str, flow_id: str) -> list[dict[str, Any]]:
    response = client.get(
        f"{API}/executions/search",
        params={"namespace": namespace, "flowId": flow_id, "size": 1000},
    )
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["total"] == len(found["results"])
    return list(found["results"])


def poll(what: str, check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """``check()`` once it is truthy; fail saying ``what`` did not happen within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.1)


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fired_dates(found: list[dict[str, Any]]) -> list[dt.datetime]:
    return [instant(e["trigger"]["variables"]["date"]) for e in found]


# ------------------------------------------------------------------ Schedule


def test_a_schedule_fires_on_time_once_per_date_across_restarts_and_recovers_as_told(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    flows = {"ALL": "every2_all", "NONE": "every2_none"}
    # when each server surely ran its scheduler: from /health answering to SIGTERM
    up: list[tuple[dt.datetime, dt.datetime]] = []

    def fired(client: httpx.Client, policy: str) -> list[dict[str, Any]]:
        return executions(client, "triggers.schedule", flows[policy])

    def run_until_new_dates(server: Server, count: int) -> None:
        """Keep ``server`` up until both flows have ``count`` dates it fired on time."""
        started = now()
        for policy in flows:
            poll(
                f"{count} on-time dates of {flows[policy]} on {server.url}",
                lambda policy=policy: (
                    len([d for d in fired_dates(fired(server.client, policy)) if d > started])
                    >= count
                ),
            )

    with running_server(home) as first:
        up_since = now()
        for policy in flows:
            deploy(first.client, schedule_flow(policy))
        run_until_new_dates(first, 2)
        first_stop = now()
    up.append((up_since, first_stop))

    time.sleep(1)  # a quick restart: nothing fires twice
    with running_server(home) as second:
        up_since = now()
        run_until_new_dates(second, 2)
        second_stop = now()
    up.append((up_since, second_stop))

    time.sleep(5)  # a longer stop: missed dates, recovered (ALL) or not (NONE)
    third_spawned = now()
    with running_server(home) as third:
        up_since = now()
        run_until_new_dates(third, 1)
        # the executions of recovered dates started at once: let every execution end
        for policy in flows:
            poll(
                f"every execution of {flows[policy]} ends",
                lambda policy=policy: all(
                    e["state"]["current"] in TERMINAL for e in fired(third.client, policy)
                ),
            )
        found = {policy: fired(third.client, policy) for policy in flows}
        third_stop = now()
    up.append((up_since, third_stop))

    for policy, runs in found.items():
        dates = fired_dates(runs)
        assert len(dates) == len(set(dates)), f"{policy}: a date fired twice: {sorted(dates)}"
        for execution, date in zip(runs, dates, strict=True):
            assert date.microsecond == 0 and date.second % 2 == 0, date
            assert execution["trigger"]["id"] == "tick"
            assert execution["trigger"]["type"] == "plait.core.trigger.Schedule"
            assert execution["state"]["current"] == "SUCCESS", execution["state"]
            (run,) = execution["taskRunList"]
            assert instant(run["outputs"]["value"]) == date  # {{ trigger.date }}
            start = instant(execution["state"]["startDate"])
            if any(since <= date <= stop for since, stop in up):
                late = (start - date).total_seconds()
                assert -0.05 <= late <= 1.5, (policy, date, start)

    # the dates nobody could fire on time: after the second server stopped and before the
    # third one even existed
    missed_window = (second_stop + dt.timedelta(seconds=0.5), third_spawned)
    every_date = sorted(set(fired_dates(found["ALL"])))
    step = dt.timedelta(seconds=2)
    assert all(b - a == step for a, b in itertools.pairwise(every_date)), every_date
    recovered = [d for d in every_date if missed_window[0] <= d <= missed_window[1]]
    assert len(recovered) >= 2, (missed_window, every_date)
    skipped = [d for d in fired_dates(found["NONE"]) if missed_window[0] <= d <= missed_window[1]]
    assert skipped == [], (missed_window, skipped)


# ------------------------------------------------------------------ Flow, Webhook, disabling

UPSTREAM = """\
id: upstream
namespace: triggers.chain
tasks:
  - id: make
    type: plait.core.Return
    format: "made by {{ execution.id }}"
outputs:
  - id: y
    type: STRING
    value: "{{ outputs.make.value }}"
"""

DOWNSTREAM = """\
id: downstream
namespace: triggers.chain
inputs:
  - id: x
    type: STRING
tasks:
  - id: got
    type: plait.core.Return
    format: "{{ inputs.x }} ({{ trigger.flowId }}, {{ trigger.state }})"
triggers:
  - id: after_upstream
    type: io.kestra.plugin.core.trigger.Flow
    inputs:
      x: "{{ trigger.outputs.y }}"
    preconditions:
      flows:
        - namespace: triggers.chain
          flowId: upstream
          states: [SUCCESS]
"""

HOOKED = """\
id: hooked
namespace: triggers.hook
tasks:
  - id: greet
    type: plait.core.Return
    format: "hello {{ trigger.body.name }} ({{ trigger.parameters.source[0] }})"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: s3cr3t-hook-key
"""

TICKER = """\
id: ticker
namespace: triggers.disable
tasks:
  - id: tick
    type: plait.core.Log
    message: "{{ trigger.date }}"
triggers:
  - id: every_second
    type: plait.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
"""


def trigger_row(client: httpx.Client, namespace: str, trigger_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/triggers/search", params={"namespace": namespace})
    assert response.status_code == 200, response.text
    (row,) = [r for r in response.json()["results"] if r["triggerId"] == trigger_id]
    return dict(row)


def test_flow_webhook_and_disabled_triggers_on_a_server_with_tokens(tmp_path: Path) -> None:
    with running_server(tmp_path / "home", env=AUTH, headers=BEARER) as server:
        api = server.client
        anonymous = httpx.Client(base_url=server.url, timeout=30)
        try:
            for source in (TICKER, UPSTREAM, DOWNSTREAM, HOOKED):
                deploy(api, source)

            # (d) a trigger that fires, then is disabled: it fires no more
            poll("the ticker fires", lambda: executions(api, "triggers.disable", "ticker"))
            disable = api.post(
                f"{API}/triggers/set-disabled/by-triggers",
                json={
                    "triggers": [
                        {
                            "namespace": "triggers.disable",
                            "flowId": "ticker",
                            "triggerId": "every_second",
                        }
                    ],
                    "disabled": True,
                },
            )
            assert disable.status_code == 200, disable.text
            row = trigger_row(api, "triggers.disable", "every_second")
            assert row["disabled"] is True
            assert row["type"] == "plait.core.trigger.Schedule"
            assert row["flowId"] == "ticker"
            time.sleep(0.6)  # a tick that had read the state before the change has ended
            ticks = len(executions(api, "triggers.disable", "ticker"))
            disabled_at = time.monotonic()

            # (c) the webhook: open without credentials, the rest is not
            assert anonymous.get(f"{API}/flows/search").status_code == 401
            assert anonymous.get(f"{API}/triggers/search").status_code == 401
            assert anonymous.post(f"{API}/flows", content=HOOKED, headers=YAML).status_code == 401
            hook = f"{API}/executions/webhook/triggers.hook/hooked"
            wrong = anonymous.post(f"{hook}/not-the-key", json={"name": "eve"})
            assert wrong.status_code == 404, wrong.text
            assert executions(api, "triggers.hook", "hooked") == []
            response = anonymous.post(
                f"{hook}/s3cr3t-hook-key", params={"source": "test"}, json={"name": "Ada"}
            )
            assert response.status_code == 200, response.text
            started = response.json()
            assert started["trigger"]["type"] == "plait.core.trigger.Webhook"
            assert started["trigger"]["variables"]["body"] == {"name": "Ada"}
            assert "authorization" not in started["trigger"]["variables"]["headers"]
            ended = wait_for(api, started["id"])
            assert ended["state"]["current"] == "SUCCESS", ended["state"]
            (greet,) = ended["taskRunList"]
            assert greet["outputs"]["value"] == "hello Ada (test)"
            assert anonymous.get(f"{hook}/s3cr3t-hook-keyX").status_code == 404
            assert [e["id"] for e in executions(api, "triggers.hook", "hooked")] == [started["id"]]

            # (b) a Flow trigger passes the upstream's flow outputs on as inputs; it fires for
            # executions ending once the scheduler has seen it (its state then has a date)
            poll(
                "the Flow trigger is armed",
                lambda: trigger_row(api, "triggers.chain", "after_upstream")["date"],
            )
            upstream = api.post(
                f"{API}/executions/triggers.chain/upstream", params={"wait": "true"}
            )
            assert upstream.status_code == 200, upstream.text
            upstream_run = wait_for(api, upstream.json()["id"])
            assert upstream_run["state"]["current"] == "SUCCESS", upstream_run["state"]
            made = f"made by {upstream_run['id']}"
            assert upstream_run["outputs"] == {"y": made}
            (downstream,) = poll(
                "the downstream flow runs",
                lambda: executions(api, "triggers.chain", "downstream"),
            )
            downstream = wait_for(api, downstream["id"])
            assert downstream["state"]["current"] == "SUCCESS", downstream["state"]
            assert downstream["inputs"] == {"x": made}
            assert downstream["trigger"]["id"] == "after_upstream"
            assert downstream["trigger"]["type"] == "plait.core.trigger.Flow"
            assert downstream["trigger"]["variables"]["executionId"] == upstream_run["id"]
            (got,) = downstream["taskRunList"]
            assert got["outputs"]["value"] == f"{made} (upstream, SUCCESS)"
            assert len(executions(api, "triggers.chain", "upstream")) == 1  # no loop back

            # (d) continued: two more dates have come and gone, and nothing fired
            time.sleep(max(0.0, 2.2 - (time.monotonic() - disabled_at)))
            assert len(executions(api, "triggers.disable", "ticker")) == ticks
        finally:
            anonymous.close()


# ------------------------------------------------------------------ Webhook keys and request


def kestra_webhook(flow_id: str, key: str) -> str:
    """Kestra's webhook test flows (flows/valids/webhook*.yaml): only the key differs."""
    return f"""\
id: {flow_id}
namespace: io.kestra.tests
tasks:
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ trigger | json }}}}"
triggers:
  - id: webhook
    type: io.kestra.plugin.core.trigger.Webhook
    key: "{key}"
"""


KESTRA_WEBHOOKS = {
    "webhook": "a-secret-key",
    "webhook-dynamic-key": "{{ flow.id }}",
    "webhook-secret-key": "{{ secret('WEBHOOK_KEY') }}",
    "webhook-missing-secret": "{{ secret('NO_SUCH_WEBHOOK_SECRET') }}",
}


def test_webhook_keys_render_and_the_request_maps_to_lists_as_in_kestra(tmp_path: Path) -> None:
    """Kestra flows/valids/webhook.yaml, webhook-dynamic-key.yaml, webhook-secret-key.yaml and
    ExecutionControllerTest (webhook, webhookDynamicKey, webhookDynamicKeyFromASecret): the key
    is rendered on each request; ``parameters`` and ``headers`` map names to lists."""
    secret = {"SECRET_WEBHOOK_KEY": base64.b64encode(b"secretKey").decode()}
    with running_server(tmp_path / "home", env=secret) as server:
        api = server.client
        for flow_id, key in KESTRA_WEBHOOKS.items():
            deploy(api, kestra_webhook(flow_id, key))
        hook = f"{API}/executions/webhook/io.kestra.tests"

        dynamic = api.get(f"{hook}/webhook-dynamic-key/webhook-dynamic-key")
        assert dynamic.status_code == 200, dynamic.text
        assert api.get(f"{hook}/webhook-dynamic-key/{{{{ flow.id }}}}").status_code == 404
        from_secret = api.get(f"{hook}/webhook-secret-key/secretKey")
        assert from_secret.status_code == 200, from_secret.text
        assert api.get(f"{hook}/webhook-missing-secret/anything-at-all").status_code == 404
        assert "NO_SUCH_WEBHOOK_SECRET" in server.stderr()

        response = api.post(
            f"{hook}/webhook/a-secret-key?name=john&age=12&age=13",
            json={"a": 1, "b": True},
            headers=[("X-Twice", "one"), ("X-Twice", "two")],
        )
        assert response.status_code == 200, response.text
        variables = response.json()["trigger"]["variables"]
        assert variables["body"] == {"a": 1, "b": True}
        assert variables["parameters"] == {"name": ["john"], "age": ["12", "13"]}
        assert variables["headers"]["x-twice"] == ["one", "two"]
        assert variables["headers"]["content-type"] == ["application/json"]
        ended = wait_for(api, response.json()["id"])
        assert ended["state"]["current"] == "SUCCESS", ended["state"]
        (out,) = ended["taskRunList"]
        assert json.loads(out["outputs"]["value"])["parameters"]["age"] == ["12", "13"]
        for started in (dynamic, from_secret):
            assert wait_for(api, started.json()["id"])["state"]["current"] == "SUCCESS"
