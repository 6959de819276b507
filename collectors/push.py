"""Push ingest: posts sent to ``POST /api/ingest/{name}``, signed with a per-source secret.

The sender signs ``"{timestamp}.{body}"`` with HMAC-SHA256 and sends
``X-Crmsphere-Timestamp: <unix seconds>`` and ``X-Crmsphere-Signature: sha256=<hex>``.
Requests older (or newer) than five minutes are refused, so a captured request
cannot be replayed later; within the window an exact replay is refused too.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from collections.abc import AsyncIterator, Callable
from typing import Any

from domain import RawPost, Rejection
from domain.errors import BadInput, BadItem, NotConfigured
from domain.signing import SignedRequests, sign  # noqa: F401  (sign: for senders and tests)

from collectors.base import Batch, Collector, SourceOptions
from collectors.post_format import parse_post
from collectors.registry import register

MAX_SKEW = 300.0
MAX_POSTS = 1_000


class PushOptions(SourceOptions):
    """The options of a ``push`` source: only the name of the secret's variable."""

    secret_env: str | None = None


@register("push")
class PushSource(Collector):
    """A source that is sent posts rather than polled.  Needs credential ``secret``."""

    scheduled = False
    options_model = PushOptions

    def __init__(self, key: str, options: dict[str, Any], http: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(key, options, http)
        self.secret = self.credentials.get("secret")
        if not self.secret:
            raise NotConfigured(
                f"push source {options.get('name')!r} needs a secret: set the environment "
                f"variable named by 'secret_env'")
        self._clock = clock
        self._signed = SignedRequests(self.secret, MAX_SKEW, clock)

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> None:
        """Raise ``AuthFailed`` unless the request is signed, fresh and not a replay."""
        self._signed.verify(timestamp, signature, body)

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
        now = datetime.fromtimestamp(self._clock(), timezone.utc)
        for index, item in enumerate(items):
            try:
                posts.append(parse_post(item, now))
            except BadItem as exc:
                rejected.append(Rejection(f"posts[{index}]", exc.reason))
        return posts, rejected

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Nothing to poll: posts arrive through the API."""
        return
        yield  # pragma: no cover  (makes this an async generator)
