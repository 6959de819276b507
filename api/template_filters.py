"""Jinja filters of the pages: links to the outside world are only ever http(s)."""

from __future__ import annotations

from urllib.parse import urlsplit

from jinja2 import Environment

from api.compression import static_url

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


def add_filters(env: Environment) -> None:
    """Register the filters on the app's Jinja environment."""
    env.filters["web_url"] = web_url
    env.filters["monogram"] = monogram
    env.globals["static"] = static_url  # /static/<path>?v=<content hash>: cached a year
