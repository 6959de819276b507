"""Reddit: new posts and comments of subreddits, and site-wide keyword searches, through PRAW.

Options: ``subreddits`` (new posts and new comments of each), ``search`` (site-wide
queries, newest first), ``max_items`` (per stream on the first run, default 100),
``page_size`` (1-100), ``batch_size``, ``user_agent``, ``max_wait`` (seconds PRAW may
sleep for an exhausted rate limit before the run gives up), ``base_url`` (``None`` =
reddit.com).  Credentials: ``client_id`` and ``client_secret`` of a script app.

Reddit lists newest first and pages backwards with ``after``, so each stream is read
down to the cursor before anything is yielded, then handed on oldest first.  The
cursor keeps, per stream, the newest ``created_utc`` handed on and the fullnames
handed on at that second::

    {"streams": {"r/python:new": {"newest_utc": 1793534400.0, "seen": ["t3_1h9k2a3"]}}}

Older items are never read again, items at that second not in ``seen`` are, so two
posts created in the same second are neither skipped nor repeated.  A run that fails
part-way through a stream yields nothing of it; the next run reads it again.

Deleted and removed posts and comments (``[deleted]``/``[removed]`` text, deleted
author) are not stored: each becomes a ``Rejection`` with reason ``"deleted"`` or
``"removed"``, and the cursor moves past it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import praw
import prawcore
from praw.exceptions import PRAWException
from pydantic import Field

from domain import Author, RawPost, Rejection
from domain.errors import BadItem, NotConfigured, SourceUnavailable

from collectors.base import Batch, Collector, SourceOptions
from collectors.post_format import clean_text, epoch_time
from collectors.reddit_errors import StreamGone, seconds_until, translate
from collectors.registry import register

log = logging.getLogger(__name__)

REDDIT_WEB = "https://www.reddit.com"
_GONE = {"[deleted]": "deleted", "[removed]": "removed"}
#: ``removed_by_category`` values meaning the author took the post down; others are removals.
_AUTHOR_GONE = {"deleted", "author"}
#: Seconds an item's ``created_utc`` may be ahead of our clock (Reddit's clock and ours differ).
ITEM_TIME_SLACK = 3600.0


@dataclass(frozen=True, slots=True)
class Stream:
    """One listing read newest first: a subreddit's posts or comments, or a search."""

    key: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A listing child placed in time; ``item`` is the post or why it was dropped."""

    utc: float
    name: str
    item: RawPost | Rejection


class _RateLimitRecorder(prawcore.Requestor):
    """A prawcore requestor that reports every response's headers (rate limits)."""

    def __init__(self, *, on_response: Callable[[Mapping[str, str]], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_response = on_response

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """Issue the request and report its headers, whatever the status."""
        response = super().request(*args, **kwargs)
        self._on_response(response.headers)
        return response


def _credential(options: Mapping[str, Any], credentials: Mapping[str, str], name: str) -> str:
    value = credentials.get(name)
    if not value:
        env = options.get(f"{name}_env") or name
        raise NotConfigured(f"reddit source {options.get('name', '')!r} needs {name}: set {env}")
    return value


def _names(options: Mapping[str, Any], key: str) -> list[str]:
    value = options.get(key) or []
    if isinstance(value, str) or not all(isinstance(v, str) and v.strip() for v in value):
        raise NotConfigured(f"reddit option {key!r} must be a list of non-empty strings")
    return [v.strip() for v in value]


class RedditOptions(SourceOptions):
    """The options of a ``reddit`` source (see the module docstring)."""

    subreddits: list[str] = Field(default_factory=list)
    search: list[str] = Field(default_factory=list)
    search_subreddit: str | None = None
    max_items: int = Field(100, ge=0)
    page_size: int = Field(100, ge=1, le=100)
    batch_size: int = Field(100, ge=1)
    max_wait: float = Field(60.0, ge=0)
    user_agent: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None


@register("reddit")
class RedditCollector(Collector):
    """New posts and comments of subreddits and searches, read through PRAW."""

    label = "Reddit"

    options_model = RedditOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``clock`` (epoch seconds) bounds item times: one far ahead would become the cursor."""
        super().__init__(key, options, http)
        self.clock = clock
        self.client_id = _credential(self.options, self.credentials, "client_id")
        self.client_secret = _credential(self.options, self.credentials, "client_secret")
        subreddits = [s.removeprefix("r/").removeprefix("/r/") for s in _names(self.options, "subreddits")]
        queries = _names(self.options, "search")
        if not subreddits and not queries:
            raise NotConfigured("reddit source needs 'subreddits' or 'search'")
        self.streams: list[Stream] = []
        for sub in subreddits:
            self.streams.append(Stream(f"r/{sub.lower()}:new", f"r/{sub}/new"))
            self.streams.append(Stream(f"r/{sub.lower()}:comments", f"r/{sub}/comments"))
        scope = str(self.options.get("search_subreddit") or "").strip().strip("/")
        scope = scope.removeprefix("r/").strip("/")
        for query in queries:
            params = {"q": query, "sort": "new", "t": "all", "type": "link"}
            if scope:  # /r/NAME/search with restrict_sr searches that subreddit only
                self.streams.append(Stream(f"r/{scope.lower()}:search:{query}", f"r/{scope}/search",
                                           {**params, "restrict_sr": "on"}))
            else:
                self.streams.append(Stream(f"search:{query}", "search", params))
        self.max_items = int(self.options.get("max_items", 100))
        self.page_size = max(1, min(100, int(self.options.get("page_size", 100))))
        self.batch_size = max(1, int(self.options.get("batch_size", 100)))
        self.max_wait = float(self.options.get("max_wait", 60))
        self.user_agent = str(self.options.get("user_agent") or "crmsphere/0.1")
        if len(self.user_agent) < 7:  # prawcore refuses shorter ones
            raise NotConfigured("reddit option 'user_agent' must describe the app (7 characters or more)")
        self.base_url: str | None = self.options.get("base_url")
        self._reddit: praw.Reddit | None = None

    def _record_limits(self, headers: Mapping[str, str]) -> None:
        """Keep the rate-limit window Reddit reports (remaining calls, seconds to reset)."""
        if "x-ratelimit-remaining" not in headers:
            return
        try:
            self.rate_limit_remaining = int(float(headers["x-ratelimit-remaining"]))
            self.rate_limit_reset = time.time() + float(headers.get("x-ratelimit-reset", 0))
        except ValueError:
            log.warning("reddit sent unreadable rate-limit headers: %s", dict(headers))

    def _build_client(self) -> praw.Reddit:
        site: dict[str, str] = {}
        if self.base_url:
            base = self.base_url.rstrip("/")
            site = {"oauth_url": base, "reddit_url": base, "short_url": base}
        return praw.Reddit(
            client_id=self.client_id, client_secret=self.client_secret, user_agent=self.user_agent,
            check_for_updates=False, requestor_class=_RateLimitRecorder,
            requestor_kwargs={"on_response": self._record_limits}, **site)

    async def _client(self) -> praw.Reddit:
        # Built once per collector so the token and PRAW's rate limiter outlive a run;
        # built in a thread because PRAW reads praw.ini files.
        if self._reddit is None:
            self._reddit = await asyncio.to_thread(self._build_client)
        return self._reddit

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Yield each stream's new items oldest first, with the cursor after each batch."""
        self.begin_run()
        states: dict[str, Any] = dict((cursor or {}).get("streams") or {})
        reddit = await self._client()
        for stream in self.streams:
            state = states.get(stream.key)
            try:
                entries, undated = await self._read_stream(reddit, stream, state)
            except StreamGone as exc:
                # A subreddit that does not exist (Reddit redirects to a search) or is banned.
                yield Batch((), {"streams": dict(states)}, failed=(Rejection(f"reddit:{stream.key}", exc.reason),))
                continue
            for batch_entries, new_state in self._chunks(entries, state):
                states[stream.key] = new_state
                rejected = tuple(e.item for e in batch_entries if isinstance(e.item, Rejection))
                posts = tuple(e.item for e in batch_entries if isinstance(e.item, RawPost))
                yield Batch(posts, {"streams": dict(states)}, tuple(undated) + rejected)
                undated = []
            if undated:
                yield Batch((), {"streams": dict(states)}, tuple(undated))

    async def _read_stream(self, reddit: praw.Reddit, stream: Stream,
                           state: Mapping[str, Any] | None) -> tuple[list[_Entry], list[Rejection]]:
        """Read ``stream`` newest first down to the cursor (or ``max_items`` on a first run)."""
        boundary = float(state["newest_utc"]) if state else None
        seen = set(state.get("seen", ())) if state else set()
        budget = None if state else self.max_items
        found: dict[str, _Entry] = {}
        undated: list[Rejection] = []
        after: str | None = None
        while (budget is None or len(found) < budget) and self.guard.next_page(stream.key, after):
            page_at = after or "start"
            children, after = await self._page(reddit, stream, after)
            reached_cursor = False
            for position, child in enumerate(children):
                placed = _place(child, self.clock() + ITEM_TIME_SLACK)
                if placed is None:
                    undated.append(Rejection(f"reddit:{stream.key}:{page_at}+{position}",
                                             "item without a fullname or created_utc"))
                    continue
                utc, name = placed
                if boundary is not None and utc < boundary:
                    reached_cursor = True
                    break
                if (boundary is not None and utc == boundary and name in seen) or name in found:
                    continue
                found[name] = _Entry(utc, name, _convert(stream.key, name, child))
                if budget is not None and len(found) >= budget:
                    break
            if reached_cursor or not after or not children:
                break
        return sorted(found.values(), key=lambda e: (e.utc, e.name)), undated

    def _chunks(self, entries: list[_Entry],
                state: Mapping[str, Any] | None) -> Iterator[tuple[list[_Entry], dict[str, Any]]]:
        """Batches of ``entries`` (oldest first), each with the stream's cursor after it."""
        newest = float(state["newest_utc"]) if state else None
        seen = list(state.get("seen", ())) if state else []
        for start in range(0, len(entries), self.batch_size):
            chunk = entries[start:start + self.batch_size]
            for entry in chunk:
                if entry.utc != newest:
                    newest, seen = entry.utc, []
                seen.append(entry.name)
            yield chunk, {"newest_utc": newest, "seen": list(seen)}

    async def _page(self, reddit: praw.Reddit, stream: Stream,
                    after: str | None) -> tuple[list[Any], str | None]:
        """One listing page: its children and the ``after`` of the next page."""
        self._check_budget()
        self.guard.count_request()
        params = {**stream.params, "limit": str(self.page_size)}
        if after:
            params["after"] = after
        try:
            listing = await asyncio.to_thread(reddit.request, method="GET", path=stream.path, params=params)
        except (prawcore.PrawcoreException, PRAWException) as exc:
            raise translate(exc, f"/{stream.path}", seconds_until(self.rate_limit_reset)) from exc
        data = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("children"), list):
            raise SourceUnavailable(f"reddit answered {stream.path} with something other than a listing")
        next_after = data.get("after")
        return data["children"], next_after if isinstance(next_after, str) else None

    def _check_budget(self) -> None:
        """Give up instead of letting PRAW sleep long for a spent rate-limit window."""
        if self.rate_limit_remaining is None or self.rate_limit_remaining > 0 or self.rate_limit_reset is None:
            return
        wait = self.rate_limit_reset - time.time()
        if wait > self.max_wait:
            raise SourceUnavailable(f"reddit rate limit spent; it resets in {wait:.0f} s", retry_after=wait)


def _place(child: Any, latest: float) -> tuple[float, str] | None:
    """(created_utc, fullname) of a listing child, or ``None`` if it cannot be placed (a time
    after ``latest`` included: as the cursor it would pass every post to come)."""
    data = child.get("data") if isinstance(child, dict) else None
    if not isinstance(data, dict):
        return None
    utc, name = data.get("created_utc"), data.get("name")
    if isinstance(utc, bool) or not isinstance(utc, (int, float)) or not isinstance(name, str) or not name:
        return None
    if utc > latest or epoch_time(float(utc)) is None:  # NaN, milliseconds, the year 3000
        return None
    return float(utc), name


def _convert(stream: str, name: str, child: dict[str, Any]) -> RawPost | Rejection:
    """The post for a listing child, or the reason it is not stored."""
    try:
        return post_from_child(child)
    except BadItem as exc:
        return Rejection(f"reddit:{stream}:{name}", exc.reason)


def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadItem(f"field '{key}' must be a string, got {type(value).__name__}")
    return value


def _counts(data: Mapping[str, Any], **fields: str) -> dict[str, int]:
    """Engagement counts named by keyword, from the fields given as values (integers only)."""
    return {name: data[key] for name, key in fields.items()
            if isinstance(data.get(key), int) and not isinstance(data.get(key), bool)}


def _gone_reason(data: Mapping[str, Any], text: str) -> str | None:
    """``"deleted"``/``"removed"`` when the item's text or author is gone, else ``None``."""
    if text.strip() in _GONE:
        return _GONE[text.strip()]
    category = data.get("removed_by_category")
    if category:
        # Reddit sends a string; a list or an object here must not stop the run (unhashable).
        return "deleted" if isinstance(category, str) and category in _AUTHOR_GONE else "removed"
    if data.get("author") in (None, "[deleted]"):
        return "deleted"
    return None


def _item_url(kind: str, data: Mapping[str, Any], permalink: str) -> str | None:
    """The item's address: its permalink, else one built from the post's and comment's ids.

    Comment listings from some endpoints omit ``permalink``; Reddit serves
    ``/comments/<post id>/_/<comment id>/`` for any comment.
    """
    if permalink.startswith("/"):
        return f"{REDDIT_WEB}{permalink}"
    if permalink.startswith(("https://", "http://")):
        return permalink
    item_id = data.get("id") if isinstance(data.get("id"), str) else str(data.get("name", ""))[3:]
    if kind == "t3":
        return f"{REDDIT_WEB}/comments/{item_id}/" if item_id else None
    link_id = data.get("link_id")
    if isinstance(link_id, str) and link_id.startswith("t3_") and item_id:
        return f"{REDDIT_WEB}/comments/{link_id[3:]}/_/{item_id}/"
    return None


def post_from_child(child: Mapping[str, Any]) -> RawPost:
    """A ``RawPost`` from one ``t3`` (post) or ``t1`` (comment) listing child."""
    kind, data = child.get("kind"), child.get("data")
    if kind not in ("t3", "t1") or not isinstance(data, dict):
        raise BadItem(f"not a post or comment (kind {kind!r})")
    name = _text(data, "name")
    if not name.startswith(f"{kind}_"):
        raise BadItem(f"fullname {name!r} does not match kind {kind}")
    if kind == "t3":
        body = _text(data, "selftext", required=False)
        reason = _gone_reason(data, body)
        title = _text(data, "title").strip()
        text = f"{title}\n\n{body.strip()}" if body.strip() else title
    else:
        text = body = _text(data, "body")
        reason = _gone_reason(data, body)
    if reason:
        raise BadItem(reason)
    author = _text(data, "author")
    created = data.get("created_utc")
    created_at = (None if isinstance(created, bool) or not isinstance(created, (int, float))
                  else epoch_time(float(created)))
    if created_at is None:
        raise BadItem("field 'created_utc' must be a number of seconds that is a date")
    text = clean_text(text).strip()
    if not text:
        raise BadItem("empty text")
    permalink = _text(data, "permalink", required=False)
    engagement = _counts(data, score="score")
    if kind == "t3":  # a comment's num_comments counts its thread, not replies to it
        engagement |= _counts(data, comments="num_comments")
    author_id = data.get("author_fullname")
    return RawPost(
        source="reddit",
        external_id=name,
        author=Author(handle=author, platform_id=author_id if isinstance(author_id, str) else None),
        text=text,
        created_at=created_at,
        url=_item_url(kind, data, permalink),
        parent_id=_text(data, "parent_id") if kind == "t1" else None,
        thread_id=_text(data, "link_id") if kind == "t1" else None,
        engagement=engagement,
    )
