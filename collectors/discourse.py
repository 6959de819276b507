"""Posts of a Discourse forum, from its latest-posts list.

``/posts.json`` lists the forum's posts newest first, 50 at a time, and pages back with
``?before=<post id>``; it cannot page forward.  So a run walks from the newest post back to
the last one handed on, and hands each page on as it arrives.  The cursor says which ids are
done::

    {"last_post_id": 4519, "last_topic_id": 815}
    {"last_post_id": 4000, "gap": {"top": 4522, "before": 4400, "left": null}, "last_topic_id": 815}

The second form is a walk under way: posts from ``before`` to ``top`` are handed on, those
between ``last_post_id`` and ``before`` are not yet.  A resumed run closes the gap first,
then reads what is new, so a walk broken off anywhere neither skips nor repeats a post.
``left`` counts what a first run (no ``last_post_id``) may still take, bounded by ``max_items``.

``/latest.json``, read once a run, gives the views and like counts of recent topics, added
to the engagement of their first posts.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from pydantic import Field

from domain import Author, RawPost, Rejection
from domain.errors import BadItem, NotConfigured, SourceUnavailable

from collectors.base import Batch, Collector, SourceOptions
from collectors.http_json import get_json
from collectors.post_format import MAX_TEXT, ascii_number, clean_text, parse_time
from collectors.registry import register
from collectors.web import USER_AGENT, html_to_text, parse_retry_after

DEFAULT_RETRY_AFTER = 60.0
#: Parts of cooked HTML that are not the author's words: quotes of other posts, image captions.
NOT_THE_AUTHORS = ("quote", "meta")


class DiscourseOptions(SourceOptions):
    """The options of a ``discourse`` source (see the class docstring)."""

    max_items: int | None = Field(None, ge=1)
    timeout: float | None = Field(None, gt=0)
    api_key_env: str | None = None
    api_username_env: str | None = None


@register("discourse")
class Discourse(Collector):
    """Every public post of one Discourse forum.

    Options: ``base_url`` (the forum, required), ``max_items`` on the first run (default 100),
    ``timeout``; optional credentials ``api_key`` and ``api_username`` (both or neither).
    """

    label = "Discourse"

    options_model = DiscourseOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None) -> None:
        """Check the options and credentials; ``NotConfigured`` says what is missing."""
        super().__init__(key, options, http)
        self.forum = str(self.options.get("base_url") or "").rstrip("/")
        if not self.forum:
            raise NotConfigured("discourse needs 'base_url', the forum's address")
        api_key, api_username = self.credentials.get("api_key"), self.credentials.get("api_username")
        if bool(api_key) != bool(api_username):
            raise NotConfigured("discourse credentials need both api_key and api_username")
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key and api_username:
            self.headers.update({"Api-Key": api_key, "Api-Username": api_username})
        self.max_items = max(1, int(self.options.get("max_items") or 100))
        self.timeout = aiohttp.ClientTimeout(total=float(self.options.get("timeout") or 30))
        self._last_topic: int | None = None  # highest topic id met, for the cursor
        if http is None:
            raise NotConfigured("needs an HTTP session")

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Batches of posts, one per page of the latest-posts list."""
        self.begin_run()
        cursor = cursor or {}
        last_post = _int(cursor.get("last_post_id"))
        gap = cursor.get("gap") if isinstance(cursor.get("gap"), dict) else None
        topics = await self._latest_topics()
        self._last_topic = max([_int(cursor.get("last_topic_id")) or 0, *topics]) or None
        top = _int(gap.get("top")) if gap else None
        if gap and top is not None:
            before, left = _int(gap.get("before")), _int(gap.get("left"))
            async for batch in self._walk(last_post, top, before, left, topics):
                yield batch
            last_post = top
        left = self.max_items if last_post is None else None  # a first run reads the newest only
        async for batch in self._walk(last_post, None, None, left, topics):
            yield batch

    async def _walk(self, floor: int | None, top: int | None, before: int | None, left: int | None,
                    topics: Mapping[int, Mapping[str, Any]]) -> AsyncIterator[Batch]:
        """Hand on posts with ``floor < id < before`` (all above ``floor`` when ``before`` is None)."""
        while self.guard.next_page("/posts.json", None if before is None else f"before={before}"):
            page = await self._get_json("/posts.json", {"before": str(before)} if before else {})
            items = page.get("latest_posts") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise SourceUnavailable("discourse /posts.json answered without latest_posts")
            ids = [i for i in map(_post_id, items) if i is not None]
            if top is None:
                if not ids or (floor is not None and max(ids) <= floor):
                    return  # nothing new
                top = max(ids)
            fresh = sorted((p for p in items if (i := _post_id(p)) is not None
                            and (floor is None or i > floor) and (before is None or i < before)),
                           key=_post_id, reverse=True)
            if left is not None:
                fresh, left = fresh[:left], max(0, left - len(fresh))
            lowest = min(ids, default=None)
            # The last test stops a server that ignores ?before from sending us round forever.
            finished = (lowest is None or left == 0 or (floor is not None and lowest <= floor)
                        or (before is not None and lowest >= before))
            posts, rejected = self._posts(fresh, topics)
            rejected += [Rejection(f"{self.forum}/posts.json", "post without an integer id")
                         for p in items if _post_id(p) is None]
            if finished:
                state: dict[str, Any] = {"last_post_id": top}
            else:
                state = {"last_post_id": floor, "gap": {"top": top, "before": lowest, "left": left}}
            state["last_topic_id"] = self._last_topic
            yield Batch(tuple(posts), state, tuple(rejected))
            if finished:
                return
            before = lowest

    def _posts(self, items: list[dict[str, Any]], topics: Mapping[int, Mapping[str, Any]]
               ) -> tuple[list[RawPost], list[Rejection]]:
        posts: list[RawPost] = []
        rejected: list[Rejection] = []
        for item in items:
            try:
                post = _post(item, self.forum, topics)
            except BadItem as exc:
                rejected.append(Rejection(f"{self.forum}/posts.json post {item.get('id')}", exc.reason))
                continue
            posts.append(post)
            self._last_topic = max(self._last_topic or 0, int(post.thread_id or 0)) or None
        return posts, rejected

    async def _latest_topics(self) -> dict[int, Mapping[str, Any]]:
        """Recent topics by id, for the counts of their first posts."""
        page = await self._get_json("/latest.json", {})
        topic_list = page.get("topic_list") if isinstance(page, dict) else None
        topics = topic_list.get("topics") if isinstance(topic_list, dict) else None
        if not isinstance(topics, list):
            raise SourceUnavailable("discourse /latest.json answered without topic_list.topics")
        return {t["id"]: t for t in topics if isinstance(t, dict) and isinstance(t.get("id"), int)}

    async def _get_json(self, path: str, params: Mapping[str, str]) -> Any:
        # Redirects are not followed: one is usually to /login, the forum wants credentials.
        return await get_json(self.http, self.forum + path, source="discourse", what=path, params=params,
                              headers=self.headers, timeout=self.timeout, guard=self.guard,
                              allow_redirects=False, wait_after_429=_wait_of, refusal_detail=_errors_of)


def _post(item: Mapping[str, Any], forum: str, topics: Mapping[int, Mapping[str, Any]]) -> RawPost:
    """A ``RawPost`` from one entry of ``latest_posts``."""
    post_id, topic_id, number = _post_id(item), _int(item.get("topic_id")), _int(item.get("post_number"))
    username = item.get("username")
    if not isinstance(username, str) or not username:
        raise BadItem("post has no username")
    if topic_id is None or number is None:
        raise BadItem("post has no topic_id or post_number")
    cooked, raw = item.get("cooked"), item.get("raw")
    if isinstance(cooked, str) and cooked.strip():
        body = html_to_text(cooked, skip_classes=NOT_THE_AUTHORS)
    elif isinstance(raw, str):
        body = raw.strip()
    else:
        raise BadItem("post has neither cooked nor raw text")
    title = item.get("topic_title") if number == 1 and isinstance(item.get("topic_title"), str) else ""
    text = clean_text("\n\n".join(p for p in (title.strip(), body) if p))[:MAX_TEXT]
    if not text:
        raise BadItem("post has no text")
    slug = item.get("topic_slug") or "topic"
    engagement = {name: value for name, value in (
        ("replies", _int(item.get("reply_count"))), ("reads", _int(item.get("reads"))),
        ("likes", _likes(item.get("actions_summary")))) if value is not None}
    topic = topics.get(topic_id) if number == 1 else None
    if topic is not None:
        engagement.update({name: value for name, value in (
            ("views", _int(topic.get("views"))), ("topic_likes", _int(topic.get("like_count"))),
            ("posts", _int(topic.get("posts_count")))) if value is not None})
    name, user_id = item.get("name"), _int(item.get("user_id"))
    return RawPost(
        source="discourse",
        external_id=f"post:{post_id}",
        author=Author(handle=username, name=(name.strip() or None) if isinstance(name, str) else None,
                      platform_id=str(user_id) if user_id is not None else None),
        text=text,
        created_at=parse_time(item.get("created_at")),
        url=f"{forum}/t/{slug}/{topic_id}/{number}",
        # The post replied to is known by number only; its id would cost a request per reply.
        parent_id=None,
        thread_id=str(topic_id),
        engagement=engagement,
    )


def _likes(actions: Any) -> int | None:
    """The like count from ``actions_summary`` (action type 2 is a like)."""
    if not isinstance(actions, list):
        return None
    for action in actions:
        if isinstance(action, dict) and action.get("id") == 2:
            return _int(action.get("count"))
    return None


async def _wait_of(resp: aiohttp.ClientResponse) -> float:
    """Seconds to wait after a 429: ``Retry-After``, else the body's ``extras.wait_seconds``."""
    wait = parse_retry_after(resp.headers.get("Retry-After"), time.time())
    if wait is not None:
        return wait
    try:
        body = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return DEFAULT_RETRY_AFTER
    extras = body.get("extras") if isinstance(body, dict) else None
    seconds = extras.get("wait_seconds") if isinstance(extras, dict) else None
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return float(seconds)
    return DEFAULT_RETRY_AFTER


async def _errors_of(resp: aiohttp.ClientResponse) -> str:
    try:
        body = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    return "; ".join(map(str, errors)) if isinstance(errors, list) else ""


def _post_id(item: Any) -> int | None:
    return _int(item.get("id")) if isinstance(item, dict) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and ascii_number(value.strip()):
        return int(value)
    return None
