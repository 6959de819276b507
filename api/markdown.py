"""Markdown bodies as sanitised HTML: markdown-it (raw HTML off) and then nh3 (ammonia)."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
         "h3", "h4", "h5", "h6", "hr", "del"}


@functools.cache
def _parser() -> MarkdownIt:
    # Raw HTML is not passed through at all; nh3 is the second wall, not the first.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")


def render_markdown(text: str) -> Markup:
    """Safe HTML for a Markdown text: only simple tags, links http(s)/mailto with rel=nofollow."""
    html = _parser().render(text or "")
    clean = nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener ugc")
    return Markup(clean.strip())
