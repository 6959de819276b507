"""A fake Reddit for posting through PRAW: password grant, POST /api/comment, the account's comments.

Answers are shaped like Reddit's: the token route takes a script app's Basic auth and a
``grant_type=password`` form (a wrong password is HTTP 200 ``{"error": "invalid_grant"}``,
a wrong app 401); ``/api/comment`` answers ``{"json": {"errors": [], "data": {"things":
[{"kind": "t1", "data": {...}}]}}}`` or, for a refusal, HTTP 200 with ``json.errors`` triples
(``RATELIMIT`` carries ``json.ratelimit``, the seconds to wait); ``/user/<name>/comments``
is a listing newest first, paged with ``after``/``limit``.  Bodies are HTML-escaped unless
the client asks for ``raw_json=1``, as Reddit does.

Test controls: ``locked``/``deleted``/``archived``/``quarantined`` fullnames, ``refuse(...)``
to queue an HTTP error for the next comment POST, ``rate_limited(...)`` for Reddit's own
posting limit, ``answer_lost`` (the comment is posted, then a 5xx or a dropped connection),
``garbled_answer`` (posted, then an answer that does not name the comment),
``listing_failures`` (503s for the next reads of the account's comments), ``replies`` (parent fullname → comments posted), ``requests`` seen.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import string
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent.parent / "fixtures" / "reddit"
TOKEN = json.loads((FIXTURES / "access_token.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
#: A comment as Reddit lists it, to copy for the comments the fake creates.
COMMENT = json.loads((FIXTURES / "new_comments.json").read_text())["data"]["children"][0]
#: The thread of the fixtures: its post and a comment in it.
POST = "t3_1oq7k2m"
COMMENT_IN_POST = "t1_m2x9a1b"
B36 = string.digits + string.ascii_lowercase


def _b36(number: int) -> str:
    out = ""
    while number:
        number, digit = divmod(number, 36)
        out = B36[digit] + out
    return out or "0"


def api_error(code: str, message: str, field: str, **extra: Any) -> dict[str, Any]:
    """Reddit's answer (HTTP 200) when it refuses an action: ``json.errors`` triples."""
    return {"json": {**extra, "errors": [[code, message, field]]}}


class FakeRedditWrite:
    """In-memory Reddit for one script app and the account it posts as."""

    def __init__(self) -> None:
        self.client_id, self.client_secret = "script-app-id", "script-app-secret"
        self.username, self.password = "nimbus_team", "tr0ub4dor&3"
        self.known = {POST, COMMENT_IN_POST}
        self.locked: set[str] = set()
        self.deleted: set[str] = set()
        self.archived: set[str] = set()
        self.quarantined: set[str] = set()
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.own_comments: list[dict[str, Any]] = []  # newest first, as the user listing shows them
        self.http_failures: list[tuple[int, dict[str, str], Any]] = []
        self.limited: dict[str, Any] | None = None
        self.answer_lost: int | None = None  # post the comment, then answer this status (0: drop)
        self.garbled_answer: Any = None  # post the comment, then answer this body (HTTP 200)
        self.listing_failures = 0
        self.window_remaining = 598.0  # x-ratelimit-remaining of every answer  # the next reads of the account's comments answered 503
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._next_id = int("m3a0000", 36)
        self._clock = 1793538000.0  # after every item of the fixtures

    # -- test controls -------------------------------------------------------------------

    def refuse(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        """Answer the next ``times`` comment POSTs with Reddit's HTTP error for ``status``."""
        self.http_failures += [(status, dict(headers or {}), ERRORS[str(status)])] * times

    def rate_limited(self, message: str, ratelimit: float | None) -> None:
        """Refuse the next comment POST with Reddit's RATELIMIT error (HTTP 200)."""
        extra = {} if ratelimit is None else {"ratelimit": ratelimit}
        self.limited = api_error("RATELIMIT", message, "ratelimit", **extra)

    def add_own_comments(self, count: int, parent: str = POST, body: str = "Thanks, noted!") -> None:
        """``count`` earlier comments of the account elsewhere (so a reply is deeper in its history)."""
        for _ in range(count):
            self.own_comments.insert(0, self._comment(parent, body))

    # -- the app -------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving the fake."""
        app = web.Application()
        app.router.add_post("/api/v1/access_token", self.access_token)
        for path in ("/api/comment", "/api/comment/"):
            app.router.add_post(path, self.comment)
        for path in ("/user/{name}/comments", "/user/{name}/comments/"):
            app.router.add_get(path, self.user_comments)
        return app

    def _headers(self) -> dict[str, str]:
        return {"x-ratelimit-remaining": f"{self.window_remaining:.1f}", "x-ratelimit-used": "2",
                "x-ratelimit-reset": "340"}

    async def access_token(self, request: web.Request) -> web.Response:
        """POST /api/v1/access_token: the password grant of a script app."""
        form = await request.post()
        self.requests.append(("POST", request.path, {k: str(v) for k, v in form.items()}))
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response(ERRORS["401"], status=401)
        if form.get("grant_type") != "password":
            return web.json_response({"error": "unsupported_grant_type"})
        if (form.get("username"), form.get("password")) != (self.username, self.password):
            return web.json_response({"error": "invalid_grant"})  # Reddit: HTTP 200
        return web.json_response(TOKEN)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"bearer {TOKEN['access_token']}"

    def _comment(self, parent: str, body: str) -> dict[str, Any]:
        """A new comment of the account under ``parent``, shaped like Reddit's."""
        self._next_id += 1
        self._clock += 7
        comment_id = _b36(self._next_id)
        data = copy.deepcopy(COMMENT["data"])
        data.update(id=comment_id, name=f"t1_{comment_id}", parent_id=parent, link_id=POST,
                    body=body, body_html=f'<div class="md"><p>{html.escape(body)}</p>\n</div>',
                    author=self.username, created_utc=self._clock, created=self._clock, score=1,
                    ups=1, replies="",
                    permalink=f"/r/nimbuscloud/comments/1oq7k2m/nimbus_sync_keeps_failing_after_the/{comment_id}/")
        return {"kind": "t1", "data": data}

    async def comment(self, request: web.Request) -> web.Response:
        """POST /api/comment: ``thing_id`` and ``text`` (form), ``api_type=json``."""
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(("POST", request.path, form))
        if not self._authorized(request):
            return web.json_response(ERRORS["401"], status=401, headers={
                "www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        headers = self._headers()
        if self.http_failures:
            status, extra, body = self.http_failures.pop(0)
            if isinstance(body, str):  # Reddit's edge answers 5xx with an HTML page
                return web.Response(text=body, status=status, content_type="text/html",
                                    headers={**headers, **extra})
            return web.json_response(body, status=status, headers={**headers, **extra})
        if self.limited is not None:
            body, self.limited = self.limited, None
            return web.json_response(body, headers=headers)
        parent, text = form.get("thing_id", ""), form.get("text", "")
        if not text.strip():
            return web.json_response(api_error("NO_TEXT", "we need something here", "text"), headers=headers)
        if parent in self.deleted:
            kind = "DELETED_COMMENT" if parent.startswith("t1_") else "DELETED_LINK"
            return web.json_response(api_error(kind, "that comment has been deleted" if kind == "DELETED_COMMENT"
                                               else "the link you are commenting on has been deleted",
                                               "parent"), headers=headers)
        if parent in self.locked:
            return web.json_response(api_error("THREAD_LOCKED", "Comments are locked.", "parent"),
                                     headers=headers)
        if parent in self.archived:
            return web.json_response(api_error("TOO_OLD", "that's a piece of history now; it's too late "
                                               "to reply to it", "parent"), headers=headers)
        if parent not in self.known:
            return web.json_response(ERRORS["404"], status=404, headers=headers)
        created = self._comment(parent, text.replace("\r\n", "\n").strip())  # as Reddit stores it
        self.replies.setdefault(parent, []).append(created)
        self.own_comments.insert(0, created)
        if self.garbled_answer is not None:
            body, self.garbled_answer = self.garbled_answer, None
            if isinstance(body, str):
                return web.Response(text=body, content_type="text/html", headers=headers)
            return web.json_response(body, headers=headers)
        if self.answer_lost is not None:
            status, self.answer_lost = self.answer_lost, None
            if status == 0:
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            return web.Response(text=ERRORS["503"], status=status, content_type="text/html", headers=headers)
        things = [] if parent in self.quarantined else [self._escaped(created, request)]
        return web.json_response({"json": {"errors": [], "data": {"things": things}}}, headers=headers)

    def _escaped(self, child: dict[str, Any], request: web.Request) -> dict[str, Any]:
        """Like Reddit: ``&<>`` in text fields are HTML-escaped unless ``raw_json=1`` was asked."""
        if request.query.get("raw_json") == "1":
            return child
        out = copy.deepcopy(child)
        out["data"]["body"] = html.escape(out["data"]["body"], quote=False)
        return out

    async def user_comments(self, request: web.Request) -> web.Response:
        """GET /user/{name}/comments: the account's comments, newest first."""
        query = dict(request.query)
        self.requests.append(("GET", request.path, query))
        if not self._authorized(request):
            return web.json_response(ERRORS["401"], status=401)
        if self.listing_failures:
            self.listing_failures -= 1
            return web.Response(text=ERRORS["503"], status=503, content_type="text/html", headers=self._headers())
        if request.match_info["name"].lower() != self.username.lower():
            return web.json_response({"kind": "Listing", "data": {"after": None, "dist": 0, "modhash": None,
                                                                  "geo_filter": "", "children": [],
                                                                  "before": None}}, headers=self._headers())
        children = self.own_comments
        start = 0
        if "after" in query:
            names = [c["data"]["name"] for c in children]
            start = names.index(query["after"]) + 1 if query["after"] in names else len(children)
        limit = max(1, min(100, int(query.get("limit", 25))))
        page = [self._escaped(c, request) for c in children[start:start + limit]]
        after = page[-1]["data"]["name"] if page and start + limit < len(children) else None
        return web.json_response({"kind": "Listing", "data": {"after": after, "dist": len(page),
                                                              "modhash": None, "geo_filter": "",
                                                              "children": page, "before": None}},
                                 headers=self._headers())
