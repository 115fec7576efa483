"""The KV store and the task cache in the SQLite repository, and the rules every KV client
shares (keys, types, expiry). Behaviours follow Kestra's ``InternalKVStore`` /
``InternalKVStoreTest``, ``KVStore.validateKey``, ``SetTest.typeSpecified`` and
``KVControllerTest`` (kestra-io/kestra); each test names the case it reproduces."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.errors import ConflictError, PlaitError
from plait.state.kv import KVKeyError, NamespaceKV, typed_value, value_from_text
from plait.state.model import utcnow
from plait.state.sqlite import SCHEMA_VERSION, SqliteRepository
from plait_sdk.kv import KVMissing, KVStore


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[SqliteRepository]:
    with SqliteRepository(tmp_path / "plait.db") as repository:
        yield repository


def test_values_round_trip_with_their_type_per_namespace(repo: SqliteRepository) -> None:
    # InternalKVStoreTest: a value reads back as it was put; namespaces do not share keys.
    store = NamespaceKV(repo, "io.kestra.tests")
    assert isinstance(store, KVStore)
    store.put("my-key", {"field": "value", "n": [1, 2]})
    store.put("count", 3)
    NamespaceKV(repo, "other").put("my-key", "elsewhere")
    assert store.get("my-key") == {"field": "value", "n": [1, 2]}
    assert store.entry("my-key").type == "JSON"
    assert store.entry("count").type == "NUMBER"
    assert store.keys() == ["count", "my-key"]
    assert store.keys("my") == ["my-key"]
    assert NamespaceKV(repo, "other").get("my-key") == "elsewhere"
    assert [(e.namespace, e.key) for e in repo.kv_list()] == [
        ("io.kestra.tests", "count"),
        ("io.kestra.tests", "my-key"),
        ("other", "my-key"),
    ]


def test_a_missing_key_raises_kv_missing_naming_key_and_namespace(repo: SqliteRepository) -> None:
    with pytest.raises(KVMissing, match="KV key 'nope' in namespace 'dev' is not set"):
        NamespaceKV(repo, "dev").get("nope")


def test_overwrite_false_refuses_a_taken_key(repo: SqliteRepository) -> None:
    # SetTest.shouldFailGivenExistingKeyAndOverwriteFalse
    store = NamespaceKV(repo, "dev")
    store.put("k", "first")
    with pytest.raises(ConflictError, match="already holds a value and overwrite is false"):
        store.put("k", "second", overwrite=False)
    assert store.get("k") == "first"
    store.put("k", "second")  # overwrite is the default
    assert store.get("k") == "second"


def test_an_update_keeps_the_creation_date(repo: SqliteRepository) -> None:
    store = NamespaceKV(repo, "dev")
    store.put("k", 1)
    created = store.entry("k").created
    store.put("k", 2)
    entry = store.entry("k")
    assert entry.created == created and entry.updated >= created


def test_ttl_sets_an_expiration_date_and_an_expired_value_reads_as_missing(
    repo: SqliteRepository,
) -> None:
    # SetTest.shouldSetKVGivenTTL: the expiration is about now + ttl; without ttl there is none.
    store = NamespaceKV(repo, "dev")
    store.put("short", "v", ttl=dt.timedelta(minutes=5))
    store.put("forever", "v")
    expires = store.entry("short").expires
    assert utcnow() + dt.timedelta(minutes=4) < expires < utcnow() + dt.timedelta(minutes=6)
    assert store.entry("forever").expires is None
    # InternalKVStore: a value past its expiration date is not returned, nor listed.
    repo.kv_put("dev", "old", "v", "STRING", expires=utcnow() - dt.timedelta(seconds=1))
    with pytest.raises(KVMissing, match="KV key 'old' in namespace 'dev' expired"):
        store.get("old")
    assert store.keys() == ["forever", "short"]
    # An expired key is free again even for overwrite=false, and its row is dropped on write.
    store.put("old", "new", overwrite=False)
    assert store.get("old") == "new"


def test_expired_rows_are_dropped_when_their_namespace_is_written(
    repo: SqliteRepository, tmp_path: Path
) -> None:
    repo.kv_put("dev", "gone", 1, "NUMBER", expires=utcnow() - dt.timedelta(seconds=1))
    repo.kv_put("dev", "kept", 1, "NUMBER")
    with sqlite3.connect(tmp_path / "plait.db") as raw:
        keys = [row[0] for row in raw.execute("SELECT key FROM kv ORDER BY key")]
    assert keys == ["kept"]


def test_a_negative_ttl_is_refused(repo: SqliteRepository) -> None:
    # KVMetadata: "ttl cannot be negative".
    with pytest.raises(PlaitError, match="ttl cannot be negative"):
        NamespaceKV(repo, "dev").put("k", 1, ttl=dt.timedelta(seconds=-1))


def test_delete_says_whether_there_was_a_value(repo: SqliteRepository) -> None:
    # DeleteTest.shouldOutputTrueGivenExistingKey / shouldOutputFalseGivenNonExistingKey
    store = NamespaceKV(repo, "dev")
    store.put("k", "v")
    assert store.delete("k") is True
    assert store.delete("k") is False


@pytest.mark.parametrize("key", ["my-key", "a", "A.b_c-9", "0lead"])
def test_keys_kestra_accepts(repo: SqliteRepository, key: str) -> None:
    store = NamespaceKV(repo, "dev")
    store.put(key, 1)
    assert store.get(key) == 1


@pytest.mark.parametrize("key", ["bad$key", "", "-lead", ".lead", "has space", "a/b", "é"])
def test_keys_kestra_refuses(repo: SqliteRepository, key: str) -> None:
    # KVStore.validateKey / KVControllerTest.illegalKey: a letter or digit first, then letters,
    # digits, '.', '_', '-'.
    store = NamespaceKV(repo, "dev")
    for action in (lambda: store.put(key, 1), lambda: store.get(key), lambda: store.delete(key)):
        with pytest.raises(KVKeyError, match="invalid KV key"):
            action()


@pytest.mark.parametrize(
    ("text", "kv_type", "expected"),
    [
        # SetTest.typeSpecified: kvType parses a text value.
        ("123.45", "NUMBER", 123.45),
        ("42", "NUMBER", 42),
        ("true", "BOOLEAN", True),
        ("TRUE", "BOOLEAN", True),
        ("nope", "BOOLEAN", False),  # Java's parseBoolean
        ("2023-05-02T01:02:03Z", "DATETIME", "2023-05-02T01:02:03Z"),
        ("2023-05-02", "DATE", "2023-05-02"),
        ("P1DT5S", "DURATION", "PT24H5S"),
        (
            '[{"some":"value"},{"another":"value"}]',
            "JSON",
            [{"some": "value"}, {"another": "value"}],
        ),
        ("123", "STRING", "123"),
    ],
)
def test_kv_type_parses_text(text: str, kv_type: str, expected: object) -> None:
    assert typed_value(text, kv_type) == (expected, kv_type)


def test_kv_type_leaves_a_value_that_is_not_text_alone() -> None:
    # Set only converts a rendered *string*; a number stays a number whatever kvType says.
    assert typed_value(7, "STRING") == (7, "STRING")
    assert typed_value({"a": 1}, None) == ({"a": 1}, "JSON")


@pytest.mark.parametrize(("text", "kv_type"), [("abc", "NUMBER"), ("{", "JSON"), ("x", "DATE")])
def test_text_that_does_not_parse_as_its_kv_type_is_refused(text: str, kv_type: str) -> None:
    with pytest.raises(PlaitError, match=f"is not a valid {kv_type}"):
        typed_value(text, kv_type)


@pytest.mark.parametrize(
    ("text", "value", "kv_type"),
    [
        # KVControllerTest.put / get: how a body (or a CLI value) is read and typed.
        ('{"hello":"world"}', {"hello": "world"}, "JSON"),
        ('["hello","world"]', ["hello", "world"], "JSON"),
        ('"hello"', "hello", "STRING"),
        ("1", 1, "NUMBER"),
        ("1.0", 1.0, "NUMBER"),
        ("true", True, "BOOLEAN"),
        ("false", False, "BOOLEAN"),
        ("2021-09-01", "2021-09-01", "DATE"),
        ("2021-09-01T01:02:03Z", "2021-09-01T01:02:03Z", "DATETIME"),
        ('"PT5S"', "PT5S", "DURATION"),
        ("hello", "hello", "STRING"),
    ],
)
def test_values_given_as_text_are_typed_as_kestra_types_them(
    text: str, value: object, kv_type: str
) -> None:
    assert value_from_text(text) == (value, kv_type)


def test_a_value_that_is_not_json_is_refused(repo: SqliteRepository) -> None:
    with pytest.raises(PlaitError, match="a KV value must be JSON"):
        NamespaceKV(repo, "dev").put("k", {1, 2})


def test_the_kv_and_task_cache_tables_come_with_the_latest_schema(tmp_path: Path) -> None:
    with SqliteRepository(tmp_path / "plait.db"):
        pass
    with sqlite3.connect(tmp_path / "plait.db") as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        version = raw.execute("PRAGMA user_version").fetchone()[0]
    assert {"kv", "task_cache"} <= tables
    assert version == SCHEMA_VERSION
