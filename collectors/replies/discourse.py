"""Replies on a Discourse forum: ``POST /posts.json`` with ``topic_id`` and
``reply_to_post_number``, as the user named by ``Api-Username`` with an ``Api-Key``.

The collector stores a post as ``post:<id>``; its topic and number come from
``GET /posts/<id>.json``.  ``find_sent`` reads the topic's post ids (``GET /t/<topic>.json``)
and the posts after the target (``GET /t/<topic>/posts.json?post_ids[]=...``) for one by our
user answering the same number with the same text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict

from collectors.replies import (
    ReplyFailed,
    ReplyOutcomeUnknown,
    ReplySettings,
    ReplyTarget,
    ReplyWriter,
    SentReply,
    register_writer,
)
from collectors.replies.reply_http import request_json, same_text
from collectors.web import html_to_text

#: Posts read per ``posts.json`` call (Discourse's own chunk size).
CHUNK = 20
#: Posts after the target that ``find_sent`` looks through at most.
MAX_LOOKED_AT = 200


class DiscourseReplySettings(ReplySettings):
    """``[sources.reply]`` of a discourse source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key_env: str
    api_username_env: str


def _wait_seconds(body: Any) -> float | None:
    """Discourse's 429 body: ``{"error_type": "rate_limit", "extras": {"wait_seconds": 10}}``."""
    extras = body.get("extras") if isinstance(body, dict) else None
    wait = extras.get("wait_seconds") if isinstance(extras, dict) else None
    return float(wait) if isinstance(wait, (int, float)) and not isinstance(wait, bool) else None


@register_writer("discourse")
class DiscourseReplies(ReplyWriter):
    """Posts replies as the user ``api_username`` (the key must allow ``posts:write``)."""

    credential_names = ("api_key", "api_username")
    settings_model = DiscourseReplySettings

    def __init__(self, credentials: Any, options: Any, http: Any = None) -> None:
        super().__init__(credentials, options, http)
        self.forum = str(self.options.get("base_url") or "").rstrip("/")
        self.clock: Callable[[], float] = time.time

    async def _get(self, path: str, what: str, params: tuple[tuple[str, str], ...] = ()) -> Any:
        return await request_json(self.http, "GET", self.forum + path, platform="discourse",
                                  what=what, headers=self._headers(), params=params,
                                  clock=self.clock, wait_from_body=_wait_seconds)

    def _headers(self) -> dict[str, str]:
        return {"Api-Key": self.credentials.get("api_key", ""),
                "Api-Username": self.credentials.get("api_username", "")}

    async def _target_post(self, target: ReplyTarget) -> tuple[int, int, int]:
        """(post id, topic id, post number) of the post ``target`` answers."""
        if not self.forum:
            raise ReplyFailed("discourse: the source has no 'base_url' to post to")
        raw_id = target.external_id.removeprefix("post:")
        if not raw_id.isdigit():
            raise ReplyFailed(f"discourse: {target.external_id!r} is not a stored post id")
        post = await self._get(f"/posts/{raw_id}.json", "the post replied to")
        numbers = [post.get(k) if isinstance(post, dict) else None for k in ("topic_id", "post_number")]
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
            raise ReplyFailed("discourse: the post answered without topic_id and post_number")
        return int(raw_id), int(numbers[0]), int(numbers[1])  # type: ignore[arg-type]

    async def _raw_of(self, post: dict[str, Any]) -> str:
        """The Markdown a post was written with: topic views carry only the cooked HTML, whose
        text differs (a link alone on a line becomes a onebox), so it is read from the post."""
        if not isinstance(post.get("raw"), str):
            full = await self._get(f"/posts/{int(post['id'])}.json", "one of our posts")
            post["raw"] = full.get("raw") if isinstance(full, dict) and isinstance(full.get("raw"), str) \
                else html_to_text(str(post.get("cooked") or ""))
        return str(post["raw"])

    def _sent(self, post: dict[str, Any], topic_id: int) -> SentReply:
        slug = post.get("topic_slug") or "-"
        return SentReply(f"post:{post['id']}",
                         f"{self.forum}/t/{slug}/{topic_id}/{post.get('post_number')}")

    async def find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        """Our post answering ``target`` with ``text`` in its topic, or ``None``."""
        post_id, topic_id, number = await self._target_post(target)
        topic = await self._get(f"/t/{topic_id}.json", "the topic")
        stream = (topic.get("post_stream") or {}).get("stream") if isinstance(topic, dict) else None
        if not isinstance(stream, list):
            raise ReplyFailed("discourse: the topic answered without its post stream")
        later = [i for i in stream if isinstance(i, int) and i > post_id][:MAX_LOOKED_AT]
        me = self.credentials.get("api_username", "").lower()
        for start in range(0, len(later), CHUNK):
            ids = tuple(("post_ids[]", str(i)) for i in later[start:start + CHUNK])
            page = await self._get(f"/t/{topic_id}/posts.json", "the topic's posts", ids)
            posts = (page.get("post_stream") or {}).get("posts") if isinstance(page, dict) else None
            for post in posts if isinstance(posts, list) else ():
                if (not isinstance(post, dict) or str(post.get("username", "")).lower() != me
                        or post.get("reply_to_post_number") not in (number, None)):
                    continue
                if same_text(await self._raw_of(post), text):
                    return self._sent(post, topic_id)
        return None

    async def send(self, target: ReplyTarget, text: str) -> SentReply:
        """Post ``text`` in the topic, as a reply to the target's post number."""
        _, topic_id, number = await self._target_post(target)
        post = await request_json(
            self.http, "POST", f"{self.forum}/posts.json", platform="discourse", what="the reply",
            headers=self._headers(), writes=True, clock=self.clock, wait_from_body=_wait_seconds,
            json={"raw": text, "topic_id": topic_id, "reply_to_post_number": number})
        if not isinstance(post, dict) or not isinstance(post.get("id"), int):
            raise ReplyOutcomeUnknown("discourse accepted the reply but answered without a post id")
        return self._sent(post, topic_id)
