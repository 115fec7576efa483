"""The expression-language reference: every registered filter and function, from its signature
and docstring (which carries the example)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

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


def expressions_page(
    filters: Mapping[str, Callable[..., Any]], functions: Mapping[str, Callable[..., Any]]
) -> str:
    return page(
        INTRO,
        *_entries("filter", filters, filter_usage),
        *_entries("function", functions, function_usage),
    )


def has_example(fn: Callable[..., Any]) -> bool:
    """Whether the docstring shows the callable in use (the reference promises an example)."""
    return "{{" in (inspect.getdoc(fn) or "")
