"""Templates that only print variables, rendered without compiling them.

Most strings in a flow read a value and print it, around text or alone:
``{{ outputs.extract.uri }}``, ``report-{{ inputs.day }}.csv``, ``{{ vars.cfg['key'][0] }}``.
Compiling one with Jinja (lexing, parsing, generating and compiling Python) costs about half a
millisecond, paid once per template, so once per task in every ``plait run`` of a flow. A
template made only of such paths is recognised here by one regular expression and evaluated by
the very steps its compiled form would take, through the same sandbox:

- a name is read from the variables (never from the function table);
- ``.attr`` goes through the sandbox's ``getattr`` (a map's key first, then a safe attribute;
  ``_private`` refused) and ``['key']`` / ``[0]`` through its ``getitem``;
- each value prints through the environment's ``finalize`` (``to_text``, with the render's
  time checked) and the pieces join through its ``concat`` (the size budget);
- a template that is one ``{{ }}`` with only blanks around keeps the value's own type, its
  printed size checked, as :meth:`ExpressionEngine.render_value` does.

Anything unusual is not decided here: a name the variables lack (it may be a function, or
missing), any undefined value on the way, any error. The caller then renders the template in
full, so that what the user sees (the value or the error message) is the full path's.
Validation reads the same parse: such a template uses no filter, test or function, and its
``outputs.X.Y`` references are its paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from jinja2.runtime import Undefined
from jinja2.sandbox import SandboxedEnvironment

from plait.expressions import budget
from plait.expressions.references import OUTPUTS, OutputReference


class _Fallback:
    """The fast path did not decide: render the template in full."""

    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Final = _Fallback()

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
"""A variable: no leading ``_`` (the dialect's internal names start so)."""
_STEP = r"\.[A-Za-z_][A-Za-z0-9_]*|\[(?:'[^'\\{}\r]*'|\"[^\"\\{}\r]*\"|0|[1-9][0-9]*)\]"
"""``.attr``, ``['key']``, ``["key"]`` or ``[0]``: string keys without escapes or braces."""
_TAG = re.compile(rf"\{{\{{ *({_NAME}(?:{_STEP})*) *\}}\}}")
_HEAD = re.compile(_NAME)
_STEPS = re.compile(_STEP)
_MARKUP = re.compile(r"\{[{%#]")
RESERVED = frozenset(
    {
        *("true", "false", "True", "False", "none", "None", "null"),  # literals
        *("not", "and", "or", "in", "is", "if", "else"),  # operators
        *("isIn", "contains", "equals"),  # Pebble's word operators
        *("self", "loop", "super", "caller", "varargs", "kwargs"),  # Jinja's own names
    }
)
"""First names that Jinja does not read as a variable, or reads specially: left to it."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a path: an attribute (``.key``) or a subscript (``['key']``, ``[0]``)."""

    key: str | int
    subscript: bool


@dataclass(frozen=True, slots=True)
class Path:
    """One ``{{ name.step... }}`` tag and where it sits in the template."""

    name: str
    steps: tuple[Step, ...]
    start: int
    end: int

    def evaluate(self, variables: Mapping[str, Any], env: SandboxedEnvironment) -> Any:
        """The value, as the compiled template computes it; FALLBACK when undefined."""
        if self.name not in variables:
            return FALLBACK  # a function, or missing: the full path knows which
        value = variables[self.name]
        for step in self.steps:
            if isinstance(value, Undefined):
                return FALLBACK
            read = env.getitem if step.subscript else env.getattr
            value = read(value, step.key)  # type: ignore[operator]
        return FALLBACK if isinstance(value, Undefined) else value


@dataclass(frozen=True, slots=True)
class FastTemplate:
    """A template made of text and paths only: ``pieces`` in order."""

    template: str
    pieces: tuple[str | Path, ...]
    whole_value: bool
    """One path with nothing but whitespace around it: the render keeps the value's type."""

    def render(self, variables: Mapping[str, Any], env: SandboxedEnvironment) -> Any:
        """What :meth:`ExpressionEngine.render_value` gives, or FALLBACK."""
        if not self.whole_value:
            return self.text(variables, env)
        (path,) = (piece for piece in self.pieces if isinstance(piece, Path))
        try:
            value = path.evaluate(variables, env)
            if value is not FALLBACK:
                budget.check_printable(value)  # it will be stored or printed as JSON
            return value
        except Exception:
            return FALLBACK

    def text(self, variables: Mapping[str, Any], env: SandboxedEnvironment) -> Any:
        """The template printed to text, or FALLBACK."""
        try:
            return env.concat(self._printed(variables, env))  # type: ignore[attr-defined]
        except Exception:  # _Undecided, or an error the full path is to report
            return FALLBACK

    def _printed(self, variables: Mapping[str, Any], env: SandboxedEnvironment) -> Iterator[str]:
        for piece in self.pieces:
            if isinstance(piece, str):
                yield piece
                continue
            value = piece.evaluate(variables, env)
            if value is FALLBACK:
                raise _Undecided
            yield str(env.finalize(value))  # type: ignore[misc]

    def output_references(self) -> list[OutputReference]:
        """The ``outputs.X.Y`` references, as :func:`find_output_references` finds them."""
        found = []
        for piece in self.pieces:
            if not isinstance(piece, Path) or piece.name != OUTPUTS or not piece.steps:
                continue
            first, *rest = piece.steps
            if not isinstance(first.key, str):
                continue  # computed or numeric: not a task id
            after = rest[0] if rest else None
            found.append(
                OutputReference(
                    task_id=first.key,
                    output=after.key if after is not None and isinstance(after.key, str) else None,
                    keyed=after is not None and after.subscript,
                    expression=self.template[piece.start : piece.end],
                    offset=piece.start,
                )
            )
        return found


class _Undecided(Exception):
    """Raised inside the printing generator to leave the template to the full path."""


def parse(template: str) -> FastTemplate | None:
    """``template`` as text and paths, or None when anything else is in it."""
    if "\r" in template:
        return None  # Jinja turns line breaks into "\n": leave that to it
    pieces: list[str | Path] = []
    pos = 0
    for match in _TAG.finditer(template):
        text = template[pos : match.start()]
        if _MARKUP.search(text) or text.endswith("{"):
            return None  # another kind of tag, or "{{{" that Jinja reads differently
        path = _path(match)
        if path is None:
            return None
        if text:
            pieces.append(text)
        pieces.append(path)
        pos = match.end()
    rest = template[pos:]
    if not pieces or _MARKUP.search(rest):
        return None
    if rest:
        pieces.append(rest)
    paths = [piece for piece in pieces if isinstance(piece, Path)]
    whole = len(paths) == 1 and all(
        isinstance(piece, Path) or not piece.strip() for piece in pieces
    )
    return FastTemplate(template, tuple(pieces), whole)


def _path(match: re.Match[str]) -> Path | None:
    source = match.group(1)
    head = _HEAD.match(source)
    assert head is not None
    if head.group() in RESERVED:
        return None
    steps = tuple(_step(step.group()) for step in _STEPS.finditer(source, head.end()))
    return Path(head.group(), steps, match.start(), match.end())


def _step(text: str) -> Step:
    if text.startswith("."):
        return Step(text[1:], subscript=False)
    inner = text[1:-1]
    if inner[0] in "'\"":
        return Step(inner[1:-1], subscript=True)
    return Step(int(inner), subscript=True)
