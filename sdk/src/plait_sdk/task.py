"""The task base class and the way a task type declares its properties and outputs, once.

Properties and outputs are pydantic models: the same declaration validates rendered values,
produces the JSON Schemas for editors and reference docs, and types the ``run`` method. Their
validators are built when first used (``defer_build``), not when a plugin is imported: a run
pays only for the task types its flow uses.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from plait_sdk.context import RunContext

DYNAMIC_KEY = "x-dynamic"
"""JSON Schema extension keyword marking a property whose value is rendered as an expression."""


class TaskProperties(BaseModel):
    """Base for a task type's properties: unknown keys are refused so typos surface early."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, arbitrary_types_allowed=False, defer_build=True
    )


class TaskOutputs(BaseModel):
    """Base for a task type's outputs. Extra keys are refused: outputs are a declared contract."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


def prop(
    default: Any = ...,
    *,
    description: str,
    dynamic: bool = True,
    examples: list[Any] | None = None,
    alias: str | None = None,
    title: str | None = None,
    **constraints: Any,
) -> Any:
    """Declare a task property: a description is mandatory, and whether it is rendered.

    ``dynamic=True`` (the default, as in Kestra for most properties) means the raw value may hold
    ``{{ ... }}`` expressions, rendered before validation.
    """
    return Field(
        default,
        description=description,
        examples=examples,
        alias=alias,
        title=title,
        json_schema_extra={DYNAMIC_KEY: dynamic},
        **constraints,
    )


def output(default: Any = ..., *, description: str, **constraints: Any) -> Any:
    """Declare a task output; a description is mandatory so the Outputs view can explain it."""
    return Field(default, description=description, **constraints)


@dataclass(frozen=True)
class Example:
    """A runnable example flow shown in the reference docs and checked by contract tests."""

    title: str
    flow: str
    """A whole flow in YAML, using the task type."""


def example_flow(
    flow_id: str,
    tasks: str,
    *,
    namespace: str = "company.team",
    inputs: str | None = None,
    variables: str | None = None,
) -> str:
    """The YAML of a whole example flow from its sections, so an example spells out only what
    it demonstrates and every example of every plugin is laid out the same way.

    ``tasks``, ``inputs`` and ``variables`` are the bodies of those sections as they appear in
    the flow (indented by two spaces, each ending with a newline); sections are separated by a
    blank line, in the order inputs, variables, tasks.
    """
    sections = {"inputs": inputs, "variables": variables, "tasks": tasks}
    body = "\n".join(f"{name}:\n{text}" for name, text in sections.items() if text is not None)
    return f"id: {flow_id}\nnamespace: {namespace}\n\n{body}"


class Described:
    """Title and description from the class docstring, shown in the docs, the flow schema and
    editors; a class that only inherits an SDK base's docstring is called by its name."""

    @classmethod
    def title(cls) -> str:
        """The first line of the class docstring."""
        return cls.description().split("\n", 1)[0].strip()

    @classmethod
    def description(cls) -> str:
        doc = inspect.getdoc(cls)
        sdk = {
            inspect.getdoc(base) for base in cls.__mro__ if base.__module__.startswith("plait_sdk")
        }
        return doc if doc and doc not in sdk else cls.__name__


P = TypeVar("P", bound=TaskProperties)
O = TypeVar("O", bound=TaskOutputs)  # noqa: E741


class Task(Described, ABC, Generic[P, O]):
    """Base class of every task type.

    A subclass sets ``type`` (canonical id ``plait.<plugin>.<Name>``), optionally ``aliases``
    (e.g. Kestra's class names), ``Properties`` and ``Outputs`` models and ``examples``; the class
    docstring's first paragraph is the title and description shown in the docs.
    The kernel creates one instance per task run.
    """

    type: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    Properties: ClassVar[type[TaskProperties]] = TaskProperties
    Outputs: ClassVar[type[TaskOutputs]] = TaskOutputs
    examples: ClassVar[tuple[Example, ...]] = ()

    def variables(self, raw: Mapping[str, Any], ctx: RunContext) -> Mapping[str, Any]:
        """Expression variables this task offers to its own properties while it runs.

        Called before rendering with the raw (unrendered) properties, so a task can decide, for
        example, whether ``workingDir`` is a host path or a path inside a container.
        """
        return {}

    @abstractmethod
    def run(self, props: P, ctx: RunContext) -> O:
        """Do the work. Raise :class:`plait_sdk.TaskFailure` for failures the author must fix."""
