"""plait's stand-in for Kestra's ``kestra`` Python library, importable in every Python task.

Kestra's images ship the ``kestra`` package from PyPI so that scripts can write
``from kestra import Kestra; Kestra.outputs({...})``. plait puts this module at the *end* of
the task's module search path instead, so the same scripts run anywhere without an install.

It speaks the protocol the library speaks: one line ``::{json}::`` on stdout per call, with the
keys ``outputs``, ``metrics`` (``counter``, ``timer``, ``gauge``), ``assets`` and ``logs`` (the
logger, stdout up to INFO, stderr from WARNING). The task reads these lines back.

When the real library is installed as well (``pip install kestra`` in ``beforeCommands``, a
``dependencies`` entry, an image that has it), the import hands over to it: this module finds
it further down the search path, runs it, and puts it in ``sys.modules`` in its own place, so
``Kestra.read``, ``Flow`` and the rest of the library work as published.

This file runs inside the task's interpreter, which may be older than the engine's: it uses the
standard library only and syntax that Python 3.7 accepts.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable  # noqa: UP035 (runs on the task's Python, maybe < 3.9)

__all__ = ["Kestra"]

_HERE = os.path.dirname(os.path.realpath(__file__))

LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARN",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "ERROR",
}
"""Python log levels as Kestra names them; anything else is TRACE."""


class Kestra:
    """Send outputs, metrics and logs to the engine by printing ``::{json}::`` lines."""

    _logger: logging.Logger | None = None

    @staticmethod
    def format(message: dict[str, Any]) -> str:
        """The control line carrying ``message``."""
        return "::" + json.dumps(message) + "::"

    @staticmethod
    def _send(message: dict[str, Any]) -> None:
        print(Kestra.format(message), flush=True)

    @staticmethod
    def _metrics(name: str, kind: str, value: float, tags: dict[str, Any] | None) -> None:
        metric = {"name": name, "type": kind, "value": value, "tags": tags or {}}
        Kestra._send({"metrics": [metric]})

    @staticmethod
    def outputs(values: dict[str, Any]) -> None:
        """Add ``values`` to the task's ``vars`` output."""
        Kestra._send({"outputs": values})

    @staticmethod
    def assets(asset: dict[str, Any]) -> None:
        """Declare an asset (Kestra's asset catalogue; plait logs it)."""
        Kestra._send({"assets": asset})

    @staticmethod
    def counter(name: str, value: float, tags: dict[str, Any] | None = None) -> None:
        Kestra._metrics(name, "counter", value, tags)

    @staticmethod
    def gauge(name: str, value: float, tags: dict[str, Any] | None = None) -> None:
        Kestra._metrics(name, "gauge", value, tags)

    @staticmethod
    def timer(
        name: str, duration: float | Callable[[], Any], tags: dict[str, Any] | None = None
    ) -> None:
        """A duration in seconds, given, or measured around a call of ``duration``."""
        if callable(duration):
            started = time.perf_counter()
            duration()
            duration = time.perf_counter() - started
        Kestra._metrics(name, "timer", duration, tags)

    @staticmethod
    def logger() -> logging.Logger:
        """The ``Kestra`` logger: each record becomes a task log line at its level."""
        if Kestra._logger is None:
            logger = logging.getLogger("Kestra")
            logger.setLevel(logging.DEBUG)
            low = logging.StreamHandler(sys.stdout)
            low.addFilter(lambda record: record.levelno <= logging.INFO)
            high = logging.StreamHandler(sys.stderr)
            high.setLevel(logging.WARNING)
            for handler in (low, high):
                handler.setFormatter(_ControlLineFormatter())
                logger.addHandler(handler)
            Kestra._logger = logger
        return Kestra._logger

    @staticmethod
    def read(path: str) -> list[dict[str, Any]]:
        """Reading Ion files needs the real library and its Ion parser."""
        raise RuntimeError(
            f"Kestra.read({path!r}) needs the kestra library from PyPI: add `kestra` to the "
            "task's dependencies (or `pip install kestra` in beforeCommands)"
        )


class _ControlLineFormatter(logging.Formatter):
    """A record as a ``logs`` control line whose message starts with its UTC time, as the
    library writes it."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, timezone.utc)  # noqa: UP017 (< 3.11)
        stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        level = LEVEL_NAMES.get(record.levelno, "TRACE")
        message = f"{stamp} - {record.getMessage()}"
        return Kestra.format({"logs": [{"level": level, "message": message}]})


def _published_library() -> Any:
    """The ``kestra`` module found on the search path after this one's directory, loaded, or
    None when there is none."""
    elsewhere = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != _HERE]
    spec = importlib.machinery.PathFinder.find_spec(__name__, elsewhere)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[__name__] = module
    spec.loader.exec_module(module)
    return module


_published_library()
