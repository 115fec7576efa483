"""Storage URIs and keys: layout, encoding, and every unsafe form refused."""

from __future__ import annotations

import pytest
from plait.errors import StorageError
from plait.storage.uris import (
    check_key,
    execution_prefix,
    input_key,
    is_under,
    is_uri,
    key_in_execution,
    task_key,
    to_key,
    to_uri,
)


def test_layout_follows_kestra() -> None:
    assert execution_prefix("company.team", "my-flow", "E1") == "company/team/my-flow/executions/E1"
    assert (
        task_key("company.team", "my-flow", "E1", "extract", "R1", "data.csv")
        == "company/team/my-flow/executions/E1/tasks/extract/R1/data.csv"
    )
    assert (
        task_key("dev", "f", "E1", "t", "R1", "reports/2024/a.csv")
        == "dev/f/executions/E1/tasks/t/R1/reports/2024/a.csv"
    )
    assert (
        input_key("dev", "f", "E1", "file", "in.json") == "dev/f/executions/E1/inputs/file/in.json"
    )


@pytest.mark.parametrize(
    "key",
    ["dev/f/executions/E/tasks/t/r/data.csv", "a/with space/ünïcödé.txt", "a/100%/x#y?z.txt"],
)
def test_uri_round_trip(key: str) -> None:
    uri = to_uri(key)
    assert uri.startswith("plait:///")
    assert " " not in uri and "#" not in uri and "?" not in uri
    assert to_key(uri) == key


def test_uri_encoding_is_readable() -> None:
    assert to_uri("dev/f/a b.csv") == "plait:///dev/f/a%20b.csv"
    assert to_key("PLAIT:///dev/f/a%20b.csv") == "dev/f/a b.csv"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("kestra:///dev/f/x.csv", "unsupported URI scheme 'kestra'"),
        ("file:///etc/passwd", "unsupported URI scheme 'file'"),
        ("/etc/passwd", "not an internal storage URI"),
        ("plait://host/dev/x", "names a host"),
        ("plait:////etc/passwd", "absolute paths"),
        ("plait:///dev/../../etc/passwd", "'..'"),
        ("plait:///dev/%2e%2e/%2E%2E/etc/passwd", "'..'"),
        ("plait:///dev/./x", "'.'"),
        ("plait:///dev%2F..%2Fetc/passwd", "encoded path separators"),
        ("plait:///dev/a%2fb", "encoded path separators"),
        ("plait:///dev/a%5Cb", "encoded path separators"),
        ("plait:///dev\\..\\etc", "backslashes"),
        ("plait:///dev/a%00b", "NUL"),
        ("plait:///dev/a%0Ab", "control characters"),
        ("plait:///dev//x", "empty path segments"),
        ("plait:///dev/x/", "empty path segments"),
        ("plait:///", "empty"),
        ("plait:///dev/x?y=1", "query"),
        ("plait:///dev/x#frag", "fragment"),
        ("plait:///dev/%ff", "percent-encoding is not valid UTF-8"),
    ],
)
def test_unsafe_uris_are_refused(uri: str, reason: str) -> None:
    with pytest.raises(StorageError) as info:
        to_key(uri)
    assert reason in str(info.value)
    assert repr(uri) in str(info.value), "the message names the URI at fault"


def test_non_string_uri() -> None:
    with pytest.raises(StorageError, match="got int"):
        to_key(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("a\\b", "backslash"),
        ("", "empty"),
        ("a//b", "empty path segments"),
    ],
)
def test_unsafe_file_names_are_refused(name: str, reason: str) -> None:
    with pytest.raises(StorageError) as info:
        task_key("dev", "f", "E", "t", "r", name)
    assert reason in str(info.value)
    assert "file name" in str(info.value)


@pytest.mark.parametrize(
    ("namespace", "flow_id", "execution_id", "what"),
    [
        ("dev..x", "f", "E", "namespace part"),
        ("dev", "a/b", "E", "flow id"),
        ("dev", "f", "..", "execution id"),
    ],
)
def test_unsafe_ids_are_refused(namespace: str, flow_id: str, execution_id: str, what: str) -> None:
    with pytest.raises(StorageError, match=f"invalid {what}"):
        execution_prefix(namespace, flow_id, execution_id)


def test_task_and_input_ids_must_be_single_segments() -> None:
    with pytest.raises(StorageError, match="invalid task id"):
        task_key("dev", "f", "E", "../t", "r", "x")
    with pytest.raises(StorageError, match="invalid task run id"):
        task_key("dev", "f", "E", "t", "r/s", "x")
    with pytest.raises(StorageError, match="invalid input id"):
        input_key("dev", "f", "E", "..", "x")


def test_helpers() -> None:
    assert is_uri("plait:///a") and not is_uri("kestra:///a") and not is_uri(3)
    assert is_under("a/b/c", "a/b") and not is_under("a/bc", "a/b") and not is_under("a/b", "a/b")
    assert check_key("a/b") == "a/b"


def test_key_in_execution() -> None:
    uri = to_uri(task_key("dev.a", "f", "E1", "t", "r", "x.csv"))
    assert key_in_execution(uri, "dev.a", "f", "E1") == "dev/a/f/executions/E1/tasks/t/r/x.csv"
    others = [("dev.a", "f", "E"), ("dev", "f", "E1"), ("dev.a", "g", "E1")]
    for namespace, flow_id, execution_id in others:
        with pytest.raises(StorageError, match=f"does not belong to execution {execution_id}"):
            key_in_execution(uri, namespace, flow_id, execution_id)
