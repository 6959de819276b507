"""A fake Mastodon instance that takes replies: ``POST /api/v1/statuses``, the thread context
and ``verify_credentials``, answering with the real API's shapes, errors and rate-limit headers.

Statuses are rendered to HTML as Mastodon does (``<p>`` paragraphs, ``<br />`` line breaks,
links split into invisible/visible spans), so ``find_sent`` is tested against real markup.
"""

from __future__ import annotations

import asyncio
import copy
import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from tests.collectors.fake_mastodon import fixture
from tests.collectors.http_faults import drop_connection

RESET = datetime(2026, 11, 20, 12, 5, tzinfo=timezone.utc)
OUR_ACCOUNT = {"id": "110000000000000042", "username": "nimbus", "acct": "nimbus",
               "display_name": "Nimbus support", "url": "https://mastodon.example/@nimbus"}


def render(text: str) -> str:
    """Mastodon's HTML of a plain-text status."""
    def link(match: re.Match[str]) -> str:
        url = match.group()
        scheme, rest = url.split("://", 1)
        return (f'<a href="{url}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
                f'<span class="invisible">{scheme}://</span><span class="">{rest}</span></a>')
    def mention(match: re.Match[str]) -> str:
        user, _, host = match.group(1).partition("@")
        return (f'<span class="h-card" translate="no"><a href="https://{host or "mastodon.example"}/@{user}" '
                f'class="u-url mention">@<span>{user}</span></a></span>')  # the host is not shown
    paragraphs = []
    for para in text.split("\n\n"):
        escaped = html.escape(para, quote=False)
        linked = re.sub(r"https?://[^\s<]+", link, escaped)
        linked = re.sub(r"(?<![\w/])@([\w.-]+(?:@[\w.-]+)?)", mention, linked)
        paragraphs.append("<p>" + linked.replace("\n", "<br />") + "</p>")
    return "".join(paragraphs)


@dataclass
class MastodonWrites:
    """State of the fake instance: the statuses by id, and what it was asked."""

    token: str = "reply-token-of-nimbus"
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    remaining: int = 300
    #: Store the next posted status, then drop the connection before answering.
    crash_after_post: bool = False
    #: Store the next posted status, then answer 200 with a proxy's HTML page instead of JSON.
    html_after_post: bool = False
    posts: list[dict[str, Any]] = field(default_factory=list)
    #: While set and not yet released, a posted status waits before it is stored (a slow instance).
    hold: asyncio.Event | None = None
    idempotency: dict[str, str] = field(default_factory=dict)
    _next_id: int = 115700000000000001

    def add_status(self, status_id: str, text: str, account: dict[str, Any] | None = None,
                   in_reply_to_id: str | None = None) -> dict[str, Any]:
        """A status shaped like a captured one."""
        status = copy.deepcopy(fixture("tag_timeline.json")[2])
        acct = account or status["account"]
        status.update(id=status_id, content=render(text), in_reply_to_id=in_reply_to_id,
                      url=f"https://mastodon.example/@{acct['username']}/{status_id}",
                      uri=f"https://mastodon.example/users/{acct['username']}/statuses/{status_id}",
                      account={**status["account"], **acct}, replies_count=0)
        self.statuses[status_id] = status
        return status

    def _headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(max(self.remaining, 0)),
                "X-RateLimit-Reset": RESET.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"}

    def _refused(self, request: web.Request) -> web.Response | None:
        self.remaining -= 1
        if self.remaining < 0:
            return web.json_response({"error": "Too many requests"}, status=429, headers=self._headers())
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "The access token is invalid"}, status=401,
                                     headers={**self._headers(), "WWW-Authenticate":
                                              'Bearer realm="Doorkeeper", error="invalid_token"'})
        return None

    async def verify_credentials(self, request: web.Request) -> web.Response:
        """GET /api/v1/accounts/verify_credentials."""
        return self._refused(request) or web.json_response(
            {**fixture("tag_timeline.json")[2]["account"], **OUR_ACCOUNT,
             "source": {"privacy": "public", "sensitive": False, "language": "en", "note": ""}},
            headers=self._headers())

    async def context(self, request: web.Request) -> web.Response:
        """GET /api/v1/statuses/:id/context: ancestors and descendants, oldest first."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        status_id = request.match_info["id"]
        if status_id not in self.statuses:
            return web.json_response({"error": "Record not found"}, status=404)
        below, frontier = [], {status_id}
        for sid in sorted(self.statuses, key=lambda s: (len(s), s)):
            if self.statuses[sid]["in_reply_to_id"] in frontier:
                below.append(self.statuses[sid])
                frontier.add(sid)
        return web.json_response({"ancestors": [], "descendants": below}, headers=self._headers())

    async def post_status(self, request: web.Request) -> web.StreamResponse:
        """POST /api/v1/statuses (JSON or form body), honouring ``Idempotency-Key``."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        body = await request.json() if request.content_type == "application/json" else dict(await request.post())
        if self.hold is not None:
            await self.hold.wait()
        self.posts.append({"body": body, "headers": dict(request.headers)})
        key = request.headers.get("Idempotency-Key")
        if key and key in self.idempotency:
            return web.json_response(self.statuses[self.idempotency[key]], headers=self._headers())
        text = str(body.get("status") or "")
        if not text.strip():
            return web.json_response({"error": "Validation failed: Text can't be blank"}, status=422)
        parent = body.get("in_reply_to_id")
        if parent is not None and str(parent) not in self.statuses:
            return web.json_response({"error": "Record not found"}, status=404)
        self._next_id += 1
        status = self.add_status(str(self._next_id), text, OUR_ACCOUNT, str(parent) if parent else None)
        status["visibility"] = body.get("visibility") or "public"
        if key:
            self.idempotency[key] = status["id"]
        if self.crash_after_post:
            self.crash_after_post = False
            return await drop_connection(request)
        if self.html_after_post:
            self.html_after_post = False
            return web.Response(text="<html><body><h1>502 Bad Gateway</h1></body></html>", status=200,
                                content_type="text/html")
        return web.json_response(status, headers=self._headers())

    async def tag_timeline(self, request: web.Request) -> web.Response:
        """GET /api/v1/timelines/tag/:hashtag (the collector's reads): nothing new."""
        return web.json_response([], headers=self._headers())

    def app(self) -> web.Application:
        """The aiohttp app of the fake instance."""
        app = web.Application()
        app.router.add_get("/api/v1/timelines/tag/{hashtag}", self.tag_timeline)
        app.router.add_get("/api/v1/accounts/verify_credentials", self.verify_credentials)
        app.router.add_get("/api/v1/statuses/{id}/context", self.context)
        app.router.add_post("/api/v1/statuses", self.post_status)
        return app
