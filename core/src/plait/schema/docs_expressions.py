"""The expression-language reference: every registered filter and function, from its signature
and docstring (which carries the example)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2.sandbox import MAX_RANGE
from plait_sdk.expressions import NEEDS_CONTEXT_ATTR

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
`execution` (`id`, `startDate`), `task` and `taskrun` (the running task), `labels`, and the
variables a task offers while it runs, such as `workingDir` and `outputDir`.

Operators: Pebble's `??` returns its right side when the left one is undefined or null
(`{{ inputs.name ?? 'world' }}`), `~` joins text, and the usual comparison, arithmetic and
`and`/`or`/`not` operators work. Filters apply to the value before them
(`{{ value | name(arguments) }}`); functions are called by name (`{{ name(arguments) }}`)."""


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
    rows = [
        [f"[{code(name)}](#{kind}-{name.lower()})", _summary(callables[name])] for name in names
    ]
    sections = [f"## {kind.capitalize()}s", table([kind.capitalize(), "What it does"], rows)]
    for name in names:
        fn = callables[name]
        sections.append(f'<a id="{kind}-{name.lower()}"></a>\n### {code(name)}')
        sections.append(code(usage(name, fn)))
        sections.append(inspect.getdoc(fn) or "")
    return sections


def _summary(fn: Callable[..., Any]) -> str:
    doc = inspect.getdoc(fn) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


BUILTINS_INTRO = """\
## Jinja built-ins

Expressions run in a Jinja sandbox, so Jinja's own filters, tests and functions work too, as
[Jinja's template documentation](https://jinja.palletsprojects.com/en/stable/templates/#list-of-builtin-filters)
describes them; a filter or function above with the same name replaces Jinja's. A test follows
`is`: `{% if outputs.count.value is odd %}`. The HTML helpers (`escape`, `safe`, `tojson`...)
and `cycler`, `joiner`, `lipsum` and `namespace` are not available."""

_RST_ROLE = re.compile(r":\w+:`")
_RST_LINK = re.compile(r"`_\b")
_SENTENCE_END = re.compile(r"[.:]\s+(?=[A-Z])|[.:]$")

_DESCRIBED_HERE = {
    "dict": "A map of its keyword arguments: `dict(a=1, b=2)` is `{'a': 1, 'b': 2}`.",
    "range": "The integers from `start` (default 0) up to `stop`, excluded, by `step`, as "
    f"Python's `range`; at most {MAX_RANGE} of them.",
}
"""Built-ins whose docstring is Python's own or speaks of internals."""


def builtins_section(
    available: Mapping[str, Mapping[str, Callable[..., Any]]],
    replaced: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Tables of what ``available`` (by kind, as the engine offers it) holds beyond the
    ``replaced`` names that the plugins registered and the sections above document."""
    sections = [BUILTINS_INTRO]
    for kind, callables in available.items():
        rows = [
            [code(name), _DESCRIBED_HERE.get(name) or _builtin_summary(fn)]
            for name, fn in callables.items()
            if name not in replaced.get(kind, {})
        ]
        if rows:
            sections.append(f"### Built-in {kind}s")
            sections.append(table([kind.capitalize(), "What it does"], rows))
    return sections


def _builtin_summary(fn: Callable[..., Any]) -> str:
    """The first sentence of a Jinja docstring, its reStructuredText markup made markdown."""
    sentence = _SENTENCE_END.split(_summary(fn), maxsplit=1)[0]
    text = _RST_LINK.sub("`", _RST_ROLE.sub("`", sentence)).replace("``", "`")
    return f"{text}." if text else ""


def expressions_page(
    filters: Mapping[str, Callable[..., Any]],
    functions: Mapping[str, Callable[..., Any]],
    available: Mapping[str, Mapping[str, Callable[..., Any]]] | None = None,
) -> str:
    """The page; with ``available`` (what the engine offers, by kind), Jinja's built-ins too."""
    builtins = (
        builtins_section(available, {"filter": filters, "function": functions}) if available else []
    )
    return page(
        INTRO,
        *_entries("filter", filters, filter_usage),
        *_entries("function", functions, function_usage),
        *builtins,
    )


def has_example(fn: Callable[..., Any]) -> bool:
    """Whether the docstring shows the callable in use (the reference promises an example)."""
    return "{{" in (inspect.getdoc(fn) or "")
