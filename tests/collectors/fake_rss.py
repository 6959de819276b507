"""A fake feed host: serves feed files with ETag / Last-Modified and answers 304 when asked right.

A test puts feeds at paths (``host.put("/blog.xml", bytes)``), may change them between runs,
and reads ``host.requests`` to see what the collector sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from tests.collectors.http_faults import Faults

FIXTURES = Path(__file__).parent / "fixtures" / "rss"
RSS_TYPE = "application/rss+xml; charset=UTF-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def fixture(name: str) -> bytes:
    """The bytes of a feed fixture."""
    return (FIXTURES / name).read_bytes()


@dataclass
class Feed:
    """One served document and its validators."""

    body: bytes
    content_type: str = RSS_TYPE
    last_modified: str = "Sat, 14 Nov 2026 16:20:05 GMT"
    status: int = 200
    conditional: bool = True  # False: a server that ignores If-None-Match / If-Modified-Since

    @property
    def etag(self) -> str:
        """A strong validator derived from the body."""
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class FeedHost:
    """State of the fake server: the feeds it serves and the requests it saw."""

    feeds: dict[str, Feed] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    base_url: str = ""  # set once the server runs

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this host."""
        return self.base_url.rstrip("/") + path

    def put(self, path: str, body: bytes, **kw: object) -> Feed:
        """Serve ``body`` at ``path`` from now on."""
        self.feeds[path] = Feed(body, **kw)  # type: ignore[arg-type]
        return self.feeds[path]

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of every request made for ``path``."""
        return [headers for p, headers in self.requests if p == path]

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """GET any path: the feed put there, 304 when the validators match, else 404."""
        self.requests.append((request.path, dict(request.headers)))
        feed = self.feeds.get(request.path)
        if feed is None:
            return web.Response(status=404, text="<html><body><h1>Not Found</h1></body></html>",
                                content_type="text/html")
        if feed.status != 200:
            return web.Response(status=feed.status, body=feed.body, content_type="text/html")
        validators = {"ETag": feed.etag, "Last-Modified": feed.last_modified}
        if feed.conditional and (
                request.headers.get("If-None-Match") == feed.etag
                or (request.headers.get("If-Modified-Since") == feed.last_modified
                    and "If-None-Match" not in request.headers)):
            return web.Response(status=304, headers=validators)
        return web.Response(body=feed.body, headers={**validators, "Content-Type": feed.content_type})


def make_app(host: FeedHost) -> web.Application:
    """The aiohttp app of the fake feed host."""
    app = web.Application(middlewares=[host.faults.middleware])
    app.router.add_get("/{path:.*}", host.serve)
    return app
