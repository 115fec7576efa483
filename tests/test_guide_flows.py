"""The user guide's three flows, unmodified, end to end through `plait run` in a subprocess:
the two Docker flows against the real engine, the PROCESS flow on the host. The final table is
checked against an independent computation over the served data set."""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from support.dummyjson import dummyjson_standin, products_api

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO.parent / "shared" / "reference" / "kestra-outputs-guide.md"
COPIES = REPO / "core" / "tests" / "data" / "flows"
FLOWS = {
    "output": "guide_getting_started_output.yml",
    "docker": "guide_getting_started.yml",
    "process": "guide_getting_started_process.yml",
}


def _guide_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_flow_copies_are_the_guide_flows_verbatim():
    if not GUIDE.exists():
        pytest.skip(f"the guide is not beside this checkout ({GUIDE})")
    blocks = _guide_blocks()
    assert [(COPIES / name).read_text() for name in FLOWS.values()] == blocks


def expected_table() -> list[tuple[str | None, float]]:
    """avg(price) by brand, rounded to 2 places, highest first: computed without DuckDB."""
    prices: dict[str | None, list[float]] = defaultdict(list)
    for product in products_api().load_products():
        prices[product.get("brand")].append(product["price"])
    rows = [(brand, round(sum(p) / len(p), 2)) for brand, p in prices.items()]
    return sorted(rows, key=lambda row: row[1], reverse=True)


def check_result(cli, doc: dict[str, Any]) -> None:
    assert doc["state"]["current"] == "SUCCESS", doc
    runs = {run["taskId"]: run for run in doc["taskRunList"]}
    assert runs["api"]["outputs"]["code"] == 200
    csv_uri = runs["python"]["outputs"]["outputFiles"]["products.csv"]
    header = cli("storage", "get", csv_uri).stdout.splitlines()[0]
    assert header == "brand,price"
    stored = cli("storage", "get", runs["sqlQuery"]["outputs"]["uri"])
    assert stored.code == 0, stored.stderr
    rows = [json.loads(line) for line in stored.stdout.splitlines() if line.strip()]
    assert runs["sqlQuery"]["outputs"]["size"] == len(rows)
    got = [(row["brand"], row["avg_price"]) for row in rows]
    want = expected_table()
    assert [brand for brand, _ in got] == [brand for brand, _ in want]
    assert [price for _, price in got] == pytest.approx([price for _, price in want])


@pytest.fixture(scope="session")
def docker_engine() -> None:
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "ensure-docker.sh")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _run(cli, name: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = cli("run", str(COPIES / FLOWS[name]), *args, "--json", env=env, timeout=900)
    assert done.code == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.json()


def test_process_runner_flow(cli):
    with products_api().serve_products() as base_url:
        doc = _run(cli, "process", "-i", f"api_url={base_url}/products")
    check_result(cli, doc)


@pytest.mark.docker
def test_docker_flow_with_input(cli, docker_engine):
    with products_api().serve_products() as base_url:
        doc = _run(cli, "output", "-i", f"api_url={base_url}/products")
    assert doc["state"]["current"] == "SUCCESS", doc
    runs = {run["taskId"]: run for run in doc["taskRunList"]}
    assert set(runs["python"]["outputs"]["outputFiles"]) == {"products.csv"}
    header = cli("storage", "get", runs["python"]["outputs"]["outputFiles"]["products.csv"])
    assert header.stdout.splitlines()[0] == "brand,price"
    assert len(header.stdout.splitlines()) == 1 + len(products_api().load_products())


@pytest.mark.docker
def test_docker_flow_with_hard_coded_dummyjson(cli, docker_engine, tmp_path):
    with dummyjson_standin(tmp_path) as standin:
        doc = _run(cli, "docker", env=standin.environment())
    check_result(cli, doc)
