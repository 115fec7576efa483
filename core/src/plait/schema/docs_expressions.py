"""The expression-language reference: every operator and tag, every registered filter and
function (from its signature and docstring, which carries the example), every test and Jinja
built-in (from :mod:`plait.schema.docs_builtins`), and where plait differs from Kestra."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from plait_sdk.expressions import NEEDS_CONTEXT_ATTR

from plait.schema.docs_builtins import DIFFERENCES, OPERATORS, TAGS, TESTS, Entry
from plait.schema.docs_builtins import FILTERS as BUILTIN_FILTERS
from plait.schema.docs_builtins import FUNCTIONS as BUILTIN_FUNCTIONS
from plait.schema.markdown import code, page, table

INTRO = """\
# Expressions

Dynamic task properties, flow outputs and `plait eval` accept expressions in Kestra's Pebble
dialect, evaluated in a sandbox: `{{ ... }}` prints a value, `{% ... %}` holds tags such as
`if` and `for`. A property whose whole value is one `{{ ... }}` keeps the value's native type
(a list stays a list) when the property is not text; maps and lists printed inside text become
JSON.

Variables: `inputs`, `vars` (the flow's `variables`), `outputs` (`outputs.<task id>.<name>`, or
`outputs['task-id'].<name>` when the id has a hyphen), `flow` (`id`, `namespace`, `revision`),
`execution` (`id`, `startDate`), `task` and `taskrun` (the running task), `labels`, `envs`
(environment variables named `KESTRA_<NAME>`, as `envs.<name>`), and the variables a task
offers while it runs, such as `workingDir` and `outputDir`.

Filters apply to the value before them (`{{ value | name(arguments) }}`); functions are
called by name (`{{ name(arguments) }}`) and tests follow `is` (`{{ 3 is odd }}`). Functions
and variables are apart, as in Pebble: a variable never hides a function of the same name."""


def _parameters(fn: Callable[..., Any], *, skip: int) -> str:
    """The parameters a template passes, without those the engine supplies (the services of a
    context-aware callable, the piped value of a filter)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return "..."
    if getattr(fn, NEEDS_CONTEXT_ATTR, False):
        skip += 1
    shown = []
    for parameter in list(signature.parameters.values())[skip:]:
        text = parameter.name
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            text = f"*{text}"
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            text = f"**{text}"
        elif parameter.default is not inspect.Parameter.empty:
            text = f"{text}={_spelled(parameter.default)}"
        shown.append(text)
    return ", ".join(shown)


def _spelled(value: Any) -> str:
    """A default value as a template would write it (``'iso'``, ``true``, ``null``)."""
    return f"'{value}'" if isinstance(value, str) else json.dumps(value, default=str)


def filter_usage(name: str, fn: Callable[..., Any]) -> str:
    arguments = _parameters(fn, skip=1)
    return f"value | {name}({arguments})" if arguments else f"value | {name}"


def function_usage(name: str, fn: Callable[..., Any]) -> str:
    return f"{name}({_parameters(fn, skip=0)})"


def _entries(
    kind: str, callables: Mapping[str, Callable[..., Any]], usage: Callable[..., str]
) -> list[str]:
    if not callables:
        return []
    names = sorted(callables)
    rows = [[f"[{code(name)}](#{kind}-{name.lower()})", summary(callables[name])] for name in names]
    sections = [f"## {kind.capitalize()}s", table([kind.capitalize(), "What it does"], rows)]
    for name in names:
        fn = callables[name]
        sections.append(f'<a id="{kind}-{name.lower()}"></a>\n### {code(name)}')
        sections.append(code(usage(name, fn)))
        sections.append(inspect.getdoc(fn) or "")
    return sections


def summary(fn: Callable[..., Any]) -> str:
    """A callable's first docstring paragraph on one line: its row in the reference and its
    completion's detail in the web editor."""
    doc = inspect.getdoc(fn) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


BUILTINS_INTRO = """\
## Jinja built-ins

Expressions run in a Jinja sandbox, so Jinja's own filters and functions work too, as
[Jinja's template documentation](https://jinja.palletsprojects.com/en/stable/templates/#list-of-builtin-filters)
describes them; a filter or function above with the same name replaces Jinja's. The HTML
helpers (`escape`, `safe`, `tojson`...) and `cycler`, `joiner`, `lipsum` and `namespace` are
not available."""

DIFFERENCES_INTRO = """\
## Differences from Kestra

Flows written for Kestra render alike; these are the deliberate exceptions."""

TESTS_INTRO = """\
A test follows `is` (or `is not`) and says whether the value passes:
`{% if outputs.count.value is odd %}`. Tests that take an argument take it after their name
(`9 is divisibleby 3`) or in parentheses."""


def _example(entry: Entry) -> str:
    shown = code(entry.example)
    if entry.gives is None:
        return shown
    return f"{shown} gives {code(entry.gives.replace(chr(10), chr(92) + 'n'))}"


def _entry_table(
    heading: str, column: str, entries: Mapping[str, Entry], names: Iterable[str]
) -> str:
    rows = [[code(name), entries[name].description, _example(entries[name])] for name in names]
    return "\n\n".join((heading, table([column, "What it does", "Example"], rows))) if rows else ""


def builtins_section(
    available: Mapping[str, Mapping[str, Callable[..., Any]]],
    replaced: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Tables of the filters and functions ``available`` (by kind, as the engine offers them)
    beyond the ``replaced`` names that the plugins registered and the sections above document."""
    sections = [BUILTINS_INTRO]
    for kind, entries in (("filter", BUILTIN_FILTERS), ("function", BUILTIN_FUNCTIONS)):
        names = [name for name in available[kind] if name not in replaced.get(kind, {})]
        sections.append(_entry_table(f"### Built-in {kind}s", kind.capitalize(), entries, names))
    return sections


def dialect_sections() -> list[str]:
    """The operators and the tags."""
    return [
        _entry_table("## Operators", "Operator", OPERATORS, OPERATORS),
        _entry_table("## Tags", "Tag", TAGS, TAGS),
    ]


def tests_section(available: Mapping[str, Mapping[str, Callable[..., Any]]]) -> list[str]:
    return ["## Tests", TESTS_INTRO, _entry_table("", "Test", TESTS, available["test"]).strip()]


def differences_section(available: Mapping[str, Mapping[str, Callable[..., Any]]]) -> list[str]:
    """The general differences, then each operator, tag, test, filter or function that has one."""
    notes = [f"- {text}" for text in DIFFERENCES]
    for kind, entries, names in (
        ("operator", OPERATORS, OPERATORS),
        ("tag", TAGS, TAGS),
        ("test", TESTS, available["test"]),
        ("filter", BUILTIN_FILTERS, available["filter"]),
        ("function", BUILTIN_FUNCTIONS, available["function"]),
    ):
        notes += [
            f"- {code(name)} ({kind}): {entries[name].kestra}"
            for name in names
            if name in entries and entries[name].kestra
        ]
    return [DIFFERENCES_INTRO, "\n".join(notes)]


def undocumented(
    available: Mapping[str, Mapping[str, Callable[..., Any]]],
    registered: Mapping[str, Mapping[str, Callable[..., Any]]],
) -> list[str]:
    """Every filter, test and function the engine offers that the reference cannot describe
    with a one-line description and an example: a registered one whose docstring lacks them,
    another one missing from :mod:`plait.schema.docs_builtins`."""
    tables = {"filter": BUILTIN_FILTERS, "test": TESTS, "function": BUILTIN_FUNCTIONS}
    missing = []
    for kind, callables in available.items():
        own = registered.get(kind, {})
        for name in callables:
            if name in own:
                if not summary(own[name]) or not has_example(own[name]):
                    missing.append(f"{kind} {name}")
            elif name not in tables[kind]:
                missing.append(f"{kind} {name}")
    return missing


def expressions_page(
    filters: Mapping[str, Callable[..., Any]],
    functions: Mapping[str, Callable[..., Any]],
    available: Mapping[str, Mapping[str, Callable[..., Any]]] | None = None,
) -> str:
    """The page; with ``available`` (what the engine offers, by kind), the operators, tags,
    tests, Jinja's built-ins and the differences from Kestra too."""
    registered = {"filter": filters, "function": functions}
    return page(
        INTRO,
        *(dialect_sections() if available else []),
        *_entries("filter", filters, filter_usage),
        *_entries("function", functions, function_usage),
        *(tests_section(available) if available else []),
        *(builtins_section(available, registered) if available else []),
        *(differences_section(available) if available else []),
    )


def has_example(fn: Callable[..., Any]) -> bool:
    """Whether the docstring shows the callable in use (the reference promises an example)."""
    return "{{" in (inspect.getdoc(fn) or "")
