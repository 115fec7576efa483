"""resolve_inputs: typed values from CLI text or Python values, and one message per bad input."""

from __future__ import annotations

import shutil
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from plait.errors import FlowValidationError
from plait.flows import Flow, parse_flow, resolve_inputs

INPUTS_FLOW = dedent(
    """\
    id: typed
    namespace: dev
    inputs:
      - id: name
        type: STRING
        validator: "^[a-z]+$"
      - id: count
        type: INT
        min: 1
        max: 10
      - id: ratio
        type: FLOAT
        max: 1.0
      - id: enabled
        type: BOOLEAN
      - id: at
        type: DATETIME
      - id: day
        type: DATE
      - id: clock
        type: TIME
      - id: wait
        type: DURATION
      - id: payload
        type: JSON
      - id: endpoint
        type: URI
      - id: mode
        type: SELECT
        values: [fast, full]
      - id: sizes
        type: ARRAY
        itemType: INT
      - id: data
        type: FILE
      - id: token
        type: SECRET
    tasks:
      - id: t
        type: plait.core.Log
        message: hi
    """
)


class Uploads:
    """A store_file callback copying into a folder, as the internal storage would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[tuple[str, Path]] = []

    def __call__(self, input_id: str, path: Path) -> str:
        self.calls.append((input_id, path))
        target = self.root / input_id / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return f"plait:///dev/typed/executions/e1/inputs/{input_id}/{path.name}"


@pytest.fixture
def flow() -> Flow:
    return parse_flow(INPUTS_FLOW, file="typed.yml")


@pytest.fixture
def uploads(tmp_path: Path) -> Uploads:
    return Uploads(tmp_path / "storage")


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n1,2\n", "utf-8")
    return path


def cli_values(data_file: Path) -> dict[str, str]:
    return {
        "name": "alice",
        "count": "3",
        "ratio": "0.5",
        "enabled": "TRUE",
        "at": "2024-01-31T10:00:00+01:00",
        "day": "2024-01-31",
        "clock": "10:30",
        "wait": "pt1h30m",
        "payload": '{"a": [1, 2]}',
        "endpoint": "https://example.com/data.csv",
        "mode": "full",
        "sizes": "[1, 2, 3]",
        "data": str(data_file),
        "token": "s3cr3t",
    }


def test_cli_text_becomes_typed_values(flow: Flow, uploads: Uploads, data_file: Path) -> None:
    values = resolve_inputs(flow, cli_values(data_file), store_file=uploads)
    assert values == {
        "name": "alice",
        "count": 3,
        "ratio": 0.5,
        "enabled": True,
        "at": "2024-01-31T09:00:00Z",
        "day": "2024-01-31",
        "clock": "10:30:00",
        "wait": "PT1H30M",
        "payload": {"a": [1, 2]},
        "endpoint": "https://example.com/data.csv",
        "mode": "full",
        "sizes": [1, 2, 3],
        "data": "plait:///dev/typed/executions/e1/inputs/data/rows.csv",
        "token": "s3cr3t",
    }
    assert uploads.calls == [("data", data_file)]
    assert (uploads.root / "data" / "rows.csv").read_text("utf-8") == "a,b\n1,2\n"


def test_native_python_values_are_accepted(flow: Flow, uploads: Uploads, data_file: Path) -> None:
    from datetime import date, datetime, time, timedelta

    given: dict[str, Any] = {
        **cli_values(data_file),
        "count": 4,
        "ratio": 1,
        "enabled": False,
        "at": datetime(2024, 1, 31, 10, 0),
        "day": date(2024, 2, 1),
        "clock": time(8, 15),
        "wait": timedelta(days=1, seconds=1.5),
        "payload": [1, "x"],
        "sizes": [4, "5"],
        "data": "plait:///dev/other/executions/e0/tasks/t/r/file.csv",
    }
    values = resolve_inputs(flow, given, store_file=uploads)
    assert [values[k] for k in ("count", "ratio", "enabled", "at", "day", "clock", "wait")] == [
        4,
        1.0,
        False,
        "2024-01-31T10:00:00Z",
        "2024-02-01",
        "08:15:00",
        "PT24H1.5S",
    ]
    assert (values["payload"], values["sizes"]) == ([1, "x"], [4, 5])
    assert values["data"] == "plait:///dev/other/executions/e0/tasks/t/r/file.csv"
    assert uploads.calls == []


def test_every_bad_input_is_reported_and_nothing_is_uploaded(
    flow: Flow, uploads: Uploads, data_file: Path
) -> None:
    given = {
        "name": "Alice",
        "count": "abc",
        "ratio": "2.5",
        "enabled": "yes",
        "at": "tomorrow",
        "day": "31/01/2024",
        "clock": "25:00",
        "wait": "5 minutes",
        "payload": "{a: 1}",
        "endpoint": "not a uri",
        "mode": "slow",
        "sizes": "[1, two]",
        "data": str(data_file),
        "token": 42,
        "colour": "red",
    }
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(flow, given, store_file=uploads)
    assert [str(p) for p in info.value.problems] == [
        "typed.yml: unknown input 'colour' (the flow declares 'name', 'count', 'ratio', "
        "'enabled', 'at', 'day', 'clock', 'wait', 'payload', 'endpoint', 'mode', 'sizes', "
        "'data', 'token')",
        "typed.yml:4:5: input 'name': expected STRING matching `^[a-z]+$`, got 'Alice'",
        "typed.yml:7:5: input 'count': expected INT, got 'abc'",
        "typed.yml:11:5: input 'ratio': expected FLOAT <= 1.0, got 2.5",
        "typed.yml:14:5: input 'enabled': expected BOOLEAN (true or false), got 'yes'",
        "typed.yml:16:5: input 'at': expected DATETIME (ISO-8601, e.g. 2024-01-31T10:00:00Z), "
        "got 'tomorrow'",
        "typed.yml:18:5: input 'day': expected DATE (ISO-8601, e.g. 2024-01-31), got '31/01/2024'",
        "typed.yml:20:5: input 'clock': expected TIME (ISO-8601, e.g. 10:30:00), got '25:00'",
        "typed.yml:22:5: input 'wait': expected DURATION (ISO-8601, e.g. PT5M or P1DT2H), got "
        "'5 minutes'",
        "typed.yml:24:5: input 'payload': expected JSON, got '{a: 1}' (Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1))",
        "typed.yml:26:5: input 'endpoint': expected URI (e.g. https://example.com/data.csv), got "
        "'not a uri'",
        "typed.yml:28:5: input 'mode': expected one of 'fast', 'full', got 'slow'",
        "typed.yml:31:5: input 'sizes': expected ARRAY of INT (a JSON list such as [1, 2]), got "
        "'[1, two]' (Expecting value: line 1 column 5 (char 4))",
        "typed.yml:36:5: input 'token': expected SECRET (text), got a value that is not text",
    ]
    assert uploads.calls == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("count", "0", "input 'count': expected INT >= 1, got 0"),
        ("count", "11", "input 'count': expected INT <= 10, got 11"),
        ("count", "1.5", "input 'count': expected INT, got '1.5'"),
        ("count", True, "input 'count': expected INT, got true"),
        (
            "ratio",
            "nan",
            "input 'ratio': expected a finite FLOAT (within the range of a double), got 'nan'",
        ),
        ("sizes", '[1, "x"]', "input 'sizes': item 1: expected INT, got 'x'"),
        (
            "sizes",
            '{"a": 1}',
            "input 'sizes': expected ARRAY of INT (a JSON list such as [1, 2]), got '{\"a\": 1}'",
        ),
        ("wait", "PT", "input 'wait': expected DURATION (ISO-8601, e.g. PT5M or P1DT2H), got 'PT'"),
        ("endpoint", ["x"], "input 'endpoint': expected URI, got [\"x\"]"),
    ],
)
def test_each_bad_value_names_the_input_and_the_expected_type(
    flow: Flow, uploads: Uploads, data_file: Path, name: str, value: Any, message: str
) -> None:
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(flow, {**cli_values(data_file), name: value}, store_file=uploads)
    [problem] = info.value.problems
    assert problem.message == message


def test_file_input_must_be_an_existing_file(
    flow: Flow, uploads: Uploads, data_file: Path, tmp_path: Path
) -> None:
    for path, reason in (
        (tmp_path / "missing.csv", "no such file"),
        (tmp_path, "it is not a file"),
    ):
        with pytest.raises(FlowValidationError) as info:
            resolve_inputs(flow, {**cli_values(data_file), "data": str(path)}, store_file=uploads)
        assert [p.message for p in info.value.problems] == [
            f"input 'data': expected FILE (a path to a local file), got '{path}': {reason}"
        ]


def test_defaults_required_and_optional_inputs(uploads: Uploads) -> None:
    flow = parse_flow(
        dedent(
            """\
            id: defaults
            namespace: dev
            inputs:
              - name: api_url
                type: STRING
                defaults: https://dummyjson.com/products
              - id: limit
                type: INT
                defaults: 5
              - id: since
                type: DATE
                required: false
              - id: needed
                type: INT
            tasks:
              - id: t
                type: plait.core.Log
                message: hi
            """
        ),
        file="defaults.yml",
    )
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(flow, {}, store_file=uploads)
    assert [str(p) for p in info.value.problems] == [
        "defaults.yml:13:5: input 'needed' (INT) is required and has no default value"
    ]
    assert resolve_inputs(flow, {"needed": "7", "limit": "9"}, store_file=uploads) == {
        "api_url": "https://dummyjson.com/products",
        "limit": 9,
        "since": None,
        "needed": 7,
    }


def test_an_unknown_input_gets_a_suggestion(flow: Flow, uploads: Uploads, data_file: Path) -> None:
    given = {**cli_values(data_file), "cuont": "1"}
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(flow, given, store_file=uploads)
    [problem] = info.value.problems
    assert problem.message.startswith("unknown input 'cuont'; did you mean 'count'? (the flow")
