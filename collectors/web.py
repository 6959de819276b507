"""Text and header helpers shared by the collectors of web sources (RSS, HN, Mastodon, Discourse)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

import aiohttp

from crmsphere import __version__
# Re-exported: the collectors read Retry-After with the parser every layer shares.
from domain.retry_after import parse_retry_after as parse_retry_after


USER_AGENT = f"crmsphere/{__version__}"


async def read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or ``None`` once it is larger than ``limit`` bytes (read a piece at a time, so
    an endless or enormous answer is never held whole)."""
    if resp.content_length is not None and resp.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)

_PARAGRAPH_TAGS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "table", "section",
                             "article", "header", "footer", "aside", "figure", "h1", "h2", "h3",
                             "h4", "h5", "h6", "dl", "hr"})
_LINE_TAGS = frozenset({"br", "li", "tr", "dt", "dd", "figcaption"})
_HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col",
                        "embed", "source", "track", "wbr"})


class _TextOfHtml(HTMLParser):
    """Collects the visible text of an HTML fragment, with line breaks where blocks end."""

    def __init__(self, skip_classes: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_classes = skip_classes
        self._skipping: str | None = None  # tag whose subtree is being left out
        self._depth = 0                     # nesting of that tag inside itself

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping is not None:
            if tag == self._skipping:
                self._depth += 1
            return
        classes = set((dict(attrs).get("class") or "").split())
        if tag not in _VOID_TAGS and (tag in _HIDDEN_TAGS or classes & self._skip_classes):
            self._skipping, self._depth = tag, 1
            return
        self._break(tag, opening=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping is None:
            self._break(tag, opening=True)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping is not None:
            if tag == self._skipping:
                self._depth -= 1
                if self._depth == 0:
                    self._skipping = None
            return
        self._break(tag, opening=False)

    def handle_data(self, data: str) -> None:
        if self._skipping is None:
            self.parts.append(data)

    def _break(self, tag: str, opening: bool) -> None:
        if tag in _PARAGRAPH_TAGS:
            self.parts.append("\n\n")
        elif tag in _LINE_TAGS and opening:
            self.parts.append("\n")


def html_to_text(html: str, skip_classes: Iterable[str] = ()) -> str:
    """The readable text of an HTML fragment: tags dropped, entities decoded, blocks on their own lines.

    Elements carrying one of ``skip_classes`` are left out with their content (Discourse
    quotes, for example, are someone else's words).
    """
    parser = _TextOfHtml(frozenset(skip_classes))
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
