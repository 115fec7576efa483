"""`plait storage get` and `plait storage preview` on files a run produced."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from plait.preview import file_rows, json_text

FLOW = """\
id: store
namespace: dev
inputs:
  - id: notes
    type: FILE
tasks:
  - id: q
    type: plait.duckdb.Query
    sql: |
      SELECT * FROM (VALUES ('Acme', 1.5::DOUBLE), (NULL, 2.0), ('Zed', 3.25)) t(brand, price)
      ORDER BY price
    store: true
    storeFormat: {fmt}
"""


def _run(cli, write_flow, tmp_path, fmt: str) -> tuple[str, str]:
    notes = tmp_path / "notes.txt"
    notes.write_text("".join(f"line {i}\n" for i in range(30)))
    done = cli("run", str(write_flow(FLOW.format(fmt=fmt))), "-i", f"notes={notes}", "--json")
    assert done.code == 0, done.stderr
    doc = done.json()
    return doc["taskRunList"][0]["outputs"]["uri"], doc["inputs"]["notes"]


@pytest.mark.parametrize("fmt", ["JSONL", "CSV", "PARQUET"])
def test_preview_shows_row_formats_as_a_table(cli, write_flow, tmp_path, fmt):
    uri, _ = _run(cli, write_flow, tmp_path, fmt)
    done = cli("storage", "preview", uri)
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["brand", "price"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["Acme", "1.5"]
    # CSV has no null, only an empty cell
    assert lines[3].split() == (["2.0"] if fmt == "CSV" else ["null", "2.0"])
    assert lines[4].split() == ["Zed", "3.25"]
    limited = cli("storage", "preview", uri, "--rows", "1").stdout.splitlines()
    assert len(limited) == 4 and limited[-1] == "…"


def test_preview_of_text_and_download(cli, write_flow, tmp_path):
    _, notes_uri = _run(cli, write_flow, tmp_path, "JSONL")
    preview = cli("storage", "preview", notes_uri, "--rows", "3")
    assert preview.stdout.splitlines() == ["line 0", "line 1", "line 2", "…"]
    target = tmp_path / "copy.txt"
    got = cli("storage", "get", notes_uri, "-o", str(target))
    assert got.code == 0, got.stderr
    assert target.read_text() == (tmp_path / "notes.txt").read_text()


@pytest.mark.parametrize(
    "uri",
    [
        "plait:///dev/store/executions/../../../../etc/passwd",
        "plait:///dev/%2e%2e/%2e%2e/etc/passwd",
        "file:///etc/passwd",
        "plait:///dev/store/executions/nope/missing.txt",
    ],
)
def test_bad_or_unsafe_uris_are_refused_cleanly(cli, uri):
    done = cli("storage", "get", uri)
    assert done.code == 1
    assert "root:" not in done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error:")


def test_jsonl_preview_keeps_decimals_as_written(cli, write_flow, tmp_path):
    flow = write_flow(
        "id: d\nnamespace: dev\ntasks:\n  - id: s\n    type: plait.python.Script\n"
        "    runner: PROCESS\n    script: |\n"
        "      open('{{ outputDir }}/d.jsonl', 'w').write('{\"price\": 1.10}\\n')\n"
    )
    done = cli("run", str(flow), "--json")
    assert done.code == 0, done.stderr
    uri = done.json()["taskRunList"][0]["outputs"]["outputFiles"]["d.jsonl"]
    assert cli("storage", "preview", uri).stdout.splitlines()[2].strip() == "1.10"


def test_preview_json_keeps_parquet_decimals_as_exact_numbers(tmp_path):
    """What the server's preview answers: a DECIMAL column of a Parquet file is a JSON number
    written as stored (9.50), not a string and not a rounded float."""
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "prices.parquet"
    duckdb.sql(
        f"COPY (SELECT 9.50::DECIMAL(5,2) AS price, 'Acme' AS brand) TO '{path}' (FORMAT PARQUET)"
    )
    with path.open("rb") as stream:
        found = file_rows(str(path), stream, 10)
    assert found is not None
    text = json_text({"content": found[0]})
    assert text == '{"content":[{"price":9.50,"brand":"Acme"}]}'
    assert json.loads(text, parse_float=Decimal)["content"][0]["price"] == Decimal("9.50")
