"""RSS and Atom feeds, fetched with conditional GET and parsed by feedparser in a thread.

The cursor keeps, per feed URL, the ``etag`` and ``last_modified`` the server sent and the
ids of the entries already handed on (the last ``SEEN_LIMIT``)::

    {"feeds": {"https://blog.example/feed.xml": {"etag": "...", "last_modified": "...",
                                                 "seen": ["id1", "id2"]}}}

A 304 answer costs nothing; a 200 answer yields only entries whose id is not in ``seen``,
so an entry is never handed on twice even by a server that ignores conditional GET.
One batch is yielded per feed that changed.  A feed that fails (HTTP error, connection
error, not a feed at all) is reported as a ``Rejection`` and the others go on; only when
every feed fails does the run raise.

``html_to_text`` and ``parse_retry_after`` are used by the other web collectors too.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import io
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import feedparser

from crmsphere.domain import Author, RawPost, Rejection
from crmsphere.errors import AuthFailed, BadItem, NotConfigured, SourceUnavailable

from collectors.base import Batch, Collector
from collectors.post_format import MAX_TEXT, clean_text
from collectors.registry import register
from collectors.web import USER_AGENT, html_to_text, parse_retry_after

log = logging.getLogger(__name__)

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")
#: Entry ids remembered per feed, beyond those still in the feed.
SEEN_LIMIT = 500
MAX_FEED_BYTES = 10 * 1024 * 1024
#: Feeds downloaded at once; they are still handed on in the configured order.
CONCURRENT_FEEDS = 4


# --- the collector ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Download:
    """What one conditional GET of one feed came back with."""

    url: str
    status: int | None = None          # None when no HTTP answer arrived
    body: bytes | None = None          # None for 304 and for failures
    headers: Mapping[str, str] | None = None
    error: str | None = None           # set when the feed failed
    retry_after: float | None = None

    @property
    def not_modified(self) -> bool:
        """The server said the feed did not change (304)."""
        return self.status == 304


@register("rss")
class RssFeeds(Collector):
    """Entries of RSS 2.0, RSS 1.0 and Atom feeds.

    Options: ``feeds`` (a list of URLs), ``max_items`` (entries per feed on its first run,
    default 50), ``timeout`` (seconds per request, default 30).  Needs the shared HTTP session.
    """

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None) -> None:
        """Check the options; ``NotConfigured`` says what is missing."""
        super().__init__(key, options, http)
        feeds = self.options.get("feeds")
        if isinstance(feeds, str):
            feeds = [feeds]
        if not feeds or not all(isinstance(f, str) and f.strip() for f in feeds):
            raise NotConfigured("rss needs 'feeds', a list of feed URLs")
        self.feeds = list(dict.fromkeys(f.strip() for f in feeds))
        bad = [f for f in self.feeds if urlsplit(f).scheme not in ("http", "https")]
        if bad:
            raise NotConfigured(f"rss feed URLs must be http(s), got {bad[0]!r}")
        self.max_items = max(1, int(self.options.get("max_items") or 50))
        self.timeout = aiohttp.ClientTimeout(total=float(self.options.get("timeout") or 30))
        if http is None:
            raise NotConfigured("needs an HTTP session")

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """One batch per feed with new entries; a failing feed becomes a rejection."""
        previous = (cursor or {}).get("feeds") or {}
        # Feeds dropped from the configuration are dropped from the cursor too.
        state: dict[str, dict[str, Any]] = {u: previous[u] for u in self.feeds if u in previous}
        gate = asyncio.Semaphore(CONCURRENT_FEEDS)
        downloads = [asyncio.create_task(self._download(url, state.get(url), gate))
                     for url in self.feeds]
        failed: list[_Download] = []
        pending: list[Rejection] = []  # failures waiting for a batch to travel in
        try:
            for url, task in zip(self.feeds, downloads):
                download = await task
                if download.not_modified:
                    continue
                try:
                    if download.error is not None:
                        raise _FeedFailed(download.error)
                    posts, rejected, state[url] = await self._read(download, state.get(url))
                except _FeedFailed as exc:
                    failed.append(download)
                    pending.append(Rejection(url, exc.reason))
                    continue
                yield Batch(tuple(posts), {"feeds": dict(state)}, tuple(pending + rejected))
                pending = []
        finally:
            for task in downloads:
                task.cancel()
            await asyncio.gather(*downloads, return_exceptions=True)
        if len(failed) == len(self.feeds):
            raise _all_failed(failed, pending)
        if pending:
            yield Batch((), {"feeds": dict(state)}, tuple(pending))

    async def _download(self, url: str, feed_state: Mapping[str, Any] | None,
                        gate: asyncio.Semaphore) -> _Download:
        headers = {"User-Agent": USER_AGENT, "Accept": FEED_ACCEPT}
        if feed_state and feed_state.get("etag"):
            headers["If-None-Match"] = feed_state["etag"]
        if feed_state and feed_state.get("last_modified"):
            headers["If-Modified-Since"] = feed_state["last_modified"]
        async with gate:
            try:
                async with self.http.get(url, headers=headers, timeout=self.timeout) as resp:
                    if resp.status == 304:
                        return _Download(url, 304)
                    if resp.status != 200:
                        wait = parse_retry_after(resp.headers.get("Retry-After"), time.time())
                        reason = f"HTTP {resp.status} {resp.reason or ''}".strip()
                        return _Download(url, resp.status, error=reason, retry_after=wait)
                    body = await _read_capped(resp)
                    if body is None:
                        return _Download(url, 200, error=f"feed larger than {MAX_FEED_BYTES} bytes")
                    return _Download(url, 200, body, {k.lower(): v for k, v in resp.headers.items()})
            except (aiohttp.ClientError, TimeoutError) as exc:
                return _Download(url, error=f"connection failed: {exc.__class__.__name__} {exc}".strip())

    async def _read(self, download: _Download, feed_state: Mapping[str, Any] | None
                    ) -> tuple[list[RawPost], list[Rejection], dict[str, Any]]:
        """Posts, rejections and the feed's new state; ``_FeedFailed`` when it is no feed at all."""
        assert download.body is not None and download.headers is not None
        url = download.url
        headers = dict(download.headers)
        headers.setdefault("content-location", url)  # lets feedparser resolve relative links
        # A BytesIO, not the bytes: feedparser opens a bytes argument as a local file name if it can.
        parsed = await asyncio.to_thread(feedparser.parse, io.BytesIO(download.body),
                                         response_headers=headers)
        problem = str(parsed.get("bozo_exception") or "") if parsed.get("bozo") else ""
        if not parsed.get("version") and not parsed.entries:
            raise _FeedFailed(f"not an RSS or Atom feed{': ' + problem if problem else ''}")
        rejected = [Rejection(url, problem or "malformed feed")] if parsed.get("bozo") else []
        seen = list((feed_state or {}).get("seen") or [])
        seen_set = set(seen)
        posts: list[RawPost] = []
        current_ids: list[str] = []
        for index, entry in enumerate(parsed.entries):
            entry_id = _entry_id(entry, url)
            if entry_id is None:
                rejected.append(Rejection(f"{url} entry {index + 1}",
                                          "entry has no id, link, title or date"))
                continue
            current_ids.append(entry_id)
            if entry_id in seen_set:
                continue
            try:
                posts.append(_entry_post(entry, entry_id, parsed.feed, url))
            except BadItem as exc:
                rejected.append(Rejection(f"{url} entry {entry_id}", exc.reason))
        if feed_state is None:
            # First run: the recent window only; older entries count as seen so they never arrive later.
            posts = sorted(posts, key=lambda p: p.created_at, reverse=True)[: self.max_items]
        current_ids = list(dict.fromkeys(current_ids))
        current = set(current_ids)
        kept = current_ids + [i for i in seen if i not in current]
        new_state = {
            "etag": download.headers.get("etag"),
            "last_modified": download.headers.get("last-modified"),
            "seen": kept[: max(SEEN_LIMIT, len(current_ids))],
        }
        posts.sort(key=lambda p: p.created_at)
        return posts, rejected, new_state


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes | None:
    """The body, or ``None`` when it is larger than ``MAX_FEED_BYTES``."""
    if resp.content_length is not None and resp.content_length > MAX_FEED_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_FEED_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _FeedFailed(Exception):
    """One feed gave nothing usable; the others go on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _all_failed(failed: list[_Download], reasons: list[Rejection]) -> Exception:
    summary = "; ".join(f"{r.where}: {r.reason}" for r in reasons[:3])
    if all(d.status in (401, 403) for d in failed):
        return AuthFailed(f"every feed refused access: {summary}")
    waits = [d.retry_after for d in failed if d.retry_after is not None]
    return SourceUnavailable(f"all {len(failed)} feeds failed: {summary}",
                             retry_after=max(waits) if waits else None)


def _entry_id(entry: Mapping[str, Any], feed_url: str) -> str | None:
    """The entry's guid/id, else its link, else a hash of its title and date."""
    entry_id = (entry.get("id") or "").strip()
    if entry_id:
        # Bare ids such as "42" are only unique within their feed.
        return entry_id if ":" in entry_id else f"{feed_url}#{entry_id}"
    link = (entry.get("link") or "").strip()
    if link:
        return link
    title = entry.get("title") or ""
    published = dict.get(entry, "published") or dict.get(entry, "updated") or ""
    if not (title or published):
        return None
    digest = hashlib.sha256(f"{feed_url}\n{title}\n{published}".encode()).hexdigest()[:32]
    return f"sha256:{digest}"


def _entry_post(entry: Mapping[str, Any], entry_id: str, feed: Mapping[str, Any],
                feed_url: str) -> RawPost:
    """A ``RawPost`` from one feedparser entry; ``BadItem`` when it has no usable date."""
    # dict.get: FeedParserDict.get("updated_parsed") falls back to published_parsed with a warning.
    when = (dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
            or dict.get(feed, "updated_parsed"))
    if not when:
        raise BadItem("entry has no valid publication or update date, and neither has the feed")
    # feedparser hands dates over as UTC struct_time.
    created_at = datetime.fromtimestamp(calendar.timegm(when), tz=timezone.utc)
    title = _detail_text(entry, "title")
    summary = _detail_text(entry, "summary")
    if not summary and entry.get("content"):
        summary = html_to_text(entry["content"][0].get("value") or "")
    text = clean_text("\n\n".join(part for part in (title, summary) if part))[:MAX_TEXT]
    if not text:
        raise BadItem("entry has neither title nor text")
    detail = entry.get("author_detail") or {}
    author_name = _author_name(entry) or None
    handle = (author_name or _author_name(feed) or (feed.get("title") or "").strip()
              or urlsplit(feed_url).hostname or feed_url)
    return RawPost(
        source="rss",
        external_id=entry_id,
        author=Author(handle=handle.lstrip("@"), name=author_name, platform_id=detail.get("href")),
        text=text,
        created_at=created_at,
        url=(entry.get("link") or "").strip() or None,
        thread_id=feed_url,
        language=_language(entry, feed),
        engagement=_engagement(entry),
    )


_EMAIL_AND_NAME = re.compile(r"^\s*[^\s()]+@[^\s()]+\s*\((?P<name>[^()]+)\)\s*$")


def _author_name(item: Mapping[str, Any]) -> str:
    """The author's name of an entry or feed; RSS writes ``mail@host (Name)``."""
    author = (item.get("author") or "").strip()
    # feedparser's own split of "mail (Name)" garbles long top-level domains such as .example.
    match = _EMAIL_AND_NAME.match(author)
    if match:
        return match["name"].strip()
    return ((item.get("author_detail") or {}).get("name") or author).strip()


def _detail_text(entry: Mapping[str, Any], name: str) -> str:
    """A text construct as plain text: HTML stripped unless the feed said it is plain text."""
    value = entry.get(name) or ""
    kind = (entry.get(f"{name}_detail") or {}).get("type") or ("text/html" if name == "summary" else "")
    return html_to_text(value) if "html" in kind else value.strip()


def _language(entry: Mapping[str, Any], feed: Mapping[str, Any]) -> str | None:
    for detail in (entry.get("title_detail"), entry.get("summary_detail")):
        if detail and detail.get("language"):
            return _primary_language(detail["language"])
    return _primary_language(feed.get("language"))


def _primary_language(tag: str | None) -> str | None:
    """``en`` from ``en-US``; ``None`` for nothing usable."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return primary[:16] if primary.isalpha() else None


def _engagement(entry: Mapping[str, Any]) -> dict[str, int]:
    comments = str(entry.get("slash_comments") or "").strip()
    return {"comments": int(comments)} if comments.isdigit() else {}
