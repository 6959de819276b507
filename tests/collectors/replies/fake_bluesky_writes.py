"""A fake Bluesky PDS + AppView that takes replies: createSession, getPostThread and
createRecord, answering with the real XRPC shapes (``{"error", "message"}`` errors, the
``ratelimit-*`` headers on 429)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.collectors.http_faults import drop_connection

OUR = {"did": "did:plc:nimbussupport7x2k4q", "handle": "nimbus.bsky.social"}
CUSTOMER = {"did": "did:plc:7xkd3fmw2hnq5tpbzv4rlcya", "handle": "jo-rivera.bsky.social"}


def cid_of(text: str) -> str:
    """A stable CID-looking string for a record."""
    return "bafyrei" + hashlib.sha256(text.encode()).hexdigest()[:52]


@dataclass
class BlueskyWrites:
    """State of the fake server: posts by at:// URI, sessions, what it was sent."""

    password: str = "abcd-efgh-ijkl-mnop"
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    sessions: int = 0
    #: Access tokens still valid (each session gets its own; clear it to expire them).
    valid: set[str] = field(default_factory=set)
    #: Epoch seconds until which createRecord answers 429.
    limited_until: int | None = None
    crash_after_post: bool = False
    _rkey: int = 0

    def add_post(self, author: dict[str, str], text: str, reply: dict[str, Any] | None = None) -> dict[str, Any]:
        """A post view (``app.bsky.feed.defs#postView``) stored under its URI."""
        self._rkey += 1
        uri = f"at://{author['did']}/app.bsky.feed.post/3mzb{self._rkey:09d}"
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": "2026-11-01T12:00:02.122Z",
                                  "langs": ["en"], "text": text}
        if reply:
            record["reply"] = reply
        view = {"uri": uri, "cid": cid_of(uri + text),
                "author": {**author, "displayName": "", "labels": [], "createdAt": "2024-02-01T00:00:00.000Z"},
                "record": record, "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": "2026-11-01T12:00:03.000Z", "labels": []}
        self.posts[uri] = view
        return view

    def _refused(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer access-jwt-of-nimbus-"):
            return web.json_response({"error": "AuthenticationRequired", "message": "Authentication Required"},
                                     status=401)
        if auth.removeprefix("Bearer ") not in self.valid:
            return web.json_response({"error": "ExpiredToken", "message": "Token has expired"}, status=400)
        return None

    async def create_session(self, request: web.Request) -> web.Response:
        """POST /xrpc/com.atproto.server.createSession."""
        body = await request.json()
        if body.get("identifier") not in (OUR["handle"], OUR["did"]) or body.get("password") != self.password:
            return web.json_response({"error": "AuthenticationRequired",
                                      "message": "Invalid identifier or password"}, status=401)
        self.sessions += 1
        token = f"access-jwt-of-nimbus-{self.sessions}"
        self.valid.add(token)
        return web.json_response({**OUR, "accessJwt": token, "refreshJwt": "refresh-jwt",
                                  "email": "support@nimbus.example", "emailConfirmed": True, "active": True})

    async def get_post_thread(self, request: web.Request) -> web.Response:
        """GET /xrpc/app.bsky.feed.getPostThread?uri=&depth=."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        uri = request.query.get("uri", "")
        if uri not in self.posts:
            return web.json_response({"error": "NotFound", "message": f"Post not found: {uri}"}, status=400)
        replies = [{"$type": "app.bsky.feed.defs#threadViewPost", "post": p, "replies": []}
                   for p in self.posts.values()
                   if (p["record"].get("reply") or {}).get("parent", {}).get("uri") == uri]
        return web.json_response({"thread": {"$type": "app.bsky.feed.defs#threadViewPost",
                                             "post": self.posts[uri], "replies": replies},
                                  "threadgate": None})

    async def create_record(self, request: web.Request) -> web.StreamResponse:
        """POST /xrpc/com.atproto.repo.createRecord of an ``app.bsky.feed.post``."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        if self.limited_until is not None:
            return web.json_response({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                     status=429, headers={"ratelimit-limit": "5000", "ratelimit-remaining": "0",
                                                          "ratelimit-reset": str(self.limited_until),
                                                          "ratelimit-policy": "5000;w=3600"})
        body = await request.json()
        self.records.append(body)
        record = body.get("record") or {}
        if body.get("repo") != OUR["did"] or body.get("collection") != "app.bsky.feed.post":
            return web.json_response({"error": "InvalidRequest", "message": "repo or collection"}, status=400)
        reply = record.get("reply") or {}
        parent = self.posts.get((reply.get("parent") or {}).get("uri", ""))
        if parent is None or parent["cid"] != reply["parent"].get("cid") or "cid" not in (reply.get("root") or {}):
            return web.json_response({"error": "InvalidRequest",
                                      "message": "Invalid app.bsky.feed.post record: reply"}, status=400)
        view = self.add_post(OUR, record["text"], reply)
        view["record"] = record
        if self.crash_after_post:
            self.crash_after_post = False
            return await drop_connection(request)
        return web.json_response({"uri": view["uri"], "cid": view["cid"],
                                  "commit": {"cid": cid_of("commit" + view["uri"]), "rev": "3mzbrev"},
                                  "validationStatus": "valid"})

    def app(self) -> web.Application:
        """The aiohttp app of the fake server."""
        app = web.Application()
        app.router.add_post("/xrpc/com.atproto.server.createSession", self.create_session)
        app.router.add_get("/xrpc/app.bsky.feed.getPostThread", self.get_post_thread)
        app.router.add_post("/xrpc/com.atproto.repo.createRecord", self.create_record)
        return app
