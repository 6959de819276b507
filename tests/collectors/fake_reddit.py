"""A fake Reddit for PRAW: the OAuth token route and the listing routes, from fixtures.

Listings are kept newest first per path (``r/<sub>/new``, ``r/<sub>/comments``,
``search?q=<query>``) and paged like Reddit: ``limit`` (max 100) and ``after`` (the
fullname of the last child of the previous page; an unknown one gives an empty page).
Every API response carries Reddit's ``x-ratelimit-*`` headers.  ``fail(...)`` queues
error answers, ``drop_from`` closes the connection of every listing request from that
number on, ``requests`` records what PRAW asked for.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "reddit"
TOKEN = json.loads((FIXTURES / "access_token.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
UNKNOWN_SUBREDDIT = "doesnotexist"


def fixture_children(name: str) -> list[dict[str, Any]]:
    """The children of a fixture listing, newest first."""
    return json.loads((FIXTURES / name).read_text())["data"]["children"]


def clone(child: dict[str, Any], id_: str, created_utc: float, **data: Any) -> dict[str, Any]:
    """A copy of a fixture child with a new id/fullname, time and any other fields."""
    new = copy.deepcopy(child)
    d = new["data"]
    d.update(id=id_, name=f"{new['kind']}_{id_}", created_utc=created_utc, created=created_utc)
    d["permalink"] = d["permalink"].replace(child["data"]["id"], id_)
    d.update(data)
    return new


@dataclass
class Failure:
    """A canned error answer for the next listing request."""

    status: int
    headers: dict[str, str]
    body: str
    content_type: str = "application/json"


class FakeReddit:
    """In-memory Reddit serving the routes PRAW uses."""

    def __init__(self) -> None:
        self.listings: dict[str, list[dict[str, Any]]] = {
            "r/nimbuscloud/new": fixture_children("new_posts.json"),
            "r/nimbuscloud/comments": fixture_children("new_comments.json"),
            "search?q=nimbus sync": fixture_children("search.json"),
        }
        self.client_id, self.client_secret = "app-id", "app-secret"
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.failures: list[Failure] = []
        self.drop_from: int | None = None
        self.listing_calls = 0
        self.remaining, self.used, self.reset = 996.0, 4, 412

    # -- test controls -------------------------------------------------------------------

    def add(self, path: str, child: dict[str, Any]) -> None:
        """Insert a child into a listing, keeping it newest first."""
        items = self.listings.setdefault(path, [])
        items.append(child)
        items.sort(key=lambda c: (c["data"]["created_utc"], c["data"]["name"]), reverse=True)

    def fail(self, status: int, times: int = 1, **headers: str) -> None:
        """Answer the next ``times`` listing requests with Reddit's error for ``status``."""
        body = ERRORS[str(status)]
        kind = "text/html; charset=UTF-8" if isinstance(body, str) else "application/json; charset=UTF-8"
        text = body if isinstance(body, str) else json.dumps(body)
        self.failures.extend(Failure(status, dict(headers), text, kind) for _ in range(times))

    # -- the app -------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving the fake."""
        app = web.Application()
        app.router.add_post("/api/v1/access_token", self.access_token)
        for route in ("/r/{sub}/{listing:new|comments|search}", "/search"):
            app.router.add_get(route, self.listing)
            app.router.add_get(route + "/", self.listing)
        return app

    def _limit_headers(self) -> dict[str, str]:
        return {"x-ratelimit-remaining": f"{self.remaining:.1f}", "x-ratelimit-used": str(self.used),
                "x-ratelimit-reset": str(self.reset)}

    async def access_token(self, request: web.Request) -> web.Response:
        """POST /api/v1/access_token: client-credentials grant with Basic auth."""
        form = await request.post()
        self.requests.append(("POST", request.path, dict(form)))
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != expected:
            return web.json_response(ERRORS["401"], status=401)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"})
        return web.json_response(TOKEN)

    async def listing(self, request: web.Request) -> web.StreamResponse:
        """A listing page: ``r/<sub>/new``, ``r/<sub>/comments`` or ``search``."""
        self.listing_calls += 1
        query = dict(request.query)
        self.requests.append(("GET", request.path, query))
        if self.drop_from is not None and self.listing_calls >= self.drop_from:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if request.headers.get("Authorization") != f"bearer {TOKEN['access_token']}":
            return web.json_response(ERRORS["401"], status=401, headers={
                "www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        self.used += 1
        self.remaining -= 1
        headers = self._limit_headers()
        if self.failures:
            failure = self.failures.pop(0)
            return web.Response(status=failure.status, text=failure.body,
                                headers={**headers, **failure.headers, "Content-Type": failure.content_type})
        sub = request.match_info.get("sub")
        if sub == UNKNOWN_SUBREDDIT:
            raise web.HTTPFound(f"/subreddits/search.json?q={sub}&raw_json=1", headers=headers)
        if sub is None:
            key = f"search?q={query.get('q', '')}"
        elif request.match_info["listing"] == "search":
            # Like Reddit: without restrict_sr a subreddit's search covers the whole site.
            scoped = query.get("restrict_sr") in ("on", "1", "true")
            key = f"{f'r/{sub.lower()}/' if scoped else ''}search?q={query.get('q', '')}"
        else:
            key = f"r/{sub}/{request.match_info['listing']}"
        children = self.listings.get(key, [])
        start = 0
        if "after" in query:
            names = [c["data"]["name"] for c in children]
            start = names.index(query["after"]) + 1 if query["after"] in names else len(children)
        limit = max(1, min(100, int(query.get("limit", 25))))
        page = children[start:start + limit]
        after = page[-1]["data"]["name"] if page and start + limit < len(children) else None
        body = {"kind": "Listing", "data": {"after": after, "dist": len(page), "modhash": None,
                                           "geo_filter": "", "children": page, "before": None}}
        return web.json_response(body, headers=headers)
