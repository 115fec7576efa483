"""Plugin defaults: prefix matching on the written type, the canonical type and its aliases;
non-forced values fill gaps (maps merged), forced values override, global defaults rank last."""

from __future__ import annotations

from textwrap import dedent

from plait.flows import PluginDefault, apply_plugin_defaults, parse_flow, with_plugin_defaults
from plait.flows.model import TaskDef

FLOW = dedent(
    """\
    id: defaults
    namespace: dev
    tasks:
      - id: get
        type: io.kestra.plugin.fs.http.Request
        uri: https://example.com
        headers:
          Accept: text/csv
      - id: log
        type: plait.core.Log
        message: hi
        level: INFO
    pluginDefaults:
      - type: io.kestra.plugin.fs
        values:
          method: GET
          uri: https://ignored.example.com
          headers:
            User-Agent: plait
            Accept: "*/*"
          timeout: PT1M
      - type: io.kestra.plugin.fs.http.Request
        values:
          method: POST
      - type: plait.core.Log
        forced: true
        values:
          level: WARN
      - type: io.kestra.plugin.core.log
        values:
          allowFailure: true
    """
)


def test_non_forced_defaults_fill_missing_keys_and_merge_maps() -> None:
    flow = parse_flow(FLOW)
    get = flow.tasks[0]
    props = apply_plugin_defaults(get, "plait.http.Request", flow.plugin_defaults)
    assert props == {
        "uri": "https://example.com",
        "headers": {"User-Agent": "plait", "Accept": "text/csv"},
        "method": "POST",  # the longer prefix wins over the shorter one
    }
    assert get.properties == {
        "uri": "https://example.com",
        "headers": {"Accept": "text/csv"},
    }, "the task itself is left unchanged"


def test_common_keys_come_from_defaults_too() -> None:
    flow = parse_flow(FLOW)
    effective = with_plugin_defaults(flow.tasks[0], "plait.http.Request", flow.plugin_defaults)
    assert effective.timeout == "PT1M"
    assert "timeout" not in effective.properties


def test_forced_defaults_override_and_aliases_match() -> None:
    flow = parse_flow(FLOW)
    log = flow.tasks[1]
    effective = with_plugin_defaults(
        log,
        "plait.core.Log",
        flow.plugin_defaults,
        aliases=("io.kestra.plugin.core.log.Log",),
    )
    assert effective.properties == {"message": "hi", "level": "WARN"}
    assert effective.allow_failure is True, "matched through the alias"
    unaliased = with_plugin_defaults(log, "plait.core.Log", flow.plugin_defaults)
    assert unaliased.allow_failure is False


def test_canonical_type_matches_when_an_alias_is_written() -> None:
    task = TaskDef(id="t", type="io.kestra.plugin.core.log.Log", properties={}, raw={})
    defaults = [PluginDefault(type="plait.core", values={"message": "from canonical"})]
    assert apply_plugin_defaults(task, "plait.core.Log", defaults) == {"message": "from canonical"}
    assert apply_plugin_defaults(task, "plait.other.Log", defaults) == {}


def test_precedence_between_flow_and_global_defaults() -> None:
    task = TaskDef(
        id="t",
        type="plait.core.Log",
        properties={"message": "mine"},
        raw={"id": "t", "type": "plait.core.Log", "message": "mine"},
    )
    flow_defaults = [
        PluginDefault(type="plait", values={"level": "DEBUG", "extra": "flow"}),
        PluginDefault(type="plait.core", values={"message": "flow forced"}, forced=True),
    ]
    global_defaults = [
        PluginDefault(type="plait.core.Log", values={"level": "ERROR", "other": "global"}),
        PluginDefault(type="plait", values={"message": "global forced"}, forced=True),
    ]
    props = apply_plugin_defaults(
        task, "plait.core.Log", flow_defaults, global_defaults=global_defaults
    )
    assert props == {
        "message": "global forced",  # an administrator's forced value wins over everything
        "level": "DEBUG",  # the flow's default wins over a global one, even a longer prefix
        "extra": "flow",
        "other": "global",
    }


def test_unrelated_defaults_do_not_apply() -> None:
    task = TaskDef(id="t", type="plait.core.Log", properties={"message": "x"}, raw={})
    defaults = [PluginDefault(type="plait.core.Return", values={"format": "y"})]
    assert apply_plugin_defaults(task, "plait.core.Log", defaults) == {"message": "x"}
