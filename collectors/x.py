"""X (Twitter): recent-search queries and an account's mentions, through Tweepy's async client.

Options: ``queries`` (recent-search queries), ``mentions_of`` (a username whose mentions
timeline is read), ``max_items`` (per stream on the first run, default 100),
``page_size`` (``max_results``, up to 100), ``max_wait`` (seconds worth waiting for a
rate-limit window to reset, default 900), ``base_url`` (``None`` = api.x.com).
Credential: ``bearer_token``.

X answers newest first and pages backwards (``next_token``).  Each page is yielded as
it arrives; until a stream is read down to its previous ``since_id`` its cursor holds
the gap still to read::

    {"streams": {"search:nimbus": {"since_id": "100", "pending": {
        "newest_id": "180", "until_id": "150", "left": null}}}}

Resuming with ``pending`` asks for ``since_id < id < until_id`` and goes on from there;
when the gap is read, ``since_id`` becomes ``newest_id``.  Tweet ids are unique and
ordered, so nothing is skipped or repeated.  ``left`` is what remains of the first-run
window.

HTTP: Tweepy's host is fixed, so the client uses the shared ``http`` session for the real
service; with ``base_url`` set, a private session whose middleware sends requests for
api.twitter.com / api.x.com to ``base_url`` (closed after the run).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import tweepy
from aiohttp import ClientHandlerType, ClientMiddlewareType, ClientRequest, ClientResponse, hdrs
from tweepy.asynchronous import AsyncClient
from yarl import URL

from domain import Author, RawPost, Rejection
from domain.errors import BadItem, NotConfigured, SourceUnavailable

from pydantic import Field

from collectors.base import Batch, Collector, SourceOptions
from collectors.post_format import ascii_number, clean_text, parse_time
from collectors.registry import register
from collectors.x_errors import translate

log = logging.getLogger(__name__)

X_HOSTS = frozenset({"api.twitter.com", "api.x.com"})
TWEET_FIELDS = ["created_at", "lang", "conversation_id", "in_reply_to_user_id",
                "referenced_tweets", "public_metrics", "author_id"]
USER_FIELDS = ["username", "name"]
#: Seconds slept past X's announced reset, since its clock and ours never agree exactly.
RESET_MARGIN = 0.2
#: public_metrics keys and the engagement names they are stored under.
METRICS = {"like_count": "likes", "retweet_count": "reposts", "reply_count": "replies",
           "quote_count": "quotes", "bookmark_count": "bookmarks", "impression_count": "impressions"}


def redirect_to(base_url: str) -> ClientMiddlewareType:
    """An aiohttp client middleware sending X API requests to ``base_url`` (tests, proxies)."""
    base = URL(base_url.rstrip("/"))

    async def redirect(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if request.url.host in X_HOSTS:
            request.url = URL(str(base) + request.url.raw_path_qs, encoded=True)
            request.headers[hdrs.HOST] = base.raw_authority
        return await handler(request)

    return redirect


@dataclass(frozen=True, slots=True)
class Stream:
    """A recent-search query or an account's mentions timeline."""

    key: str
    query: str | None = None
    username: str | None = None


class XOptions(SourceOptions):
    """The options of an ``x`` source (see the module docstring)."""

    queries: list[str] = Field(default_factory=list)
    mentions_of: str | None = None
    max_items: int = Field(100, ge=0)
    page_size: int = Field(100, ge=10, le=100)
    max_wait: float = Field(900.0, ge=0)
    bearer_token_env: str | None = None
    #: X is pay-per-use: a smaller budget than the other sources by default.
    daily_request_budget: int = Field(500, ge=0)


@register("x")
class XCollector(Collector):
    """Recent-search results and mentions of one account from X's v2 API."""

    label = "X"

    options_model = XOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None) -> None:
        super().__init__(key, options, http)
        self.bearer_token = self.require_credential("bearer_token")
        queries = self.options.get("queries") or []
        if isinstance(queries, str) or not all(isinstance(q, str) and q.strip() for q in queries):
            raise NotConfigured("x option 'queries' must be a list of non-empty strings")
        self.streams = [Stream(f"search:{q.strip()}", query=q.strip()) for q in queries]
        mentions_of = str(self.options.get("mentions_of") or "").strip().lstrip("@")
        if mentions_of:
            self.streams.append(Stream(f"mentions:{mentions_of.lower()}", username=mentions_of))
        if not self.streams:
            raise NotConfigured("x source needs 'queries' or 'mentions_of'")
        self.max_items = int(self.options.get("max_items", 100))
        self.page_size = max(10, min(100, int(self.options.get("page_size", 100))))
        self.max_wait = float(self.options.get("max_wait", 900))
        self.base_url: str | None = self.options.get("base_url")

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Yield each stream's new tweets page by page, with the cursor after each page."""
        self.begin_run()
        states: dict[str, Any] = dict((cursor or {}).get("streams") or {})
        if self.base_url:
            session, owned = aiohttp.ClientSession(middlewares=(redirect_to(self.base_url),)), True
        elif self.http is not None:
            session, owned = self.http, False
        else:
            session, owned = aiohttp.ClientSession(), True
        client = AsyncClient(bearer_token=self.bearer_token, return_type=aiohttp.ClientResponse)
        client.session = session
        try:
            for stream in self.streams:
                async for batch in self._read_stream(client, stream, states):
                    yield batch
        finally:
            if owned:
                await session.close()

    async def _read_stream(self, client: AsyncClient, stream: Stream,
                           states: dict[str, Any]) -> AsyncIterator[Batch]:
        state = dict(states.get(stream.key) or {})
        if stream.username and "user_id" not in state:
            user_id = await self._user_id(client, stream.username)
            if user_id is None:
                yield Batch((), {"streams": dict(states)}, failed=(
                    Rejection(f"x:{stream.key}", f"no X account named {stream.username!r}: "
                                                 f"correct 'mentions_of' in the source's settings"),))
                return
            state["user_id"] = user_id
        since_id: str | None = state.get("since_id")
        pending = state.get("pending")
        if pending:
            newest, until, left = pending["newest_id"], pending["until_id"], pending["left"]
        else:
            newest, until, left = None, None, (self.max_items if since_id is None else None)
        request_until = until  # a next_token belongs to the request it came from
        token: str | None = None
        while self.guard.next_page(stream.key, token):
            try:
                page = await self._page(client, stream, state, since_id, request_until, left, token)
            except tweepy.BadRequest as exc:
                message = "; ".join(exc.api_messages) or str(exc)
                if "since_id" in message and since_id is not None and token is None:
                    # since_id fell out of the 7-day search window: start again from a first-run window.
                    log.warning("x %s: cursor too old (%s); reading the recent window again", stream.key, message)
                    since_id, newest, until, request_until, left = None, None, None, None, self.max_items
                    continue
                yield Batch((), {"streams": dict(states)}, failed=(Rejection(f"x:{stream.key}", message),))
                return
            raw = page.get("data") if isinstance(page.get("data"), list) else []
            # A server (or proxy) that ignores since_id/until_id must not hand on old tweets again.
            # A next_token continues below the oldest tweet read so far.
            tweets = [t for t in raw if _within(t, since_id, until if token else request_until)]
            reached_since = len(tweets) < len(raw) and since_id is not None
            if left is not None:
                tweets = tweets[:left]
                left -= len(tweets)
            posts, rejected, ids = _convert_page(stream.key, tweets, page.get("includes"))
            meta = page.get("meta") if isinstance(page.get("meta"), dict) else {}
            if newest is None:  # the newest match, even when the window keeps none of it
                newest = str(max(ids)) if ids else _newer(meta.get("newest_id"), since_id)
            if ids:
                until = str(min(ids))
            token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            more = bool(token) and (left is None or left > 0) and not reached_since
            if more and newest is not None:
                state.update(since_id=since_id, pending={"newest_id": newest, "until_id": until, "left": left})
            elif not more:
                state.pop("pending", None)
                state["since_id"] = newest or since_id
            changed = state != states.get(stream.key)
            states[stream.key] = dict(state)
            if posts or rejected or changed:
                yield Batch(tuple(posts), {"streams": dict(states)}, tuple(rejected))
            if not more:
                return

    async def _page(self, client: AsyncClient, stream: Stream, state: Mapping[str, Any],
                    since_id: str | None, until_id: str | None, left: int | None,
                    token: str | None) -> dict[str, Any]:
        """One page of a stream, newest first."""
        common: dict[str, Any] = {
            "since_id": since_id, "until_id": until_id, "expansions": ["author_id"],
            "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS,
            # X refuses fewer than 10; a larger page is cut to the window left.
            "max_results": max(10, min(self.page_size, left if left is not None else 100))}
        if stream.query is not None:
            return await self._call(client.search_recent_tweets, stream.query, sort_order="recency",
                                    next_token=token, doing=f"searching {stream.query!r}", **common)
        return await self._call(client.get_users_mentions, state["user_id"], pagination_token=token,
                                doing=f"reading the mentions of @{stream.username}", **common)

    async def _user_id(self, client: AsyncClient, username: str) -> str | None:
        """The id of the account named ``username``; ``None`` if X knows no such account."""
        try:
            found = await self._call(client.get_user, username=username, user_fields=USER_FIELDS,
                                     doing=f"looking up the account @{username}")
        except SourceUnavailable as exc:
            if isinstance(exc.__cause__, tweepy.NotFound):
                return None  # X answers a missing account with 404 or with 200 and "errors"
            raise
        data = found.get("data")
        return str(data["id"]) if isinstance(data, dict) and data.get("id") else None

    def _record(self, headers: Mapping[str, str]) -> float | None:
        """Keep X's rate-limit headers; returns seconds until the window resets, if known."""
        return record_rate_limit(self, headers)

    async def _call(self, method: Callable[..., Awaitable[Any]], *args: Any, doing: str,
                    **kwargs: Any) -> dict[str, Any]:
        """Call one endpoint; waits once for a rate-limit reset within ``max_wait``.

        Every failure Tweepy or aiohttp can raise becomes ``AuthFailed`` or
        ``SourceUnavailable`` saying what was being done (see ``collectors.x_errors``).
        """
        for attempt in (1, 2):
            self.guard.count_request()
            try:
                response = await method(*args, **kwargs)
            except tweepy.TooManyRequests as exc:
                wait = self._record(exc.response.headers)
                if attempt == 1 and wait is not None and wait <= min(self.max_wait, self.guard.seconds_left):
                    log.info("x rate limit reached; waiting %.1f s for the reset", wait)
                    await asyncio.sleep(wait + RESET_MARGIN)
                    continue
                raise translate(exc, doing, wait) from exc
            except tweepy.BadRequest:
                raise  # the caller reads X's reasons (an expired since_id)
            except tweepy.HTTPException as exc:
                self._record(exc.response.headers)
                raise translate(exc, doing) from exc
            except aiohttp.ContentTypeError as exc:
                raise translate(exc, doing, self._record(exc.headers or {})) from exc
            except (tweepy.TweepyException, aiohttp.ClientError, TimeoutError,
                    TypeError, AttributeError, KeyError, ValueError) as exc:
                # The last four: Tweepy's own error handling broke on an unexpected error body.
                raise translate(exc, doing) from exc
            self._record(response.headers)
            try:
                body = await response.json()
            except (aiohttp.ContentTypeError, ValueError) as exc:
                raise SourceUnavailable(f"x answered with something other than JSON while {doing}") from exc
            if not isinstance(body, dict):
                raise SourceUnavailable(f"x answered with JSON that is not an object while {doing}")
            return body
        raise AssertionError("unreachable")


def _within(tweet: Any, since_id: str | None, until_id: str | None) -> bool:
    """Whether a tweet lies strictly between the ids asked for (items without an id are kept
    to be rejected by name)."""
    tweet_id = tweet.get("id") if isinstance(tweet, dict) else None
    if not isinstance(tweet_id, str) or not ascii_number(tweet_id):
        return True
    return ((since_id is None or int(tweet_id) > int(since_id))
            and (until_id is None or int(tweet_id) < int(until_id)))


def _newer(candidate: Any, since_id: str | None) -> str | None:
    """``candidate`` (an id from ``meta``) when it is above ``since_id``; never moves back."""
    if not isinstance(candidate, str) or not ascii_number(candidate):
        return None
    return candidate if since_id is None or int(candidate) > int(since_id) else None


def _convert_page(stream: str, tweets: list[Any],
                  includes: Any) -> tuple[list[RawPost], list[Rejection], list[int]]:
    """Posts and rejections for a page's tweets, and the ids that place them."""
    users: dict[str, dict[str, Any]] = {}
    if isinstance(includes, dict) and isinstance(includes.get("users"), list):
        users = {str(u.get("id")): u for u in includes["users"] if isinstance(u, dict)}
    posts: list[RawPost] = []
    rejected: list[Rejection] = []
    ids: list[int] = []
    for position, tweet in enumerate(tweets):
        tweet_id = tweet.get("id") if isinstance(tweet, dict) else None
        if isinstance(tweet_id, str) and ascii_number(tweet_id):
            ids.append(int(tweet_id))
        try:
            posts.append(post_from_tweet(tweet, users))
        except BadItem as exc:
            rejected.append(Rejection(f"x:{stream}:{tweet_id or f'#{position}'}", exc.reason))
    return posts, rejected, ids


def _str(data: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadItem(f"field '{key}' must be a non-empty string")
    return value


def post_from_tweet(tweet: Any, users: Mapping[str, Mapping[str, Any]]) -> RawPost:
    """A ``RawPost`` from one v2 tweet object and the page's ``includes.users`` by id."""
    if not isinstance(tweet, dict):
        raise BadItem("a tweet must be an object")
    tweet_id = _str(tweet, "id") or ""
    if not ascii_number(tweet_id):
        raise BadItem(f"tweet id {tweet_id!r} is not numeric")
    author_id = _str(tweet, "author_id") or ""
    user = users.get(author_id)
    if user is None or not isinstance(user.get("username"), str):
        raise BadItem(f"author {author_id} missing from includes.users")
    text = clean_text(_str(tweet, "text") or "").strip()
    if not text:
        raise BadItem("empty text")
    refs = tweet.get("referenced_tweets")
    refs = refs if isinstance(refs, list) else []  # a number or true here stopped the whole run
    parent = next((r.get("id") for r in refs if isinstance(r, dict) and r.get("type") == "replied_to"), None)
    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
    engagement = {name: metrics[key] for key, name in METRICS.items()
                  if isinstance(metrics.get(key), int) and not isinstance(metrics.get(key), bool)}
    lang = _str(tweet, "lang", required=False)
    username = user["username"]
    name = user.get("name")
    return RawPost(
        source="x",
        external_id=tweet_id,
        author=Author(handle=username, name=name if isinstance(name, str) else None, platform_id=author_id),
        text=text,
        created_at=parse_time(tweet.get("created_at")),
        url=f"https://x.com/{username}/status/{tweet_id}",
        parent_id=str(parent) if parent else None,
        thread_id=_str(tweet, "conversation_id", required=False),
        language=None if lang in (None, "und") else lang,
        engagement=engagement,
    )


def record_rate_limit(collector: Collector, headers: Mapping[str, str]) -> float | None:
    """Keep X's rate-limit headers on ``collector``; seconds until the window resets, if known."""
    try:
        if "x-rate-limit-remaining" in headers:
            collector.rate_limit_remaining = int(headers["x-rate-limit-remaining"])
        if "x-rate-limit-reset" in headers:
            collector.rate_limit_reset = float(headers["x-rate-limit-reset"])
            return max(0.0, collector.rate_limit_reset - time.time())
    except ValueError:
        log.warning("x sent unreadable rate-limit headers: %s", dict(headers))
    return None
