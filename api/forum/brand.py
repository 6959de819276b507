"""The brand's stylesheet: ``/static/brand.css`` carries the configured accent colour.

The pages' Content-Security-Policy forbids ``style=`` attributes and ``<style>`` blocks, so the
one value that comes from the configuration reaches the CSS as a tiny stylesheet of its own,
linked after ``design.css``.  ``accent_color`` is validated as a hex colour (config/forum.py),
so nothing but a colour can be written here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from aiohttp import web

from api.identity import forum_settings
from config.forum import ForumSettings
from config.logo_file import read_logo

log = logging.getLogger(__name__)


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


#: An SVG logo opened on its own is a document of this origin: nothing in it may run or load.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


async def brand_logo(request: web.Request) -> web.Response:
    """GET /forum/brand-logo — the logo file of ``[forum] brand_logo_file`` (404 without one),
    read again on each request (it may be replaced while the service runs) and revalidated by
    ETag."""
    settings = forum_settings(request)
    if not settings.brand_logo_file:
        raise web.HTTPNotFound(text="no logo file is configured")
    try:
        data, content_type = await asyncio.to_thread(read_logo, settings.brand_logo_file)
    except (OSError, ValueError) as exc:  # removed or replaced by something else since the start
        # The reason names a path on the server: for the log, not for the visitor.
        log.warning("the forum's logo is not served: %s", exc)
        raise web.HTTPNotFound(text="the logo cannot be read") from exc
    etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
    headers = {"Cache-Control": "public, max-age=3600", "ETag": etag}
    if content_type == "image/svg+xml":
        headers["Content-Security-Policy"] = SVG_POLICY
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type=content_type, headers=headers)
