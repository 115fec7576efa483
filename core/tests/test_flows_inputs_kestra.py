"""Kestra's other input types and bounds: ENUM, BOOL, YAML, ``after``/``before`` on DATE,
DATETIME and TIME, ``min``/``max`` on DURATION; MULTISELECT (last, from Kestra's sources).

The flow is the part of Kestra's ``core/src/test/resources/flows/valids/inputs.yaml`` that
declares them; the values and refusals are those of ``InputsTest`` (``allValidInputs``,
``allValidTypedInputs``, ``inputValidated*BadValue``, ``inputEnumFailed``).
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from plait.errors import FlowValidationError
from plait.flows import Flow, parse_flow, resolve_inputs

KESTRA_INPUTS = dedent(
    """\
    id: inputs
    namespace: io.kestra.tests
    inputs:
      - id: enum
        type: ENUM
        values:
          - ENUM_VALUE
          - OTHER_ONE
      - id: validatedDate
        type: DATE
        after: 2023-01-01
        before: 2023-12-31
        required: false
      - id: validatedDateTime
        type: DATETIME
        after: "2023-01-01T00:00:00Z"
        before: "2023-12-31T23:59:59Z"
        required: false
      - id: validatedDuration
        type: DURATION
        min: PT10S
        max: PT20S
        required: false
      - id: validatedTime
        type: TIME
        after: "01:00:00"
        before: "11:59:59"
        required: false
      - name: yaml
        type: YAML
        defaults:
          property: something
          list:
          - key: key1
            value: value1
      - id: toggle
        type: BOOL
        defaults: false
    tasks:
      - id: t
        type: plait.core.Log
        message: hi
    """
)


def no_uploads(input_id: str, path: Path) -> str:
    raise AssertionError(f"no FILE input here, yet {input_id} was uploaded")


@pytest.fixture
def flow() -> Flow:
    return parse_flow(KESTRA_INPUTS, file="inputs.yml")


def test_kestra_valid_values_are_typed(flow: Flow) -> None:
    """InputsTest.allValidInputs / allValidTypedInputs."""
    given = {
        "enum": "ENUM_VALUE",
        "validatedDate": "2023-01-02",
        "validatedDateTime": "2023-01-01T00:00:10Z",
        "validatedDuration": "PT15S",
        "validatedTime": "11:27:49",
        "yaml": "some: property\nalist:\n- of\n- values",
        "toggle": "TRUE",
    }
    assert resolve_inputs(flow, given, store_file=no_uploads) == {
        "enum": "ENUM_VALUE",
        "validatedDate": "2023-01-02",
        "validatedDateTime": "2023-01-01T00:00:10Z",
        "validatedDuration": "PT15S",
        "validatedTime": "11:27:49",
        "yaml": {"some": "property", "alist": ["of", "values"]},
        "toggle": True,
    }


def test_defaults_and_bounds_themselves_are_accepted(flow: Flow) -> None:
    """A value equal to a bound passes, as Kestra only refuses values strictly outside; the
    YAML default written in the flow is the input's value (flows/valids/inputs.yaml)."""
    given = {
        "enum": "OTHER_ONE",
        "validatedDate": "2023-12-31",
        "validatedDateTime": "2023-01-01T01:00:00+01:00",
        "validatedDuration": "PT10S",
        "validatedTime": "01:00",
    }
    assert resolve_inputs(flow, given, store_file=no_uploads) == {
        "enum": "OTHER_ONE",
        "validatedDate": "2023-12-31",
        "validatedDateTime": "2023-01-01T00:00:00Z",
        "validatedDuration": "PT10S",
        "validatedTime": "01:00:00",
        "yaml": {"property": "something", "list": [{"key": "key1", "value": "value1"}]},
        "toggle": False,
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        # InputsTest.inputValidatedDateBadValue
        ("validatedDate", "2022-01-01", "expected DATE on or after 2023-01-01, got '2022-01-01'"),
        ("validatedDate", "2024-01-01", "expected DATE on or before 2023-12-31, got '2024-01-01'"),
        # InputsTest.inputValidatedDateTimeBadValue
        (
            "validatedDateTime",
            "2022-01-01T00:00:00Z",
            "expected DATETIME on or after 2023-01-01T00:00:00Z, got '2022-01-01T00:00:00Z'",
        ),
        (
            "validatedDateTime",
            "2024-01-01T00:00:00Z",
            "expected DATETIME on or before 2023-12-31T23:59:59Z, got '2024-01-01T00:00:00Z'",
        ),
        (  # compared as instants: 00:30 at +01:00 is before the bound
            "validatedDateTime",
            "2023-01-01T00:30:00+01:00",
            "expected DATETIME on or after 2023-01-01T00:00:00Z, got '2023-01-01T00:30:00+01:00'",
        ),
        # InputsTest.inputValidatedDurationBadValue
        ("validatedDuration", "PT1S", "expected DURATION of at least PT10S, got 'PT1S'"),
        ("validatedDuration", "PT30S", "expected DURATION of at most PT20S, got 'PT30S'"),
        # InputsTest.inputValidatedTimeBadValue
        ("validatedTime", "00:00:01", "expected TIME on or after 01:00:00, got '00:00:01'"),
        ("validatedTime", "14:00:00", "expected TIME on or before 11:59:59, got '14:00:00'"),
        # InputsTest.inputEnumFailed
        ("enum", "INVALID", "expected one of 'ENUM_VALUE', 'OTHER_ONE', got 'INVALID'"),
        ("toggle", "yes", "expected BOOL (true or false), got 'yes'"),
        (
            "yaml",
            "a: [1",
            "expected YAML, got 'a: [1' (line 1: YAML syntax error: expected ',' or ']', but "
            "got '<stream end>' (while parsing a flow sequence at line 1, column 4))",
        ),
        (
            "yaml",
            "a: 1\na: 2",
            "expected YAML, got 'a: 1\na: 2' (line 2: duplicate key 'a' (first written at line "
            "1); remove one of them)",
        ),
    ],
)
def test_values_outside_bounds_name_the_input(
    flow: Flow, name: str, value: Any, message: str
) -> None:
    given = {"enum": "ENUM_VALUE", name: value}
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(flow, given, store_file=no_uploads)
    [problem] = info.value.problems
    assert problem.message == f"input '{name}': {message}"


def test_yaml_text_is_read_as_a_flow_is(flow: Flow) -> None:
    """The YAML 1.2 core schema (dates and ``no`` stay text), and the same nesting bound."""
    typed = resolve_inputs(
        flow,
        {"enum": "ENUM_VALUE", "yaml": "day: 2024-01-31\ncountry: NO\nn: 3\nok: true"},
        store_file=no_uploads,
    )
    assert typed["yaml"] == {"day": "2024-01-31", "country": "NO", "n": 3, "ok": True}
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(flow, {"enum": "ENUM_VALUE", "yaml": "[" * 101}, store_file=no_uploads)
    [problem] = info.value.problems
    assert "nests lists and mappings deeper than the 100 levels allowed" in problem.message
    assert problem.message.startswith("input 'yaml': expected YAML, got '[[[")


def test_yaml_text_is_bounded_in_size(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_MAX_INPUT_BYTES", "16")
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(
            flow, {"enum": "ENUM_VALUE", "yaml": "key: a value too long"}, store_file=no_uploads
        )
    assert [p.message for p in info.value.problems] == [
        "input 'yaml': the YAML value is 21 bytes, more than the 16 bytes allowed "
        "(setting PLAIT_MAX_INPUT_BYTES)"
    ]


def problems_of(inputs: str) -> list[str]:
    source = "id: f\nnamespace: dev\ninputs:\n" + dedent(inputs)
    source += "tasks:\n  - id: t\n    type: plait.core.Log\n    message: hi\n"
    with pytest.raises(FlowValidationError) as info:
        parse_flow(source, file="flow.yml")
    return [str(p) for p in info.value.problems]


def test_bad_bounds_and_choices_are_flow_problems() -> None:
    assert problems_of(
        """\
        - id: pick
          type: ENUM
        - id: day
          type: DATE
          after: 2023-12-31
          before: 2023-01-01
        - id: wait
          type: DURATION
          min: soon
          max: 5
        - id: clock
          type: TIME
          after: "10:00"
          defaults: "09:00"
        - id: count
          type: INT
          after: 3
        - id: doc
          type: YAML
          defaults: "a: [1"
        """
    ) == [
        "flow.yml:4:3: input 'pick': an ENUM input needs 'values': a non-empty list of choices",
        "flow.yml:8:10: input 'day': 'after' (2023-12-31) is past 'before' (2023-01-01)",
        "flow.yml:12:8: input 'wait': invalid 'min': expected DURATION (ISO-8601, e.g. PT5M or "
        "P1DT2H), got 'soon'",
        "flow.yml:13:8: input 'wait': invalid 'max': expected DURATION (ISO-8601, e.g. PT5M or "
        "P1DT2H), got 5",
        "flow.yml:17:13: input 'clock': invalid 'defaults': expected TIME on or after 10:00:00, "
        "got '09:00'",
        "flow.yml:20:3: input 'count': 'after' does not apply to INT inputs (only to DATETIME, "
        "DATE, TIME)",
        "flow.yml:23:13: input 'doc': invalid 'defaults': expected YAML, got 'a: [1' (line 1: "
        "YAML syntax error: expected ',' or ']', but got '<stream end>' (while parsing a flow "
        "sequence at line 1, column 4))",
    ]


def test_a_duration_bound_past_the_other_is_a_flow_problem() -> None:
    assert problems_of(
        """\
        - id: wait
          type: DURATION
          min: PT1H
          max: PT59M
        """
    ) == ["flow.yml:6:8: input 'wait': 'min' (PT1H) is past 'max' (PT59M)"]


# ------------------------------------------------------------------ MULTISELECT
# Kestra's MultiselectInput (``values``, or ``options``, its deprecated older name, never both;
# ``allowCustomValue``; every item one of the values) and FlowInputOutput.parseType (a list,
# or text holding a JSON list, as for ARRAY).

MULTISELECT_FLOW = dedent(
    """\
    id: multiselect
    namespace: dev
    inputs:
      - id: colours
        type: MULTISELECT
        values: [red, green, blue]
      - id: older
        type: MULTISELECT
        options: ["1", 2, true]
        defaults: ["2"]
      - id: tags
        type: MULTISELECT
        values: [a]
        allowCustomValue: true
        required: false
    tasks:
      - id: t
        type: plait.core.Log
        message: "{{ inputs.colours | join(',') }}"
    """
)


@pytest.fixture
def multiselect() -> Flow:
    return parse_flow(MULTISELECT_FLOW, file="flow.yml")


def test_a_list_or_json_list_text_of_values_is_a_list_of_text(multiselect: Flow) -> None:
    """The values are read as text (``options: ["1", 2, true]`` is "1", "2", "true"), the
    value keeps the order given; ``allowCustomValue`` lets any item through."""
    assert multiselect.inputs[1].values == ["1", "2", "true"]
    given = {"colours": ["blue", "red"], "tags": '["a", "anything"]'}
    assert resolve_inputs(multiselect, given, store_file=no_uploads) == {
        "colours": ["blue", "red"],
        "older": ["2"],
        "tags": ["a", "anything"],
    }
    text = {"colours": '["green"]', "older": '[1, "true"]'}
    assert resolve_inputs(multiselect, text, store_file=no_uploads) == {
        "colours": ["green"],
        "older": ["1", "true"],
        "tags": None,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            ["red", "pink"],
            "input 'colours': item 1: expected one of 'red', 'green', 'blue', got 'pink'",
        ),
        ("red", "input 'colours': expected MULTISELECT (a JSON list such as"),
        ({"a": 1}, "input 'colours': expected MULTISELECT (a JSON list such as"),
    ],
)
def test_an_item_outside_the_values_or_a_non_list_is_refused(
    multiselect: Flow, value: object, message: str
) -> None:
    """MultiselectInput.validate: "it must match the values"; a value that is not a list
    cannot be read as one (Kestra's JacksonMapper.toList fails)."""
    with pytest.raises(FlowValidationError) as info:
        resolve_inputs(multiselect, {"colours": value}, store_file=no_uploads)
    assert message in str(info.value)


def test_bad_multiselect_definitions_are_flow_problems() -> None:
    source = dedent(
        """\
        id: f
        namespace: dev
        inputs:
          - id: none
            type: MULTISELECT
          - id: both
            type: MULTISELECT
            values: [a]
            options: [a]
          - id: custom
            type: MULTISELECT
            values: [a]
            allowCustomValue: sometimes
          - id: bad_default
            type: MULTISELECT
            values: [a, b]
            defaults: [c]
          - id: single
            type: SELECT
            values: [a]
            allowCustomValue: true
        tasks:
          - id: t
            type: plait.core.Log
            message: hi
        """
    )
    with pytest.raises(FlowValidationError) as info:
        parse_flow(source, file="flow.yml")
    assert [str(p) for p in info.value.problems] == [
        "flow.yml:4:5: input 'none': a MULTISELECT input needs 'values': a non-empty list of "
        "choices",
        "flow.yml:9:5: input 'both': 'values' and 'options' cannot both be set",
        "flow.yml:13:23: input 'custom': 'allowCustomValue' must be true or false, got 'sometimes'",
        "flow.yml:17:15: input 'bad_default': invalid 'defaults': item 0: expected one of 'a', "
        "'b', got 'c'",
        "flow.yml:21:5: input 'single': 'allowCustomValue' does not apply to SELECT inputs "
        "(only to MULTISELECT)",
    ]
