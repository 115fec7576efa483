"""The filters Kestra has that plait lacked, and the Jinja built-ins that must behave as
Pebble's (``indent``, ``replace``): each case reproduces a Kestra test, named in the test's
docstring (``core/src/test/java/io/kestra/core/runners/pebble/filters/<Class>.<method>``), or
an example of Kestra's expression docs (docs ``expressions``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from plait.expressions import ExpressionEngine
from plait.expressions.budget import RenderLimits
from support.expression_cases import builtin_engine, fails, text


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


# -- indent and nindent --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ null | indent(2) }}", ""),  # IndentFilterTest.indentNull
        ("{{ '' | indent(2) }}", ""),  # indentEmpty
        ('{{ "\n\n" | indent(2) }}', "\n  \n  "),  # indentEmptyLines: blank lines too
        ("{{ 'string' | indent(2) }}", "string"),  # indentString
        ("{{ 1 | indent(2) }}", "1"),  # indentInteger
        ('{{ "first line\\r\\nsecond line" | indent(2) }}', "first line\r\n  second line"),
        ('{{ "first line\nsecond line" | indent(2) }}', "first line\n  second line"),
        ('{{ "first line\\rsecond line" | indent(2) }}', "first line\r  second line"),
        ('{{ "first line\nsecond line" | indent(2, "\t") }}', "first line\n\t\tsecond line"),
    ],
)
def test_indent_as_kestra(engine: ExpressionEngine, template: str, expected: str) -> None:
    """IndentFilterTest: null and numbers, CRLF/LF/CR kept, the prefix argument, blank lines
    (Jinja's indent would fail on null and numbers and skip blank lines). Line breaks are
    written as escapes: Jinja reads a raw CR in a template's source as a line break."""
    assert text(engine, template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ null | nindent(2) }}", ""),
        ("{{ '' | nindent(2) }}", ""),
        ('{{ "\n\n" | nindent(2) }}', "\n  \n  \n  "),
        ("{{ 'string' | nindent(2) }}", "\n  string"),
        ("{{ 1 | nindent(2) }}", "\n  1"),
        ('{{ "first line\\r\\nsecond line" | nindent(2) }}', "\r\n  first line\r\n  second line"),
        ('{{ "first line\\rsecond line" | nindent(2) }}', "\r  first line\r  second line"),
        ('{{ "first line\nsecond line" | nindent(2, "\t") }}', "\n\t\tfirst line\n\t\tsecond line"),
    ],
)
def test_nindent_as_kestra(engine: ExpressionEngine, template: str, expected: str) -> None:
    """NindentFilterTest: the same cases, starting on a new line."""
    assert text(engine, template) == expected


def test_indent_refuses_a_negative_amount_and_what_would_exceed_the_size_limit() -> None:
    """Kestra refuses an amount below 0; plait also refuses an indent past the render's size
    budget before building it."""
    small = builtin_engine(RenderLimits(max_size=1000))
    assert "0 or more" in fails(small, "{{ 'a\nb' | indent(-1) }}")
    assert "1,000 allowed" in fails(small, "{{ 'a\nb\nc' | nindent(400) }}")


# -- replace ---------------------------------------------------------------------------------


def test_replace_with_a_map(engine: ExpressionEngine) -> None:
    """ReplaceFilterTest.string, and the docs' ``replace({'%this%': foo, '%that%': "bar"})``."""
    assert text(engine, "{{ 'john doe is john doe' | replace({'john': 'jane'}) }}") == (
        "jane doe is jane doe"
    )
    template = "{{ 'I like %this% and %that%.' | replace({'%this%': foo, '%that%': 'bar'}) }}"
    assert text(engine, template, foo="foo") == "I like foo and bar."


def test_replace_with_regexp(engine: ExpressionEngine) -> None:
    """ReplaceFilterTest.regexp: Java regular expressions and ``$1`` group references."""
    template = "{{ 'aa1bb2cc3dd4ee5' | replace({'(\\\\d)': '-$1-'}, regexp=true) }}"
    assert text(engine, template) == "aa-1-bb-2-cc-3-dd-4-ee-5-"


def test_replace_goes_into_lists_and_maps_and_keeps_jinjas_form(engine: ExpressionEngine) -> None:
    """Kestra's ReplaceFilter replaces in every text of a list or map; Jinja's two-argument
    form keeps working for flows written against plait before."""
    assert engine.render_value("{{ {'a': 'x1', 'b': ['x2', 3]} | replace({'x': 'y'}) }}", {}) == {
        "a": "y1",
        "b": ["y2", "3"],
    }
    assert text(engine, "{{ 'a-b-c' | replace('-', '+') }}") == "a+b+c"
    assert text(engine, "{{ 'a-b-c' | replace('-', '+', 1) }}") == "a+b-c"
    assert "map of replacements" in fails(engine, "{{ 'a' | replace('a') }}")


# -- regular expressions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 'hello world' | regexMatch(regex='hello.*') }}", "true"),  # regexMatchMatches
        ("{{ 'hello world' | regexMatch(regex='^\\\\d+$') }}", "false"),  # DoesNotMatch
        ("{{ 'order-12345-done' | regexMatch(regex='\\\\d+') }}", "true"),  # PartialMatch
        ("{{ null | regexMatch(regex='.*') }}", "false"),  # regexMatchNullInput
        ("{{ 'hello world' | regexReplace(regex='world', replacement='java') }}", "hello java"),
        ("{{ 'aa1bb2cc3' | regexReplace(regex='\\\\d', replacement='-') }}", "aa-bb-cc-"),
        (
            "{{ 'aa1bb2cc3' | regexReplace(regex='(\\\\d)', replacement='[$1]') }}",
            "aa[1]bb[2]cc[3]",
        ),
        ("{{ 'hello' | regexReplace(regex='\\\\d+', replacement='X') }}", "hello"),
        ("{{ null | regexReplace(regex='.*', replacement='x') }}", ""),
        ("{{ 'order-12345-done' | regexExtract(regex='\\\\d+') }}", "12345"),
        ("{{ 'order-12345-done' | regexExtract(regex='order-(\\\\d+)', group=1) }}", "12345"),
        ("{{ 'abc-123-def-456' | regexExtract(regex='\\\\d+') }}", "123"),
        ("{{ 'hello' | regexExtract(regex='\\\\d+') }}", ""),
        ("{{ null | regexExtract(regex='\\\\d+') }}", ""),
    ],
)
def test_regex_filters(engine: ExpressionEngine, template: str, expected: str) -> None:
    """RegexFilterTest: regexMatch (find, not a full match), regexReplace, regexExtract."""
    assert text(engine, template) == expected


def test_java_regex_syntax_is_translated(engine: ExpressionEngine) -> None:
    """Java's named groups, ``${name}`` references and ``\\Q...\\E`` quoting, which Python's
    ``re`` spells otherwise; an unsupported ``\\p{...}`` class is named in the error."""
    template = "{{ '2024-03-05' | regexReplace('(?<y>\\\\d+)-(?<m>\\\\d+)-\\\\d+', '${m}/${y}') }}"
    assert text(engine, template) == "03/2024"
    assert text(engine, "{{ 'a.b' | regexReplace('\\\\Q.\\\\E', '\\\\$') }}") == "a$b"
    assert "\\p{...}" in fails(engine, "{{ 'a' | regexMatch('\\\\p{Alpha}') }}")
    assert "invalid regular expression" in fails(engine, "{{ 'a' | regexMatch('(') }}")


# -- substrings, prefixes, escaping, URL decoding -------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 'a.b.c' | substringBefore('.') }}", "a"),  # SubstringFilterTest.substringBefore
        ("{{ 'a.b.c' | substringAfter(separator='.') }}", "b.c"),  # substringAfter
        ("{{ 'a.b.c' | substringBeforeLast(separator='.') }}", "a.b"),  # substringBeforeLast
        ("{{ 'a.b.c' | substringBeforeLast('.') }}", "a.b"),
        ("{{ 'a.b.c' | substringAfterLast('.') }}", "c"),  # substringAfterLast
        ("{{ 'abc' | substringBefore('x') }}", "abc"),  # StringUtils: absent separator
        ("{{ 'abc' | substringAfter('x') }}", ""),
        ("{{ 'abc' | substringBeforeLast('x') }}", "abc"),
        ("{{ 'abc' | substringAfterLast('x') }}", ""),
        ('{{ "Hello World" | startsWith("Hello") }}', "true"),  # StartsWithFilterTest.out
        ('{{ "Hello World" | endsWith("World") }}', "true"),  # EndsWithFilterTest.out
        ('{{ "Hello World" | endsWith("Hello") }}', "false"),
        ("{{ 'Kestra rulez !' | urlencode | urldecode }}", "Kestra rulez !"),  # UrlDecodeFilter
        ("{{ 'The+string+%C3%BC%40foo-bar' | urldecode }}", "The string ü@foo-bar"),  # docs
    ],
)
def test_text_filters(engine: ExpressionEngine, template: str, expected: str) -> None:
    assert text(engine, template) == expected


@pytest.mark.parametrize(
    ("kind", "source", "expected"),
    [
        ("single", "\"L'eau c'est la vie\"", "L\\'eau c\\'est la vie"),
        ("double", "'\"Hello\"'", '\\"Hello\\"'),
        ("shell", "\"L'eau c'est la vie\"", "L'\\''eau c'\\''est la vie"),
        ("single", "''", ""),
        ("SHELL", "''", ""),
    ],
)
def test_escape_char(engine: ExpressionEngine, kind: str, source: str, expected: str) -> None:
    """EscapeCharFilterTest.validTypes (the type is case-insensitive, as Kestra's enum read)."""
    assert text(engine, f"{{{{ {source} | escapeChar('{kind}') }}}}") == expected


@pytest.mark.parametrize("kind", ["foo", ""])
def test_escape_char_refuses_other_types(engine: ExpressionEngine, kind: str) -> None:
    """EscapeCharFilterTest.invalidTypes."""
    assert "'single', 'double' or 'shell'" in fails(
        engine, f"{{{{ 'Hello' | escapeChar('{kind}') }}}}"
    )


# -- hashes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha512"])
def test_hashes(engine: ExpressionEngine, name: str) -> None:
    """Md5FilterTest, Sha1FilterTest, Sha512FilterTest (Kestra only checks the text changed;
    here the digest is the real one), and Pebble's sha256."""
    assert text(engine, f'{{{{ "hello" | {name} }}}}') == hashlib.new(name, b"hello").hexdigest()
    assert "needs a text" in fails(engine, f"{{{{ 1 | {name} }}}}")


# -- lists -----------------------------------------------------------------------------------


def test_distinct(engine: ExpressionEngine) -> None:
    """DistinctFilterTest.toDistinctFilter: first occurrences kept, in order; ``1`` and
    ``1.0`` are different items, as in Java. Not a list: DistinctFilterTest's invalid cases."""
    items = ["one", "two", "one", "three", "four", "five", "three", 1, 2, 3, 1, 2, 2]
    items += [1.123, 2.123, 1.123, 10.0, 10.0, 1.0, True, {"a": 1}, {"a": 1}]
    assert text(engine, "{{ list | distinct }}", list=items) == (
        '["one","two","three","four","five",1,2,3,1.123,2.123,10.0,1.0,true,{"a":1}]'
    )
    assert text(engine, "{{ [] | distinct }}") == "[]"
    assert "needs a list" in fails(engine, '{{ "string" | distinct }}')
    assert "needs a list" in fails(engine, "{{ {'key': 'value'} | distinct }}")


def test_chunk(engine: ExpressionEngine) -> None:
    """ChunkFilterTest.out and .exception."""
    assert text(engine, "{{ list | chunk(2) }}", list=[1, 2, 3, 4, 5, 6, 7, 8, 9]) == (
        "[[1,2],[3,4],[5,6],[7,8],[9]]"
    )
    assert "needs a list" in fails(engine, "{{ test | chunk(2) }}", test=1)
    assert "1 or more" in fails(engine, "{{ [1] | chunk(0) }}")


def test_flatten(engine: ExpressionEngine) -> None:
    """FlattenFilterTest.flatten: one level of nesting removed."""
    nested = ["You're doing great!", ["You're awesome!", "Keep shining!"], "Believe!", [["deep"]]]
    assert text(engine, "{{ nested | flatten | first }}", nested=nested) == "You're doing great!"
    assert engine.render_value("{{ nested | flatten }}", {"nested": nested}) == [
        "You're doing great!",
        "You're awesome!",
        "Keep shining!",
        "Believe!",
        ["deep"],
    ]


def test_flatten_cannot_build_past_the_size_limit() -> None:
    small = builtin_engine(RenderLimits(max_size=1000))
    big = list(range(600))
    assert "1,000 allowed" in fails(small, "{{ [big, big] | flatten }}", big=big)


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        (1.232654, "#.##", "1.23"),  # PebbleVariableRendererTest.numberFormat
        (3.141592653, "#.##", "3.14"),  # docs: numberFormat("#.##")
        (1234567.891, "#,##0.00", "1,234,567.89"),
        (0.5, "#.##", ".5"),  # DecimalFormat leaves out a zero integer part for '#'
        (0.125, "0.00", "0.12"),  # half-even on the exact value
        (0.135, "0.00", "0.14"),  # 0.135 is just above in binary
        (0.256, "0.0%", "25.6%"),
        (7, "000", "007"),
        (-5, "0;(0)", "(5)"),
        (1234, "'$'#,##0.00", "$1,234.00"),
    ],
)
def test_number_format(engine: ExpressionEngine, value: float, pattern: str, expected: str) -> None:
    assert text(engine, f'{{{{ v | numberFormat("{pattern}") }}}}', v=value) == expected


def test_number_format_refuses_what_it_cannot_write(engine: ExpressionEngine) -> None:
    assert "needs a number" in fails(engine, "{{ 'x' | numberFormat('#') }}")
    assert "scientific notation" in fails(engine, "{{ 1 | numberFormat('0.###E0') }}")


# -- YAML and Ion ----------------------------------------------------------------------------

SECOND = {
    "string": "string",
    "int": 1,
    "float": 1.123,
    "list": ["string", 1, 1.123],
    "bool": True,
    "date": datetime(2013, 9, 8, 16, 19, tzinfo=timezone(timedelta(hours=2))),
    "map": {"string": "string", "int": 1, "float": 1.123},
}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("string", "string\n"),
        ("int", "1\n"),
        ("float", "1.123\n"),
        ("list", " - string\n - 1\n - 1.123\n"),
        ("bool", "true\n"),
        ("date", "2013-09-08T16:19:00+02:00\n"),
        ("map", "string: string\nint: 1\nfloat: 1.123\n"),
    ],
)
def test_yaml_filter(engine: ExpressionEngine, key: str, expected: str) -> None:
    """YamlFilterTest.map: Jackson's YAML (no document marker, list items indented by one
    space, dates in ISO_OFFSET_DATE_TIME)."""
    assert text(engine, f"{{{{ vars.second.{key} | yaml }}}}", vars={"second": SECOND}) == expected


def test_yaml_filter_quotes_only_what_needs_it_and_nests(engine: ExpressionEngine) -> None:
    value = {"a": {"b": [1, {"c": "yes"}]}, "empty": {}, "colon": "a: b", "multi": "x\ny"}
    assert text(engine, "{{ v | yaml }}", v=value) == (
        'a:\n  b:\n   - 1\n   - c: "yes"\nempty: {}\ncolon: "a: b"\nmulti: "x\\ny"\n'
    )
    assert text(engine, "{{ v | yaml }}", v=None) == "null"
    assert engine.render_value("{{ yaml(v | yaml) }}", {"v": value}) == value


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("string", '"string"'),
        ("int", "1"),
        ("float", "1.123e0"),
        ("list", '["string",1,1.123e0]'),
        ("bool", "true"),
        ("date", 'ZonedDateTime::"2013-09-08T16:19:00+02:00"'),
        ("map", '{string:"string",int:1,float:1.123e0}'),
    ],
)
def test_to_ion(engine: ExpressionEngine, key: str, expected: str) -> None:
    """ToIonFilterTest.toIonFilter (Kestra's 1.1230000257492065e0 is a Java float widened to a
    double; a Python float is a double already)."""
    assert text(engine, f"{{{{ vars.second.{key} | toIon }}}}", vars={"second": SECOND}) == expected


def test_to_ion_edge_values(engine: ExpressionEngine) -> None:
    """ToIonFilterTest: an empty object, null; a UTC instant is an Ion timestamp, as Kestra's
    IonModule writes an Instant."""
    assert text(engine, '{{ {"empty_object":{}} | toIon }}') == "{empty_object:{}}"
    assert text(engine, "{{ null | toIon }}") == "null"
    moment = datetime(2024, 4, 21, 23, 0, tzinfo=UTC)
    assert text(engine, "{{ {'a b': d} | toIon }}", d=moment) == "{'a b':2024-04-21T23:00:00.000Z}"


def test_to_ion_exception(engine: ExpressionEngine) -> None:
    """ToIonFilterTest.exception: ``{{ | toIon }}`` is a syntax error."""
    assert "syntax error" in fails(engine, "{{ | toIon }}")
