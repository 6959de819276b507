"""A fake Mastodon instance: hashtag timelines and notifications, paged and rate limited like the real one.

Pagination follows Mastodon: ``max_id`` (older than), ``since_id`` (newer than, newest
first) and ``min_id`` (immediately newer than); results are always newest first, with a
``Link`` header holding ``next`` (``max_id``) and ``prev`` (``min_id``) URLs.  Every answer
carries ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web
from yarl import URL

from tests.collectors.http_faults import Faults

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
RESET = datetime(2026, 11, 20, 12, 5, tzinfo=timezone.utc)


def fixture(name: str) -> Any:
    """A captured Mastodon answer."""
    return json.loads((FIXTURES / name).read_text())


def _order(item: dict[str, Any]) -> tuple[int, str]:
    return len(item["id"]), item["id"]


@dataclass
class Instance:
    """State of the fake server."""

    tags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    token: str = "token-of-acme"
    tags_need_token: bool = False
    limit: int = 300
    remaining: int = 300
    reset: datetime = RESET
    requests: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    base_url: str = ""  # set once the server runs

    def add_status(self, tag: str, status_id: int, **fields: Any) -> dict[str, Any]:
        """A copy of the captured text status with a new id."""
        status = copy.deepcopy(fixture("tag_timeline.json")[2])
        status.update(id=str(status_id), uri=f"https://mastodon.example/users/target/statuses/{status_id}",
                      url=f"https://mastodon.example/@target/{status_id}", **fields)
        self.tags.setdefault(tag, []).append(status)
        return status

    def _rate_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(max(self.remaining, 0)),
                "X-RateLimit-Reset": self.reset.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"}

    def _page(self, request: web.Request, items: list[dict[str, Any]], default: int, most: int) -> web.Response:
        q = request.query
        limit = min(int(q.get("limit", default)), most)
        chosen = sorted(items, key=_order)
        if "max_id" in q:
            chosen = [i for i in chosen if _order(i) < (len(q["max_id"]), q["max_id"])]
        if "since_id" in q:
            chosen = [i for i in chosen if _order(i) > (len(q["since_id"]), q["since_id"])]
        if "min_id" in q:
            chosen = [i for i in chosen if _order(i) > (len(q["min_id"]), q["min_id"])][:limit]
        else:
            chosen = chosen[-limit:] if limit else []
        chosen.reverse()  # newest first, always
        headers = self._rate_headers()
        if chosen:
            base = URL(str(request.url)).without_query_params("max_id", "min_id", "since_id")
            older = base.update_query(max_id=chosen[-1]["id"])
            newer = base.update_query(min_id=chosen[0]["id"])
            headers["Link"] = f'<{older}>; rel="next", <{newer}>; rel="prev"'
        return web.json_response(chosen, headers=headers)

    def _check(self, request: web.Request, needs_token: bool) -> web.Response | None:
        auth = request.headers.get("Authorization")
        self.requests.append((request.path, dict(request.query), auth))
        self.remaining -= 1
        if self.remaining < 0:
            return web.json_response({"error": "Too many requests"}, status=429, headers=self._rate_headers())
        if auth is not None and auth != f"Bearer {self.token}":
            return web.json_response({"error": "The access token is invalid"}, status=401,
                                     headers=self._rate_headers())
        if needs_token and auth is None:
            return web.json_response({"error": "The access token is invalid"}, status=401,
                                     headers=self._rate_headers())
        return None

    async def tag_timeline(self, request: web.Request) -> web.Response:
        """GET /api/v1/timelines/tag/{hashtag}."""
        refused = self._check(request, self.tags_need_token)
        if refused is not None:
            return refused
        items = self.tags.get(request.match_info["hashtag"].lower(), [])
        return self._page(request, items, default=20, most=40)

    async def notifications_list(self, request: web.Request) -> web.Response:
        """GET /api/v1/notifications, filtered by ``types[]``."""
        refused = self._check(request, needs_token=True)
        if refused is not None:
            return refused
        types = request.query.getall("types[]", [])
        items = [n for n in self.notifications if not types or n["type"] in types]
        return self._page(request, items, default=40, most=80)


def make_app(instance: Instance) -> web.Application:
    """The aiohttp app of the fake instance."""
    app = web.Application(middlewares=[instance.faults.middleware])
    app.router.add_get("/api/v1/timelines/tag/{hashtag}", instance.tag_timeline)
    app.router.add_get("/api/v1/notifications", instance.notifications_list)
    return app

