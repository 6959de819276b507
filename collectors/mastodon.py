"""Mastodon statuses: hashtag timelines, and the mentions of our own account.

Streams: one per hashtag (``GET /api/v1/timelines/tag/{tag}``, public) and, with an access
token, the account's mentions (``GET /api/v1/notifications?types[]=mention``).  The cursor
keeps the newest id handed on per stream::

    {"streams": {"tag:nimbus": {"min_id": "115600000000000103"}, "mentions:acme": {"min_id": "3401"}}}

``min_id`` asks for the items immediately newer than an id, so asking again with the newest
id of each page walks forward without gaps; each page is one batch.  A stream's first run
reads its newest ``max_items`` instead, walking back with ``max_id``.  Ids are the
instance's own, as are ``parent_id`` values, so they match each other; a status read through
two instances has two ids but one ``url``/``uri`` (kept as the post's ``url``), which is what
makes it one mention (domain/mention_identity.py).

Rate limits come as ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (ISO 8601); when none
are left the run stops with ``SourceUnavailable`` until the reset instead of earning a 429.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from pydantic import Field

from domain import Author, RawPost, Rejection
from domain.errors import BadItem, NotConfigured, SourceUnavailable

from collectors.base import Batch, Collector, SourceOptions
from collectors.http_json import get_json
from collectors.post_format import MAX_TEXT, ascii_number, clean_text, parse_time
from collectors.registry import register
from collectors.web import html_to_text

PAGE_LIMIT = 40  # the most statuses Mastodon returns per page
#: Wait after a 429 that carries no X-RateLimit-Reset: Mastodon's windows are 5 minutes.
DEFAULT_RETRY_AFTER = 300.0
#: Engagement names and the status fields counting them.
_COUNTS = (("replies", "replies_count"), ("reblogs", "reblogs_count"), ("favourites", "favourites_count"))


@dataclass(frozen=True, slots=True)
class _Stream:
    """One timeline read separately, with its own cursor."""

    key: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    notifications: bool = False


class MastodonOptions(SourceOptions):
    """The options of a ``mastodon`` source (see the class docstring)."""

    instance: str | None = None
    hashtags: list[str] | str | None = None
    mentions_of: str | None = None
    max_items: int | None = Field(None, ge=1)
    timeout: float | None = Field(None, gt=0)
    access_token_env: str | None = None


@register("mastodon")
class Mastodon(Collector):
    """Public statuses with given hashtags, and mentions of the account behind an access token.

    Options: ``instance`` (e.g. https://mastodon.social; ``base_url`` overrides where requests
    go), ``hashtags`` (list), ``mentions_of`` (our account's name; needs the ``access_token``
    credential), ``max_items`` per stream on its first run (default 100), ``timeout``.
    """

    label = "Mastodon"

    options_model = MastodonOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None) -> None:
        """Check the options and credentials; ``NotConfigured`` says what is missing."""
        super().__init__(key, options, http)
        instance = str(self.options.get("instance") or "").rstrip("/")
        self.base_url = str(self.options.get("base_url") or instance).rstrip("/")
        if not self.base_url:
            raise NotConfigured("mastodon needs 'instance', the server's URL")
        # Local accounts get the instance host appended, so that handles are unique everywhere.
        self.host = (urlsplit(instance or self.base_url).hostname or "").lower()
        tags = self.options.get("hashtags") or []
        if isinstance(tags, str):
            tags = [tags]
        self.hashtags = list(dict.fromkeys(
            str(t).strip().lstrip("#").lower() for t in tags if str(t).strip("# ")))
        self.mentions_of = str(self.options.get("mentions_of") or "").strip().lstrip("@") or None
        self.token = self.credentials.get("access_token")
        if self.mentions_of and not self.token:
            raise NotConfigured("mastodon 'mentions_of' needs the access_token credential")
        if not self.hashtags and not self.mentions_of:
            raise NotConfigured("mastodon needs 'hashtags' or 'mentions_of'")
        self.max_items = max(1, int(self.options.get("max_items") or 100))
        self.timeout = aiohttp.ClientTimeout(total=float(self.options.get("timeout") or 30))
        #: Epoch seconds now; tests replace it to move time.
        self.clock: Callable[[], float] = time.time
        if http is None:
            raise NotConfigured("needs an HTTP session")

    def streams(self) -> list[_Stream]:
        """The timelines this source reads, in order."""
        streams = [_Stream(f"tag:{tag}", f"/api/v1/timelines/tag/{quote(tag, safe='')}")
                   for tag in self.hashtags]
        if self.mentions_of:
            streams.append(_Stream(f"mentions:{self.mentions_of}", "/api/v1/notifications",
                                   (("types[]", "mention"),), notifications=True))
        return streams

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """One batch per page of each stream, oldest page first."""
        self.begin_run()
        streams = self.streams()
        previous = (cursor or {}).get("streams") or {}
        state = {s.key: previous[s.key] for s in streams if isinstance(previous.get(s.key), dict)}
        for stream in streams:
            min_id = state.get(stream.key, {}).get("min_id")
            pages = self._forward(stream, str(min_id)) if min_id else self._first_run(stream)
            async for items in pages:
                posts, rejected, newest = self._read_page(stream, items)
                if newest is not None:
                    state[stream.key] = {"min_id": newest}
                yield Batch(tuple(posts), {"streams": dict(state)}, tuple(rejected))

    async def _forward(self, stream: _Stream, min_id: str) -> AsyncIterator[list[Any]]:
        """Pages of items newer than ``min_id``, oldest page first."""
        while self.guard.next_page(stream.key, f"min_id={min_id}"):
            items = await self._get(stream, (("min_id", min_id), ("limit", str(PAGE_LIMIT))))
            newest = max((i for i in map(_item_id, items) if i), key=_id_order, default=None)
            if newest is None or _id_order(newest) <= _id_order(min_id):
                return  # nothing newer (or a server ignoring min_id)
            # A server that ignores min_id sends its newest page: keep only what is newer.
            yield [i for i in items if (item_id := _item_id(i)) is None
                   or _id_order(item_id) > _id_order(min_id)]
            min_id = newest

    async def _first_run(self, stream: _Stream) -> AsyncIterator[list[Any]]:
        """The newest ``max_items`` items as one page."""
        collected: list[Any] = []
        max_id: str | None = None
        while len(collected) < self.max_items and self.guard.next_page(stream.key, max_id and f"max_id={max_id}"):
            params = [("limit", str(min(PAGE_LIMIT, self.max_items - len(collected))))]
            if max_id:
                params.append(("max_id", max_id))
            items = await self._get(stream, tuple(params))
            oldest = min((i for i in map(_item_id, items) if i), key=_id_order, default=None)
            if oldest is None or (max_id and _id_order(oldest) >= _id_order(max_id)):
                break
            collected.extend(items)
            max_id = oldest
        if collected:
            yield collected

    def _read_page(self, stream: _Stream, items: list[Any]
                   ) -> tuple[list[RawPost], list[Rejection], str | None]:
        """Posts oldest first, rejections, and the newest id on the page."""
        posts: list[RawPost] = []
        rejected: list[Rejection] = []
        placed = sorted(((item_id, item) for item in items if (item_id := _item_id(item))),
                        key=lambda pair: _id_order(pair[0]))
        for item in items:
            if not _item_id(item):
                rejected.append(Rejection(f"mastodon {stream.key}", "item has no id"))
        for item_id, item in placed:
            try:
                if stream.notifications:
                    if item.get("type") != "mention":
                        continue
                    item = item.get("status")
                post = _status_post(item, self.host)
            except BadItem as exc:
                rejected.append(Rejection(f"mastodon {stream.key} {item_id}", exc.reason))
                continue
            if post is not None:
                posts.append(post)
        return posts, rejected, placed[-1][0] if placed else None

    async def _get(self, stream: _Stream, params: tuple[tuple[str, str], ...]) -> list[Any]:
        """One page of a stream as a JSON list; errors mapped to what the caller does next."""
        now = self.clock()
        if self.rate_limit_remaining == 0 and self.rate_limit_reset and self.rate_limit_reset > now:
            raise SourceUnavailable(f"mastodon rate limit used up until {_iso(self.rate_limit_reset)}",
                                    retry_after=self.rate_limit_reset - now)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}

        async def wait_after_429(resp: aiohttp.ClientResponse) -> float:
            reset = self.rate_limit_reset
            return max(1.0, reset - self.clock()) if reset else DEFAULT_RETRY_AFTER

        items = await get_json(self.http, self.base_url + stream.path, source="mastodon", what=stream.key,
                               params=stream.params + params, headers=headers, timeout=self.timeout,
                               guard=self.guard, on_headers=self._note_rate_limit,
                               wait_after_429=wait_after_429, refusal_detail=_error_of)
        if not isinstance(items, list):
            raise SourceUnavailable(f"mastodon answered something other than a list for {stream.key}")
        return items

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("X-RateLimit-Remaining", "").strip()
        if ascii_number(remaining):
            self.rate_limit_remaining = int(remaining)
        reset = headers.get("X-RateLimit-Reset")
        if reset:
            try:
                self.rate_limit_reset = parse_time(reset, "X-RateLimit-Reset").timestamp()
            except BadItem:
                pass  # a reset we cannot read leaves the last known one; the 429 path has a default


def _status_post(status: Any, host: str) -> RawPost | None:
    """A ``RawPost`` from a Mastodon status; ``None`` for statuses not to be taken in."""
    if not isinstance(status, dict):
        raise BadItem("mention without a status")
    if status.get("reblog") or status.get("visibility") != "public":
        return None  # boosts repeat another status; non-public ones are not ours to keep
    status_id = status.get("id")
    account = status.get("account")
    if not isinstance(status_id, str) or not status_id:
        raise BadItem("status has no id")
    if not isinstance(account, dict) or not isinstance(account.get("acct"), str) or not account["acct"]:
        raise BadItem("status has no account acct")
    acct = account["acct"].lstrip("@")
    content = status.get("content") or ""
    spoiler = status.get("spoiler_text") or ""
    if not isinstance(content, str) or not isinstance(spoiler, str):
        raise BadItem("status content is not text")
    text = clean_text("\n\n".join(p for p in (spoiler.strip(), html_to_text(content)) if p))[:MAX_TEXT]
    if not text:
        return None  # media only: nothing to read
    # The address every instance serves a federated status with: the mention's identity
    # (domain/mention_identity.py), so that a status read through two instances is one mention.
    address = status.get("url") or status.get("uri")
    if not isinstance(address, str) or not address.strip():
        raise BadItem("status has no uri")
    reply_to = status.get("in_reply_to_id")
    language = status.get("language")
    return RawPost(
        source="mastodon",
        external_id=status_id,
        author=Author(handle=acct if "@" in acct else f"{acct}@{host}",
                      name=(account.get("display_name") or "").strip() or None,
                      platform_id=account.get("url") or None),
        text=text,
        created_at=parse_time(status.get("created_at")),
        url=address.strip(),
        parent_id=str(reply_to) if reply_to else None,
        thread_id=None if reply_to else status_id,
        language=language[:16] if isinstance(language, str) and language else None,
        engagement={name: status[field] for name, field in _COUNTS
                    if isinstance(status.get(field), int) and not isinstance(status.get(field), bool)},
    )


def _item_id(item: Any) -> str | None:
    item_id = item.get("id") if isinstance(item, dict) else None
    return item_id if isinstance(item_id, str) and item_id else None


def _id_order(item_id: str) -> tuple[int, str]:
    """Mastodon ids are decimal strings; longer is newer."""
    return len(item_id), item_id


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


async def _error_of(resp: aiohttp.ClientResponse) -> str:
    try:
        body = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
