"""A fake X API v2 for posting through Tweepy: POST /2/tweets, /2/users/me and an account's posts.

Every request must carry a valid OAuth 1.0a HMAC-SHA1 signature for the app's consumer
key/secret and the account's access token/secret, computed over the URL Tweepy signed
(``https://api.twitter.com/...``): a wrong key, token or secret is X's 401.  Answers are
shaped like X's: ``POST /2/tweets`` → 201 ``{"data": {"id", "text", "edit_history_tweet_ids"}}``;
refusals are ``application/problem+json`` bodies (duplicate content, replies limited by the
author, deleted post, an app without write permission); a spent limit is 429 with
``x-rate-limit-*`` or, for the daily posting cap, ``x-user-limit-24hour-*`` headers.
A stored tweet reads back as X shows it: ``&<>`` escaped, links as t.co, and the replied-to
author's mention in front.

Test controls: ``restricted``/``deleted`` post ids, ``read_only`` app, ``fail(status,
**headers)``, ``drop_post_answer`` (the post is made, the connection then closed), ``garbled_answer`` (the
post is made, the answer does not name it),
``posted`` (tweets created), ``requests``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from aiohttp import web

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x"
SEARCH = json.loads((FIXTURES / "search_recent.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
SIGNED_HOST = "https://api.twitter.com"
#: The customer's post (a conversation's first) and the company's earlier reply to it.
CUSTOMER_POST = "2116850235632726017"
EARLIER_REPLY = "2116862315257606146"
OTHER_POST = "2116860553679286275"
ACCOUNT = "1422874110953365504"  # @nimbushq

REFUSALS = {
    "duplicate": "You are not allowed to create a Tweet with duplicate content.",
    "restricted": "Reply to this conversation is not allowed because you have not been mentioned or "
                  "otherwise engaged by the author of the post you are replying to.",
    "deleted": "You attempted to reply to a Tweet that is deleted or not visible to you.",
}
READ_ONLY_APP = {"title": "Forbidden", "type": "https://api.twitter.com/2/problems/oauth1-permissions",
                 "status": 403, "detail": "Your client app is not configured with the appropriate oauth1 "
                                          "app permissions for this endpoint."}
_LINK = re.compile(r"https?://\S+")
_AUTH_PARAM = re.compile(r'([A-Za-z_]+)="([^"]*)"')


def _pct(text: str) -> str:
    """RFC 5849 percent-encoding: everything but unreserved characters."""
    return quote(text, safe="-._~")


def _problem(detail: str, status: int = 403) -> web.Response:
    body = {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": status}
    return web.json_response(body, status=status, content_type="application/problem+json")


class FakeXWrite:
    """In-memory X for one app and the account (@nimbushq) it posts as."""

    def __init__(self) -> None:
        self.consumer_key, self.consumer_secret = "xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
        self.access_token = "1422874110953365504-Xq5kR9mT2pL7wN3vB8cY6hJ4dF1gS0aZ"
        self.access_token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
        self.tweets: dict[str, dict[str, Any]] = {t["id"]: copy.deepcopy(t) for t in SEARCH["data"]}
        self.users = {u["id"]: dict(u) for u in SEARCH["includes"]["users"]}
        self.restricted: set[str] = set()
        self.deleted: set[str] = set()
        self.read_only = False
        self.drop_post_answer = False
        self.garbled_answer: Any = None  # post, then answer 201 with this body
        self.failures: list[tuple[int, dict[str, str], bool]] = []
        self.posted: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._links = 0

    # -- test controls -------------------------------------------------------------------

    def fail(self, status: int, edge_page: bool = False, **headers: str) -> None:
        """Answer the next API request with X's error for ``status`` and these headers
        (``edge_page``: the HTML page of X's edge proxy instead of X's JSON)."""
        self.failures.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, edge_page))

    def add_own_posts(self, count: int) -> None:
        """``count`` newer posts of the account that are not replies (a busy timeline)."""
        for i in range(count):
            self._store({"text": f"Nimbus status update number {i}: all systems normal."}, None)

    # -- the app -------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving the fake."""
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/2/tweets", self.create_tweet)
        app.router.add_get("/2/users/me", self.me)
        app.router.add_get("/2/users/{id}/tweets", self.user_tweets)
        return app

    def _signed(self, request: web.Request) -> bool:
        """Whether the request carries a valid OAuth 1.0a HMAC-SHA1 signature (RFC 5849).

        Checked here from the RFC, not with the library the client signs with, so a signing
        mistake shared by both cannot pass unnoticed.
        """
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("OAuth "):
            return False
        oauth = {key: unquote(value) for key, value in _AUTH_PARAM.findall(auth[6:])}
        if oauth.get("oauth_consumer_key") != self.consumer_key or oauth.get("oauth_token") != self.access_token:
            return False
        if oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return False
        params = parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)
        params += [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        normalized = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in params))
        base = "&".join((request.method, _pct(SIGNED_HOST + request.rel_url.raw_path), _pct(normalized)))
        key = f"{_pct(self.consumer_secret)}&{_pct(self.access_token_secret)}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
        return hmac.compare_digest(expected, oauth.get("oauth_signature", ""))

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """OAuth 1.0a signature, canned failures and the rate-limit headers of every answer."""
        self.requests.append((request.method, request.path, dict(request.query)))
        if not self._signed(request):
            return web.json_response(ERRORS["401"], status=401, content_type="application/problem+json")
        if self.failures:
            status, headers, edge_page = self.failures.pop(0)
            body = ERRORS["502"] if edge_page else ERRORS[str(status)]
            if isinstance(body, str):  # an edge proxy's HTML page
                return web.Response(text=body, status=status, headers=headers, content_type="text/html")
            return web.json_response(body, status=status, headers=headers, content_type="application/problem+json")
        response = await handler(request)
        response.headers.update({"x-rate-limit-limit": "100", "x-rate-limit-remaining": "97",
                                 "x-rate-limit-reset": "1796659200"})
        return response

    def _shown(self, text: str) -> str:
        """The text as X keeps it: links shortened to t.co, ``&<>`` escaped."""
        def shorten(match: re.Match[str]) -> str:
            self._links += 1
            return "https://t.co/" + hashlib.sha1(f"{self._links}{match.group(0)}".encode()).hexdigest()[:10]

        return html.escape(_LINK.sub(shorten, text), quote=False)

    def _store(self, body: dict[str, Any], parent: dict[str, Any] | None) -> dict[str, Any]:
        new_id = str(max(int(t) for t in self.tweets) + (1 << 22) * 1000)  # a second later
        shown = self._shown(body["text"])
        tweet: dict[str, Any] = {"id": new_id, "edit_history_tweet_ids": [new_id], "author_id": ACCOUNT,
                                 "created_at": "2026-11-01T12:30:00.000Z", "conversation_id": new_id,
                                 "text": shown, "sent_text": body["text"]}
        if parent is not None:
            handle = self.users[parent["author_id"]]["username"]
            tweet.update(text=f"@{handle} {shown}", conversation_id=parent["conversation_id"],
                         in_reply_to_user_id=parent["author_id"],
                         referenced_tweets=[{"type": "replied_to", "id": parent["id"]}])
        if len(tweet["text"]) > 280:  # a long post (paid accounts): cut in text, whole in note_tweet
            tweet["note_tweet"] = {"text": tweet["text"]}
            tweet["text"] = tweet["text"][:275] + "…"
        self.tweets[new_id] = tweet
        return tweet

    async def create_tweet(self, request: web.Request) -> web.StreamResponse:
        """POST /2/tweets with ``text`` and ``reply.in_reply_to_tweet_id``."""
        body = await request.json()
        if self.read_only:
            return web.json_response(READ_ONLY_APP, status=403, content_type="application/problem+json")
        parent_id = str((body.get("reply") or {}).get("in_reply_to_tweet_id", ""))
        parent = self.tweets.get(parent_id)
        if parent is None or parent_id in self.deleted:
            return _problem(REFUSALS["deleted"])
        if parent_id in self.restricted:
            return _problem(REFUSALS["restricted"])
        if any(t.get("author_id") == ACCOUNT and t.get("sent_text", "") == body["text"]
               for t in self.tweets.values()):
            return _problem(REFUSALS["duplicate"])
        tweet = self._store(body, parent)
        self.posted.append(tweet)
        if self.drop_post_answer:  # posted; the answer never reaches the client
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if self.garbled_answer is not None:
            body, self.garbled_answer = self.garbled_answer, None
            if isinstance(body, str):
                return web.Response(text=body, status=201, content_type="text/html")
            return web.json_response(body, status=201)
        answer = {"id": tweet["id"], "text": self._shown(body["text"]), "edit_history_tweet_ids": [tweet["id"]]}
        return web.json_response({"data": answer}, status=201)

    async def me(self, request: web.Request) -> web.Response:
        """GET /2/users/me: the account the access token belongs to."""
        return web.json_response({"data": self.users[ACCOUNT]})

    async def user_tweets(self, request: web.Request) -> web.Response:
        """GET /2/users/:id/tweets: newest first, ``since_id``, ``max_results`` 5-100, pages."""
        q = request.query
        max_results = int(q.get("max_results", "10"))
        if not 5 <= max_results <= 100:
            return web.json_response(json.loads(json.dumps(ERRORS["invalid_max_results"])
                                                .replace("{value}", str(max_results)).replace("{low}", "5")),
                                     status=400)
        since = int(q["since_id"]) if "since_id" in q else 0
        below = int(q["pagination_token"], 16) if "pagination_token" in q else None
        rows = sorted((t for t in self.tweets.values() if t.get("author_id") == request.match_info["id"]
                       and int(t["id"]) > since and (below is None or int(t["id"]) < below)),
                      key=lambda t: int(t["id"]), reverse=True)
        page = rows[:max_results]
        if not page:
            return web.json_response({"meta": {"result_count": 0}})
        fields = set(q.get("tweet.fields", "").split(",")) | {"id", "text", "edit_history_tweet_ids"}
        data = [{k: v for k, v in t.items() if k in fields} for t in page]
        meta: dict[str, Any] = {"result_count": len(page), "newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if len(rows) > max_results:
            meta["next_token"] = format(int(page[-1]["id"]), "x")
        return web.json_response({"data": data, "meta": meta})
