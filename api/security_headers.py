"""Security headers on every answer: what a page may load and run, and who may frame it.

No page has an inline script or style (scripts and styles are files under /static/, data a
script needs is a ``<script type="application/json">`` block, which never runs), so the
policy needs neither ``'unsafe-inline'`` nor hashes: a script that markup injection slipped
into a page does not run.  The headers go on JSON, static files and the live stream too:
they cost nothing there and keep a browser from sniffing any of them into a page.
"""

from __future__ import annotations

from aiohttp import web

#: Everything from this origin only; no plugins, no <base> rewriting, forms post here only,
#: and no other site may frame a page (clickjacking on vote, triage and routing buttons).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # the pages' empty favicon is a data: URL
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    # Links to other sites (a mention's source, a customer's website) carry no path or query.
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: add the headers a handler did not set itself."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def setup_security_headers(app: web.Application) -> None:
    """Send the security headers with every response of ``app``."""
    app.on_response_prepare.append(add_security_headers)
