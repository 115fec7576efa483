"""parse_flow: the model built from YAML, and every structural problem at its file:line:column."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from plait.errors import FlowValidationError
from plait.flows import parse_flow
from plait.flows.loader import load_flow

DATA = Path(__file__).parent / "data" / "flows"


def problems_of(source: str) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(dedent(source), file="flow.yml")
    return [str(p) for p in info.value.problems]


def test_reads_every_part_of_a_flow() -> None:
    flow = parse_flow(
        dedent(
            """\
            id: report
            namespace: company.team
            description: Daily report
            labels:
              owner: data
              critical: true
            inputs:
              - id: day
                type: DATE
                required: false
                description: Day to report on
              - name: limit
                type: INT
                defaults: 10
                min: 1
                max: 100
              - id: mode
                type: SELECT
                values: [fast, full]
                defaults: fast
              - id: tags
                type: ARRAY
                itemType: STRING
              - id: code
                type: STRING
                validator: "^[A-Z]{3}$"
            variables:
              greeting: hello
            tasks:
              - id: first
                type: plait.core.Return
                format: "{{ vars.greeting }}"
                timeout: PT5M
                retry:
                  type: constant
                  interval: PT1S
                  maxAttempts: 3
                allowFailure: true
                logLevel: DEBUG
                description: the first
              - id: second
                type: plait.core.Log
                disabled: true
                message: "{{ outputs.first.value }}"
            outputs:
              - id: result
                type: STRING
                value: "{{ outputs.first.value }}"
            pluginDefaults:
              - type: plait.core
                values:
                  level: WARN
              - type: plait.core.Log
                forced: true
                values:
                  message: forced
            """
        ),
        file="report.yml",
    )
    assert (flow.id, flow.namespace, flow.description) == ("report", "company.team", "Daily report")
    assert flow.labels == {"owner": "data", "critical": "true"}
    assert [(i.id, i.type, i.required) for i in flow.inputs] == [
        ("day", "DATE", False),
        ("limit", "INT", True),
        ("mode", "SELECT", True),
        ("tags", "ARRAY", True),
        ("code", "STRING", True),
    ]
    limit, mode, tags, code = flow.inputs[1:]
    assert (limit.defaults, limit.min, limit.max, limit.line) == (10, 1, 100, 12)
    assert (mode.values, mode.defaults) == (["fast", "full"], "fast")
    assert tags.item_type == "STRING"
    assert code.validator == "^[A-Z]{3}$"
    assert flow.variables == {"greeting": "hello"}
    first, second = flow.tasks
    assert (first.id, first.type, first.properties) == (
        "first",
        "plait.core.Return",
        {"format": "{{ vars.greeting }}"},
    )
    assert (first.timeout, first.allow_failure, first.log_level) == ("PT5M", True, "DEBUG")
    assert first.timeout_delta is not None and first.timeout_delta.total_seconds() == 300
    assert first.retry == {"type": "constant", "interval": "PT1S", "maxAttempts": 3}
    assert first.description == "the first"
    assert (first.line, first.column) == (30, 5)
    assert first.property_positions["format"] == (32, 5)
    assert (second.disabled, second.allow_failure, second.log_level) == (True, False, None)
    assert flow.outputs[0].value == "{{ outputs.first.value }}"
    assert [(d.type, d.forced, d.values) for d in flow.plugin_defaults] == [
        ("plait.core", False, {"level": "WARN"}),
        ("plait.core.Log", True, {"message": "forced"}),
    ]
    assert flow.file == "report.yml"
    assert flow.task("second") is second
    assert flow.input("limit") is limit


def test_scalars_are_typed_like_kestra_yes_no_and_dates_stay_text() -> None:
    flow = parse_flow(
        dedent(
            """\
            id: f
            namespace: dev
            variables: {country: NO, answer: yes, day: 2024-01-31, n: 12, x: 1.5, none: null}
            tasks:
              - id: t
                type: plait.core.Log
                message: "hi"
            """
        )
    )
    assert flow.variables == {
        "country": "NO",
        "answer": "yes",
        "day": "2024-01-31",
        "n": 12,
        "x": 1.5,
        "none": None,
    }


def test_reads_a_file_and_names_it_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("id: x\nnamespace: dev\ntasks: [\n", "utf-8")
    with pytest.raises(FlowValidationError) as info:
        parse_flow(path)
    assert str(info.value).startswith(f"{path}:4:1: YAML syntax error: ")


def test_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(tmp_path / "nope.yml")
    assert "cannot read the flow file" in str(info.value)


def test_yaml_syntax_error_points_at_the_character() -> None:
    assert problems_of(
        """\
        id: x
        namespace: dev
        tasks:
          - id: a
            type: plait.core.Log
            message: [unclosed
          - id: b
        """
    ) == [
        "flow.yml:7:7: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 6, column 14)"
    ]


def test_tabs_get_a_hint() -> None:
    [problem] = problems_of("id: x\nnamespace: dev\ntasks:\n\t- id: a\n")
    assert problem == (
        "flow.yml:4:1: YAML syntax error: found character '\\t' that cannot start any token; "
        "indent with spaces, not tabs"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "",
            "flow.yml:1:1: a flow must be a YAML mapping with id, namespace and tasks; got an "
            "empty document",
        ),
        (
            "- id: x\n",
            "flow.yml:1:1: a flow must be a YAML mapping with id, namespace and tasks; got a list",
        ),
    ],
)
def test_document_must_be_a_mapping(source: str, message: str) -> None:
    assert problems_of(source) == [message]


def test_every_structural_problem_is_reported_at_once() -> None:
    assert problems_of(
        """\
        id: my flow
        namespace: Dev
        taks: []
        afterExecution: []
        sla: []
        tasks:
          - id: a
            type: plait.core.Log
            message: hi
            message: again
          - id: a
            type: plait.core.Log
          - id: bad.id
            type: plait.core.Log
            taskCache: {enabled: "yes"}
          - type: plait.core.Log
          - id: c
          - id: d
            type: plait.core.Log
            timeout: 5 minutes
            logLevel: warn
            disabled: "no"
            retry: {type: linear}
          - just a string
        """
    ) == [
        "flow.yml:1:5: invalid flow id 'my flow': must start with a letter or a digit and "
        "contain only letters, digits, '.', '_' and '-'",
        "flow.yml:2:12: invalid namespace 'Dev': must start with a letter or a digit and contain "
        "only lowercase letters, digits, '.', '_' and '-'",
        "flow.yml:3:1: unknown flow property 'taks'; did you mean 'tasks'? (allowed: id, "
        "namespace, description, labels, inputs, variables, tasks, outputs, pluginDefaults, "
        "errors, finally, triggers, concurrency, disabled, revision, taskDefaults, logToFile)",
        "flow.yml:4:1: 'afterExecution' is a Kestra flow property that plait does not support",
        "flow.yml:5:1: 'sla' is a Kestra flow property that plait does not support",
        "flow.yml:10:5: duplicate key 'message' (first written at line 9); remove one of them",
        "flow.yml:11:9: duplicate task id 'a' (first used at line 7); task ids must be unique "
        "in a flow, nested tasks included",
        "flow.yml:13:9: task #3: invalid task id 'bad.id': must start with a letter or a digit "
        "and contain only letters, digits, '_' and '-'",
        "flow.yml:15:26: task 'bad.id': taskCache 'enabled' must be true or false, got 'yes'",
        "flow.yml:16:5: task #4: missing required 'id'",
        "flow.yml:17:5: task 'c': missing required 'type'",
        "flow.yml:20:14: task 'd': 'timeout' must be an ISO-8601 duration such as PT5M, got "
        "'5 minutes'",
        "flow.yml:21:15: task 'd': 'logLevel' must be one of TRACE, DEBUG, INFO, WARN, ERROR, "
        "got 'warn'; did you mean 'WARN'?",
        "flow.yml:22:15: task 'd': 'disabled' must be true or false, got 'no'",
        "flow.yml:23:19: task 'd': retry 'type' must be one of constant, exponential, random, "
        "got 'linear'",
        "flow.yml:24:5: each entry of 'tasks' must be a mapping, got 'just a string'",
    ]


def test_missing_required_flow_properties() -> None:
    assert problems_of("description: nothing else\n") == [
        "flow.yml:1:1: missing required flow property 'id'",
        "flow.yml:1:1: missing required flow property 'namespace'",
        "flow.yml:1:1: missing required flow property 'tasks'",
    ]


def test_tasks_must_not_be_empty() -> None:
    assert problems_of("id: x\nnamespace: dev\ntasks: []\n") == [
        "flow.yml:3:8: 'tasks' must contain at least one task"
    ]


def test_ids_follow_kestras_patterns_and_lengths() -> None:
    long_id = "a" * 101
    problems = problems_of(
        f"id: {long_id}\nnamespace: dev.team_1-x\ntasks:\n  - id: 1st\n    type: plait.core.Log\n"
    )
    assert problems == [
        f"flow.yml:1:5: invalid flow id '{'a' * 20}...': at most 100 characters (it has 101)"
    ]


def test_bad_input_definitions() -> None:
    assert problems_of(
        """\
        id: x
        namespace: dev
        inputs:
          - id: count
            type: integer
          - id: size
            type: INT
            validator: "[0-9]+"
            min: 10
            max: 1
          - id: size
            type: STRING
          - type: STRING
          - id: pick
            type: SELECT
          - id: list
            type: ARRAY
            itemType: ARRAY
          - id: when
            type: DATETIME
            defaults: yesterday
          - id: code
            type: STRING
            validator: "[a-"
            colour: red
          - id: kind
            type: MULTISELEC
        tasks:
          - id: t
            type: plait.core.Log
        """
    ) == [
        "flow.yml:5:11: input 'count': unknown type 'integer' (types: STRING, INT, FLOAT, "
        "BOOLEAN, BOOL, DATETIME, DATE, TIME, DURATION, JSON, YAML, URI, SELECT, ENUM, "
        "MULTISELECT, ARRAY, FILE, SECRET)",
        "flow.yml:8:5: input 'size': 'validator' does not apply to INT inputs (only to STRING)",
        "flow.yml:9:10: input 'size': 'min' (10) is greater than 'max' (1)",
        "flow.yml:11:9: duplicate input id 'size' (first declared at line 6)",
        "flow.yml:13:5: input #4: missing required 'id'",
        "flow.yml:14:5: input 'pick': a SELECT input needs 'values': a non-empty list of choices",
        "flow.yml:18:15: input 'list': an ARRAY input needs 'itemType', one of STRING, INT, "
        "FLOAT, BOOLEAN, BOOL, DATETIME, DATE, TIME, DURATION, JSON, YAML, URI; got 'ARRAY'",
        "flow.yml:21:15: input 'when': invalid 'defaults': expected DATETIME (ISO-8601, e.g. "
        "2024-01-31T10:00:00Z), got 'yesterday'",
        "flow.yml:24:16: input 'code': invalid 'validator' regex: unterminated character set at "
        "position 0",
        "flow.yml:25:5: input 'code': unknown input property 'colour'",
        "flow.yml:27:11: input 'kind': unknown type 'MULTISELEC'; did you mean 'MULTISELECT' "
        "or 'SELECT'? "
        "(types: STRING, INT, FLOAT, BOOLEAN, BOOL, DATETIME, DATE, TIME, DURATION, JSON, YAML, "
        "URI, SELECT, ENUM, MULTISELECT, ARRAY, FILE, SECRET)",
    ]


def test_input_type_case_gets_a_suggestion() -> None:
    [problem] = problems_of(
        "id: x\nnamespace: dev\ninputs:\n  - id: n\n    type: int\n"
        "tasks:\n  - id: t\n    type: plait.core.Log\n"
    )
    assert problem.startswith("flow.yml:5:11: input 'n': unknown type 'int'; did you mean 'INT'?")


def test_bad_flow_outputs_and_plugin_defaults() -> None:
    assert problems_of(
        """\
        id: x
        namespace: dev
        tasks:
          - id: t
            type: plait.core.Return
        outputs:
          - id: result
            type: STRING
          - id: result
            type: STRING
            value: x
          - id: other
            type: TEXT
            value: y
            format: z
        pluginDefaults:
          - type: plait.core
            values:
              id: nope
              timeout: soon
          - values: {format: x}
          - type: plait.core.Log
            values: [a]
            forced: yes
        """
    ) == [
        "flow.yml:7:5: flow output 'result': missing required 'value' (usually an expression)",
        "flow.yml:9:9: duplicate flow output id 'result'",
        "flow.yml:13:11: flow output 'other': unknown type 'TEXT' (types: "
        "STRING, INT, FLOAT, BOOLEAN, BOOL, DATETIME, DATE, TIME, DURATION, JSON, YAML, URI, "
        "SELECT, ENUM, MULTISELECT, ARRAY, FILE, SECRET)",
        "flow.yml:15:5: unknown flow output property 'format' (allowed: id, type, value, "
        "description, displayName)",
        "flow.yml:19:7: plugin default 'plait.core': a plugin default cannot set a task's 'id'",
        "flow.yml:20:16: plugin default 'plait.core': 'timeout' must be an ISO-8601 duration "
        "such as PT5M, got 'soon'",
        "flow.yml:21:5: a plugin default needs a 'type' (a task type or a prefix of task "
        "types), got nothing",
        "flow.yml:23:13: plugin default 'plait.core.Log': 'values' must be a mapping of task "
        "properties, got a list",
        "flow.yml:24:13: plugin default 'plait.core.Log': 'forced' must be true or false, got "
        "'yes'",
    ]


def test_labels_as_a_list_of_key_value_pairs() -> None:
    flow = parse_flow(
        "id: x\nnamespace: dev\nlabels:\n  - key: team\n    value: data\n"
        "tasks:\n  - id: t\n    type: plait.core.Log\n"
    )
    assert flow.labels == {"team": "data"}


def test_bad_labels() -> None:
    assert problems_of(
        "id: x\nnamespace: dev\nlabels:\n  team: [a]\n  ok: fine\n"
        "tasks:\n  - id: t\n    type: plait.core.Log\n"
    ) == ["flow.yml:4:9: label 'team' must be text, got a list"]


def test_load_flow_returns_what_it_could_read_with_the_problems() -> None:
    flow, problems = load_flow("id: x\nnamespace: Dev\ntasks:\n  - id: t\n    type: a.B\n")
    assert flow is not None and [t.id for t in flow.tasks] == ["t"]
    assert [p.line for p in problems] == [2]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("guide_*.yml")))
def test_guide_flows_parse(name: str) -> None:
    flow = parse_flow(DATA / name)
    assert flow.namespace == "dev"
    assert [t.id for t in flow.tasks][:2] == ["api", "python"]
