"""Parsing limits: a flow's size and nesting, bad characters and bytes, INT/FLOAT ranges and
JSON inputs. At each limit the value is accepted, just beyond it refused with a message that
names the setting and, in a flow, the line and column; the settings override the defaults."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from plait.errors import PlaitError, Problem
from plait.flows import limits, load_flow
from plait.flows.flow_file import read_flow_file
from plait.flows.input_types import InputValueError, coerce
from plait.flows.model import InputDef

FLOW = "id: f\nnamespace: dev\ntasks:\n  - id: t\n    type: plait.core.Return\n    format: x\n"


def problems(source: str | Path) -> list[Problem]:
    return load_flow(source, file="f.yml")[1]


def only_problem(source: str | Path) -> Problem:
    found = load_flow(source, file="f.yml")[1]
    assert len(found) == 1, found
    return found[0]


def nested_lists(levels: int) -> str:
    """A flow whose deepest value sits in ``levels`` open lists and mappings (the flow's own
    mapping is the first, ``variables`` the second)."""
    lists = levels - 2
    return FLOW + f"variables:\n  v: {'[' * lists}1{']' * lists}\n"


@pytest.fixture(autouse=True)
def default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the defaults, whatever the environment running the tests says."""
    for limit in (limits.FLOW_BYTES, limits.NESTING, limits.INPUT_BYTES):
        monkeypatch.delenv(limit.env, raising=False)


# -- settings ---------------------------------------------------------------------------------


def test_defaults_apply_without_settings() -> None:
    assert limits.FLOW_BYTES.value() == 1024 * 1024
    assert limits.NESTING.value() == 100
    assert limits.INPUT_BYTES.value() == 1024 * 1024


@pytest.mark.parametrize(
    ("limit", "raw", "message"),
    [
        (limits.FLOW_BYTES, "abc", "PLAIT_MAX_FLOW_BYTES='abc' must be a whole number, at least 1"),
        (limits.FLOW_BYTES, "0", "PLAIT_MAX_FLOW_BYTES='0' must be a whole number, at least 1"),
        (limits.INPUT_BYTES, "-5", "PLAIT_MAX_INPUT_BYTES='-5' must be a whole number"),
        (
            limits.NESTING,
            "201",
            "PLAIT_MAX_NESTING='201' must be a whole number, at least 1 and at most 200",
        ),
        (limits.NESTING, "1.5", "PLAIT_MAX_NESTING='1.5' must be a whole number"),
    ],
)
def test_a_bad_setting_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, limit: limits.Limit, raw: str, message: str
) -> None:
    monkeypatch.setenv(limit.env, raw)
    with pytest.raises(PlaitError) as info:
        limit.value()
    assert str(info.value).startswith(message)


# -- size -------------------------------------------------------------------------------------


def test_a_flow_at_the_size_limit_is_read_one_byte_more_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAIT_MAX_FLOW_BYTES", str(len(FLOW)))
    assert problems(FLOW) == []
    problem = only_problem(FLOW + "\n")
    assert problem == Problem(
        f"the flow is {len(FLOW) + 1} bytes, more than the {len(FLOW)} bytes allowed "
        "(setting PLAIT_MAX_FLOW_BYTES)",
        "f.yml",
    )


def test_the_size_is_counted_in_utf8_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    text = FLOW + "description: " + "é" * 100 + "\n"  # 100 characters, 200 bytes
    monkeypatch.setenv("PLAIT_MAX_FLOW_BYTES", str(len(text) + 50))
    assert "more than" in only_problem(text).message
    monkeypatch.setenv("PLAIT_MAX_FLOW_BYTES", str(len(text.encode())))
    assert problems(text) == []


def test_the_default_size_limit_refuses_a_large_flow_before_parsing_it() -> None:
    text = FLOW + "# " + "x" * (1024 * 1024) + "\n"
    assert only_problem(text).message.startswith(
        f"the flow is {len(text):,} bytes, more than the 1,048,576 bytes allowed"
    )


def test_a_flow_file_over_the_limit_is_not_read_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_MAX_FLOW_BYTES", str(len(FLOW)))
    path = tmp_path / "f.yml"
    path.write_text(FLOW)
    assert read_flow_file(path, "f.yml") == FLOW
    path.write_text(FLOW + "#")
    assert read_flow_file(path, "f.yml") == Problem(
        f"the flow file is {len(FLOW) + 1} bytes, more than the {len(FLOW)} bytes allowed "
        "(setting PLAIT_MAX_FLOW_BYTES)",
        "f.yml",
    )


def test_an_endless_file_is_refused_at_the_limit() -> None:
    problem = read_flow_file(Path("/dev/zero"), "/dev/zero")
    assert problem == Problem(
        "the flow file is larger than the 1,048,576 bytes allowed (setting PLAIT_MAX_FLOW_BYTES)",
        "/dev/zero",
    )


# -- nesting ----------------------------------------------------------------------------------


def test_yaml_at_the_nesting_limit_is_read_one_level_more_is_refused() -> None:
    flow, found = load_flow(nested_lists(100), file="f.yml")
    assert found == [] and flow is not None
    problem = only_problem(nested_lists(101))
    # line 8 is `  v: [[[...`: the 99th list opens the 101st level, at column 6 + 98
    assert (problem.line, problem.column) == (8, 104)
    assert problem.message == (
        "the document nests lists and mappings deeper than the 100 levels allowed "
        "(setting PLAIT_MAX_NESTING)"
    )


def test_block_style_nesting_is_placed_where_it_goes_too_deep() -> None:
    lines = [FLOW.rstrip("\n"), "variables:"]
    lines += ["  " * (level + 1) + f"k{level}:" for level in range(100)]
    problem = only_problem("\n".join(lines) + " x\n")
    # the flow's mapping is level 1; the mapping of level n >= 2 starts at key k(n-2), written
    # on line 8 + n - 2 at column 2 * (n - 1) + 1: k99 starts the 101st
    assert (problem.line, problem.column) == (107, 201)
    assert "deeper than the 100 levels allowed" in problem.message


def test_aliases_cannot_nest_deeper_than_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_MAX_NESTING", "10")
    deep = "[" * 6 + "1" + "]" * 6
    text = FLOW + f"variables:\n  a: &a {deep}\n  b: [[[[[*a]]]]]\n"
    problem = only_problem(text)
    assert "deeper than the 10 levels allowed" in problem.message
    assert problem.line == 8  # at the anchored value the alias nests too deeply


def test_the_nesting_setting_moves_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_MAX_NESTING", "200")
    assert problems(nested_lists(200)) == []
    assert "200 levels" in only_problem(nested_lists(201)).message
    monkeypatch.setenv("PLAIT_MAX_NESTING", "3")
    assert problems(nested_lists(3)) == []
    assert "3 levels" in only_problem(nested_lists(4)).message


# -- characters and bytes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("character", "message"),
    [
        ("\0", "a NUL character (U+0000) is not allowed in YAML; is this a binary file?"),
        ("\x07", "the non-printable character U+0007 is not allowed in YAML"),
    ],
)
def test_a_control_character_is_placed_not_thrown(character: str, message: str) -> None:
    text = FLOW.replace("format: x", f"format: a{character}b")
    assert only_problem(text) == Problem(message, "f.yml", 6, 14)


def test_bytes_that_are_not_utf8_are_placed_not_thrown(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    path.write_bytes(FLOW.replace("format: x", "format: é\xff").encode("latin-1"))
    assert only_problem(path) == Problem(
        "not UTF-8 text: byte 0xe9 cannot be read here; save the flow as UTF-8 "
        "(is this a binary file?)",
        "f.yml",
        6,
        13,
    )
    path.write_bytes(FLOW.replace("format: x", "format: é\xff").encode("utf-8") + b"\xff")
    problem = only_problem(path)
    assert (problem.line, problem.column) == (7, 1)  # columns count characters, not bytes


def test_an_unreadable_flow_file_is_a_problem(tmp_path: Path) -> None:
    problem = only_problem(tmp_path)  # a folder: reading it fails
    assert problem.file == "f.yml"
    assert problem.message == "cannot read the flow file: Is a directory"


def test_an_integer_of_too_many_digits_is_placed() -> None:
    digits = sys.get_int_max_str_digits()
    assert problems(FLOW + f"variables:\n  n: {'9' * digits}\n") == []
    problem = only_problem(FLOW + f"variables:\n  n: {'9' * (digits + 1)}\n")
    assert problem == Problem(
        f"this integer has more than the {digits} digits allowed", "f.yml", 8, 6
    )


# -- INT and FLOAT inputs ---------------------------------------------------------------------


def value_of(kind: str, value: Any) -> Any:
    return coerce(InputDef(id="x", type=kind), value)


def refusal(kind: str, value: Any) -> str:
    with pytest.raises(InputValueError) as info:
        value_of(kind, value)
    return str(info.value)


INT_RANGE = "expected INT between -9223372036854775808 and 9223372036854775807"


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (str(2**63 - 1), 2**63 - 1),
        (f" {-(2**63)} ", -(2**63)),
        (2**63 - 1, 2**63 - 1),
        ("-" + "0" * 5000 + "7", -7),  # leading zeros are not digits that count
    ],
)
def test_int_inputs_at_the_range_ends_are_accepted(value: Any, number: int) -> None:
    assert value_of("INT", value) == number


@pytest.mark.parametrize("value", [str(2**63), str(-(2**63) - 1), 2**63, float(2**70), "9" * 5000])
def test_int_inputs_beyond_a_long_are_refused(value: Any) -> None:
    assert refusal("INT", value).startswith(f"{INT_RANGE}, got ")


@pytest.mark.parametrize("value", ["1e308", -1.7976931348623157e308, 10**300])
def test_finite_float_inputs_are_accepted(value: Any) -> None:
    assert value_of("FLOAT", value) == float(value)


@pytest.mark.parametrize("value", ["1e999", "-1e999", "nan", "inf", float("nan"), 10**400])
def test_float_inputs_beyond_a_double_are_refused(value: Any) -> None:
    assert refusal("FLOAT", value).startswith(
        "expected a finite FLOAT (within the range of a double), got "
    )


# -- JSON inputs ------------------------------------------------------------------------------


def test_a_json_input_at_the_nesting_limit_is_parsed_one_level_more_is_refused() -> None:
    assert value_of("JSON", "[" * 100 + "]" * 100) is not None
    assert refusal("JSON", '{"a":' + "[" * 100 + "]" * 100 + "}") == (
        "the JSON value nests lists and mappings deeper than the 100 levels allowed, from "
        "character 105 (setting PLAIT_MAX_NESTING)"
    )


def test_brackets_inside_json_strings_do_not_count() -> None:
    text = '["' + "[" * 500 + '\\"[[[", {"k": "{{{{"}]'
    assert value_of("JSON", text) == ["[" * 500 + '"[[[', {"k": "{{{{"}]


def test_array_inputs_are_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_MAX_NESTING", "2")
    assert value_of("JSON", "[[1]]") == [[1]]
    assert "deeper than the 2 levels allowed, from character 3" in refusal("ARRAY", "[[[1]]]")


def test_json_numbers_of_too_many_digits_are_refused_by_name() -> None:
    digits = sys.get_int_max_str_digits()
    assert refusal("JSON", "[" + "1" * (digits + 1) + "]") == (
        f"a number in the JSON value has {digits + 1:,} digits, more than the {digits} allowed"
    )
    assert value_of("JSON", "-" + "1" * digits) == -int("1" * digits)
