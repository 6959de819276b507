"""Signed HTTP bodies, both ways: ``sha256=HMAC(secret, timestamp + "." + body)``.

One scheme for everything crmsphere signs or checks: the webhooks and event stream it
sends, and the pushes (``POST /api/ingest/{name}``) and CRM batches
(``POST /api/customers/sync``) it receives, with ``X-Crmsphere-Timestamp`` and
``X-Crmsphere-Signature`` headers.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from domain.errors import AuthFailed


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``timestamp + "." + body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class SignedRequests:
    """Checks incoming signed requests: right secret, fresh timestamp, never the same one twice.

    A request older or newer than ``max_skew`` seconds is refused, so a captured request
    cannot be replayed later; within the window an exact replay is refused too.  The
    replay memory is per process: behind several processes the timestamp window is
    what bounds a replay.
    """

    def __init__(self, secret: str, max_skew: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret, self.max_skew, self.clock = secret, max_skew, clock
        self._recent: OrderedDict[str, float] = OrderedDict()

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> None:
        """``AuthFailed`` naming what is wrong unless the request is signed, fresh and new."""
        if not timestamp or not signature:
            raise AuthFailed("missing X-Crmsphere-Timestamp or X-Crmsphere-Signature header")
        try:
            sent = float(timestamp)
        except ValueError:
            raise AuthFailed("X-Crmsphere-Timestamp is not a number (seconds since 1970)") from None
        if not math.isfinite(sent):  # "nan" would pass every freshness check, for ever
            raise AuthFailed("X-Crmsphere-Timestamp is not a number (seconds since 1970)")
        now = self.clock()
        if abs(now - sent) > self.max_skew:
            raise AuthFailed(f"request timestamp is more than {self.max_skew:g} s "
                             f"({self.max_skew / 60:g} minutes) away from now (stale or clock skew)")
        if not hmac.compare_digest(sign(self.secret, timestamp, body), signature):
            raise AuthFailed('signature does not match: expected "sha256=" + hex HMAC-SHA256 of '
                             'timestamp + "." + body')
        while self._recent and next(iter(self._recent.values())) < now - self.max_skew:
            self._recent.popitem(last=False)
        if signature in self._recent:
            raise AuthFailed("this signed request was already received")
        self._recent[signature] = now
