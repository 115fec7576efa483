"""Markdown as HTML on the server: the reference pages ``plait docs`` writes (shown as the
plugin pages) and the descriptions flows carry.

Two renderers: the reference pages come from the installed plugins' own code and may hold the
HTML anchors the generator writes; anything a flow author wrote is rendered with raw HTML
escaped, so a description cannot inject markup into the UI."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

LinkMap = Callable[[str], str]
"""Rewrites a link target (``../index.md#x`` in a generated page) to where the UI shows it."""


def _scrolling_table(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Wide tables scroll inside the page on a narrow window instead of widening it."""
    if tokens[idx].type == "table_open":
        return '<div class="table-scroll"><table>\n'
    return "</table></div>\n"


def _renderer(*, html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": html}).enable("table")
    md.add_render_rule("table_open", _scrolling_table)
    md.add_render_rule("table_close", _scrolling_table)
    return md


_TRUSTED = _renderer(html=True)
_AUTHORED = _renderer(html=False)


def slug(text: str) -> str:
    """A heading's anchor as GitHub makes it (``Keys every task accepts`` ->
    ``keys-every-task-accepts``), so links written for the generated files keep working."""
    kept = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return kept.replace(" ", "-")


def _annotate(tokens: Sequence[Token], links: LinkMap | None) -> None:
    """Give headings their anchors and rewrite link targets, in place."""
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            token.attrSet("id", slug(tokens[index + 1].content))
        if links is None or token.children is None:
            continue
        for child in token.children:
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str):
                child.attrSet("href", links(href))


def markdown_html(text: str, *, trusted: bool = False, links: LinkMap | None = None) -> Markup:
    """``text`` as HTML, safe to put in a template; ``trusted`` (generated reference pages
    only) lets the raw HTML the generator writes through."""
    md = _TRUSTED if trusted else _AUTHORED
    env: dict[str, Any] = {}
    tokens = md.parse(text, env)
    _annotate(tokens, links)
    return Markup(md.renderer.render(tokens, md.options, env))


def markdown_inline(text: str) -> Markup:
    """One line of Markdown (a summary in a table cell) as HTML, without a paragraph; raw
    HTML is escaped."""
    return Markup(_AUTHORED.renderInline(text))
