"""YAML as Kestra's ``yaml`` filter writes it and its ``yaml()`` function reads it.

Kestra writes with Jackson: block style, quotes only where needed (then double quotes), list
items indented by one space under their parent (``list:\\n - a``), dates in ISO-8601. This
module writes the same text for the values flows hold.

Reading keeps dates as text, as Kestra's reader does (PyYAML would turn ``2024-01-01`` into a
date), and refuses a document whose aliases make it contain itself, which no value can print.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

import yaml

from plait.expressions.budget import check_size
from plait.expressions.javadate import NAMED_FORMATS

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()


# --- writing --------------------------------------------------------------------------------


def dump(value: Any) -> str:
    """``value`` as a YAML document (without the ``---`` marker), ending with a line break."""
    if value is None:
        return "null"
    lines: list[str] = []
    _block(value, 0, lines)
    check_size(sum(len(line) + 1 for line in lines), "a text")
    return "\n".join(lines) + "\n"


def _block(value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            label = f"{pad}{scalar(str(key))}:"
            if _is_block(item):
                lines.append(label)
                _block(item, indent + 2 if isinstance(item, Mapping) else indent, lines)
            else:
                lines.append(f"{label} {scalar(item)}")
    elif isinstance(value, list | tuple) and value:
        for item in value:
            nested: list[str] = []
            _block(item, indent + 3, nested)
            lines.append(f"{pad} - {nested[0].lstrip()}")
            lines.extend(nested[1:])
    else:
        lines.append(pad + scalar(value))


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple) and bool(value)


def scalar(value: Any) -> str:
    """One value written on its line: plain when YAML reads it back the same, else quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".NaN"
        return repr(value) if math.isfinite(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    if isinstance(value, date | time):
        return _date(value)
    text = str(value)
    return text if _plain(text) else json.dumps(text, ensure_ascii=False)


def _plain(text: str) -> bool:
    """Whether ``text`` can be written unquoted and still read back as this text."""
    if not text or text != text.strip():
        return False
    analysis = yaml.emitter.Emitter(io.StringIO()).analyze_scalar(text)
    if not analysis.allow_block_plain or analysis.multiline:
        return False
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG


def _date(value: date | time) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return NAMED_FORMATS["iso_local_date_time"](value)
        return NAMED_FORMATS["iso_offset_date_time"](value)
    return value.isoformat()


# --- reading --------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """The safe loader, with dates left as text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str) -> Any:
    """The value of a YAML document; raises ValueError for invalid YAML."""
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise ValueError(f"invalid YAML: {error}") from None
    _refuse_cycles(value)
    return value


def _refuse_cycles(value: Any) -> None:
    """Fail when the value contains itself (``&a [*a]``); shared parts (``<<: *defaults``)
    are fine, and each is walked once."""
    finished: set[int] = set()
    open_ids: set[int] = set()
    pending: list[tuple[Any, bool]] = [(value, False)]
    while pending:
        node, leaving = pending.pop()
        if not isinstance(node, dict | list):
            continue
        if leaving:
            open_ids.discard(id(node))
            finished.add(id(node))
            continue
        if id(node) in open_ids:
            raise ValueError("invalid YAML: an alias makes the document contain itself")
        if id(node) in finished:
            continue
        open_ids.add(id(node))
        pending.append((node, True))
        pending.extend(
            (child, False) for child in (node.values() if isinstance(node, dict) else node)
        )
