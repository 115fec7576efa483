"""What the expression reference says about what no plugin registers: the operators, the
tests, and Jinja's own filters and functions, each with an example, and where plait differs
from Kestra.

Registered filters and functions document themselves (their docstrings); these do not, or do
in Python's terms, so their entries are written here. ``tests/test_docs_generated.py`` fails
when the engine offers a name this module does not describe, and checks every example that
says what it gives.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    """How one operator, test, filter or function is documented."""

    description: str
    example: str
    """A template using it, ``{{ ... }}`` or ``{% ... %}``."""
    gives: str | None = None
    """What the example renders to (as ``plait eval`` shows it), when it needs no run."""
    kestra: str | None = None
    """How it differs from Kestra's, when it does."""


OPERATORS: dict[str, Entry] = {
    ".": Entry(
        "Reads a key of a map (or an attribute); a missing one is undefined.",
        "{{ {'a': {'b': 1}}.a.b }}",
        "1",
    ),
    "[ ]": Entry(
        "Reads a key of a map or an item of a list; for keys with `-` or computed ones.",
        "{{ {'task-id': [10, 20]}['task-id'][1] }}",
        "20",
    ),
    "|": Entry("Applies a filter to the value before it.", "{{ 'hello' | upper }}", "HELLO"),
    "??": Entry(
        "The right side when the left one is undefined or null (null coalescing).",
        "{{ inputs.name ?? 'world' }}",
        "world",
    ),
    "???": Entry(
        "The right side only when the left one is undefined (a null is kept).",
        "{{ inputs.missing ??? 'fallback' }}",
        "fallback",
    ),
    "? :": Entry(
        "The ternary operator: the middle value when the condition holds, else the last one.",
        "{{ 3 > 2 ? 'yes' : 'no' }}",
        "yes",
    ),
    "~": Entry(
        "Joins values as text (maps and lists as JSON).",
        "{{ 'apple' ~ 'pear' ~ 1 }}",
        "applepear1",
    ),
    "+ - * / % // **": Entry(
        "Arithmetic; `/` always gives a decimal number, `//` divides to a whole number and "
        "`**` raises to a power.",
        "{{ 2 + 2 / (10 % 3) * (8 - 1) }}",
        "16.0",
        "`//` and `**` are Jinja's; `/` of two whole numbers gives a decimal number.",
    ),
    "== != < > <= >=": Entry("Comparisons.", "{{ 2 >= 1 }}", "true"),
    "equals": Entry("Pebble's other name for `==`.", "{{ 'a' equals 'a' }}", "true"),
    "and or not": Entry(
        "Logic; the right side of `and`/`or` is only evaluated when needed.",
        "{{ true and not false }}",
        "true",
    ),
    "in, not in": Entry(
        "Whether an item is in a list, a key in a map, or a text in a text.",
        "{{ 'b' in ['a', 'b'] }}",
        "true",
    ),
    "isIn": Entry(
        "Whether the left value, as text, is an item of the list on the right, or a key or a "
        "value of the map on the right (false for null).",
        "{{ 'SUCCESS' isIn ['SUCCESS', 'WARNING'] }}",
        "true",
    ),
    "contains": Entry(
        "Whether the list on the left holds the value (every value, for a list), the map on "
        "the left has the key, or the text on the left holds the text.",
        "{{ ['apple', 'pear', 'peach'] contains ['apple', 'peach'] }}",
        "true",
    ),
    "is, is not": Entry(
        "Applies a test (see [Tests](#tests)).",
        "{{ 3 is odd }}",
        "true",
    ),
}

TAGS: dict[str, Entry] = {
    "if": Entry(
        "Renders a part when a condition holds; `elseif` (or `elif`) and `else` follow.",
        "{% if 2 > 1 %}yes{% elseif 2 > 0 %}maybe{% else %}no{% endif %}",
        "yes",
    ),
    "for": Entry(
        "Renders a part for each item of a list (or key of a map); `else` renders when empty.",
        "{% for x in [1, 2] %}{{ x }};{% else %}none{% endfor %}",
        "1;2;",
        "`loop.index` counts from 1 (Jinja) where Pebble counts from 0 (use `loop.index0`), "
        "and a map gives its keys, not entries (use `map.items()`).",
    ),
    "set": Entry("Names a value for the rest of the template.", "{% set x = 2 %}{{ x * 3 }}", "6"),
    "macro": Entry(
        "Defines a reusable part, called like a function.",
        "{% macro hi(name) %}hi {{ name }}{% endmacro %}{{ hi('you') }}",
        "hi you",
    ),
    "block": Entry(
        "Names a part of the template, rendered in place and again by `block()`; Pebble's "
        'quoted name (`{% block "post" %}`) works as Jinja\'s bare one.',
        '{% block "post" %}hi{% endblock %} {{ block("post") }}',
        "hi hi",
    ),
    "filter": Entry(
        "Applies a filter to a part.",
        "{% filter upper %}hello{% endfilter %}",
        "HELLO",
    ),
    "raw": Entry(
        "Prints its content as written, expressions included; whitespace control (`{%- raw %}`) "
        "is ignored, as in Kestra.",
        "{% raw %}{{ not rendered }}{% endraw %}",
        "{{ not rendered }}",
        "A raw block may span lines.",
    ),
}

TESTS: dict[str, Entry] = {
    "defined": Entry("Whether the value exists.", "{{ inputs.missing is defined }}", "false"),
    "undefined": Entry("Whether the value does not exist.", "{{ nothing is undefined }}", "true"),
    "null": Entry("Whether the value is null.", "{{ null is null }}", "true"),
    "none": Entry("Jinja's name of `null`.", "{{ null is none }}", "true"),
    "empty": Entry(
        "Whether the value is null, blank text or an empty list or map.",
        "{{ '  ' is empty }}",
        "true",
    ),
    "json": Entry(
        "Whether the value is text holding valid JSON.", "{{ '{\"a\": 1}' is json }}", "true"
    ),
    "map": Entry("Whether the value is a map.", "{{ {'a': 1} is map }}", "true"),
    "mapping": Entry("Jinja's name of `map`.", "{{ {'a': 1} is mapping }}", "true"),
    "iterable": Entry(
        "Whether the value can be looped over: a list, a map or a text.",
        "{{ [1] is iterable }}",
        "true",
        "Text is iterable here (one character at a time), not in Pebble.",
    ),
    "sequence": Entry(
        "Whether the value is a list, a map or a text.", "{{ [1] is sequence }}", "true"
    ),
    "even": Entry("Whether a whole number is even.", "{{ 2 is even }}", "true"),
    "odd": Entry("Whether a whole number is odd.", "{{ 3 is odd }}", "true"),
    "divisibleby": Entry(
        "Whether a whole number is a multiple of another.", "{{ 9 is divisibleby 3 }}", "true"
    ),
    "number": Entry("Whether the value is a number.", "{{ 1.5 is number }}", "true"),
    "integer": Entry("Whether the value is a whole number.", "{{ 2 is integer }}", "true"),
    "float": Entry("Whether the value is a decimal number.", "{{ 2.0 is float }}", "true"),
    "string": Entry("Whether the value is text.", "{{ 'a' is string }}", "true"),
    "boolean": Entry("Whether the value is `true` or `false`.", "{{ false is boolean }}", "true"),
    "true": Entry("Whether the value is `true`.", "{{ true is true }}", "true"),
    "false": Entry("Whether the value is `false`.", "{{ 0 is false }}", "false"),
    "lower": Entry("Whether the text is in lower case.", "{{ 'abc' is lower }}", "true"),
    "upper": Entry("Whether the text is in upper case.", "{{ 'ABC' is upper }}", "true"),
    "callable": Entry("Whether the value can be called.", "{{ now is callable }}", "true"),
    "filter": Entry("Whether a filter of that name exists.", "{{ 'jq' is filter }}", "true"),
    "test": Entry("Whether a test of that name exists.", "{{ 'odd' is test }}", "true"),
    "sameas": Entry("Whether both sides are the same object.", "{{ null is sameas null }}", "true"),
    "in": Entry("Whether the value is in a list, a map or a text.", "{{ 2 is in [1, 2] }}", "true"),
    "eq": Entry(
        "Whether the value equals another (also `==`, `equalto`).", "{{ 1 is eq 1 }}", "true"
    ),
    "==": Entry("Same as `eq`.", "{{ [1, 2, 3] | select('==', 2) | list }}", "[2]"),
    "equalto": Entry("Same as `eq`.", "{{ 1 is equalto 1 }}", "true"),
    "ne": Entry("Whether the value differs from another (also `!=`).", "{{ 1 is ne 2 }}", "true"),
    "!=": Entry("Same as `ne`.", "{{ [1, 2] | select('!=', 2) | list }}", "[1]"),
    "lt": Entry(
        "Whether the value is less than another (also `<`, `lessthan`).", "{{ 1 is lt 2 }}", "true"
    ),
    "<": Entry("Same as `lt`.", "{{ [1, 2, 3] | select('<', 2) | list }}", "[1]"),
    "lessthan": Entry("Same as `lt`.", "{{ 1 is lessthan 2 }}", "true"),
    "le": Entry("Whether the value is at most another (also `<=`).", "{{ 2 is le 2 }}", "true"),
    "<=": Entry("Same as `le`.", "{{ [1, 2, 3] | select('<=', 2) | list }}", "[1, 2]"),
    "gt": Entry(
        "Whether the value is more than another (also `>`, `greaterthan`).",
        "{{ 2 is gt 1 }}",
        "true",
    ),
    ">": Entry("Same as `gt`.", "{{ [1, 2, 3] | select('>', 2) | list }}", "[3]"),
    "greaterthan": Entry("Same as `gt`.", "{{ 2 is greaterthan 1 }}", "true"),
    "ge": Entry("Whether the value is at least another (also `>=`).", "{{ 2 is ge 2 }}", "true"),
    ">=": Entry("Same as `ge`.", "{{ [1, 2, 3] | select('>=', 2) | list }}", "[2, 3]"),
}

FILTERS: dict[str, Entry] = {
    "abs": Entry("The absolute value of a number.", "{{ -7 | abs }}", "7"),
    "attr": Entry(
        "An attribute of an object (for maps, use `.` or `[ ]`).",
        "{{ 'text' | attr('missing') is undefined }}",
        "true",
    ),
    "batch": Entry(
        "The items cut into lists of a given size; the last one is filled with the second "
        "argument when given.",
        "{{ [1, 2, 3] | batch(2) | list }}",
        "[[1, 2], [3]]",
    ),
    "capitalize": Entry(
        "The text with its first letter in upper case and the others in lower case.",
        "{{ 'hELLO world' | capitalize }}",
        "Hello world",
        "Pebble's keeps the case of the other letters.",
    ),
    "center": Entry(
        "The text centered in a field of a given width.", "{{ 'a' | center(5) }}", "  a  "
    ),
    "count": Entry("Same as `length`.", "{{ [1, 2] | count }}", "2"),
    "d": Entry(
        "Jinja's `default`: the fallback only when the value is undefined.",
        "{{ inputs.missing | d('x') }}",
        "x",
    ),
    "dictsort": Entry(
        "The entries of a map as `[key, value]` pairs sorted by key.",
        "{{ {'b': 1, 'a': 2} | dictsort }}",
        '[["a", 2], ["b", 1]]',
    ),
    "filesizeformat": Entry(
        "A number of bytes as a readable size.", "{{ 13000 | filesizeformat }}", "13.0 kB"
    ),
    "float": Entry("The value as a decimal number.", "{{ '1.5' | float }}", "1.5"),
    "format": Entry(
        "Values put into a printf-style format.", "{{ '%s-%03d' | format('a', 7) }}", "a-007"
    ),
    "groupby": Entry(
        "A list of maps grouped by the value of a key, as `[value, items]` pairs.",
        "{{ [{'k': 1}, {'k': 1}, {'k': 2}] | groupby('k') | map('first') | list }}",
        "[1, 2]",
    ),
    "int": Entry("The value as a whole number.", "{{ '42' | int + 1 }}", "43"),
    "items": Entry(
        "The entries of a map as `[key, value]` pairs.",
        "{{ {'a': 1} | items | list }}",
        '[["a", 1]]',
    ),
    "list": Entry(
        "The value as a list (a text gives its characters).", "{{ 'ab' | list }}", '["a", "b"]'
    ),
    "map": Entry(
        "Applies a filter to every item, or reads a key of every item.",
        "{{ [{'n': 'a'}, {'n': 'b'}] | map(attribute='n') | join(',') }}",
        "a,b",
    ),
    "max": Entry("The largest item of a list.", "{{ [3, 7, 1] | max }}", "7"),
    "min": Entry("The smallest item of a list.", "{{ [3, 7, 1] | min }}", "1"),
    "pprint": Entry(
        "The value as Python would print it, for debugging.", "{{ [1] | pprint }}", "[1]"
    ),
    "random": Entry("A random item of a list.", "{{ ['a', 'b'] | random }}"),
    "reject": Entry(
        "The items that do not pass a test.", "{{ [1, 2, 3] | reject('odd') | list }}", "[2]"
    ),
    "rejectattr": Entry(
        "The maps whose key does not pass a test (is not true, without a test).",
        "{{ [{'ok': true}, {'ok': false}] | rejectattr('ok') | list }}",
        '[{"ok": false}]',
    ),
    "reverse": Entry(
        "The list (or text) in reverse order.", "{{ [1, 2, 3] | reverse | list }}", "[3, 2, 1]"
    ),
    "round": Entry(
        "A number rounded to a given precision (`method` `common`, `ceil` or `floor`).",
        "{{ 3.14159 | round(2) }}",
        "3.14",
    ),
    "select": Entry(
        "The items that pass a test.", "{{ [1, 2, 3] | select('odd') | list }}", "[1, 3]"
    ),
    "selectattr": Entry(
        "The maps whose key passes a test (is true, without a test).",
        "{{ [{'ok': true}, {'ok': false}] | selectattr('ok') | list }}",
        '[{"ok": true}]',
    ),
    "slice": Entry(
        "The items cut into a given number of lists.",
        "{{ [1, 2, 3, 4] | slice(2) | list }}",
        "[[1, 2], [3, 4]]",
        "Pebble's `slice(from, to)` takes a part of a list or text: write `[from:to]` here.",
    ),
    "sort": Entry(
        "The items sorted (`reverse=true` for descending, `attribute` for maps).",
        "{{ [3, 1, 2] | sort }}",
        "[1, 2, 3]",
    ),
    "string": Entry("The value as text.", "{{ 123 | string }}", "123"),
    "striptags": Entry("The text without markup tags.", "{{ '<b>bold</b>' | striptags }}", "bold"),
    "sum": Entry("The sum of the items.", "{{ [1, 2, 3] | sum }}", "6"),
    "title": Entry(
        "The text with every word capitalized.", "{{ 'article title' | title }}", "Article Title"
    ),
    "trim": Entry(
        "The text without leading and trailing whitespace.", "{{ '  padded  ' | trim }}", "padded"
    ),
    "truncate": Entry(
        "The text cut to a given length, ending with `...`.",
        "{{ 'this is a long sentence' | truncate(12) }}",
        "this is...",
    ),
    "unique": Entry("The items without repeats.", "{{ [1, 1, 2] | unique | list }}", "[1, 2]"),
    "urlencode": Entry(
        "The text encoded for a URL (a map or list of pairs as a query string).",
        "{{ 'a b&c' | urlencode }}",
        "a%20b%26c",
        "Kestra writes a space as `+`, here it is `%20`.",
    ),
    "wordcount": Entry(
        "The number of words of a text.", "{{ 'three little words' | wordcount }}", "3"
    ),
    "wordwrap": Entry(
        "The text wrapped at a given width.", "{{ 'a b c' | wordwrap(3) }}", "a b\nc"
    ),
}

FUNCTIONS: dict[str, Entry] = {
    "block": Entry(
        "The output of a `{% block %}` of the template, rendered again (Pebble's `block()`).",
        '{% block "post" %}hi{% endblock %} {{ block("post") }}',
        "hi hi",
    ),
    "dict": Entry("A map of its keyword arguments.", "{{ dict(a=1, b=2) }}", '{"a": 1, "b": 2}'),
    "range": Entry(
        "The whole numbers from `start` (default 0) up to `stop`, excluded, by `step`; at most "
        "100,000 of them.",
        "{{ range(1, 4) | list }}",
        "[1, 2, 3]",
        "Pebble's `range(0, 3)` includes 3, and Pebble's `0..3` is not available.",
    ),
}

DIFFERENCES = (
    "Expressions run in a Jinja sandbox: Jinja's filters, tests and functions above work too, "
    "and a filter or function with a Kestra name behaves as Kestra's.",
    "A variable whose name is that of a function does not hide the function: `yaml(text)` "
    "calls the function even when a variable `yaml` exists, as in Pebble.",
    "Regular expressions (`regexMatch`, `regexReplace`, `regexExtract`, `replace(..., "
    "regexp=true)`) are Java's, run by Python: named groups, `$1` and `${name}` in "
    "replacements and `\\Q...\\E` work; `\\p{...}` classes do not.",
    "Python has one date-time type where Java has several: a date-time in UTC prints as Java's "
    "`Instant` (`2024-03-05T14:07:09Z`, seconds always), another as `ZonedDateTime` "
    "(`2013-09-08T16:19+02:00`, seconds left out when zero, then `[Europe/Paris]` when its "
    "zone is a region). Dates inside JSON (`toJson`, maps printed in text) always show their "
    "seconds.",
    "`numberFormat` writes English separators and does not support scientific notation "
    "(`0.###E0`); the `date` filter's `locale` argument and the `short`/`medium`/`long`/"
    "`full` formats are not available.",
    "`fromIon` reads Ion decimals as decimal numbers (not exact decimals) and blobs as their "
    "base64 text; `yaml()` accepts aliases (`*name`) except one that makes the document contain "
    "itself.",
    "`distinct` of null is null (Kestra gives the text `null`).",
    "`startsWith` and `endsWith` of null are false (Kestra fails).",
    "`fileURI` is not available: it names a namespace file, which plait does not have. "
    "`fileSize` and `read` reach only the files of the current execution (Kestra also lets "
    "them read those of the execution whose end triggered the flow).",
)
"""Where plait deliberately does not do what Kestra does; the reference lists them."""
