"""The brand's stylesheet: ``/static/brand.css`` carries the configured accent colour.

The pages' Content-Security-Policy forbids ``style=`` attributes and ``<style>`` blocks, so the
one value that comes from the configuration reaches the CSS as a tiny stylesheet of its own,
linked after ``design.css``.  ``accent_color`` is validated as a hex colour (config/forum.py),
so nothing but a colour can be written here.
"""

from __future__ import annotations

import hashlib

from aiohttp import web

from api.identity import forum_settings
from config.forum import ForumSettings


def brand_stylesheet(settings: ForumSettings) -> str:
    """The CSS of the brand: the accent as a custom property, and each status's colour on its
    badges (keys are ``[a-z0-9_-]`` and colours hex, both checked by the settings)."""
    lines = [f":root{{--accent:{settings.accent_color}}}"]
    lines += [f".status-{s.key}{{--status:{s.color}}}" for s in settings.statuses]
    return "\n".join(lines) + "\n"


async def brand_css(request: web.Request) -> web.Response:
    """GET /static/brand.css — cached briefly and revalidated by ETag (the colour changes
    only with the configuration, i.e. at a restart)."""
    css = brand_stylesheet(forum_settings(request))
    etag = '"' + hashlib.sha256(css.encode()).hexdigest()[:16] + '"'
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(text=css, content_type="text/css", charset="utf-8", headers=headers)
