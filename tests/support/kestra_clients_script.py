"""Runs in a virtual environment holding Kestra's own Python clients (``kestrapy``, ``kestra``)
and nothing of plait: drives a plait server through those clients only, then prints one JSON
document of what they answered, for ``tests/test_kestra_clients_e2e.py`` to check.

    python kestra_clients_script.py CONFIG_JSON

CONFIG_JSON: ``{"url", "user", "password", "token", "flow_file", "api_url"}``.

Besides the clients' answers, the raw JSON of each answer is validated strictly against the
client's own model (``Model.from_dict``): the clients fall back to a lenient construction when
that fails, which would hide a missing required field. The only failures ignored are the
``getDuration``/``getStartDate``/``getEndDate`` fields kestrapy's models require on every
``State``: Kestra's OpenAPI document lists those Java getters by mistake, Kestra's server never
sends them (it sends ``duration``, ``startDate``, ``endDate``), so no server could.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any

import requests
from pydantic import ValidationError

TENANT = "main"
SPEC_ONLY_FIELDS = {"getDuration", "getStartDate", "getEndDate"}
"""Required by kestrapy's ``State`` model, sent by no Kestra server."""


def strict_problems(model: Any, raw: Any) -> list[str]:
    """Why ``raw`` is not a valid ``model`` (besides the spec-only State fields)."""
    try:
        model.from_dict(raw)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            if SPEC_ONLY_FIELDS & {str(part) for part in item["loc"]}:
                continue
            location = ".".join(str(part) for part in item["loc"])
            problems.append(f"{model.__name__} ({exc.title}.{location}): {item['msg']}")
        return problems
    except Exception as exc:  # not a pydantic error: report it as it is
        return [f"{model.__name__}: {type(exc).__name__}: {exc}"]
    return []


def value(item: Any) -> Any:
    """An enum's value, anything else as it is."""
    return getattr(item, "value", item)


def outputs(run: Any) -> dict[str, Any]:
    """A task run's outputs: kestrapy's TaskRun model declares no ``outputs`` field, so they
    are among the model's additional properties."""
    return run.additional_properties.get("outputs") or {}


def main() -> dict[str, Any]:
    config = json.loads(sys.argv[1])
    from kestrapy import KestraClient
    from kestrapy.models import (
        Execution,
        ExecutionControllerEvalResult,
        ExecutionControllerExecutionResponse,
        FileMetas,
        FlowWithSource,
        LogEntry,
    )

    report: dict[str, Any] = {"strict": {}}
    client = KestraClient(
        host=config["url"], username=config["user"], password=config["password"], timeout=600
    )
    raw = requests.Session()
    raw.auth = (config["user"], config["password"])
    api = f"{config['url']}/api/v1/{TENANT}"

    def strict(name: str, model: Any, path: str, **kwargs: Any) -> None:
        answer = raw.get(api + path, timeout=60, **kwargs)
        answer.raise_for_status()
        document = answer.json()
        items = document if isinstance(document, list) else [document]
        report["strict"][name] = [p for item in items for p in strict_problems(model, item)]

    # Deploy the guide's flow, then read it back.
    with open(config["flow_file"], encoding="utf-8") as handle:
        source = handle.read()
    created = client.flows.create_flow(TENANT, source)
    report["created"] = {
        "type": type(created).__name__,
        "id": created.id,
        "namespace": created.namespace,
        "revision": created.revision,
        "tasks": [task.id for task in created.tasks or []],
    }
    namespace, flow_id = created.namespace, created.id
    fetched = client.flows.flow(namespace, flow_id, TENANT)
    report["fetched"] = {
        "revision": fetched.revision,
        "source_matches": fetched.source == source,
        "disabled": fetched.disabled,
        "deleted": fetched.deleted,
    }
    strict("flow", FlowWithSource, f"/flows/{namespace}/{flow_id}")

    # Execute with an input and a label, waiting for the end (kestrapy's ``wait``).
    started = time.monotonic()
    response = client.executions.create_execution(
        TENANT,
        namespace,
        flow_id,
        wait=True,
        labels=["client:kestrapy"],
        inputs={"api_url": config["api_url"]},
    )
    execution_id = response.id
    report["executed"] = {
        "type": type(response).__name__,
        "id": execution_id,
        "state": value(response.state.current),
        "url": response.url,
        "labels": {label.key: label.value for label in response.labels or []},
        "seconds": round(time.monotonic() - started, 1),
    }

    execution = client.executions.execution(execution_id, TENANT)
    runs = {run.task_id: run for run in execution.task_run_list or []}
    report["execution"] = {
        "type": type(execution).__name__,
        "state": value(execution.state.current),
        "flowRevision": execution.flow_revision,
        "inputs": execution.inputs,
        "task_runs": {
            task_id: {
                "id": run.id,
                "executionId": run.execution_id,
                "namespace": run.namespace,
                "flowId": run.flow_id,
                "state": value(run.state.current),
                "attempts": len(run.attempts or []),
            }
            for task_id, run in runs.items()
        },
        "sql_outputs": outputs(runs["sqlQuery"]),
        "csv_uri": outputs(runs["python"]).get("outputFiles", {}).get("products.csv"),
    }
    strict("execution", Execution, f"/executions/{execution_id}")
    # The raw answer to a create (without waiting), checked strictly; then followed to its end
    # through kestrapy's follow: progress events while it runs, then its last state.
    answer = raw.post(
        f"{api}/executions/{namespace}/{flow_id}",
        files={"api_url": (None, config["api_url"])},
        timeout=60,
    ).json()
    report["strict"]["create_execution"] = strict_problems(
        ExecutionControllerExecutionResponse, answer
    )
    report["followed_running"] = [
        value(event.state.current)
        for event in client.executions.follow_execution(answer["id"], TENANT)
    ]

    # Searches with Kestra's filters.
    from kestrapy.models import QueryFilter, QueryFilterField, QueryFilterOp

    def equals(field: Any, wanted: str) -> Any:
        return QueryFilter(field=field, operation=QueryFilterOp.EQUALS, value=wanted)

    flows = client.flows.search_flows(
        TENANT, page=1, size=10, filters=[equals(QueryFilterField.NAMESPACE, namespace)]
    )
    elsewhere = client.flows.search_flows(
        TENANT, filters=[equals(QueryFilterField.NAMESPACE, "no.such.namespace")]
    )
    executions = client.executions.search_executions(
        TENANT,
        page=1,
        size=10,
        filters=[
            equals(QueryFilterField.FLOW_ID, flow_id),
            QueryFilter(
                field=QueryFilterField.STATE, operation=QueryFilterOp.IN, value=["SUCCESS"]
            ),
        ],
    )
    report["search"] = {
        "flows": [(flow.namespace, flow.id) for flow in flows.results or []],
        "flows_total": flows.total,
        "flows_elsewhere": elsewhere.total,
        "executions": [item["id"] for item in executions["results"]],
    }

    # The stored result: preview, metadata, download.
    uri = outputs(runs["sqlQuery"])["uri"]
    preview = client.executions.preview_file_from_execution(execution_id, uri, TENANT, max_rows=3)
    report["preview"] = preview
    metas = client.executions.file_metadatas_from_execution(execution_id, uri, TENANT)
    report["metas"] = {"type": type(metas).__name__, "size": metas.size}
    strict("file_metas", FileMetas, f"/executions/{execution_id}/file/metas", params={"path": uri})
    content = client.executions.download_file_from_execution(execution_id, uri, TENANT)
    report["download"] = {"bytes": len(content), "text": content.decode("utf-8")}
    csv = client.executions.download_file_from_execution(
        execution_id, report["execution"]["csv_uri"], TENANT
    )
    report["csv_header"] = csv.decode("utf-8").splitlines()[0]

    # Expressions evaluated as a task run saw them.
    sql_run = runs["sqlQuery"].id
    evaluated = client.executions.eval_task_run_expression(
        execution_id, sql_run, TENANT, "{{ outputs.sqlQuery.size }} rows from {{ inputs.api_url }}"
    )
    failed = client.executions.eval_task_run_expression(
        execution_id, sql_run, TENANT, "{{ outputs.nope.size }}"
    )
    on_execution = client.executions.eval_expression(
        execution_id, TENANT, "{{ execution.id }} {{ outputs.sqlQuery.size }}"
    )
    report["eval"] = {
        "execution_level": on_execution,
        "type": type(evaluated).__name__,
        "result": evaluated.result,
        "error": evaluated.error,
        "failed_result": failed.result,
        "failed_error": failed.error,
    }
    answer = raw.post(
        f"{api}/executions/{execution_id}/actions/eval/{sql_run}",
        data="{{ taskrun.id }}",
        headers={"Content-Type": "text/plain"},
    )
    report["strict"]["eval"] = strict_problems(ExecutionControllerEvalResult, answer.json())

    # Logs: the lines, one task's lines, the text download.
    logs = client.logs.list_logs_from_execution(execution_id, TENANT)
    report["logs"] = {
        "type": type(logs[0]).__name__ if logs else None,
        "count": len(logs),
        "task_ids": sorted({entry.task_id for entry in logs if entry.task_id}),
        "levels": sorted({value(entry.level) for entry in logs}),
        "execution_ids": sorted({entry.execution_id for entry in logs}),
        "python_only": sorted(
            {
                entry.task_id
                for entry in client.logs.list_logs_from_execution(
                    execution_id, TENANT, task_id="python"
                )
            }
        ),
    }
    strict("logs", LogEntry, f"/logs/{execution_id}")
    text = client.logs.download_logs_from_execution(execution_id, TENANT)
    report["logs_download"] = {"lines": len(text.splitlines()), "mentions_python": "python" in text}

    # Follow a finished execution: its last state, then the stream ends.
    followed = list(client.executions.follow_execution(execution_id, TENANT))
    report["follow"] = [value(event.state.current) for event in followed]

    # The `kestra` library: Flow().execute polls the execution and downloads its logs.
    os.environ["KESTRA_HOSTNAME"] = config["url"]
    os.environ["KESTRA_API_TOKEN"] = config["token"]
    from kestra import Flow

    flow = Flow(poll_interval=1)
    result = flow.execute(namespace, flow_id, {"api_url": config["api_url"]})
    report["kestra_flow"] = {
        "execution_id": result.execution_id,
        "status": result.status,
        "error": result.error,
        "log_lines": len((result.log or "").splitlines()),
        "log_mentions_sqlQuery": "sqlQuery" in (result.log or ""),
    }
    tenant_flow = Flow(tenant=TENANT)
    report["kestra_flow_tenant"] = {
        "status": tenant_flow.check_status(result.execution_id).json()["state"]["current"],
        "logs": len(tenant_flow.get_logs(result.execution_id).text.splitlines()),
    }
    # Its labels_from_inputs form: each input also becomes a label.
    labelled = Flow(labels_from_inputs=True, wait_for_completion=False)
    fired = labelled.execute(namespace, flow_id, {"api_url": config["api_url"]})
    report["kestra_flow_labels"] = {"status": fired.status, "execution_id": fired.execution_id}
    last = list(client.executions.follow_execution(fired.execution_id, TENANT))[-1]
    report["kestra_flow_labels"].update(
        labels={label.key: label.value for label in last.labels or []},
        state=value(last.state.current),
    )

    # Without credentials, kestrapy's error for a 401.
    from kestrapy.exceptions import UnauthorizedException

    try:
        KestraClient(host=config["url"]).flows.flow(namespace, flow_id, TENANT)
    except UnauthorizedException as exc:
        report["unauthenticated"] = exc.status
    else:
        report["unauthenticated"] = "accepted"
    return report


if __name__ == "__main__":
    try:
        print(json.dumps(main(), default=str))
    except Exception:
        traceback.print_exc()
        sys.exit(1)
