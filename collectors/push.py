"""Push ingest: posts sent to ``POST /api/ingest/{name}``, signed with a per-source secret.

The sender signs ``"{timestamp}.{body}"`` with HMAC-SHA256 and sends
``X-Crmsphere-Timestamp: <unix seconds>`` and ``X-Crmsphere-Signature: sha256=<hex>``.
Requests older (or newer) than five minutes are refused, so a captured request
cannot be replayed later; within the window an exact replay is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from crmsphere.domain import RawPost, Rejection
from crmsphere.errors import AuthFailed, BadInput, BadItem, NotConfigured

from collectors.base import Batch, Collector
from collectors.post_format import parse_post
from collectors.registry import register

MAX_SKEW = 300.0
MAX_POSTS = 1_000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@register("push")
class PushSource(Collector):
    """A source that is sent posts rather than polled.  Needs credential ``secret``."""

    scheduled = False

    def __init__(self, key: str, options: dict[str, Any], http: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(key, options, http)
        self.secret = self.credentials.get("secret")
        if not self.secret:
            raise NotConfigured(
                f"push source {options.get('name')!r} needs a secret: set the environment "
                f"variable named by 'secret_env'")
        self.clock = clock
        self._recent: OrderedDict[str, float] = OrderedDict()

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> None:
        """Raise ``AuthFailed`` unless the request is signed, fresh and not a replay."""
        if not timestamp or not signature:
            raise AuthFailed("missing X-Crmsphere-Timestamp or X-Crmsphere-Signature header")
        try:
            sent = float(timestamp)
        except ValueError:
            raise AuthFailed("X-Crmsphere-Timestamp is not a number") from None
        now = self.clock()
        if abs(now - sent) > MAX_SKEW:
            raise AuthFailed("request timestamp is more than 5 minutes away from now")
        if not hmac.compare_digest(sign(self.secret or "", timestamp, body), signature):
            raise AuthFailed("signature does not match")
        while self._recent and next(iter(self._recent.values())) < now - MAX_SKEW:
            self._recent.popitem(last=False)
        if signature in self._recent:
            raise AuthFailed("this signed request was already received")
        self._recent[signature] = now

    def parse(self, body: bytes) -> tuple[list[RawPost], list[Rejection]]:
        """Posts from a JSON body (a list, or ``{"posts": [...]}``); bad items are rejected by index."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise BadInput(f"body is not JSON: {exc}") from None
        items = data.get("posts") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise BadInput('body must be a JSON list of posts or {"posts": [...]}')
        if len(items) > MAX_POSTS:
            raise BadInput(f"at most {MAX_POSTS} posts per request", {"posts": len(items)})
        posts: list[RawPost] = []
        rejected: list[Rejection] = []
        for index, item in enumerate(items):
            try:
                posts.append(parse_post(item))
            except BadItem as exc:
                rejected.append(Rejection(f"posts[{index}]", exc.reason))
        return posts, rejected

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Nothing to poll: posts arrive through the API."""
        return
        yield  # pragma: no cover  (makes this an async generator)
