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
    return Markup(_render(text or ""))


@functools.lru_cache(maxsize=2048)
def _render(text: str) -> str:
    # Parsing and cleaning cost ~0.2 ms a body, and every idea listed carries its HTML:
    # without this a page of 20 ideas spent most of its time here (see bench/forum.py).
    # A pure function of the text, so a cache can never serve stale or foreign HTML.
    html = _parser().render(text)
    clean = nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener ugc")
    return clean.strip()
