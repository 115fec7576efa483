"""A flow's ``triggers`` and ``concurrency`` as an author meets them without a server: ``plait
validate`` (a real subprocess), the flow schema editors bind to, ``plait plugins list`` and the
reference docs. Firing them under ``plait server`` is in test_server_triggers.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from plait.flows.flow_extras_reader import COMMON_TRIGGER_KEYS
from plait.flows.model import CONCURRENCY_BEHAVIORS
from plait.plugins import build_registry
from plait.schema import flow_schema, to_json
from plait.schema.triggers import TRIGGER_DEFINITION, trigger_properties_schema
from plait_sdk import RunContext, Task, TaskOutputs, TaskProperties, prop
from plait_sdk.trigger import ScheduleTrigger, TriggerProperties
from pydantic import BaseModel
from test_schema_flow import flow_errors, refs, resolves

if TYPE_CHECKING:
    from conftest import CliRunner

REPO = Path(__file__).resolve().parent.parent
CORE_TRIGGERS = {
    "plait.core.trigger.Schedule": "io.kestra.plugin.core.trigger.Schedule",
    "plait.core.trigger.Flow": "io.kestra.plugin.core.trigger.Flow",
    "plait.core.trigger.Webhook": "io.kestra.plugin.core.trigger.Webhook",
}

HEAD = """\
id: triggered
namespace: dev
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: hello
    type: plait.core.Log
    message: "hello {{ inputs.who }}"
"""

VALID = (
    HEAD
    + """\
triggers:
  - id: every_minute
    type: io.kestra.plugin.core.trigger.Schedule
    description: every minute
    cron: "*/1 * * * *"
    timezone: Europe/Paris
    recoverMissedSchedules: NONE
    inputs:
      who: "{{ trigger.date }}"
  - id: fast
    type: plait.core.trigger.Schedule
    cron: "*/2 * * * * *"
    withSeconds: true
    disabled: true
  - id: after_upstream
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: upstream_ok
      flows:
        - namespace: dev
          flowId: upstream
          states: [SUCCESS, WARNING]
    inputs:
      who: "{{ trigger.outputs.name }}"
  - id: legacy
    type: io.kestra.core.models.triggers.types.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlowCondition
        namespace: dev
        flowId: upstream
      - type: io.kestra.plugin.core.condition.ExecutionStatusCondition
        in: [SUCCESS]
  - id: hook
    type: plait.core.trigger.Webhook
    key: 4wjtkzwVGBM9
    inputs:
      who: "{{ trigger.body.name }}"
concurrency:
  limit: 2
  behavior: CANCEL
"""
)
"""Every core trigger type (by ids and aliases, with every property) and concurrency."""


def trigger(body: str) -> str:
    """A valid flow whose only trigger is ``body`` (lines of one list entry)."""
    return HEAD + "triggers:\n" + body


# ------------------------------------------------------------------ plait validate


def test_a_flow_with_every_kind_of_trigger_is_valid(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "flow.yml"
    path.write_text(VALID, encoding="utf-8")
    done = cli("validate", str(path))
    assert done.code == 0, done.stderr
    assert "Traceback" not in done.stderr


MISTAKES = [
    (
        "unknown type",
        trigger("  - id: s\n    type: plait.core.trigger.Schedul\n    cron: '* * * * *'\n"),
        "plait.core.trigger.Schedul\n",
        [
            "trigger 's': unknown trigger type 'plait.core.trigger.Schedul'",
            "did you mean 'plait.core.trigger.Schedule'",
        ],
    ),
    (
        "unknown alias",
        trigger("  - id: s\n    type: io.kestra.plugin.core.trigger.Shedule\n    cron: '* * *'\n"),
        "Shedule",
        ["unknown trigger type", "did you mean 'io.kestra.plugin.core.trigger.Schedule'"],
    ),
    (
        "unknown property",
        trigger("  - id: s\n    type: plait.core.trigger.Schedule\n    cron: '* * * * *'\n"
                "    crn: '* * * * *'\n"),
        "crn:",
        ["trigger 's' (plait.core.trigger.Schedule): unknown property 'crn'",
         "did you mean 'cron'"],
    ),
    (
        "missing property",
        trigger("  - id: s\n    type: plait.core.trigger.Schedule\n    timezone: UTC\n"),
        "- id: s",
        ["trigger 's' (plait.core.trigger.Schedule): missing required property 'cron'"],
    ),
    (
        "bad cron",
        trigger("  - id: s\n    type: plait.core.trigger.Schedule\n    cron: '61 * * * *'\n"),
        "- id: s",
        ["trigger 's' (plait.core.trigger.Schedule): invalid cron expression '61 * * * *'"],
    ),
    (
        "seconds without withSeconds",
        trigger("  - id: s\n    type: plait.core.trigger.Schedule\n    cron: '*/2 * * * * *'\n"),
        "- id: s",
        ["has 6 fields", "withSeconds"],
    ),
    (
        "bad timezone",
        trigger("  - id: s\n    type: plait.core.trigger.Schedule\n    cron: '0 9 * * *'\n"
                "    timezone: Mars/Olympus\n"),
        "- id: s",
        ["unknown timezone 'Mars/Olympus'"],
    ),
    (
        "short webhook key",
        trigger("  - id: w\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: short\n"),
        "key: short",
        ["trigger 'w' (plait.core.trigger.Webhook): property 'key'", "at least 8 characters"],
    ),
    (
        "flow trigger naming no flow",
        trigger("  - id: f\n    type: plait.core.trigger.Flow\n    states: [SUCCESS]\n"),
        "- id: f",
        ["needs 'preconditions'"],
    ),
    (
        "bad recovery policy",
        trigger("  - id: s\n    type: plait.core.trigger.Schedule\n    cron: '0 9 * * *'\n"
                "    recoverMissedSchedules: SOME\n"),
        "SOME",
        ["property 'recoverMissedSchedules'", "'ALL', 'LAST' or 'NONE'"],
    ),
    (
        "concurrency limit 0",
        HEAD + "concurrency:\n  limit: 0\n",
        "limit: 0",
        ["concurrency 'limit' must be a whole number of at least 1, got 0"],
    ),
    (
        "concurrency without a limit",
        HEAD + "concurrency:\n  behavior: FAIL\n",
        "behavior: FAIL",  # a missing key is reported at the mapping, which starts there
        ["concurrency 'limit' must be a whole number of at least 1"],
    ),
    (
        "concurrency behavior",
        HEAD + "concurrency:\n  limit: 1\n  behavior: QUEUED\n",
        "QUEUED",
        ["concurrency 'behavior' must be one of QUEUE, CANCEL, FAIL", "did you mean 'QUEUE'"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "needle", "expected"),
    [case[1:] for case in MISTAKES],
    ids=[case[0] for case in MISTAKES],
)
def test_plait_validate_reports_trigger_mistakes_where_they_are(
    cli: CliRunner, tmp_path: Path, text: str, needle: str, expected: list[str]
) -> None:
    path = tmp_path / "flow.yml"
    path.write_text(text, encoding="utf-8")
    done = cli("validate", str(path))
    assert done.code == 2, done.stderr
    assert "Traceback" not in done.stderr
    line = text[: text.index(needle)].count("\n") + 1
    located = re.findall(rf"^{re.escape(str(path))}:{line}:\d+: (.*)$", done.stderr, re.MULTILINE)
    assert located, done.stderr
    for fragment in expected:
        assert any(fragment in message for message in located), (fragment, done.stderr)


# ------------------------------------------------------------------ the flow schema


@pytest.fixture(scope="module")
def registry() -> Any:
    return build_registry()


@pytest.fixture(scope="module")
def schema(registry: Any) -> dict[str, Any]:
    return flow_schema(registry.task_types, registry.trigger_types)


def test_plait_schema_flow_describes_triggers_and_concurrency(
    cli: CliRunner, schema: dict[str, Any]
) -> None:
    done = cli("schema", "flow")
    assert done.code == 0, done.stderr
    printed = done.json()
    assert printed == schema  # no plugin here registers triggers: the core's are all of them
    assert printed["properties"]["triggers"]["items"] == {
        "$ref": f"#/definitions/{TRIGGER_DEFINITION}"
    }
    concurrency = printed["properties"]["concurrency"]
    assert concurrency["properties"]["limit"] == {
        "type": "integer",
        "minimum": 1,
        "description": concurrency["properties"]["limit"]["description"],
    }
    assert concurrency["properties"]["behavior"]["enum"] == list(CONCURRENCY_BEHAVIORS)
    assert concurrency["required"] == ["limit"]
    assert concurrency["additionalProperties"] is False


def test_the_trigger_type_is_an_enum_of_every_id_and_alias(
    schema: dict[str, Any], registry: Any
) -> None:
    item = schema["definitions"][TRIGGER_DEFINITION]
    assert set(item["properties"]) == COMMON_TRIGGER_KEYS
    assert item["required"] == ["id", "type"]
    names = item["properties"]["type"]["enum"]
    assert sorted(names) == sorted(registry.trigger_types)
    assert {name: alias in names for name, alias in CORE_TRIGGERS.items()} == dict.fromkeys(
        CORE_TRIGGERS, True
    )
    assert len(item["properties"]["type"]["markdownEnumDescriptions"]) == len(names)
    branches = {
        tuple(branch["if"]["properties"]["type"]["enum"]): branch["then"]["$ref"]
        for branch in item["allOf"]
    }
    canonical = {cls.type: cls for cls in registry.trigger_types.values()}
    assert len(branches) == len(canonical)
    for type_id, cls in canonical.items():
        assert branches[(type_id, *cls.aliases)] == f"#/definitions/{type_id}"


def test_each_trigger_type_lists_exactly_its_properties_and_the_common_keys(
    schema: dict[str, Any], registry: Any
) -> None:
    for type_id, cls in {c.type: c for c in registry.trigger_types.values()}.items():
        definition = schema["definitions"][type_id]
        own = {f.alias or n for n, f in cls.Properties.model_fields.items()}
        assert set(definition["properties"]) == COMMON_TRIGGER_KEYS | own, type_id
        assert definition["additionalProperties"] is False
        required = [n for n, f in cls.Properties.model_fields.items() if f.is_required()]
        assert definition["required"] == ["id", "type", *required]
        assert definition["properties"]["type"]["enum"] == [type_id, *cls.aliases]
        hover = definition["properties"]["type"]["markdownDescription"]
        assert hover.startswith(f"**{cls.title()}**") and "Under `plait server`" in hover
        for name in own:
            assert definition["properties"][name]["markdownDescription"], (type_id, name)
            assert "x-dynamic" not in definition["properties"][name]  # read as written
    assert [ref for ref in refs(schema) if not resolves(schema, ref)] == []


def test_the_schema_accepts_valid_triggers(schema: dict[str, Any], registry: Any) -> None:
    assert flow_errors(schema, VALID) == []
    for cls in {c.type: c for c in registry.trigger_types.values()}.values():
        for example in cls.examples:
            assert flow_errors(schema, example.flow) == [], (cls.type, example.title)


@pytest.mark.parametrize(
    ("case", "old", "new", "where", "message"),
    [
        ("wrong property", "    timezone: Europe/Paris\n", "    timezon: Europe/Paris\n",
         ("triggers", 0, "timezon"), "property 'timezon' is not allowed"),
        ("unknown type", "type: plait.core.trigger.Schedule", "type: plait.core.trigger.Cron",
         ("triggers", 1, "type"), "is not one of"),
        ("missing cron", '    cron: "*/1 * * * *"\n', "", ("triggers", 0), "missing 'cron'"),
        ("short key", "key: 4wjtkzwVGBM9", "key: short", ("triggers", 4, "key"),
         "has the wrong length"),
        ("recovery policy", "recoverMissedSchedules: NONE", "recoverMissedSchedules: SOME",
         ("triggers", 0, "recoverMissedSchedules"), "is not one of"),
        ("withSeconds text", "withSeconds: true", "withSeconds: yes please",
         ("triggers", 1, "withSeconds"), "not of type"),
        ("upstream without namespace", "        - namespace: dev\n          flowId: upstream\n"
         "          states:", "        - flowId: upstream\n          states:",
         ("triggers", 2, "preconditions", "flows", 0), "missing 'namespace'"),
        ("bad trigger id", "id: every_minute", "id: every minute", ("triggers", 0, "id"),
         "does not match"),
        ("a common key of tasks", "    disabled: true\n", "    disabled: true\n    timeout: PT1M\n",
         ("triggers", 1, "timeout"), "property 'timeout' is not allowed"),
        ("concurrency limit", "limit: 2", "limit: 0", ("concurrency", "limit"), "too small"),
        ("concurrency behavior", "behavior: CANCEL", "behavior: DROP",
         ("concurrency", "behavior"), "is not one of"),
        ("concurrency key", "  behavior: CANCEL\n", "  behavior: CANCEL\n  max: 3\n",
         ("concurrency", "max"), "property 'max' is not allowed"),
    ],
)  # fmt: skip
def test_the_schema_refuses_wrong_triggers_where_they_are(
    schema: dict[str, Any], case: str, old: str, new: str, where: tuple[Any, ...], message: str
) -> None:
    assert old in VALID, case
    errors = flow_errors(schema, VALID.replace(old, new, 1))
    assert any(path == where and message in text for path, text in errors), (case, errors)


class _Options(BaseModel):
    every: int = prop(1, description="How often.")


class _TickProperties(TriggerProperties):
    options: _Options = prop(default_factory=_Options, description="Options.", dynamic=False)
    label: str = prop(description="A label.")


class _Tick(ScheduleTrigger[_TickProperties]):
    """Tick now and then."""

    type = "plait.acme.trigger.Tick"
    aliases = ("acme.Tick",)
    Properties = _TickProperties

    def next_date(self, props: _TickProperties, after: Any) -> Any:
        return None


class _TaskOptions(BaseModel):
    colour: str = prop("red", description="Colour.")


_TaskOptions.__name__ = _Options.__name__ = "Options"


class _PaintProperties(TaskProperties):
    options: _TaskOptions = prop(default_factory=_TaskOptions, description="Options.")


class _Paint(Task[_PaintProperties, TaskOutputs]):
    """Paint."""

    type = "plait.acme.Paint"
    Properties = _PaintProperties

    def run(self, props: _PaintProperties, ctx: RunContext) -> TaskOutputs:
        return TaskOutputs()


def test_a_plugins_trigger_type_joins_the_schema_beside_tasks_of_the_same_model_name() -> None:
    schema = flow_schema(
        {"plait.acme.Paint": _Paint},
        {"plait.acme.trigger.Tick": _Tick, "acme.Tick": _Tick},
    )
    definitions = schema["definitions"]
    assert definitions[TRIGGER_DEFINITION]["properties"]["type"]["enum"] == [
        "plait.acme.trigger.Tick",
        "acme.Tick",
    ]
    tick = definitions["plait.acme.trigger.Tick"]
    assert tick["required"] == ["id", "type", "label"]
    ref = tick["properties"]["options"]["allOf"][0]["$ref"].removeprefix("#/definitions/")
    assert set(definitions[ref]["properties"]) == {"every"}
    paint = definitions["plait.acme.Paint"]["properties"]["options"]["anyOf"][0]["$ref"]
    assert set(definitions[paint.removeprefix("#/definitions/")]["properties"]) == {"colour"}
    assert [r for r in refs(schema) if not resolves(schema, r)] == []
    flow = "id: f\nnamespace: dev\ntasks:\n  - id: p\n    type: plait.acme.Paint\ntriggers:\n"
    good = flow + "  - id: t\n    type: acme.Tick\n    label: x\n    options: {every: 2}\n"
    assert flow_errors(schema, good) == []
    bad = good.replace("label: x", "label: '{{ no }}'").replace("every: 2", "every: '{{ n }}'")
    assert [path for path, _ in flow_errors(schema, bad)] == [("triggers", 0, "options", "every")]
    again = flow_schema(
        {"plait.acme.Paint": _Paint}, {"acme.Tick": _Tick, "plait.acme.trigger.Tick": _Tick}
    )
    assert to_json(again) == to_json(schema)


def test_trigger_properties_schema_leaves_out_the_common_keys() -> None:
    class _Shadowing(TriggerProperties):
        description: str = prop("x", description="Taken by the reader.")
        cron: str = prop(description="Mine.")

    class _Trigger(ScheduleTrigger[_Shadowing]):
        """Shadowing."""

        type = "plait.acme.trigger.Shadowing"
        Properties = _Shadowing

        def next_date(self, props: _Shadowing, after: Any) -> Any:
            return None

    schema = trigger_properties_schema(_Trigger)
    assert set(schema["properties"]) == {"inputs", "cron"}
    assert schema["required"] == ["cron"]


# ------------------------------------------------------------------ plugins list and docs


def test_plugins_list_shows_the_core_trigger_types(cli: CliRunner) -> None:
    listed = cli("plugins", "list", "--json", env={"PLAIT_LOAD_PLUGINS": ""})
    assert listed.code == 0, listed.stderr
    triggers = {
        entry["type"]: (plugin["distribution"], entry["aliases"])
        for plugin in listed.json()["plugins"]
        for entry in plugin["triggerTypes"]
    }
    assert set(triggers) == set(CORE_TRIGGERS)
    for type_id, alias in CORE_TRIGGERS.items():
        assert triggers[type_id][0] == "plait"
        assert alias in triggers[type_id][1]
    assert all("triggerTypes" in plugin for plugin in listed.json()["plugins"])
    table = cli("plugins", "list", env={"PLAIT_LOAD_PLUGINS": ""})
    assert table.code == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == [
        "PLUGIN", "DISTRIBUTION", "VERSION", "KIND", "TYPE", "ALIASES"
    ]  # fmt: skip
    rows = [line.split() for line in table.stdout.splitlines()[2:]]
    shown = {row[row.index("trigger") + 1] for row in rows if "trigger" in row}
    assert shown == set(CORE_TRIGGERS)
    assert any(row[:1] == ["builtin.triggers"] for row in rows)


def test_every_trigger_type_has_a_reference_page(cli: CliRunner, tmp_path: Path) -> None:
    committed = REPO / "docs" / "reference"
    index = (committed / "index.md").read_text(encoding="utf-8")
    assert "## Trigger types" in index and "## Keys every trigger accepts" in index
    for type_id, alias in CORE_TRIGGERS.items():
        page = (committed / "triggers" / f"{type_id}.md").read_text(encoding="utf-8")
        assert page.startswith("<!-- Generated by `plait docs`")
        assert f"`{alias}`" in page
        assert "| Property | Type | Default | Required | Description |" in page
        assert "## Examples" in page and "triggers:" in page
        assert f"[`{type_id}`](triggers/{type_id}.md)" in index
    schedule = (committed / "triggers" / "plait.core.trigger.Schedule.md").read_text("utf-8")
    assert "| `cron` | string |  | yes |" in schedule
    assert "| `recoverMissedSchedules` | ALL \\| LAST \\| NONE | `ALL` | no |" in schedule
    flow = (committed / "triggers" / "plait.core.trigger.Flow.md").read_text("utf-8")
    assert "### `UpstreamFlow`" in flow  # nested models are described too

    target = tmp_path / "core"
    (target / "triggers").mkdir(parents=True)
    (target / "triggers" / "plait.gone.Trigger.md").write_text("old", encoding="utf-8")
    done = cli("docs", "--plugin", "plait", "--output-dir", str(target))
    assert done.code == 0, done.stderr
    assert {p.name for p in (target / "triggers").iterdir()} == {
        f"{type_id}.md" for type_id in CORE_TRIGGERS
    }
    http = cli("docs", "--plugin", "plait-http", "--output-dir", str(tmp_path / "http"))
    assert http.code == 0, http.stderr
    assert not (tmp_path / "http" / "triggers").exists()
    assert "Trigger types" not in (tmp_path / "http" / "index.md").read_text(encoding="utf-8")


def test_trigger_examples_are_valid_flows(cli: CliRunner, tmp_path: Path, registry: Any) -> None:
    for cls in {c.type: c for c in registry.trigger_types.values()}.values():
        assert cls.examples, cls.type
        for index, example in enumerate(cls.examples):
            assert yaml.safe_load(example.flow)["triggers"], cls.type
            path = tmp_path / f"{cls.type}-{index}.yml"
            path.write_text(example.flow, encoding="utf-8")
            done = cli("validate", str(path))
            assert done.code == 0, (cls.type, done.stderr)
