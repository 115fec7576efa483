"""The registry's tables of task and trigger types: ids and aliases -> classes, with the
classes of deferred plugins imported on lookup and each class's models built before it is
handed out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class TypeTable(Mapping[str, T]):
    """Type ids and aliases -> classes. A name of a deferred plugin imports that plugin when it
    is looked up; iterating or sizing the table imports every deferred plugin first. A class is
    handed out with its models built; one whose models cannot be built is refused instead (see
    :func:`model_problem`)."""

    def __init__(self, loaded: dict[str, T], kind: str) -> None:
        self.loaded = loaded
        self.kind = kind
        self.pending: dict[str, Callable[[], None]] = {}
        """Names of deferred plugins -> what imports the plugin."""
        self.load_all: Callable[[], None] = lambda: None
        self.refuse: Callable[[T, str], None] = lambda cls, reason: None
        """Takes a class whose models cannot be built out of the registry."""
        self._built: set[T] = set()
        self.lock = threading.RLock()
        """The registry's: building and refusing happen one thread at a time."""

    def __getitem__(self, name: str) -> T:
        load = self.pending.get(name)
        if load is not None:
            load()
        cls = self.loaded[name]
        if cls not in self._built and not self._build(cls):
            raise KeyError(name)
        return cls

    def __iter__(self) -> Iterator[str]:
        with self.lock:
            self.load_all()
            for cls in set(self.loaded.values()) - self._built:
                self._build(cls)
            return iter(list(self.loaded))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def discard(self, name: str) -> None:
        self.loaded.pop(name, None)
        self.pending.pop(name, None)

    def _build(self, cls: T) -> bool:
        with self.lock:
            if cls in self._built:
                return True
            problem = model_problem(cls, self.kind)
            if problem is not None:
                self.refuse(cls, problem)
                return False
            self._built.add(cls)
            return True


def model_problem(cls: Any, kind: str) -> str | None:
    """Build the models of a type, or say why they cannot be. The SDK defers building them
    (``defer_build``) so that importing a plugin costs little; a model pydantic cannot build
    thus fails when its type is first used, not when its plugin is imported, and is refused
    then as the plugin would have been."""
    for role in ("Properties", "Outputs"):
        model = getattr(cls, role, None)
        if model is None or model.__pydantic_complete__:
            continue
        try:
            model.model_rebuild()
        except Exception as exc:
            reason = str(exc).split("\n", 1)[0]
            return (
                f"{kind} '{cls.type}' (from {cls.__module__}) refused: its {role} model "
                f"({model.__name__}) cannot be built: {reason}"
            )
    return None
