"""Plugin docs pages: the installed task types, trigger types, filters and functions grouped by
the plugin that brings them, and a page per type.

A type's page is the very reference page ``plait docs`` writes (:mod:`plait.schema.docs_tasks`,
:mod:`plait.schema.docs_triggers`), rendered from its Markdown, so the UI and the generated
docs cannot say different things; only the links between pages are pointed at the UI."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from plait.plugins import PluginInfo, Registry, TaskType, TriggerType
from plait.schema.describe import summary_and_details
from plait.schema.docs_expressions import expressions_page
from plait.schema.docs_tasks import common_keys_section, task_page
from plait.schema.docs_triggers import common_trigger_keys_section, trigger_page
from plait.server.http import runtime
from plait.server.ui.markdown_html import LinkMap, markdown_html, markdown_inline
from plait.server.ui.pages import not_found, page

SECTION = "plugins"


@dataclass
class TypeEntry:
    """One task or trigger type as the index lists it."""

    type: str
    summary: Markup
    aliases: tuple[str, ...]


@dataclass
class PluginGroup:
    """What one plugin contributes, as the index shows it."""

    info: PluginInfo
    tasks: list[TypeEntry] = field(default_factory=list)
    triggers: list[TypeEntry] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    others: dict[str, list[str]] = field(default_factory=dict)
    """Storage backends, repositories, secret providers...: named, not documented here."""


def _entry(declared: TaskType | TriggerType, aliases: tuple[str, ...]) -> TypeEntry:
    summary = summary_and_details(declared.description())[0]
    return TypeEntry(declared.type, markdown_inline(summary), aliases)


def plugin_groups(registry: Registry) -> list[PluginGroup]:
    """Every loaded plugin with what it contributes, the kernel's (``plait``) first."""
    groups = []
    for info in sorted(registry.plugins, key=lambda p: (p.distribution != "plait", p.name)):
        group = PluginGroup(info)
        group.tasks = [
            _entry(registry.canonical_types[type_id], aliases)
            for type_id, aliases in sorted(info.task_types.items())
        ]
        group.triggers = [
            _entry(registry.trigger_types[type_id], aliases)
            for type_id, aliases in sorted(info.trigger_types.items())
        ]
        provides = dict(info.provides)
        group.filters = provides.pop("filters", [])
        group.functions = provides.pop("functions", [])
        group.others = provides
        groups.append(group)
    return groups


def _reference_links(request: Request) -> LinkMap:
    """Where the links of a generated page point in the UI: the index's anchors, the
    expressions page, other types' pages; anything else is left as written."""
    index = str(request.app.url_path_for("ui:plugins"))
    expressions = str(request.app.url_path_for("ui:plugin_expressions"))

    def link(href: str) -> str:
        target, hash_, anchor = href.partition("#")
        suffix = hash_ + anchor
        name = target.rsplit("/", 1)[-1]
        if not target.endswith(".md") or "://" in target:
            return href
        if name == "index.md":
            return index + suffix
        if name == "expressions.md":
            return expressions + suffix
        if "/tasks/" in f"/{target}" or "/triggers/" in f"/{target}":
            return str(request.app.url_path_for("ui:plugin", type=name[: -len(".md")])) + suffix
        return href

    return link


def plugins(request: Request) -> Response:
    """The index: types, filters and functions by plugin, then the keys every task and every
    trigger accepts (the type pages link there)."""
    registry = runtime(request).engine.registry
    common = "\n\n".join([common_keys_section(), common_trigger_keys_section()])
    context = {
        "section": SECTION,
        "groups": plugin_groups(registry),
        "common": markdown_html(common, trusted=True, links=_reference_links(request)),
    }
    return page(request, "plugins.html", context)


def _trigger_owner(registry: Registry, trigger: TriggerType) -> str:
    owner = next((p for p in registry.plugins if trigger.type in p.trigger_types), None)
    return owner.distribution if owner else "?"


def plugin(request: Request) -> Response:
    """One task or trigger type's reference page (an alias shows its type's page)."""
    registry = runtime(request).engine.registry
    name = request.path_params["type"]
    task = registry.task_types.get(name)
    trigger = registry.trigger_types.get(name) if task is None else None
    if task is not None:
        owner = registry.owner_of(task.type)
        text = task_page(task, owner.distribution if owner else "?")
        kind, canonical = "task", task.type
    elif trigger is not None:
        text = trigger_page(trigger, _trigger_owner(registry, trigger))
        kind, canonical = "trigger", trigger.type
    else:
        return not_found(request, registry.unknown_task_type_message(name), SECTION)
    context = {
        "section": SECTION,
        "type": canonical,
        "kind": kind,
        "content": markdown_html(text, trusted=True, links=_reference_links(request)),
    }
    return page(request, "plugin.html", context)


def plugin_expressions(request: Request) -> Response:
    """The expression language's page: operators, tags, every filter, function and test (the
    plugins' and Jinja's), as ``plait docs`` writes expressions.md."""
    engine = runtime(request).engine
    registry = engine.registry
    text = expressions_page(registry.filters, registry.functions, engine.expressions.available())
    context = {
        "section": SECTION,
        "type": "Expressions",
        "kind": "expressions",
        "content": markdown_html(text, trusted=True, links=_reference_links(request)),
    }
    return page(request, "plugin.html", context)


def routes() -> list[BaseRoute]:
    return [
        Route("/plugins", plugins, name="plugins"),
        # Before /plugins/{type}: no task or trigger type is named "expressions".
        Route("/plugins/expressions", plugin_expressions, name="plugin_expressions"),
        Route("/plugins/{type}", plugin, name="plugin"),
    ]
