"""A fake Discourse forum that takes replies: ``POST /posts.json``, ``GET /posts/:id.json``,
``GET /t/:id.json`` and ``GET /t/:id/posts.json?post_ids[]=``, with Discourse's error bodies
(``{"errors": [...], "error_type": ...}``) and its 429 (``Retry-After`` + ``extras.wait_seconds``)."""

from __future__ import annotations

import copy
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.collectors.http_faults import drop_connection

FIXTURE = Path(__file__).parents[1] / "fixtures" / "discourse" / "posts.json"
INVALID_KEY = {"errors": ["You are not permitted to view the requested resource. The API username or "
                          "key is invalid."], "error_type": "invalid_access"}


def cook(raw: str) -> str:
    """Discourse's HTML of a post: a link alone on its line becomes a onebox (the page's title),
    other lines paragraphs."""
    parts = []
    for line in raw.split("\n"):
        if re.fullmatch(r"https?://\S+", line.strip()):
            url = html.escape(line.strip())
            parts.append(f'<aside class="onebox allowlistedgeneric" data-onebox-src="{url}"><header class="source">'
                         f'<a href="{url}">ideas.nimbus.example</a></header><article class="onebox-body">'
                         f'<h3><a href="{url}">Dark mode for the dashboard · Nimbus ideas</a></h3></article></aside>')
        elif line.strip():
            parts.append(f"<p>{html.escape(line)}</p>")
    return "\n".join(parts)


@dataclass
class DiscourseWrites:
    """State of the fake forum: posts by id, and what it was sent."""

    api_key: str = "key-of-nimbus-support"
    username: str = "nimbus_support"
    posts: dict[int, dict[str, Any]] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)
    wait_seconds: int | None = None  # answer POST /posts.json with 429 and this wait
    crash_after_post: bool = False
    _next: int = 4600

    def add_post(self, topic_id: int, raw: str, username: str = "priya",
                 reply_to: int | None = None, post_id: int | None = None) -> dict[str, Any]:
        """A post shaped like a captured one, numbered next in its topic."""
        self._next = max(self._next, post_id or 0) + 1
        post = copy.deepcopy(json.loads(FIXTURE.read_text())["latest_posts"][0])
        number = 1 + sum(1 for p in self.posts.values() if p["topic_id"] == topic_id)
        post.update(id=post_id or self._next, topic_id=topic_id, post_number=number, username=username,
                    name=username, raw=raw, cooked=cook(raw), reply_to_post_number=reply_to,
                    topic_slug="dark-mode-for-the-dashboard", post_url=f"/t/dark-mode-for-the-dashboard/{topic_id}/{number}")
        self.posts[post["id"]] = post
        return post

    def _refused(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("Api-Key")
        if key is not None and (key != self.api_key or request.headers.get("Api-Username") != self.username):
            return web.json_response(INVALID_KEY, status=403)
        return None

    @staticmethod
    def _public(post: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in post.items() if k != "raw"}  # topic views carry cooked only

    async def get_post(self, request: web.Request) -> web.Response:
        """GET /posts/:id.json (with ``raw``)."""
        refused = self._refused(request)
        post = self.posts.get(int(request.match_info["id"]))
        if refused is None and post is None:
            return web.json_response({"errors": ["The requested URL or resource could not be found."],
                                      "error_type": "not_found"}, status=404)
        return refused or web.json_response(post)

    async def get_topic(self, request: web.Request) -> web.Response:
        """GET /t/:id.json: the first 20 posts and every post id."""
        topic_id = int(request.match_info["id"])
        posts = sorted((p for p in self.posts.values() if p["topic_id"] == topic_id), key=lambda p: p["id"])
        return self._refused(request) or web.json_response({
            "id": topic_id, "title": "Dark mode for the dashboard?", "slug": "dark-mode-for-the-dashboard",
            "posts_count": len(posts), "post_stream": {"posts": [self._public(p) for p in posts[:20]],
                                                       "stream": [p["id"] for p in posts]}})

    async def get_topic_posts(self, request: web.Request) -> web.Response:
        """GET /t/:id/posts.json?post_ids[]=..."""
        topic_id = int(request.match_info["id"])
        wanted = {int(i) for i in request.query.getall("post_ids[]", [])}
        posts = [self._public(p) for p in sorted(self.posts.values(), key=lambda p: p["id"])
                 if p["topic_id"] == topic_id and p["id"] in wanted]
        return self._refused(request) or web.json_response({"post_stream": {"posts": posts}, "id": topic_id})

    async def create_post(self, request: web.Request) -> web.StreamResponse:
        """POST /posts.json with ``raw``, ``topic_id`` and ``reply_to_post_number``."""
        if request.headers.get("Api-Key") is None:
            return web.json_response({"errors": ["You are not permitted to view the requested resource."],
                                      "error_type": "invalid_access"}, status=403)
        refused = self._refused(request)
        if refused is not None:
            return refused
        if self.wait_seconds is not None:
            return web.json_response(
                {"errors": [f"You\u2019ve performed this action too many times. Please wait "
                            f"{self.wait_seconds} seconds before trying again."],
                 "error_type": "rate_limit", "extras": {"wait_seconds": self.wait_seconds,
                                                        "time_left": f"{self.wait_seconds} seconds"}},
                status=429, headers={"Retry-After": str(self.wait_seconds)})
        body = await request.json()
        self.created.append(body)
        if len(str(body.get("raw") or "").strip()) < 20:
            return web.json_response({"action": "create_post",
                                      "errors": ["Body is too short (minimum is 20 characters)"]}, status=422)
        post = self.add_post(int(body["topic_id"]), body["raw"], self.username, body.get("reply_to_post_number"))
        if self.crash_after_post:
            self.crash_after_post = False
            return await drop_connection(request)
        return web.json_response(post)

    def app(self) -> web.Application:
        """The aiohttp app of the fake forum."""
        app = web.Application()
        app.router.add_get("/posts/{id}.json", self.get_post)
        app.router.add_get("/t/{id}.json", self.get_topic)
        app.router.add_get("/t/{id}/posts.json", self.get_topic_posts)
        app.router.add_post("/posts.json", self.create_post)
        return app
