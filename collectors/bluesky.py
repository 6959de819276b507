"""Bluesky posts from Jetstream, the JSON WebSocket feed of the AT Protocol firehose.

A run subscribes to ``/subscribe?wantedCollections=app.bsky.feed.post``, keeps the new posts
that mention a keyword or come from a followed account, and returns once it has ``max_items``
posts, after ``max_seconds``, or when the server closes; the scheduler starts the next run.

The cursor is ``{"time_us": T}``, the Jetstream time of the last event read.  Jetstream replays
from ``cursor=T`` inclusive, so a resumed run skips events at or before ``T``.  The stream
carries DIDs, not handles: handles are learnt from ``identity`` events as they pass.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp

from domain import Author, RawPost, Rejection, normalise_handle
from domain.errors import AuthFailed, BadItem, NotConfigured, SourceUnavailable
from domain.retry_after import parse_retry_after

from pydantic import Field

from collectors.base import Batch, Collector, SourceOptions
from collectors.post_format import clean_text, epoch_time, parse_time
from collectors.registry import register

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "wss://jetstream2.us-east.bsky.network"
POST_COLLECTION = "app.bsky.feed.post"
CONNECT_TIMEOUT = 15.0
HEARTBEAT = 30.0
#: DIDs sent in the query string; past this the URL gets too long and posts are filtered here.
MAX_WANTED_DIDS = 100
#: DID → handle entries kept from identity events; the whole network is millions of accounts.
KNOWN_HANDLES = 50_000


class BlueskyOptions(SourceOptions):
    """The options of a ``bluesky`` source; the lists are checked by the collector itself."""

    keywords: Any = None
    handles: Any = None
    dids: Any = None
    max_items: int | None = Field(None, gt=0)
    max_seconds: float | None = Field(None, gt=0)
    batch_size: int | None = Field(None, gt=0)


#: Seconds an event's ``time_us`` may be ahead of our clock (the relay's clock and ours differ).
EVENT_TIME_SLACK = 3600.0


@register("bluesky")
class Bluesky(Collector):
    """Posts from the Bluesky network through Jetstream.

    Options: ``keywords`` (whole-word, case-insensitive), ``handles`` and ``dids`` to follow
    (a post is kept when it matches any of them), ``max_items`` and ``max_seconds`` per run,
    ``batch_size``, ``base_url``.  Needs the shared ``aiohttp`` session.  A run also ends at
    ``max_run_seconds`` when that is shorter, and each connection counts against the daily
    request budget.
    """

    label = "Bluesky"

    options_model = BlueskyOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``clock`` (epoch seconds) bounds event times: one far ahead would become the cursor."""
        super().__init__(key, options, http)
        self.clock = clock
        if http is None:
            raise NotConfigured("bluesky needs the shared HTTP session for its WebSocket")
        keywords = _string_list(self.options, "keywords")
        self.handles = frozenset(normalise_handle(h) for h in _string_list(self.options, "handles"))
        self.dids = frozenset(d.strip() for d in _string_list(self.options, "dids"))
        if not (keywords or self.handles or self.dids):
            raise NotConfigured("bluesky needs 'keywords', 'handles' or 'dids': without them it "
                                "would take in every post on the network")
        bad = sorted(d for d in self.dids if not d.startswith("did:"))
        if bad:
            raise NotConfigured(f"bluesky 'dids' must look like did:plc:..., got {bad[0]!r}")
        self.max_items = _positive(self.options, "max_items", 1000, int)
        self.max_seconds = _positive(self.options, "max_seconds", 30.0, float)
        self.batch_size = _positive(self.options, "batch_size", 100, int)
        base = (self.options.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.url = base if base.endswith("/subscribe") else base + "/subscribe"
        # Whole words, so that "nimbus" finds "Nimbus!" but not "cumulonimbus".
        words = "|".join(re.escape(k.strip()) for k in keywords)
        self._keywords = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE) if words else None
        # Learnt from identity events; kept on the instance so later runs know them too.
        self._followed: dict[str, str] = {}
        self._known_handles: OrderedDict[str, str] = OrderedDict()

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Read the stream from ``cursor`` (``None``: live from now) for one bounded run."""
        self.begin_run()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(self.max_seconds, self.guard.seconds_left)
        run = _Run(_stored_time_us(cursor))
        self.guard.count_request()
        ws = await self._connect(run.time_us)
        try:
            while run.post_count < self.max_items:
                try:
                    msg = await ws.receive(timeout=max(deadline - loop.time(), 0.001))
                except TimeoutError:
                    break  # max_seconds is up; the stream is fine
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._take(run, msg.data)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    # Jetstream only sends binary (zstd) frames to clients that asked for them.
                    run.reject(run.where(), "binary frame; compressed frames are not requested")
                else:
                    if not run.frames:
                        raise SourceUnavailable(
                            f"{self.url} closed the stream before any event "
                            f"(close code {ws.close_code})")
                    if msg.type is not aiohttp.WSMsgType.CLOSE:
                        log.warning("bluesky %s: stream dropped after %d frames; the next run "
                                    "resumes from time_us %s", self.key, run.frames, run.time_us)
                    break
                run.frames += 1
                if run.pending >= self.batch_size:
                    yield run.flush()
            if run.unflushed:
                yield run.flush()
        finally:
            await ws.close()

    async def _connect(self, after: int | None) -> aiohttp.ClientWebSocketResponse:
        """Open the subscription; handshake and network failures become domain errors."""
        params = [("wantedCollections", POST_COLLECTION)]
        # wantedDids narrows the whole stream, so it is only sent when DIDs are all we follow:
        # with keywords or handles we must see every author's posts and identity events.
        if self.dids and not self._keywords and not self.handles and len(self.dids) <= MAX_WANTED_DIDS:
            params += [("wantedDids", did) for did in sorted(self.dids)]
        if after is not None:
            params.append(("cursor", str(after)))
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                return await self.http.ws_connect(self.url, params=params, heartbeat=HEARTBEAT)
        except aiohttp.WSServerHandshakeError as exc:
            raise self._refused(exc) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SourceUnavailable(f"cannot connect to {self.url}: {exc or type(exc).__name__}") from exc

    def _refused(self, exc: aiohttp.WSServerHandshakeError) -> Exception:
        """The error for a refused handshake, reading rate-limit headers when there are any."""
        headers = exc.headers or {}
        self.rate_limit_remaining = _int_header(headers, "RateLimit-Remaining")
        reset = _int_header(headers, "RateLimit-Reset")
        self.rate_limit_reset = float(reset) if reset is not None else None
        if exc.status in (401, 403):
            return AuthFailed(f"{self.url} refused the subscription: HTTP {exc.status}")
        retry_after = _retry_after(headers, self.rate_limit_reset)
        return SourceUnavailable(f"{self.url} refused the subscription: HTTP {exc.status} "
                                 f"{exc.message}", retry_after=retry_after)

    def _take(self, run: _Run, frame: str) -> None:
        """Process one text frame: learn identities, keep matching new posts, reject bad ones."""
        try:
            event = json.loads(frame)
        except (ValueError, RecursionError):
            run.reject(run.where(), "frame is not JSON")
            return
        if not isinstance(event, dict):
            run.reject(run.where(), f"event must be a JSON object, got {type(event).__name__}")
            return
        time_us = event.get("time_us")
        if isinstance(time_us, bool) or not isinstance(time_us, int):
            run.reject(run.where(), "event has no integer 'time_us'")
            return
        if run.time_us is not None and time_us <= run.time_us:
            return  # replayed from the cursor: already read
        if time_us > (self.clock() + EVENT_TIME_SLACK) * 1_000_000:
            # As the cursor it would make every later event look replayed, for ever.
            run.reject(run.where(), f"event time_us {time_us} is after now; the cursor stays")
            return
        run.time_us = time_us
        where = f"jetstream event at time_us {time_us}"
        did, kind = event.get("did"), event.get("kind")
        if not isinstance(did, str) or not did.startswith("did:"):
            run.reject(where, "event has no 'did'")
            return
        if kind == "identity":
            self._learn(did, event.get("identity"))
            return
        if kind != "commit":
            return  # account status and kinds added later carry no posts
        commit = event.get("commit")
        if not isinstance(commit, dict):
            run.reject(where, "commit event has no 'commit' object")
            return
        if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
            return  # edits and deletes of posts are not new mentions
        rkey, record = commit.get("rkey"), commit.get("record")
        if not isinstance(rkey, str) or not rkey or "/" in rkey:
            run.reject(where, "post commit has no valid 'rkey'")
            return
        uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
        if not isinstance(record, dict):
            run.reject(uri, "post commit has no 'record' object")
            return
        text = record.get("text")
        text = clean_text(text) if isinstance(text, str) else None
        if not self._wanted(did, text):
            return
        try:
            run.keep(self._post(did, rkey, uri, record, text, epoch_time(time_us / 1_000_000)))
        except BadItem as exc:
            run.reject(uri, exc.reason)

    def _wanted(self, did: str, text: str | None) -> bool:
        """Whether a post is kept: a followed author, or a keyword in its text."""
        if did in self.dids or did in self._followed:
            return True
        return bool(self._keywords and text is not None and self._keywords.search(text))

    def _learn(self, did: str, identity: Any) -> None:
        """Remember the handle an identity event announces for ``did``."""
        if not isinstance(identity, dict) or not isinstance(identity.get("handle"), str):
            return  # identity events without a handle only say "re-resolve me"
        handle = normalise_handle(identity["handle"])
        if handle in self.handles:
            self._followed[did] = handle
        else:
            self._followed.pop(did, None)  # the followed handle moved to another account
        self._known_handles[did] = handle
        self._known_handles.move_to_end(did)
        if len(self._known_handles) > KNOWN_HANDLES:
            self._known_handles.popitem(last=False)

    def _post(self, did: str, rkey: str, uri: str, record: dict[str, Any], text: str | None,
              seen_at: datetime | None) -> RawPost:
        """A ``RawPost`` from a post record; ``BadItem`` names the field that is wrong.

        ``createdAt`` is whatever the author's client wrote: a post "created" in 2099 is dated
        when the relay saw it (``seen_at``), as Bluesky's own app sorts it (the earlier of the two).
        """
        if text is None:
            raise BadItem("post record has no string 'text'")
        created_at = parse_time(record.get("createdAt"), "createdAt")
        if seen_at is not None and created_at > seen_at:
            created_at = seen_at
        langs = record.get("langs")
        language = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        return RawPost(
            source="bluesky",
            external_id=uri,
            author=Author(handle=self._followed.get(did) or self._known_handles.get(did, did),
                          platform_id=did),
            text=text,
            created_at=created_at,
            url=f"https://bsky.app/profile/{did}/post/{rkey}",
            parent_id=_ref_uri(reply, "parent"),
            thread_id=_ref_uri(reply, "root"),
            language=language,
        )


class _Run:
    """What one run has read: the last event time, and the posts not yet handed on."""

    def __init__(self, time_us: int | None) -> None:
        self.time_us = time_us
        self._flushed_time_us = time_us
        self.posts: list[RawPost] = []
        self.rejected: list[Rejection] = []
        self.post_count = 0
        self.frames = 0

    @property
    def pending(self) -> int:
        """Posts and rejections waiting for the next batch."""
        return len(self.posts) + len(self.rejected)

    @property
    def unflushed(self) -> bool:
        """Whether a batch is due: items waiting, or the cursor moved past skipped events."""
        return bool(self.pending) or self.time_us != self._flushed_time_us

    def where(self) -> str:
        """Where in the stream a frame without a time of its own sits."""
        if self.time_us is None:
            return "jetstream frame before any event time"
        return f"jetstream frame after time_us {self.time_us}"

    def keep(self, post: RawPost) -> None:
        """Add a post to the next batch."""
        self.posts.append(post)
        self.post_count += 1

    def reject(self, where: str, reason: str) -> None:
        """Add a rejection to the next batch."""
        self.rejected.append(Rejection(where, reason))

    def flush(self) -> Batch:
        """The batch of everything read since the last one, with the cursor after it."""
        batch = Batch(tuple(self.posts), {} if self.time_us is None else {"time_us": self.time_us},
                      tuple(self.rejected))
        self.posts, self.rejected = [], []
        self._flushed_time_us = self.time_us
        return batch


def _stored_time_us(cursor: Mapping[str, Any] | None) -> int | None:
    """The ``time_us`` a stored cursor resumes from; ``None`` starts live."""
    value = (cursor or {}).get("time_us")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        log.warning("bluesky cursor %r has no usable time_us; starting live", cursor)
        return None
    return value


def _ref_uri(reply: Mapping[str, Any], name: str) -> str | None:
    """The ``uri`` of ``reply.parent`` or ``reply.root``, when it is there."""
    ref = reply.get(name)
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) and uri else None


def _string_list(options: Mapping[str, Any], key: str) -> list[str]:
    """A list-of-strings option; one string is taken as a list of one."""
    value = options.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise NotConfigured(f"bluesky option '{key}' must be a list of strings, got {value!r}")
    return [v for v in value if v.strip()]


def _positive(options: Mapping[str, Any], key: str, default: Any, kind: type) -> Any:
    """A positive number option, or ``default`` when it is absent."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, kind)) or value <= 0:
        raise NotConfigured(f"bluesky option '{key}' must be a positive {kind.__name__}, got {value!r}")
    return kind(value)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header value, ``None`` when absent or not a number."""
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def _retry_after(headers: Mapping[str, str], reset: float | None) -> float | None:
    """Seconds to wait: ``Retry-After`` (seconds or HTTP date), else the rate-limit reset."""
    value = headers.get("Retry-After")
    wait = parse_retry_after(value, time.time())
    if wait is not None:
        return wait
    if value and value.strip():
        log.warning("unreadable Retry-After header %r", value)
    return max(reset - time.time(), 0.0) if reset is not None else None
