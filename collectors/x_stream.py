"""X (Twitter) filtered stream: rules kept in step with config, then tweets read live.

Options: ``stream_rules`` (rule values, or ``{"value", "tag"}`` tables), per run
``max_seconds`` (30), ``max_items`` (1000), ``max_reconnects`` (5), ``max_backoff`` (16 s);
``batch_size`` (100), ``stall_seconds`` (30: X sends a keep-alive every 20 s),
``base_url`` (``None`` = api.x.com).  Credential: ``bearer_token``.

Rules belong to the X app and other tools may share it: this source adds and deletes only
the rules it owns (see ``collectors.x_stream_rules``).  Tweets matched only by other tools'
rules are skipped.

The stream has no replay: what arrives while we are not connected is lost, so each run
reads for a bounded time and returns, like the polled collectors.  The cursor
``{"newest_id": ...}`` records progress for health; duplicates are removed by the store's
unique key.  Disconnects, 5xx and network errors reconnect with exponential back-off
(``self.sleep`` is replaceable so tests do not wait); past ``max_reconnects`` the run ends
with ``SourceUnavailable``, after yielding what it had read.

HTTP: Tweepy's streaming client closes its session whenever a connection ends, so each
connection gets a private session (with ``base_url``, one whose middleware sends
api.twitter.com / api.x.com there).  The rules requests use the shared ``http`` session for
the real service, like collectors/x.py.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import tweepy
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse
from tweepy.asynchronous import AsyncStreamingClient

from domain import RawPost, Rejection
from domain.errors import AuthFailed, BadItem, NotConfigured, SourceUnavailable

from collectors.base import Batch, Collector, SourceOptions
from collectors.registry import register
from collectors.post_format import ascii_number
from collectors.x import TWEET_FIELDS, USER_FIELDS, post_from_tweet, record_rate_limit, redirect_to
from collectors.x_errors import translate
from collectors.x_stream_rules import configured_rules, owns, sync_rules

log = logging.getLogger(__name__)

#: Seconds a (re)connection may take to answer before the run gives up on it.
CONNECT_TIMEOUT = 15.0
_CONNECTED, _ENDED = object(), object()


class _Dropped(Exception):
    """The stream ended: X closed it, or the connection broke."""


class _Refused(Exception):
    """X answered the stream request with an error status."""

    def __init__(self, status: int, headers: Mapping[str, str]) -> None:
        self.status, self.headers = status, headers
        super().__init__(f"HTTP {status}")


class _Listener(AsyncStreamingClient):
    """Tweepy's streaming client turned into a queue of raw lines.

    Tweepy retries on its own with fixed, long sleeps; every failure callback raises
    instead, which ends Tweepy's task (``on_exception``) so the collector decides.
    """

    def __init__(self, bearer_token: str) -> None:
        super().__init__(bearer_token, return_type=aiohttp.ClientResponse, max_retries=0)
        self.lines: asyncio.Queue[Any] = asyncio.Queue()  # bounded by max_seconds of stream
        self.failure: BaseException | None = None
        self.last_headers: Mapping[str, str] = {}

    def start(self, session: aiohttp.ClientSession, **params: Any) -> asyncio.Task[Any]:
        """Connect over ``session``; lines, then ``_ENDED``, arrive on ``lines``."""
        self.session, self.failure = session, None
        self.lines = asyncio.Queue()
        return self.filter(**params)

    async def remember(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        """Client middleware keeping the last answer's headers (Tweepy passes on only the status)."""
        response = await handler(request)
        self.last_headers = response.headers
        return response

    async def on_connect(self) -> None:
        self.lines.put_nowait(_CONNECTED)

    async def on_data(self, raw_data: bytes) -> None:
        self.lines.put_nowait(raw_data)

    async def on_keep_alive(self) -> None:
        """Keep-alives only prove the connection lives; the read timeout covers silence."""

    async def on_closed(self, resp: Any) -> None:
        raise _Dropped("X closed the stream")

    async def on_connection_error(self) -> None:
        raise _Dropped(f"connection lost: {sys.exc_info()[1]!r}")

    async def on_request_error(self, status_code: int) -> None:
        raise _Refused(status_code, self.last_headers)

    async def on_exception(self, exception: Exception) -> None:
        self.failure = exception

    async def on_disconnect(self) -> None:
        self.lines.put_nowait(_ENDED)


class XStreamOptions(SourceOptions):
    """The options of an ``x_stream`` source (see the module docstring)."""

    stream_rules: list[str | dict[str, Any]] | str | None = None
    max_seconds: float | None = None
    max_items: int | None = None
    batch_size: int | None = None
    max_reconnects: int | None = None
    max_backoff: float | None = None
    stall_seconds: float | None = None
    bearer_token_env: str | None = None


@register("x_stream")
class XStreamCollector(Collector):
    """Tweets matching this source's filtered-stream rules, read live for a bounded time."""

    options_model = XStreamOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None) -> None:
        super().__init__(key, options, http)
        self.bearer_token = self.require_credential("bearer_token")
        self.name = str(self.options.get("name") or "").strip()
        if not self.name:
            raise NotConfigured("x_stream needs a 'name': it tags the stream rules this source owns")
        self.rules = configured_rules(self.name, self.options.get("stream_rules"))
        self.max_seconds = _positive(self.options, "max_seconds", 30.0, float)
        self.max_items = _positive(self.options, "max_items", 1000, int)
        self.batch_size = _positive(self.options, "batch_size", 100, int)
        self.max_reconnects = _positive(self.options, "max_reconnects", 5, int)
        self.max_backoff = _positive(self.options, "max_backoff", 16.0, float)
        self.stall_seconds = _positive(self.options, "stall_seconds", 30.0, float)
        self.base_url: str | None = self.options.get("base_url")
        #: How the back-off waits; tests replace it.
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Sync the rules, then read the stream for one bounded run."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_seconds
        run = _Run(self.batch_size, (cursor or {}).get("newest_id"))
        listener = _Listener(self.bearer_token)
        run.rejected += await self._sync_rules(listener)
        task: asyncio.Task[Any] | None = None
        reconnects, delay = 0, 1.0
        try:
            while True:
                run.connected, run.lines_this_connection = False, 0
                task = listener.start(self._stream_session(listener), expansions=["author_id"],
                                      tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS)
                while (outcome := await self._read(listener, run, deadline)) is _Outcome.FULL:
                    yield run.flush()
                if outcome is _Outcome.DONE:
                    break
                await _stop(listener, task)  # a connection that never answered is still pending
                error = self._classify(listener.failure)
                if error is not None or reconnects >= self.max_reconnects:
                    if run.unflushed:
                        yield run.flush()
                    raise error or SourceUnavailable(
                        f"x stream dropped {reconnects + 1} times in one run; last: {listener.failure}")
                if run.lines_this_connection:
                    delay = 1.0  # the connection worked: back-off starts over
                log.warning("x_stream %s: %s; reconnecting in %.0f s", self.key, listener.failure, delay)
                await self.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                reconnects += 1
        finally:
            await _stop(listener, task)
        if run.unflushed:
            yield run.flush()

    async def _read(self, listener: _Listener, run: _Run, deadline: float) -> _Outcome:
        """Read lines until a batch is full, the run is over, or the connection ended."""
        loop = asyncio.get_running_loop()
        while run.count < self.max_items:
            wait = deadline - loop.time()
            if not run.connected:  # a late reconnection still gets its chance to answer
                wait = max(wait, CONNECT_TIMEOUT)
            try:
                line = await asyncio.wait_for(listener.lines.get(), max(wait, 0.001))
            except TimeoutError:
                if run.connected:
                    return _Outcome.DONE  # max_seconds is up; the stream is fine
                listener.failure = _Dropped("no answer to the connection request")
                return _Outcome.ENDED
            if line is _ENDED:
                run.connected = False
                return _Outcome.ENDED
            if line is _CONNECTED:
                run.connected = True
                if loop.time() >= deadline:
                    return _Outcome.DONE
                continue
            run.lines_this_connection += 1
            self._take(run, line)
            if run.full:
                return _Outcome.FULL
        return _Outcome.DONE

    def _classify(self, failure: BaseException | None) -> Exception | None:
        """The error that ends the run for ``failure``; ``None`` when worth reconnecting."""
        if isinstance(failure, _Refused):
            retry_after = self._record(failure.headers)
            if failure.status in (401, 403):
                return AuthFailed(f"x refused the stream connection: HTTP {failure.status}")
            if failure.status in (420, 429):
                return SourceUnavailable("x stream: too many connections or requests", retry_after=retry_after)
            if failure.status < 500:
                return SourceUnavailable(f"x refused the stream connection: HTTP {failure.status}")
            return None
        if failure is None or isinstance(failure, (_Dropped, aiohttp.ClientError, OSError, TimeoutError)):
            return None
        raise failure  # a bug, not the network: let it show

    def _stream_session(self, listener: _Listener) -> aiohttp.ClientSession:
        """A private session for one stream connection (Tweepy closes it when the stream ends)."""
        middlewares = [listener.remember]
        if self.base_url:
            middlewares.insert(0, redirect_to(self.base_url))
        return aiohttp.ClientSession(
            middlewares=tuple(middlewares),
            connector=aiohttp.TCPConnector(enable_cleanup_closed=True),
            timeout=aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT, sock_read=self.stall_seconds))

    async def _sync_rules(self, listener: _Listener) -> list[Rejection]:
        """Bring X's copy of this source's rules in step with config, on a rules session."""
        if self.base_url:
            session, owned = aiohttp.ClientSession(middlewares=(redirect_to(self.base_url),)), True
        elif self.http is not None:
            session, owned = self.http, False
        else:
            session, owned = aiohttp.ClientSession(), True
        listener.session = session
        try:
            return await sync_rules(self.key, self.name, self.rules, self._call, listener.get_rules,
                                    listener.add_rules, listener.delete_rules)
        finally:
            listener.session = None
            if owned:
                await session.close()

    async def _call(self, method: Callable[..., Awaitable[Any]], *args: Any) -> dict[str, Any]:
        """One rules request; X's errors become the domain's."""
        try:
            response = await method(*args)
        except tweepy.TooManyRequests as exc:
            raise SourceUnavailable("x rules: too many requests", retry_after=self._record(exc.response.headers)) from exc
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise AuthFailed(f"x refused the bearer token: {exc}") from exc
        except tweepy.BadRequest as exc:
            raise SourceUnavailable(f"x refused the rules request: {exc}") from exc
        except tweepy.HTTPException as exc:  # 5xx and anything else unexpected
            raise SourceUnavailable(f"x rules request failed: {exc}",
                                    retry_after=self._record(exc.response.headers)) from exc
        except aiohttp.ContentTypeError as exc:  # an error page that is not JSON
            if exc.status in (401, 403):
                raise AuthFailed(f"x refused access ({exc.status})") from exc
            raise SourceUnavailable(f"x answered {exc.status} without JSON") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceUnavailable(f"x unreachable: {exc!r}") from exc
        except (tweepy.TweepyException, TypeError, AttributeError, KeyError, ValueError) as exc:
            # Tweepy's own error handling broke on an error body it did not expect.
            raise translate(exc, "syncing the stream rules") from exc
        self._record(response.headers)
        try:
            body = await response.json()
        except (aiohttp.ContentTypeError, ValueError) as exc:
            raise SourceUnavailable("x answered the rules request with something other than JSON") from exc
        if not isinstance(body, dict):
            raise SourceUnavailable("x answered the rules request with JSON that is not an object")
        return body

    def _record(self, headers: Mapping[str, str]) -> float | None:
        """Keep X's rate-limit headers; returns seconds until the window resets, if known."""
        return record_rate_limit(self, headers)

    def _take(self, run: _Run, raw: bytes) -> None:
        """One stream line: a tweet of ours becomes a post; a malformed line a rejection."""
        where = f"x_stream:line {run.lines + 1}"
        run.lines += 1
        try:
            message = json.loads(raw)
        except (ValueError, RecursionError):
            run.rejected.append(Rejection(where, "stream line is not JSON"))
            return
        if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
            errors = message.get("errors") if isinstance(message, dict) else None
            reason = "stream line has no 'data' object"
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                reason += f": {errors[0].get('title')}: {errors[0].get('detail')}"
            run.rejected.append(Rejection(where, reason))
            return
        tweet = message["data"]
        rules = message.get("matching_rules")
        if isinstance(rules, list) and rules and not any(
                isinstance(r, dict) and owns(self.name, r.get("tag")) for r in rules):
            return  # matched only another tool's rules
        includes = message.get("includes")
        users = includes.get("users") if isinstance(includes, dict) else None
        by_id = {str(u.get("id")): u for u in users if isinstance(u, dict)} if isinstance(users, list) else {}
        try:
            run.keep(post_from_tweet(tweet, by_id))
        except BadItem as exc:
            run.rejected.append(Rejection(f"x_stream:{tweet.get('id') or where}", exc.reason))


class _Outcome(enum.Enum):
    """Why reading stopped: a batch is due, the run is over, or the connection ended."""

    FULL = "full"
    DONE = "done"
    ENDED = "ended"


async def _stop(listener: _Listener, task: asyncio.Task[Any] | None) -> None:
    """Close the stream connection, if it is still open, and wait for Tweepy's task to end."""
    if task is not None and not task.done():
        listener.disconnect()
        await asyncio.gather(task, return_exceptions=True)


class _Run:
    """What one run has read: posts and rejections not yet handed on, and the newest id."""

    def __init__(self, batch_size: int, newest_id: Any) -> None:
        self.batch_size = batch_size
        self.newest = int(newest_id) if isinstance(newest_id, str) and ascii_number(newest_id) else None
        self._flushed_newest = self.newest
        self.posts: list[RawPost] = []
        self.rejected: list[Rejection] = []
        self.count = 0
        self.lines = 0
        #: Whether the current connection was answered, and lines read on it.
        self.connected = False
        self.lines_this_connection = 0

    @property
    def full(self) -> bool:
        """Whether a batch's worth is waiting."""
        return len(self.posts) + len(self.rejected) >= self.batch_size

    @property
    def unflushed(self) -> bool:
        """Whether anything is waiting to be handed on."""
        return bool(self.posts or self.rejected) or self.newest != self._flushed_newest

    def keep(self, post: RawPost) -> None:
        """Add a post to the next batch."""
        self.posts.append(post)
        self.count += 1
        self.newest = max(self.newest or 0, int(post.external_id))

    def flush(self) -> Batch:
        """The batch of everything waiting, with the cursor after it."""
        batch = Batch(tuple(self.posts), {} if self.newest is None else {"newest_id": str(self.newest)},
                      tuple(self.rejected))
        self.posts, self.rejected = [], []
        self._flushed_newest = self.newest
        return batch


def _positive(options: Mapping[str, Any], key: str, default: Any, kind: type) -> Any:
    """A positive number option, or ``default`` when it is absent."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, kind)) or value <= 0:
        raise NotConfigured(f"x_stream option '{key}' must be a positive {kind.__name__}, got {value!r}")
    return kind(value)
