"""Kestra's filters and functions between values and YAML or Ion text, and its deprecated
``json()`` function.

``yaml`` is both a filter (a value written as YAML, for templated configuration) and a
function (YAML text read into a value); Pebble keeps filters and functions apart, so the two
never clash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plait.builtin import ion_text, yaml_text
from plait.expressions.budget import check_size


def to_yaml(value: Any) -> str:
    """Write a value as YAML text (a map as ``key: value`` lines, a list as ``- item`` lines).

    Null is written ``null``; the text ends with a line break, except for null.
    Example: ``{{ {'name': 'plait', 'tags': ['a', 'b']} | yaml | nindent(2) }}``
    """
    return yaml_text.dump(value)


def from_yaml(yaml: Any) -> Any:
    """Read YAML text into a value (map, list, number...); dates stay text.

    Example: ``{{ yaml('foo: [666, 1, 2]').foo[0] }}`` gives ``666``
    """
    if not isinstance(yaml, str):
        raise ValueError(f"yaml() needs YAML text, not a {type(yaml).__name__}")
    return yaml_text.load(yaml)


def to_ion(value: Any) -> str:
    """Write a value as Amazon Ion text, the format of Kestra's internal-storage files.

    Example: ``{{ {'name': 'plait', 'size': 1.5} | toIon }}`` gives ``{name:"plait",size:1.5e0}``
    """
    text = ion_text.dumps(value)
    check_size(len(text), "a text")
    return text


def from_ion(ion: Any) -> Any:
    """Read Amazon Ion text (such as a file Kestra stored) into a value; null stays null.

    Example: ``{{ fromIon('{title:"Main_Page",views:109787}').views }}`` gives ``109787``
    """
    if ion is None:
        return None
    if not isinstance(ion, str):
        raise ValueError(f"fromIon needs Ion text, not a {type(ion).__name__}")
    return ion_text.loads(ion)


FILTERS: dict[str, Callable[..., Any]] = {"yaml": to_yaml, "toIon": to_ion}
FUNCTIONS: dict[str, Callable[..., Any]] = {"yaml": from_yaml, "fromIon": from_ion}
