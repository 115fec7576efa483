"""The KV store end to end: ``plait kv`` commands in subprocesses, flows reading what they set,
and Kestra's KV API on a real ``plait server``. Each test names the Kestra test it reproduces
(kestra-io/kestra: ``KvUpdateCommandTest``, ``KVControllerTest``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from plait.state.sqlite import SqliteRepository
from support.server import Server, running_server

NS = "io.kestra.cli"


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        # KvUpdateCommandTest.string / integer / integerStr / object / objectStr
        (["string", "stringValue"], '"stringValue"'),
        (["int", "1"], "1"),
        (["intStr", "1", "-t", "STRING"], '"1"'),
        (["object", '{"some":"json"}'], '{"some": "json"}'),
        (["objectStr", '{"some":"json"}', "--type", "STRING"], '"{\\"some\\":\\"json\\"}"'),
    ],
)
def test_kv_set_reads_the_value_as_kestras_command_does(cli, args: list[str], shown: str) -> None:
    done = cli("kv", "set", NS, *args)
    assert done.code == 0, done.stderr
    got = cli("kv", "get", NS, args[0], "--json")
    assert (got.code, got.stdout.strip()) == (0, shown)


def test_kv_set_from_a_file_then_a_flow_reads_it(cli, write_flow, tmp_path: Path) -> None:
    # KvUpdateCommandTest.fromFile; the value is the one kv() reads in a flow.
    value = tmp_path / "value.json"
    value.write_text('{"some": "json", "from": "file"}')
    assert cli("kv", "set", NS, "objectFromFile", "-f", str(value)).code == 0
    flow = write_flow(
        f"id: reader\nnamespace: {NS}\ntasks:\n  - id: r\n    type: plait.core.Return\n"
        "    format: \"{{ kv('objectFromFile').from }}\"\n"
    )
    done = cli("run", str(flow), "--json")
    assert done.code == 0, done.stderr
    assert done.json()["taskRunList"][0]["outputs"] == {"value": "file"}


def test_kv_get_prints_text_as_is_and_fails_on_a_missing_key(cli) -> None:
    cli("kv", "set", NS, "greeting", "hello world")
    shown = cli("kv", "get", NS, "greeting")
    assert (shown.code, shown.stdout) == (0, "hello world\n")
    missing = cli("kv", "get", NS, "nope")
    assert missing.code == 1
    assert missing.stderr == f"error: KV key 'nope' in namespace '{NS}' is not set\n"


def test_kv_list_and_delete(cli) -> None:
    cli("kv", "set", NS, "a", "1", "--ttl", "PT1H")
    cli("kv", "set", NS, "b", "2021-09-01")
    cli("kv", "set", "other", "c", "true")
    listed = cli("kv", "list", NS)
    assert listed.code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "KEY", "TYPE", "VALUE", "UPDATED", "EXPIRES"]
    assert [line.split()[:4] for line in lines[2:]] == [
        [NS, "a", "NUMBER", "1"],
        [NS, "b", "DATE", "2021-09-01"],
    ]
    assert lines[3].split()[-1] == "never" and lines[2].split()[-1] != "never"
    every = cli("kv", "list", "--json").json()
    assert [(e["namespace"], e["key"]) for e in every] == [(NS, "a"), (NS, "b"), ("other", "c")]
    assert cli("kv", "delete", NS, "a").code == 0
    again = cli("kv", "delete", NS, "a")
    assert again.code == 1 and "is not set" in again.stderr
    assert [e["key"] for e in cli("kv", "list", NS, "--json").json()] == ["b"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", NS, "bad$key", "1"], "invalid KV key"),
        (["get", NS, "bad$key"], "invalid KV key"),
        (["set", NS, "k", "abc", "-t", "NUMBER"], "is not a valid NUMBER"),
        (["set", NS, "k", "1", "--ttl", "1 hour"], "expected an ISO-8601 duration"),
        (["set", NS, "k"], "give a VALUE or --file-value"),
    ],
)
def test_kv_commands_refuse_invalid_input_with_exit_code_2(
    cli, args: list[str], message: str
) -> None:
    done = cli("kv", *args)
    assert done.code == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


# -- Kestra's KV API ---------------------------------------------------------------------------

API = f"/api/v1/namespaces/{NS}/kv"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("kv-server") / "home") as running:
        yield running


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    yield server.client
    for entry in server.client.get(API).json():  # every test starts from an empty namespace
        server.client.delete(f"{API}/{entry['key']}")


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("body", "kv_type", "value"),
    [
        # KVControllerTest.put and .get: the body is read as JSON (else as a date, else as
        # text), typed, and read back as {type, value}.
        ('{"hello":"world"}', "JSON", {"hello": "world"}),
        ('["hello","world"]', "JSON", ["hello", "world"]),
        ('"hello"', "STRING", "hello"),
        ("1", "NUMBER", 1),
        ("1.0", "NUMBER", 1.0),
        ("true", "BOOLEAN", True),
        ("false", "BOOLEAN", False),
        ("2021-09-01", "DATE", "2021-09-01"),
        ("2021-09-01T01:02:03Z", "DATETIME", "2021-09-01T01:02:03Z"),
        ('"PT5S"', "DURATION", "PT5S"),
    ],
)
def test_put_then_get_a_typed_value_with_a_ttl(
    api: httpx.Client, body: str, kv_type: str, value: object
) -> None:
    put = api.put(
        f"{API}/my-key", content=body, headers={"Content-Type": "application/json", "ttl": "PT5M"}
    )
    assert put.status_code == 200, put.text
    got = api.get(f"{API}/my-key")
    assert got.status_code == 200
    assert got.json() == {"type": kv_type, "value": value}
    [entry] = api.get(API).json()
    expires = instant(entry["expirationDate"])
    now = dt.datetime.now(dt.UTC)
    assert now + dt.timedelta(minutes=4) < expires < now + dt.timedelta(minutes=6)


def test_list_gives_kestras_kv_entries(api: httpx.Client) -> None:
    # KVControllerTest.list: key, creation, update and expiration dates.
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    api.put(f"{API}/my-key", content='"my-value"', headers={"ttl": "PT5M"})
    api.put(f"{API}/my-second-key", content='"my-second-value"')
    entries = api.get(API).json()
    assert [e["key"] for e in entries] == ["my-key", "my-second-key"]
    for entry in entries:
        assert set(entry) == {"key", "creationDate", "updateDate", "expirationDate"}
        assert instant(entry["creationDate"]) > before
    assert entries[1]["expirationDate"] is None


def test_get_a_missing_key_is_404(api: httpx.Client) -> None:
    # KVControllerTest.getNotFound
    got = api.get(f"{API}/my-key")
    assert got.status_code == 404
    assert got.json()["message"] == f"no value for key 'my-key' in namespace '{NS}'"


def test_get_an_expired_key_is_410(api: httpx.Client, server: Server) -> None:
    # KVControllerTest.getExpired: HTTP 410 GONE. The value is written beside the server with
    # a past expiration, as the test stores an expired file.
    with SqliteRepository(server.home / "plait.db") as repository:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        repository.kv_put(NS, "my-key", "value", "STRING", expires=past)
    got = api.get(f"{API}/my-key")
    assert got.status_code == 410
    assert "expired" in got.json()["message"]


def test_delete_one_key_and_several(api: httpx.Client) -> None:
    # KVControllerTest.delete and shouldReturnSuccessForDeleteBulkOperationGiven(Non)ExistingKeys.
    api.put(f"{API}/my-key", content='"content"')
    api.put(f"{API}/other", content='"content"')
    assert api.delete(f"{API}/my-key").json() is True
    assert api.delete(f"{API}/my-key").json() is False
    bulk = api.request("DELETE", API, json={"keys": ["other", "absent", "bad$key"]})
    assert bulk.status_code == 200
    assert bulk.json() == {"keys": ["other"]}
    assert api.get(API).json() == []


def test_illegal_keys_are_422(api: httpx.Client) -> None:
    # KVControllerTest.illegalKey: GET, PUT and DELETE of "bad$key".
    for response in (
        api.get(f"{API}/bad$key"),
        api.put(f"{API}/bad$key", content='"content"'),
        api.delete(f"{API}/bad$key"),
    ):
        assert response.status_code == 422
        assert "invalid KV key" in response.json()["message"]


def test_a_bad_ttl_header_is_400(api: httpx.Client) -> None:
    put = api.put(f"{API}/my-key", content="1", headers={"ttl": "five minutes"})
    assert put.status_code == 400
    assert "ISO-8601" in put.json()["message"]


def test_the_tenant_path_serves_the_same_store(api: httpx.Client) -> None:
    # Kestra >= 1.0 puts the tenant in the path: /api/v1/main/namespaces/...
    api.put(f"/api/v1/main/namespaces/{NS}/kv/shared", content="42")
    assert api.get(f"{API}/shared").json() == {"type": "NUMBER", "value": 42}
