"""RSS and Atom feeds, fetched with conditional GET and parsed by feedparser in a thread.

The cursor keeps, per feed URL, the ``etag`` and ``last_modified`` the server sent, the
ids of the entries already handed on (the last ``SEEN_LIMIT``), and a fingerprint of each
entry in the feed that could not be stored::

    {"feeds": {"https://blog.example/feed.xml": {"etag": "...", "last_modified": "...",
                                                 "seen": ["id1", "id2"],
                                                 "refused": {"id3": "<fingerprint>"}}}}

A 304 answer costs nothing; a 200 answer yields only entries whose id is not in ``seen``,
so an entry is never handed on twice even by a server that ignores conditional GET.
Only entries handed on are seen, and the ingest stage takes back those it refuses
(``Batch.unsee``): a refused entry is looked at again as soon as the publisher changes it
(adds a text, fixes an id), and not before, so it is reported once rather than every poll.
On a first run only the newest ``max_items`` entries are wanted; the older ones are
counted as seen on purpose, so they never arrive later.

One batch is yielded per feed that changed.  A feed that fails (HTTP error, connection
error, not a feed at all) or is malformed is reported in ``Batch.failed`` and the others go
on; only when every feed fails does the run raise.  Without a declared charset, feedparser
guesses the encoding with chardet.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import feedparser

from domain import RawPost, Rejection, utcnow
from domain.errors import AuthFailed, BadItem, NotConfigured, SourceUnavailable

from pydantic import Field

from collectors.base import Batch, Collector, SourceOptions
from collectors.registry import register
from collectors.rss_entries import entry_id, entry_post, entry_text, fingerprint
from collectors.web import USER_AGENT, parse_retry_after, read_capped

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


class RssOptions(SourceOptions):
    """The options of an ``rss`` source (see the class docstring)."""

    feeds: list[str] | str | None = None
    max_items: int | None = Field(None, ge=1)
    timeout: float | None = Field(None, gt=0)


@register("rss")
class RssFeeds(Collector):
    """Entries of RSS 2.0, RSS 1.0 and Atom feeds.

    Options: ``feeds`` (a list of URLs), ``max_items`` (entries per feed on its first run,
    default 50), ``timeout`` (seconds per request, default 30).  Needs the shared HTTP session.
    """

    options_model = RssOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """Check the options; ``NotConfigured`` says what is missing.  ``clock`` dates undated entries."""
        super().__init__(key, options, http)
        self.clock = clock
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
        """One batch per feed with new entries; a failing feed is reported in ``Batch.failed``."""
        previous = (cursor or {}).get("feeds") or {}
        # Feeds dropped from the configuration are dropped from the cursor too.
        state: dict[str, dict[str, Any]] = {u: previous[u] for u in self.feeds if u in previous}
        gate = asyncio.Semaphore(CONCURRENT_FEEDS)
        downloads = [asyncio.create_task(self._download(url, state.get(url), gate))
                     for url in self.feeds]
        failed: list[_Download] = []
        pending: list[Rejection] = []  # failures waiting for a batch to travel in
        first_seen = self.clock()
        try:
            for url, task in zip(self.feeds, downloads):
                download = await task
                if download.not_modified:
                    continue
                try:
                    if download.error is not None:
                        raise _FeedFailed(download.error)
                    read = await self._read(download, state.get(url), first_seen)
                except _FeedFailed as exc:
                    failed.append(download)
                    pending.append(Rejection(url, exc.reason))
                    continue
                state[url] = read.state
                pending.extend(read.problems)
                yield Batch(tuple(read.posts), {"feeds": dict(state)}, tuple(read.rejected),
                            tuple(pending), unsee=_Unsee(state, url, read.fingerprints))
                pending = []
        finally:
            for task in downloads:
                task.cancel()
            await asyncio.gather(*downloads, return_exceptions=True)
        if len(failed) == len(self.feeds):
            raise _all_failed(failed, pending)
        if pending:
            yield Batch((), {"feeds": dict(state)}, (), tuple(pending))

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
                    body = await read_capped(resp, MAX_FEED_BYTES)
                    if body is None:
                        return _Download(url, 200, error=f"feed larger than {MAX_FEED_BYTES} bytes")
                    return _Download(url, 200, body, {k.lower(): v for k, v in resp.headers.items()})
            except (aiohttp.ClientError, TimeoutError) as exc:
                return _Download(url, error=f"connection failed: {exc.__class__.__name__} {exc}".strip())

    async def _read(self, download: _Download, feed_state: Mapping[str, Any] | None,
                    first_seen: datetime) -> _FeedRead:
        """The feed's new entries and its new state; ``_FeedFailed`` when it is no feed at all."""
        assert download.body is not None and download.headers is not None
        url = download.url
        parsed = await _parse(download)
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        if not parsed.get("version") and not parsed.entries:
            raise _FeedFailed(f"not an RSS or Atom feed{': ' + str(problem) if problem else ''}")
        read = _FeedRead()
        if problem is not None and not isinstance(problem, _HARMLESS):
            read.problems.append(Rejection(url, f"malformed feed, read in part: {problem}"))
        previous = feed_state or {}
        seen = list(previous.get("seen") or [])
        seen_set = set(seen)
        refused_before: dict[str, str] = dict(previous.get("refused") or {})
        refused: dict[str, str] = {}
        already: dict[int, str] = {}  # entries handed on before, by their place in the feed
        found: list[tuple[int, RawPost]] = []
        for index, entry in enumerate(parsed.entries):
            text = entry_text(entry)
            external_id = entry_id(entry, url, text)
            if external_id in seen_set:
                already[index] = external_id
                continue
            mark = fingerprint(entry)
            if external_id is not None and external_id in read.fingerprints:
                # A CMS that gives every entry the same guid: the store would keep the first and
                # drop the others silently as duplicates.  Said once, by name, instead.
                if read.fingerprints[external_id] != mark:
                    read.rejected.append(Rejection(
                        f"{url} entry {index + 1}", f"repeats the id {external_id!r} of an earlier "
                        f"entry of this feed with other content; only the first is stored"))
                continue
            key = external_id or f"entry:{mark}"
            if refused_before.get(key) == mark:
                refused[key] = mark  # refused before and unchanged since: once is enough
                continue
            try:
                if external_id is None:
                    raise BadItem("entry has no id, link, title or text")
                found.append((index, entry_post(entry, external_id, text, parsed.feed, url,
                                                first_seen)))
                read.fingerprints[external_id] = mark
            except BadItem as exc:
                refused[key] = mark
                read.rejected.append(Rejection(f"{url} entry {external_id or index + 1}", exc.reason))
        if feed_state is None:
            # First run: the recent window only; older entries count as seen so they never
            # arrive later.  Feeds list the newest first, which orders entries of one date.
            found.sort(key=lambda pair: pair[1].created_at, reverse=True)
            already.update((index, p.external_id) for index, p in found[self.max_items:])
            found = found[: self.max_items]
        already.update((index, p.external_id) for index, p in found)
        # Oldest first; entries of one date in the reverse of the feed's order (newest on top).
        read.posts = [p for _, p in sorted(found, key=lambda pair: (pair[1].created_at, -pair[0]))]
        current_seen = list(dict.fromkeys(already[index] for index in sorted(already)))
        current = set(current_seen)
        kept = current_seen + [i for i in seen if i not in current]
        read.state = {
            "etag": download.headers.get("etag"),
            "last_modified": download.headers.get("last-modified"),
            "seen": kept[: max(SEEN_LIMIT, len(current_seen))],
            "refused": refused,
        }
        return read


#: Warnings of feedparser that lose nothing: an encoding guessed for a feed that declared
#: another (or none), and a feed served under a media type that is not XML.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass(slots=True)
class _FeedRead:
    """What one feed gave: new posts, refused entries, problems, and its state for the cursor."""

    posts: list[RawPost] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    problems: list[Rejection] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    #: Fingerprints of the entries handed on, for ``_Unsee``.
    fingerprints: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Unsee:
    """``Batch.unsee`` of one feed's batch: the posts the ingest stage refused become refused
    entries of the feed instead of seen ones.

    It changes the running state of ``fetch`` (still paused at this batch), so the cursors
    of the batches after it do not count the refused posts as seen either.
    """

    state: dict[str, dict[str, Any]]
    url: str
    fingerprints: Mapping[str, str]

    def __call__(self, external_ids: Collection[str]) -> dict[str, Any]:
        refused_ids = set(external_ids)
        feed_state = dict(self.state[self.url])
        feed_state["seen"] = [i for i in feed_state.get("seen") or [] if i not in refused_ids]
        feed_state["refused"] = {**(feed_state.get("refused") or {}),
                                 **{i: self.fingerprints[i] for i in refused_ids
                                    if i in self.fingerprints}}
        self.state[self.url] = feed_state
        return {"feeds": dict(self.state)}


async def _parse(download: _Download) -> Any:
    """The feedparser result of a downloaded feed, parsed in a thread."""
    assert download.body is not None and download.headers is not None
    headers = dict(download.headers)
    headers.setdefault("content-location", download.url)  # lets feedparser resolve relative links
    try:
        # A BytesIO, not the bytes: feedparser opens a bytes argument as a local file name if it can.
        return await asyncio.to_thread(feedparser.parse, io.BytesIO(download.body),
                                       response_headers=headers)
    except Exception as exc:  # the parser's boundary: one hostile feed must not stop the others
        # (feedparser 6 raises UnicodeEncodeError on a character reference to a lone surrogate)
        log.debug("feed %s could not be parsed", download.url, exc_info=True)
        raise _FeedFailed(f"the feed could not be parsed: {type(exc).__name__}: {exc}") from None


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
