"""Security headers on every answer: what a page may load and run, and who may frame it.

No page has an inline script or style (scripts and styles are files under /static/, data a
script needs is a ``<script type="application/json">`` block, which never runs), so the
policy needs neither ``'unsafe-inline'`` nor hashes: a script that markup injection slipped
into a page does not run.  The headers go on JSON, static files and the live stream too:
they cost nothing there and keep a browser from sniffing any of them into a page.
"""

from __future__ import annotations

from aiohttp import web

def content_security_policy(image_origins: tuple[str, ...] = ()) -> str:
    """Everything from this origin only; no plugins, no <base> rewriting, forms post here only,
    and no other site may frame a page (clickjacking on vote, triage and routing buttons).
    ``image_origins`` are https origins images may also come from (the forum's configured logo,
    validated by config/forum.py to a host name and port)."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        " ".join(["img-src 'self' data:", *image_origins]),  # the favicon is a data: URL
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(image_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers every answer carries (see ``content_security_policy``)."""
    return {
        "Content-Security-Policy": content_security_policy(image_origins),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
        # Links to other sites (a mention's source, a customer's website) carry no path or query.
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def setup_security_headers(app: web.Application, image_origins: tuple[str, ...] = ()) -> None:
    """Send the security headers with every response of ``app``; images may also come from
    ``image_origins``."""
    headers = security_headers(image_origins)

    async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
        # on_response_prepare: add the headers a handler did not set itself.
        for name, value in headers.items():
            response.headers.setdefault(name, value)

    app.on_response_prepare.append(add_security_headers)
