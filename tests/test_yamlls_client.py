"""Tests of tests/support/yamlls.py against the real yaml-language-server.

A small hand-written JSON Schema is bound to each document with the modeline
``# yaml-language-server: $schema=...``. Nothing here is skipped: without Node.js
the server fixture fails with a clear message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.yamlls import (
    REPO_ROOT,
    Document,
    Position,
    YamlLanguageServer,
    YamlLanguageServerError,
    completion_labels,
    ensure_server,
    hover_text,
    position_of,
    strip_cursor,
)

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "properties": {
        "id": {"type": "string", "description": "Identifier of the flow."},
        "type": {"enum": ["alpha", "beta"], "description": "Kind of the thing."},
        "nested": {
            "type": "object",
            "description": "A nested object.",
            "additionalProperties": False,
            "properties": {
                "count": {"type": "integer", "description": "How many."},
                "label": {"type": "string", "markdownDescription": "A **label**."},
            },
        },
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[YamlLanguageServer]:
    with YamlLanguageServer.start(tmp_path_factory.mktemp("yamlls-root")) as srv:
        yield srv


@pytest.fixture()
def schema_path(tmp_path: Path) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    return path


def flow(schema_ref: str | Path, body: str) -> str:
    return f"# yaml-language-server: $schema={schema_ref}\n{body}"


def open_doc(
    server: YamlLanguageServer, schema_path: Path, body: str, name: str = "doc.yaml"
) -> Document:
    # Relative modeline reference: resolved against the document's folder.
    return server.open(schema_path.parent / name, flow("./schema.json", body))


# ------------------------------------------------------------------ pure helpers


def test_strip_cursor_and_position_of() -> None:
    text, pos = strip_cursor("a: 1\nb: |\n")
    assert text == "a: 1\nb: \n"
    assert pos == Position(1, 3)
    assert position_of(text, "b") == Position(1, 0)
    assert position_of(text, "b:", end=True) == Position(1, 2)
    assert position_of("x\nx\nx", "x", 3) == Position(2, 0)
    # characters are UTF-16 code units, as LSP requires
    assert position_of("k: 😀 z", "z") == Position(0, 6)
    with pytest.raises(ValueError, match="exactly once"):
        strip_cursor("script: |\n  echo |")
    assert strip_cursor("script: |\n  echo <|>", marker="<|>")[1] == Position(1, 7)
    with pytest.raises(ValueError):
        position_of(text, "nope")


def test_missing_node_fails_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PLAIT_YAMLLS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(YamlLanguageServerError, match="node"):
        ensure_server()


# ------------------------------------------------------------------ real server


def test_server_is_the_pinned_version(server: YamlLanguageServer) -> None:
    package = json.loads(
        (REPO_ROOT / "tools" / "yamlls" / "package.json").read_text(encoding="utf-8")
    )
    assert server.server_info.get("name") == "yaml-language-server"
    assert server.server_info.get("version") == package["dependencies"]["yaml-language-server"]
    assert server.capabilities.get("completionProvider") is not None
    assert os.path.isfile(ensure_server())


def test_completion_offers_enum_values(server: YamlLanguageServer, schema_path: Path) -> None:
    body, pos = strip_cursor("id: f\ntype: |\n")
    doc = open_doc(server, schema_path, body)
    items = server.completion(doc, pos.line + 1, pos.character)  # +1: modeline line
    assert sorted(completion_labels(items)) == ["alpha", "beta"]
    assert all(item.get("documentation") == "Kind of the thing." for item in items)


def test_completion_offers_property_names_with_descriptions(
    server: YamlLanguageServer, schema_path: Path
) -> None:
    text, pos = strip_cursor(flow(schema_path, "id: f\n|\n"))  # absolute path in the modeline
    doc = server.open(schema_path.parent / "props.yaml", text)
    items = {item["label"]: item for item in server.completion(doc, pos)}
    # `id` is already present, so it is not offered again
    assert set(items) == {"type", "nested"}
    assert items["type"]["documentation"] == "Kind of the thing."
    assert items["nested"]["documentation"] == "A nested object."


def test_completion_in_nested_object(server: YamlLanguageServer, schema_path: Path) -> None:
    text, pos = strip_cursor(
        flow(schema_path.as_uri(), "id: f\nnested:\n  count: 1\n  |\n")
    )  # file:// URI
    doc = server.open(schema_path.parent / "nested.yaml", text)
    items = {item["label"]: item for item in server.completion(doc, *pos)}
    assert set(items) == {"label"}
    documentation = items["label"]["documentation"]
    assert documentation == {"kind": "markdown", "value": "A **label**."}


def test_unknown_property_is_reported_on_its_line(
    server: YamlLanguageServer, schema_path: Path
) -> None:
    doc = open_doc(
        server, schema_path, "id: f\ntype: alpha\nnested:\n  count: 2\n  colour: red\nbogus: 1\n"
    )
    diags = server.diagnostics(doc)
    by_line = {d["range"]["start"]["line"]: d["message"] for d in diags}
    assert by_line == {
        doc.position_of("colour").line: "Property colour is not allowed.",
        doc.position_of("bogus").line: "Property bogus is not allowed.",
    }
    bogus = next(d for d in diags if "bogus" in d["message"])
    assert bogus["range"]["start"] == doc.position_of("bogus").to_lsp()
    assert bogus["range"]["end"] == doc.position_of("bogus", end=True).to_lsp()
    assert bogus["source"].startswith("yaml-schema:")


def test_valid_document_has_no_diagnostics(server: YamlLanguageServer, schema_path: Path) -> None:
    doc = open_doc(server, schema_path, "id: f\ntype: beta\nnested:\n  count: 3\n  label: x\n")
    assert server.diagnostics(doc) == []


def test_wrong_enum_value_and_missing_required(
    server: YamlLanguageServer, schema_path: Path
) -> None:
    doc = open_doc(server, schema_path, "type: gamma\n")
    messages = sorted(d["message"] for d in server.diagnostics(doc))
    assert messages == [
        'Missing property "id".',
        'Value is not accepted. Valid values: "alpha", "beta".',
    ]


def test_change_revalidates(server: YamlLanguageServer, schema_path: Path) -> None:
    doc = open_doc(server, schema_path, "id: f\nbogus: 1\n")
    assert [d["message"] for d in server.diagnostics(doc)] == ["Property bogus is not allowed."]
    doc = server.change(doc, flow("./schema.json", "id: f\n"))
    assert doc.version == 2
    assert server.diagnostics(doc) == []


def test_hover_shows_description(server: YamlLanguageServer, schema_path: Path) -> None:
    doc = open_doc(server, schema_path, "id: f\ntype: alpha\n")
    hover = server.hover(doc, doc.position_of("type"))
    assert hover is not None
    assert "Kind of the thing." in hover_text(hover)


def test_schema_file_change_is_picked_up(server: YamlLanguageServer, schema_path: Path) -> None:
    doc = open_doc(server, schema_path, "id: f\nextra: 1\n")
    assert len(server.diagnostics(doc)) == 1
    relaxed = dict(SCHEMA, additionalProperties=True)
    schema_path.write_text(json.dumps(relaxed), encoding="utf-8")
    server.files_changed(schema_path)  # drops the server's cached schema and revalidates
    assert server.diagnostics(doc, until=lambda diags: diags == []) == []


def test_close_is_clean_and_idempotent(tmp_path: Path) -> None:
    server = YamlLanguageServer.start(tmp_path)
    with server:
        assert server.returncode is None
    assert server.returncode == 0
    server.close()
    with pytest.raises(YamlLanguageServerError):
        server.request("shutdown", None)
