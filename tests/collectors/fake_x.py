"""A fake X API v2 for Tweepy: recent search, user lookup by username and mentions.

Tweets are held in memory (from ``fixtures/x/search_recent.json``) and answered like
X: newest first, ``since_id``/``until_id`` exclusive bounds, ``max_results`` checked
(10-100 for search, 5-100 for mentions), an opaque ``next_token`` that continues
below the last tweet of the page, ``includes.users`` for the page's authors, and the
``x-rate-limit-*`` headers on every answer.  ``fail(...)`` queues error answers
(429 with its reset header, 503, 401, an HTML 502), ``drop_from`` closes the connection of every
API request from that number on, ``requests`` records the query strings received.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "x"
SEARCH = json.loads((FIXTURES / "search_recent.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
BEARER = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
TWITTER_EPOCH_MS = 1288834974657


def clone(tweet: dict[str, Any], seconds_later: float, text: str | None = None, seq: int = 0) -> dict[str, Any]:
    """A copy of ``tweet`` posted ``seconds_later``, with a fresh snowflake id."""
    new = copy.deepcopy(tweet)
    created = int(tweet["id"]) >> 22
    ms = created + int(seconds_later * 1000)
    new_id = str((ms << 22) | (372 << 12) | (seq % 4096))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((ms + TWITTER_EPOCH_MS) / 1000))
    new.update(id=new_id, edit_history_tweet_ids=[new_id], conversation_id=new_id,
               created_at=f"{stamp}.{(ms + TWITTER_EPOCH_MS) % 1000:03d}Z")
    new.pop("referenced_tweets", None)
    new.pop("in_reply_to_user_id", None)
    if text is not None:
        new["text"] = text
    return new


def _fill(template: Any, **values: str) -> Any:
    text = json.dumps(template)
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


class FakeX:
    """In-memory X API serving the routes the collector uses."""

    def __init__(self) -> None:
        self.tweets: dict[str, dict[str, Any]] = {t["id"]: copy.deepcopy(t) for t in SEARCH["data"]}
        self.users: dict[str, dict[str, Any]] = {u["id"]: dict(u) for u in SEARCH["includes"]["users"]}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.failures: list[int] = []
        self.limited_until = 0
        self.reset_in = 1
        self.drop_from: int | None = None
        self.oldest_since_id = 0
        self.calls = 0
        self.limit, self.remaining = 450, 450
        self.reset_at = int(time.time()) + 900
        self._tokens: dict[str, tuple[str, int]] = {}

    # -- test controls -------------------------------------------------------------------

    def add(self, tweet: dict[str, Any]) -> None:
        """Publish a tweet."""
        self.tweets[tweet["id"]] = tweet

    def fail(self, status: int, times: int = 1, reset_in: int = 1) -> None:
        """Answer the next ``times`` API requests with X's error for ``status``.

        A 429 spends the rate-limit window: until it resets (``reset_in`` seconds,
        rounded to X's whole epoch seconds) every request is refused with 429.
        """
        self.failures.extend([status] * times)
        self.reset_in = reset_in

    def newest_first(self) -> list[dict[str, Any]]:
        """All tweets, newest first."""
        return sorted(self.tweets.values(), key=lambda t: int(t["id"]), reverse=True)

    # -- the app -------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving the fake."""
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/2/tweets/search/recent", self.search_recent)
        app.router.add_get("/2/users/by/username/{username}", self.user_by_username)
        app.router.add_get("/2/users/{id}/mentions", self.mentions)
        return app

    def _headers(self) -> dict[str, str]:
        return {"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": str(self.remaining),
                "x-rate-limit-reset": str(self.reset_at)}

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Authentication, canned failures, dropped connections and rate-limit headers."""
        self.calls += 1
        self.requests.append((request.path, dict(request.query)))
        if self.drop_from is not None and self.calls >= self.drop_from:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if request.headers.get("Authorization") != f"Bearer {BEARER}":
            return web.json_response(ERRORS["401"], status=401, content_type="application/problem+json")
        if time.time() < self.limited_until:  # like X: refused until the window resets
            return self._error(429, self._limit_spent())
        if self.failures:
            status = self.failures.pop(0)
            headers = {}
            if status == 429:
                headers = self._limit_spent()
                self.limited_until = int(headers["x-rate-limit-reset"])
            return self._error(status, headers)
        self.remaining = max(0, self.remaining - 1)
        response = await handler(request)
        response.headers.update(self._headers())
        return response

    def _limit_spent(self) -> dict[str, str]:
        reset = self.limited_until if time.time() < self.limited_until else int(time.time()) + self.reset_in
        return {"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset)}

    def _error(self, status: int, headers: dict[str, str]) -> web.Response:
        body = ERRORS[str(status)]
        if isinstance(body, str):  # an edge proxy's HTML page, not X's JSON
            return web.Response(text=body, status=status, headers=headers, content_type="text/html")
        return web.json_response(body, status=status, headers=headers, content_type="application/problem+json")

    def _bad_request(self, name: str, **values: str) -> web.Response:
        return web.json_response(_fill(ERRORS[name], **values), status=400)

    def _page(self, request: web.Request, endpoint: str, matches: list[dict[str, Any]],
              low: int, token_param: str) -> web.Response:
        """A page of ``matches`` (newest first) as X shapes it."""
        q = request.query
        max_results = q.get("max_results", "10")
        if not max_results.isdigit() or not low <= int(max_results) <= 100:
            return self._bad_request("invalid_max_results", value=max_results, low=str(low))
        since = int(q["since_id"]) if "since_id" in q else None
        until = int(q["until_id"]) if "until_id" in q else None
        if since is not None and since < self.oldest_since_id:
            return self._bad_request("invalid_since_id", value=str(since), after="2026-10-25T12:00Z")
        if token_param in q:
            origin, below = self._tokens.get(q[token_param], ("", 0))
            if origin != endpoint:
                return self._bad_request("invalid_token", param=token_param, value=q[token_param])
            until = below if until is None else min(until, below)
        rows = [t for t in matches
                if (since is None or int(t["id"]) > since) and (until is None or int(t["id"]) < until)]
        page, more = rows[:int(max_results)], len(rows) > int(max_results)
        if not page:
            return web.json_response({"meta": {"result_count": 0}})
        meta: dict[str, Any] = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"],
                                "result_count": len(page)}
        if more:
            token = hashlib.sha1(f"{endpoint}|{page[-1]['id']}".encode()).hexdigest()[:40]
            self._tokens[token] = (endpoint, int(page[-1]["id"]))
            meta["next_token"] = token
        authors = list(dict.fromkeys(t.get("author_id") for t in page))
        users = [self.users[a] for a in authors if a in self.users]
        return web.json_response({"data": page, "includes": {"users": users}, "meta": meta})

    async def search_recent(self, request: web.Request) -> web.Response:
        """GET /2/tweets/search/recent: every query word must appear in the text."""
        query = request.query.get("query", "")
        words = [w.lower() for w in query.split() if ":" not in w and not w.startswith("-")]
        matches = [t for t in self.newest_first() if all(w in t.get("text", "").lower() for w in words)]
        return self._page(request, f"search|{query}", matches, 10, "next_token")

    async def user_by_username(self, request: web.Request) -> web.Response:
        """GET /2/users/by/username/{username}."""
        name = request.match_info["username"]
        for user in self.users.values():
            if user["username"].lower() == name.lower():
                return web.json_response({"data": user})
        return web.json_response(_fill(ERRORS["user_not_found"], username=name))

    async def mentions(self, request: web.Request) -> web.Response:
        """GET /2/users/{id}/mentions: tweets naming @username."""
        user = self.users.get(request.match_info["id"])
        if user is None:
            return web.json_response(_fill(ERRORS["user_not_found"], username=request.match_info["id"]))
        handle = "@" + user["username"].lower()
        matches = [t for t in self.newest_first() if handle in t.get("text", "").lower()]
        return self._page(request, f"mentions|{user['id']}", matches, 5, "pagination_token")
