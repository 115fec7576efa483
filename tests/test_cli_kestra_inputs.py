"""`plait run` with Kestra's YAML, ENUM and bounded DATE/DURATION inputs: typed values in the
execution, and a value outside its bounds refused before anything runs (exit 2).

Reproduces Kestra's InputsTest.allValidInputs / inputValidatedDateBadValue /
inputValidatedDurationBadValue on the inputs of flows/valids/inputs.yaml.
"""

from __future__ import annotations

FLOW = """\
id: bounded
namespace: dev.tests
inputs:
  - id: enum
    type: ENUM
    values: [ENUM_VALUE, OTHER_ONE]
  - id: validatedDate
    type: DATE
    after: 2023-01-01
    before: 2023-12-31
  - id: validatedDuration
    type: DURATION
    min: PT10S
    max: PT20S
    required: false
  - id: yaml
    type: YAML
tasks:
  - id: show
    type: plait.core.Return
    format: "{{ inputs.yaml.alist | join(',') }} on {{ inputs.validatedDate }}"
"""


def test_typed_values_reach_the_execution(cli, write_flow):
    yaml_text = "some: property\nalist:\n- of\n- values"
    done = cli(
        "run",
        str(write_flow(FLOW)),
        *("-i", "enum=ENUM_VALUE", "-i", "validatedDate=2023-01-02"),
        *("-i", f"yaml={yaml_text}", "--json"),
    )
    assert done.code == 0, done.stderr
    doc = done.json()
    assert doc["inputs"] == {
        "enum": "ENUM_VALUE",
        "validatedDate": "2023-01-02",
        "validatedDuration": None,
        "yaml": {"some": "property", "alist": ["of", "values"]},
    }
    [run] = doc["taskRunList"]
    assert run["outputs"] == {"value": "of,values on 2023-01-02"}


def test_values_outside_bounds_exit_2_naming_the_input(cli, write_flow):
    done = cli(
        "run",
        str(write_flow(FLOW)),
        *("-i", "enum=ENUM_VALUE", "-i", "validatedDate=2022-01-01", "-i", "yaml=a: 1"),
        *("-i", "validatedDuration=PT30S"),
    )
    assert done.code == 2
    assert (
        "input 'validatedDate': expected DATE on or after 2023-01-01, got '2022-01-01'"
        in done.stderr
    )
    assert "input 'validatedDuration': expected DURATION of at most PT20S, got 'PT30S'" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
    assert "show" not in done.stdout + done.stderr  # nothing ran
