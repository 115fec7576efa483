"""What a flow author is told about a task type that is not there: close matches, what is
installed, which distribution provides it and why it may not be loaded."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from plait.distribution import type_matches

if TYPE_CHECKING:
    from plait.plugins import Registry

LOAD_PLUGINS_ENV = "PLAIT_LOAD_PLUGINS"


KNOWN_PROVIDERS = {
    "plait.http": "plait-http",
    "io.kestra.plugin.core.http": "plait-http",
    "io.kestra.plugin.fs.http": "plait-http",
    "plait.python": "plait-python",
    "io.kestra.plugin.scripts.python": "plait-python",
    "plait.duckdb": "plait-duckdb",
    "io.kestra.plugin.jdbc.duckdb": "plait-duckdb",
}
"""Namespaces of the plait project's own plugins, so that a flow written for one that is not
installed is told which distribution to install."""


def known_provider(type_name: str) -> str | None:
    for prefix, distribution in KNOWN_PROVIDERS.items():
        if type_matches(type_name, prefix):
            return distribution
    return None


def excluded_type_message(registry: Registry, name: str, kind: str) -> str | None:
    """Why a ``kind`` (``"task"`` or ``"trigger"``) type is unknown when the distribution's
    ``taskTypes`` or ``triggerTypes`` leaves it out; None when it does not."""
    distribution = registry.distribution
    excluded = registry.excluded if kind == "task" else registry.excluded_triggers
    if name not in excluded or distribution is None:
        return None
    canonical = excluded[name]
    key, entries = (
        ("taskTypes", distribution.task_types)
        if kind == "task"
        else ("triggerTypes", distribution.trigger_types)
    )
    return (
        f"{kind} type '{name}'"
        + (f" ({canonical})" if canonical != name else "")
        + f" is excluded by the distribution {distribution.label}: its {key} "
        f"({', '.join(entries or ())}) do not enable it; see `plait dist info`"
    )


def unknown_task_type_message(registry: Registry, name: str) -> str:
    """Explain an unknown type: close matches, what is installed, and how to get more."""
    excluded = excluded_type_message(registry, name, "task")
    if excluded is not None:
        return excluded
    provider = known_provider(name)
    loaded = {info.distribution.strip().lower().replace("_", "-") for info in registry.plugins}
    typo = provider in loaded  # its plugin is here: not a missing plugin
    close = difflib.get_close_matches(name, list(registry.task_types), n=3, cutoff=0.6)
    message = f"unknown task type '{name}'"
    if close:
        message += f"; did you mean {', '.join(repr(c) for c in close)}?"
    else:
        message += "."
    installed = ", ".join(sorted(registry.canonical_types)) or "none"
    message += f" Installed task types: {installed}."
    if registry.skipped:
        message += " Not loaded: " + "; ".join(registry.skipped) + "."
    if typo:
        return message
    if registry.distribution is not None:
        plugins = ", ".join(sorted(registry.distribution.plugin_names())) or "none"
        return message + (
            f" This installation is the distribution {registry.distribution.label}, which "
            f"excludes every plugin but its own ({plugins}): "
            + (f"'{name}' comes from {provider}; " if provider else "")
            + "to use the type, add the plugin that provides it to the distribution's "
            "manifest and rebuild it (`plait dist info` shows what it contains)."
        )
    if provider in registry.filtered_out:
        message += (
            f" It is provided by {provider}, which is installed but not loaded: "
            f"{LOAD_PLUGINS_ENV} leaves it out; add it to {LOAD_PLUGINS_ENV} or unset it "
            "(`plait plugins list` shows what is loaded)."
        )
        return message
    if provider:
        message += f" It is provided by {provider}: `pip install {provider}`."
    message += (
        " A task type comes from a plugin distribution: install it (e.g. `pip install "
        "plait-<name>`), check `plait plugins list`, and check "
        f"{LOAD_PLUGINS_ENV} if it is set."
    )
    return message
