"""Pebble syntax and semantics Kestra flows rely on: the ternary, ``isIn``, ``contains``,
``equals``, ``{% block "name" %}``, ``{% elseif %}``, whitespace control around raw blocks,
``??`` over undefined subscripts, guarded references in the static check, and dates printed
and read as Java does. Each case reproduces a Kestra test (``core/src/test/java/io/kestra/
core/runners/...``) named in its docstring, or an example of Kestra's expression docs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from plait.errors import FlowValidationError
from plait.expressions import ExpressionEngine
from plait.flows import check_flow
from plait.plugins import build_registry
from support.expression_cases import builtin_engine, fails, text


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


BLOCK = {"block": {"test": {"child": "awesome"}}, "inner": "test"}


# -- the ternary -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ inner.bla is not defined ? block.test.child : null }}",  # firstDefined
        "{{ block.test.child is defined ? block.test.child : inner.bla }}",
        "{{ block[inner].child is defined ? block[inner].child : null }}",  # firstDefinedEval
        "{{ block[missing].child is defined ? null : block[inner].child }}",
        "{{ block[missing].child is not defined ? (block[missing2].child is not defined"
        " ? block[inner].child : null) : null }}",
        "{{ missing is defined ? null : block.test.child }}",
    ],
)
def test_ternary_only_evaluates_the_branch_taken(engine: ExpressionEngine, template: str) -> None:
    """PebbleVariableRendererTest.firstDefined and .firstDefinedEval."""
    assert text(engine, template, **BLOCK) == "awesome"


def test_ternary_forms(engine: ExpressionEngine) -> None:
    """PebbleVariableRendererTest.out (``list[3] is defined ? bla : null``), .exception, and the
    docs' ``foo == null ? bar : baz``: right-associative, inside maps and filter arguments."""
    assert text(engine, "{{ list[3] is defined ? bla : null }}", list=["a", 1, 1.5]) == ""
    assert "missing2" in fails(engine, "{{ missing is defined ? missing : missing2 }}")
    assert text(engine, "{{ foo == null ? 'bar' : 'baz' }}", foo=None) == "bar"
    assert text(engine, "{{ false ? 'a' : false ? 'b' : 'c' }}") == "c"
    assert engine.render_value("{{ {'k': 2 > 1 ? 'x' : 'y'} }}", {}) == {"k": "x"}
    assert text(engine, "{{ (true ? 'ok' : 'no') | upper }}") == "OK"
    assert "syntax error" in fails(engine, "{{ true ? 'a' }}")


# -- isIn, contains, equals, in --------------------------------------------------------------


def test_is_in(engine: ExpressionEngine) -> None:
    """InExpressionTest.inList and .inMap (a map's keys and values), and the docs' runIf
    ``execution.state isIn ['SUCCESS', 'KILLED', 'CANCELLED']``."""
    assert text(engine, "{{ state isIn ['SUCCESS', 'WARNING'] }}", state="SUCCESS") == "true"
    assert text(engine, "{{ state isIn ['FAILED', 'KILLED'] }}", state="SUCCESS") == "false"
    variables = {"map": {"key": "value"}, "key": "key", "value": "value"}
    assert text(engine, "{{ key isIn map }}|{{ value isIn map }}", **variables) == "true|true"
    assert text(engine, "{{ 1 isIn ['1'] }}|{{ null isIn [null] }}") == "true|false"
    assert "nothing" in fails(engine, "{{ nothing isIn [1] }}")


def test_not_in(engine: ExpressionEngine) -> None:
    """NotInExpressionTest."""
    assert text(engine, "{{ 'foo' not in ['foo', 'bar'] }}") == "false"
    assert text(engine, "{{ 'baz' not in ['foo', 'bar'] }}") == "true"


def test_contains(engine: ExpressionEngine) -> None:
    """The docs' ``contains`` operator: a list's item, every item of a list, a map's key, a
    substring; it binds looser than ``~`` and as tight as comparisons."""
    assert text(engine, '{{ ["apple", "pear", "banana"] contains "apple" }}') == "true"
    assert text(engine, '{{ {"apple": "red", "banana": "yellow"} contains "banana" }}') == "true"
    assert text(
        engine, '{{ ["apple", "pear", "banana", "peach"] contains ["apple", "peach"] }}'
    ) == ("true")
    assert text(engine, "{{ main contains sub }}", main="a substring", sub="sub") == "true"
    assert text(engine, "{% if [1, 2] contains 3 %}yes{% else %}no{% endif %}") == "no"
    assert text(engine, "{{ 'ab' ~ 'c' contains 'bc' and true }}") == "true"
    assert "needs a list, a map or a text" in fails(engine, "{{ 1 contains 1 }}")


def test_equals(engine: ExpressionEngine) -> None:
    """The docs' ``{% if user.name equals "Mitchell" %}``."""
    template = '{% if user.name equals "Mitchell" %}hi{% endif %}'
    assert text(engine, template, user={"name": "Mitchell"}) == "hi"


# -- blocks, raw, elseif ---------------------------------------------------------------------


def test_block_named_by_a_string_and_the_block_function(engine: ExpressionEngine) -> None:
    """PebbleVariableRendererTest.macro, and the docs' ``{{ block("post") }}``; names that are
    no Python identifier work too."""
    rendered = text(engine, '{% block "post" %} content {% endblock %}{{ block("post") }}')
    assert rendered == " content  content "
    assert text(engine, "{% block 'my-part' %}x{% endblock %}{{ block('my-part') }}") == "xx"
    assert text(engine, "{% block header %}y{% endblock %}{{ block('header') }}") == "yy"
    assert "no block named 'nope'" in fails(engine, "{{ block('nope') }}")


@pytest.mark.parametrize(
    "template",
    [
        "See some code {% raw %}{{ var }}{% endraw %}",
        "See some code {%raw%}{{ var }}{%endraw%}",
        "See some code {%-  raw%}{{ var }}{%endraw -%}",
    ],
)
def test_raw_ignores_whitespace_control(engine: ExpressionEngine, template: str) -> None:
    """PebbleVariableRendererTest.raw: the space before ``{%- raw`` stays."""
    assert text(engine, template, var="1") == "See some code {{ var }}"


def test_raw_blocks_side_by_side_and_over_lines(engine: ExpressionEngine) -> None:
    """PebbleVariableRendererTest.raw's two blocks; a block over lines keeps its lines, and
    expressions after it still report their own line."""
    template = (
        "See some code {% raw %}{{ var }}{% endraw %} and some other code "
        "{% raw %}{{ var2 }}{% endraw %}"
    )
    assert text(engine, template) == "See some code {{ var }} and some other code {{ var2 }}"
    assert text(engine, "{% raw %}\n{{ a }}\n{% endraw %}{{ 1 }}") == "\n{{ a }}\n1"
    assert "at line 3" in fails(engine, "{% raw %}\n{{ a }}\n{% endraw %}{{ missing }}")


def test_elseif(engine: ExpressionEngine) -> None:
    """The docs' if tag: ``{% elseif category == "sports" %}``."""
    template = (
        '{% if category == "news" %}news{% elseif category == "sports" %}sports'
        "{% else %}other{% endif %}"
    )
    assert text(engine, template, category="sports") == "sports"
    assert text(engine, "{{ 'elseif' }}") == "elseif"


# -- ?? over undefined subscripts ------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ inner.bla ?? block.test.child }}",  # NullCoalescingExpressionTest.firstDefined
        "{{ block.test.child ?? inner.bla }}",
        "{{ block[inner].child ?? null }}",  # firstDefinedEval
        "{{ block[missing].child ?? block[inner].child }}",
        "{{ block[missing].child ?? block[missing2].child ?? block[inner].child }}",
        "{{ missing ?? block.test.child }}",
    ],
)
def test_null_coalescing_over_undefined_subscripts(engine: ExpressionEngine, template: str) -> None:
    """NullCoalescingExpressionTest: a subscript that is itself undefined is undefined."""
    assert text(engine, template, **BLOCK) == "awesome"


def test_an_undefined_subscript_still_fails_when_used(engine: ExpressionEngine) -> None:
    """NullCoalescingExpressionTest (``missing ?? missing2``) and PebbleVariableRendererTest.get."""
    assert "missing2" in fails(engine, "{{ missing ?? missing2 }}", **BLOCK)
    assert "Unable to find `missing`" in fails(engine, "{{ block[missing].child }}", **BLOCK)


# -- the static check of references ----------------------------------------------------------

FLOW = """\
id: guarded
namespace: dev
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.not_there ?? '' }}"
  - id: second
    type: io.kestra.plugin.core.log.Log
    message:
      - "{{ outputs.later.value ??? 'none' }}"
      - "{% if outputs.maybe is defined %}{{ outputs.maybe.value }}{% endif %}"
      - "{{ outputs.first.nope is defined ? outputs.first.nope : outputs.first.value }}"
      - "{{ outputs.gone.value | default('x') }}"
  - id: later
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.first.value }}"
"""


def test_guarded_references_pass_the_static_check(tmp_path: Path) -> None:
    """Kestra accepts ``{{ outputs.not_there ?? '' }}``: a reference guarded by ``??``,
    ``???``, ``is defined`` or ``default`` may name a task that does not exist or has not
    run; unguarded ones are still checked."""
    registry = build_registry(load=[])
    engine = ExpressionEngine(registry.filters, registry.functions)
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW, encoding="utf-8")
    check_flow(flow, registry, engine)
    flow.write_text(FLOW.replace("{{ outputs.first.value }}", "{{ outputs.frist.value }}"))
    with pytest.raises(FlowValidationError, match="unknown task 'frist'"):
        check_flow(flow, registry, engine)


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # PebbleVariableRendererTest.out: ZonedDateTime.parse("2013-09-08T16:19:00+02")
        (
            datetime(2013, 9, 8, 16, 19, tzinfo=timezone(timedelta(hours=2))),
            "2013-09-08T16:19+02:00",
        ),
        (
            datetime(2013, 9, 8, 16, 19, 5, tzinfo=timezone(timedelta(hours=2))),
            "2013-09-08T16:19:05+02:00",
        ),
        (
            datetime(2013, 9, 8, 16, 19, 0, 120000, tzinfo=timezone(timedelta(hours=2))),
            "2013-09-08T16:19:00.120+02:00",
        ),
        (
            datetime(2013, 9, 8, 16, 19, tzinfo=ZoneInfo("Europe/Paris")),
            "2013-09-08T16:19+02:00[Europe/Paris]",
        ),
        # an Instant (execution.startDate): seconds always, Z
        (datetime(2024, 3, 5, 14, 7, tzinfo=UTC), "2024-03-05T14:07:00Z"),
        (datetime(2024, 3, 5, 14, 7, 9, 123456, tzinfo=UTC), "2024-03-05T14:07:09.123456Z"),
        (datetime(2024, 3, 5, 14, 7), "2024-03-05T14:07"),  # LocalDateTime
        (date(2024, 3, 5), "2024-03-05"),
        (time(23, 59), "23:59"),
    ],
)
def test_dates_print_as_java_prints_them(
    engine: ExpressionEngine, value: Any, expected: str
) -> None:
    assert text(engine, "{{ d }}", d=value) == expected
    assert text(engine, "at {{ d }}", d=value) == f"at {expected}"


def test_dates_inside_json_keep_their_seconds(engine: ExpressionEngine) -> None:
    """ToJsonFilterTest: a date in JSON is ISO_OFFSET_DATE_TIME, seconds included."""
    moment = datetime(2013, 9, 8, 16, 19, tzinfo=timezone(timedelta(hours=2)))
    assert text(engine, "{{ d | toJson }}", d=moment) == '"2013-09-08T16:19:00+02:00"'


def test_date_strings(engine: ExpressionEngine) -> None:
    """DateFilterTest.dateStringFormat: a date alone is read at midnight; an existing format."""
    template = (
        '{{ "July 24, 2001" | date("yyyy-MM-dd", existingFormat="MMMM dd, yyyy") }}\n'
        '{{ "2013-09-08T17:19:12+02:00" | date(timeZone="Europe/Paris") }}\n'
        '{{ "2013-09-08T17:19:12" | date(timeZone="Europe/Paris") }}\n'
        '{{ "2013-09-08" | date(timeZone="Europe/Paris") }}\n'
    )
    assert text(engine, template) == (
        "2001-07-24\n"
        "2013-09-08T17:19:12.000000+02:00\n"
        "2013-09-08T17:19:12.000000+02:00\n"
        "2013-09-08T00:00:00.000000+02:00\n"
    )


def test_named_formats_read_dates_too(engine: ExpressionEngine) -> None:
    """DateFilterTest.dateRfc: ``existingFormat='rfc_1123_date_time'``; the other names
    (``iso_zoned_date_time``, ``sql``...) read their own output back."""
    template = (
        "{{ 'Tue, 08 Feb 2022 19:38:26 GMT' | date(existingFormat='rfc_1123_date_time', "
        'timeZone="Europe/Paris") }}'
    )
    assert text(engine, template) == "2022-02-08T20:38:26.000000+01:00"
    assert (
        text(
            engine,
            "{{ '8 Feb 2022 19:38 +0130' | date('iso_sec', existingFormat="
            "'rfc_1123_date_time', timeZone='UTC') }}",
        )
        == "2022-02-08T18:08:00Z"
    )
    moment = datetime(2024, 3, 5, 15, 7, 9, tzinfo=ZoneInfo("Europe/Paris"))
    for name in (
        "iso",
        "iso_sec",
        "sql",
        "sql_seq",
        "iso_zoned_date_time",
        "iso_date_time",
        "iso_offset_date_time",
        "iso_local_date_time",
        "iso_instant",
        "rfc_1123_date_time",
    ):
        written = text(engine, f"{{{{ d | date('{name}', timeZone='Europe/Paris') }}}}", d=moment)
        again = f"{{{{ w | date('iso_sec', existingFormat='{name}', timeZone='Europe/Paris') }}}}"
        assert text(engine, again, w=written) == "2024-03-05T15:07:09+01:00", name
    assert "not an RFC 1123 date" in fails(
        engine, "{{ 'nope' | date(existingFormat='rfc_1123_date_time') }}"
    )


def test_date_add(engine: ExpressionEngine) -> None:
    """DateFilterTest.add and .timestampCompare."""
    moment = datetime(2013, 9, 8, 16, 19, 12, 123456, tzinfo=timezone(timedelta(hours=1)))
    template = '{{ zoned | dateAdd(-1,"DAYS",timeZone="Europe/Paris")}}'
    assert text(engine, template, zoned=moment) == "2013-09-07T17:19:12.123456+02:00"
    compare = "{{ (zoned | timestamp) > (zoned | dateAdd(-1, 'DAYS') | timestamp) }}"
    assert text(engine, compare, zoned=moment) == "true"
