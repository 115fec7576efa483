"""A flow marked ``disabled: true``, end to end: ``plait run`` refuses it (exit 2, nothing
run), a real ``plait server`` answers its execute endpoint 409 and never fires its triggers
while an enabled twin's fire. Kestra: ExecutionController.create throws "Cannot execute a
disabled flow" (an IllegalStateException, which its ErrorController answers 409 CONFLICT);
AbstractScheduler keeps only flows that are not disabled when it collects triggers."""

from __future__ import annotations

import time
from pathlib import Path

from support.server import running_server
from test_server_triggers import API, deploy, executions, poll

TICKER = """\
id: {flow_id}
namespace: disabled.flows
{disabled}tasks:
  - id: tick
    type: plait.core.Log
    message: "tick of {{{{ flow.id }}}}"
triggers:
  - id: every_second
    type: plait.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
"""


def test_plait_run_refuses_a_disabled_flow(cli, write_flow) -> None:
    flow = write_flow(TICKER.format(flow_id="off", disabled="disabled: true\n"))
    done = cli("run", str(flow))
    assert done.code == 2
    assert f"{flow}:3:11: flow 'disabled.flows.off' is disabled" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli("executions", "list", "--json").json() == []
    enabled = write_flow(TICKER.format(flow_id="on", disabled="disabled: false\n"), "on.yml")
    assert cli("run", str(enabled)).code == 0


def test_the_server_refuses_to_execute_it_and_never_fires_its_triggers(tmp_path: Path) -> None:
    with running_server(tmp_path / "home") as server:
        api = server.client
        deploy(api, TICKER.format(flow_id="off", disabled="disabled: true\n"))
        deploy(api, TICKER.format(flow_id="on", disabled=""))
        refused = api.post(f"{API}/executions/disabled.flows/off")
        assert refused.status_code == 409, refused.text
        assert "is disabled" in refused.json()["message"]
        poll("the enabled twin fires", lambda: len(executions(api, "disabled.flows", "on")) >= 2)
        time.sleep(1.5)  # more ticks of the scheduler, which would have fired the disabled one
        assert executions(api, "disabled.flows", "off") == []
        started = api.post(f"{API}/executions/disabled.flows/on")
        assert started.status_code == 200, started.text
