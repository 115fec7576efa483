"""The expression engine: renders flow properties against an execution's variables.

The executor calls :meth:`ExpressionEngine.render_value` for every dynamic property of every
task, so strings without markup return untouched, templates that only print variables are
evaluated without compiling them (:mod:`plait.expressions.fast_paths`), and compiled templates
are cached by source.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Template, nodes
from plait_sdk.expressions import ExpressionServices

from plait.expressions import budget, fast_paths
from plait.expressions.budget import RenderLimits
from plait.expressions.calling import RenderServices, adapt, rendering_with
from plait.expressions.errors import TEMPLATE_FILENAME, translate
from plait.expressions.fast_paths import FALLBACK
from plait.expressions.guards import guard_filter
from plait.expressions.names import NameKind, UnknownName, find_unknown_names
from plait.expressions.pebble import ITERATE_FILTER, TEXT_FILTER, Prepared, has_markup, prepare
from plait.expressions.references import OutputReference, find_output_references
from plait.expressions.sandbox import PebbleEnvironment, PebbleUndefined

CACHE_SIZE = 4096
"""Compiled templates kept (a flow has a few dozen; eval and subflows add some)."""

_RESULT = "__plait_value__"


class ExpressionEngine:
    """Pebble-dialect templates over a Jinja sandbox, with the filters and functions that the
    plugins registered (see :func:`plait.plugins.build_registry`).

    Every render runs under ``limits`` (by default from the environment, see
    :mod:`plait.expressions.budget`)."""

    def __init__(
        self,
        filters: Mapping[str, Callable[..., Any]],
        functions: Mapping[str, Callable[..., Any]],
        limits: RenderLimits | None = None,
    ) -> None:
        self.limits = limits or RenderLimits.from_env()
        self._env = PebbleEnvironment()
        self._env.filters.update({name: adapt("filter", name, fn) for name, fn in filters.items()})
        self._env.filters.update(
            {
                name: guard_filter(name, fn)
                for name, fn in self._env.filters.items()
                if name not in (TEXT_FILTER, ITERATE_FILTER)
            }
        )
        self._env.globals.update(
            {name: adapt("function", name, fn) for name, fn in functions.items()}
        )
        self._prepared = functools.lru_cache(maxsize=CACHE_SIZE)(prepare)
        self._fast = functools.lru_cache(maxsize=CACHE_SIZE)(fast_paths.parse)
        self._text_template = functools.lru_cache(maxsize=CACHE_SIZE)(self._compile_text)
        self._value_template = functools.lru_cache(maxsize=CACHE_SIZE)(self._compile_value)

    def render_value(
        self,
        value: Any,
        variables: Mapping[str, Any],
        *,
        services: ExpressionServices | None = None,
        task_id: str | None = None,
    ) -> Any:
        """Render the strings inside ``value`` (a string, or lists and dicts of them).

        A string that is exactly one ``{{ expr }}`` keeps the expression's native type (a dict,
        a list, a number, a datetime...); other strings render to text (see
        :meth:`render_string`); map keys render to text; other values are returned unchanged.
        """
        if isinstance(value, str) and not has_markup(value):
            return value
        context = self._services(variables, services, task_id)
        with budget.rendering(self.limits), rendering_with(context):
            return self._render_tree(value, variables, task_id)

    def render_string(
        self,
        template: str,
        variables: Mapping[str, Any],
        *,
        services: ExpressionServices | None = None,
        task_id: str | None = None,
    ) -> str:
        """Render ``template`` to text: maps and lists print as JSON, booleans as
        ``true``/``false``, null as nothing and dates as ISO-8601, as Kestra prints them."""
        if not has_markup(template):
            return template
        context = self._services(variables, services, task_id)
        with budget.rendering(self.limits), rendering_with(context):
            return self._render_text(template, variables, task_id)

    def evaluate(
        self,
        expression: str,
        variables: Mapping[str, Any],
        *,
        services: ExpressionServices | None = None,
        task_id: str | None = None,
    ) -> Any:
        """The value of a template (``{{ outputs.api.body }}``, rendered as by
        :meth:`render_value`) or of a bare expression (``outputs.api.body | jq('.x')``)."""
        template = expression if has_markup(expression) else f"{{{{ {expression} }}}}"
        return self.render_value(template, variables, services=services, task_id=task_id)

    def output_references(self, template: str) -> list[OutputReference]:
        """The ``outputs.X.Y`` references of ``template``, found without rendering it."""
        if not has_markup(template):
            return []
        if (fast := self._fast(template)) is not None:
            return fast.output_references()
        return find_output_references(*self._parse(template))

    def unknown_names(self, template: str) -> list[UnknownName]:
        """The filters, tests and functions ``template`` uses that this engine lacks, found
        without rendering it (they would only fail once the run reaches them)."""
        if not has_markup(template) or self._fast(template) is not None:
            return []  # a template of variable paths only calls nothing
        return find_unknown_names(
            *self._parse(template),
            filters=self._env.filters.keys(),
            tests=self._env.tests.keys(),
            functions=self._env.globals.keys(),
        )

    def available(self) -> dict[NameKind, dict[str, Callable[..., Any]]]:
        """Every filter, test and function a template can use, by kind and name: the plugins'
        and Jinja's own built-ins (without the dialect's internal helpers, named ``__...``)."""
        tables: dict[NameKind, Mapping[str, Any]] = {
            "filter": self._env.filters,
            "test": self._env.tests,
            "function": self._env.globals,
        }
        return {
            kind: {name: fn for name, fn in sorted(table.items()) if not name.startswith("__")}
            for kind, table in tables.items()
        }

    def _parse(self, template: str) -> tuple[nodes.Template, Prepared]:
        """The syntax tree of ``template``; a syntax error raises an ExpressionError."""
        prepared = self._prepared(template)
        try:
            return self._env.parse(prepared.source, filename=TEMPLATE_FILENAME), prepared
        except Exception as error:
            raise translate(error, prepared, None) from None

    def _services(
        self,
        variables: Mapping[str, Any],
        outer: ExpressionServices | None,
        task_id: str | None,
    ) -> RenderServices:
        def render_nested(template: Any, nested: RenderServices) -> Any:
            with rendering_with(nested):
                return self._render_tree(template, variables, task_id)

        return RenderServices(render_nested, variables, outer)

    def _render_tree(self, value: Any, variables: Mapping[str, Any], task_id: str | None) -> Any:
        if isinstance(value, str):
            if not has_markup(value):
                return value
            if (rendered := self._render_fast(value, variables, text=False)) is not FALLBACK:
                return rendered
            if self._prepared(value).whole_value:
                return self._render_native(value, variables, task_id)
            return self._render_text(value, variables, task_id)
        if isinstance(value, list):
            return [self._render_tree(item, variables, task_id) for item in value]
        if isinstance(value, Mapping):
            return {
                self._render_key(key, variables, task_id): self._render_tree(
                    item, variables, task_id
                )
                for key, item in value.items()
            }
        return value

    def _render_key(self, key: Any, variables: Mapping[str, Any], task_id: str | None) -> Any:
        if isinstance(key, str) and has_markup(key):
            return self._render_text(key, variables, task_id)
        return key

    def _render_fast(self, template: str, variables: Mapping[str, Any], *, text: bool) -> Any:
        """``template`` rendered without compiling it, when it only prints variables and
        nothing unusual happens; FALLBACK otherwise (see :mod:`plait.expressions.fast_paths`)."""
        fast = self._fast(template)
        if fast is None:
            return FALLBACK
        return fast.text(variables, self._env) if text else fast.render(variables, self._env)

    def _render_text(self, template: str, variables: Mapping[str, Any], task_id: str | None) -> str:
        if (text := self._render_fast(template, variables, text=True)) is not FALLBACK:
            return text
        prepared = self._prepared(template)
        try:
            return self._text_template(template).render(variables)
        except Exception as error:
            raise translate(error, prepared, task_id) from None

    def _render_native(
        self, template: str, variables: Mapping[str, Any], task_id: str | None
    ) -> Any:
        prepared = self._prepared(template)
        try:
            compiled = self._value_template(template)
            context = compiled.new_context(dict(variables))
            for _ in compiled.root_render_func(context):
                pass
            value = context.vars[_RESULT]
            if isinstance(value, PebbleUndefined):
                value._fail_with_undefined_error()
            budget.check_printable(value)  # it will be stored or printed as JSON
            return value
        except Exception as error:
            raise translate(error, prepared, task_id) from None

    def _compile_text(self, template: str) -> Template:
        return self._compile(self._prepared(template).source)

    def _compile_value(self, template: str) -> Template:
        """A template that stores the value of the only ``{{ }}`` instead of printing it."""
        tree = self._env.parse(self._prepared(template).source, filename=TEMPLATE_FILENAME)
        (output,) = tree.body
        assert isinstance(output, nodes.Output)
        (expression,) = (node for node in output.nodes if not isinstance(node, nodes.TemplateData))
        store = nodes.Assign(nodes.Name(_RESULT, "store"), expression, lineno=expression.lineno)
        return self._compile(nodes.Template([store], lineno=1))

    def _compile(self, source: str | nodes.Template) -> Template:
        code = self._env.compile(source, filename=TEMPLATE_FILENAME)
        return self._env.template_class.from_code(self._env, code, self._env.make_globals(None))
