"""A fake Discourse forum: ``/posts.json`` (latest posts) and ``/latest.json`` (latest topics).

``/posts.json`` behaves like Discourse 3.x: public posts ordered by id, newest first, 50 a
page, ``?before=<id>`` for those with a smaller id.  API keys are checked the Discourse way
(``Api-Key`` and ``Api-Username`` headers, 403 ``invalid_access`` when wrong).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.collectors.http_faults import Faults

FIXTURES = Path(__file__).parent / "fixtures" / "discourse"
PAGE_SIZE = 50


def fixture(name: str) -> Any:
    """A captured Discourse answer."""
    return json.loads((FIXTURES / name).read_text())


@dataclass
class Forum:
    """State of the fake forum."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    latest: dict[str, Any] = field(default_factory=lambda: fixture("latest.json"))
    api_key: str | None = None         # when set, requests must carry this key
    api_username: str = "system"
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    base_url: str = ""  # set once the server runs

    def load_captured(self) -> None:
        """Put the captured posts on the forum."""
        self.posts.extend(fixture("posts.json")["latest_posts"])

    def add_post(self, post_id: int, topic_id: int = 900, number: int = 2, **fields: Any) -> dict[str, Any]:
        """A copy of a captured reply with a new id, topic and number."""
        post = copy.deepcopy(next(p for p in fixture("posts.json")["latest_posts"] if p["id"] == 4521))
        post.update(id=post_id, topic_id=topic_id, post_number=number, topic_slug=f"topic-{topic_id}",
                    topic_title=f"Topic {topic_id}", topic_html_title=f"Topic {topic_id}",
                    post_url=f"/t/topic-{topic_id}/{topic_id}/{number}", **fields)
        self.posts.append(post)
        return post

    def _refused(self, request: web.Request) -> web.Response | None:
        self.requests.append((request.path_qs, dict(request.headers)))
        if self.api_key is None:
            return None
        if (request.headers.get("Api-Key"), request.headers.get("Api-Username")) != (self.api_key, self.api_username):
            message = ("You are not permitted to view the requested resource. "
                       "The API username or key is invalid.")
            return web.json_response({"errors": [message], "error_type": "invalid_access"}, status=403)
        return None

    async def latest_posts(self, request: web.Request) -> web.Response:
        """GET /posts.json[?before=id]."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        before = int(request.query.get("before") or 0)
        chosen = sorted((p for p in self.posts if before <= 0 or p["id"] < before),
                        key=lambda p: p["id"], reverse=True)[:PAGE_SIZE]
        return web.json_response({"latest_posts": chosen})

    async def latest_topics(self, request: web.Request) -> web.Response:
        """GET /latest.json."""
        refused = self._refused(request)
        return refused if refused is not None else web.json_response(self.latest)


def make_app(forum: Forum) -> web.Application:
    """The aiohttp app of the fake forum."""
    app = web.Application(middlewares=[forum.faults.middleware])
    app.router.add_get("/posts.json", forum.latest_posts)
    app.router.add_get("/latest.json", forum.latest_topics)
    return app
