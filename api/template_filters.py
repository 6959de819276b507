"""Jinja filters of the pages: links to the outside world are only ever http(s); customer
names marked in a post's text; the NLP signals a mention card shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment

from api.compression import static_url
from nlp.signals import facets
from domain.dashboard import spike_summary

#: Schemes a page may link to.  A collected post's URL comes from a feed or API that anyone can
#: write (an RSS ``<link>`` of ``javascript:...``); in an ``href`` it would run in staff's session.
WEB_SCHEMES = ("http", "https")


def web_url(value: object) -> str:
    """``value`` when it is an absolute http(s) URL, else "" (so the template shows no link)."""
    text = str(value or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    return text if parts.scheme.lower() in WEB_SCHEMES and parts.netloc else ""


def monogram(name: object) -> str:
    """The initials of a brand name, at most two ("Anvil Ideas" → "AI", "acme" → "A"), shown
    in place of a logo; words without a letter or digit are skipped ("🚀 Rocket" → "R")."""
    initials = [next(c for c in word if c.isalnum()) for word in str(name or "").split()
                if any(c.isalnum() for c in word)]
    return "".join(initials[:2]).upper() or "·"


def _span_of(link: Mapping[str, Any], length: int) -> tuple[int, int] | None:
    """A link's ``[start, end]`` when it names a non-empty piece of a text of ``length`` code
    points, else None (a link found on the author's handle or e-mail has no span; a stored span
    can outlive an edited text)."""
    span = link.get("span")
    if not isinstance(span, (list, tuple)) or len(span) != 2:
        return None
    start, end = span
    if type(start) is not int or type(end) is not int or not 0 <= start < end <= length:
        return None
    return start, end


def marked_segments(text: str, links: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``text`` cut into plain pieces (``link`` None) and the pieces a customer link names.

    Spans are Python string indices (code points), as the linker found them.  Of overlapping
    spans the earlier one wins, and of two starting together the more confident; a span outside
    the text is skipped.  The template escapes every piece (mention_card.js draws the same).
    """
    spans = sorted(((span, link) for link in links if (span := _span_of(link, len(text)))),
                   key=lambda pair: (pair[0][0], -float(pair[1].get("confidence") or 0)))
    segments: list[dict[str, Any]] = []
    pos = 0
    for (start, end), link in spans:
        if start < pos:  # overlaps an earlier or stronger span
            continue
        if start > pos:
            segments.append({"text": text[pos:start], "link": None})
        segments.append({"text": text[start:end], "link": link})
        pos = end
    if pos < len(text):
        segments.append({"text": text[pos:], "link": None})
    return segments


def badge_signals() -> list[dict[str, str]]:
    """The NLP signals a mention card shows as a badge, as the stream's script reads them:
    every signal the dashboard counts but sentiment (its badge carries the score too)."""
    return [{"name": s.name, "label": s.label, "key": s.analysis_key, "default": s.default}
            for s in facets() if s.name != "sentiment"]


def signal_badges(analysis: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The badges of one card's ``analysis``: each signal's value, unless it is the value a post
    gets when the signal found nothing (``other``, ``normal``...), which would be on every card."""
    badges = []
    for spec in badge_signals():
        value = (analysis or {}).get(spec["key"])
        if value and value != spec["default"]:
            badges.append({"name": spec["name"], "label": spec["label"], "value": str(value)})
    return badges


def spike_facts_summary(spike: Mapping[str, Any]) -> str:
    """A routed spike's count, baseline and threshold said as a person would
    (``domain.dashboard.spike_summary``)."""
    return spike_summary(int(spike["count"]), float(spike["baseline"]), float(spike["threshold"]))


def add_filters(env: Environment) -> None:
    """Register the filters on the app's Jinja environment."""
    env.filters["web_url"] = web_url
    env.filters["monogram"] = monogram
    env.filters["spike_summary"] = spike_facts_summary
    env.globals["marked_segments"] = marked_segments
    env.globals["signal_badges"] = signal_badges
    env.globals["badge_signals"] = badge_signals
    env.globals["static"] = static_url  # /static/<path>?v=<content hash>: cached a year
