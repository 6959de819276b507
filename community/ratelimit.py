"""Per-caller rate limits (create idea, vote, comment, mailed links), counted in the store in
fixed windows so that every serving process sees the same counts."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from config.forum import RateLimitSettings
from crmsphere.domain_forum import RateWindow
from crmsphere.errors import RateLimited
from storage import Store

#: What each limit counts, for the message the caller reads.
_DOING = {
    "ideas": "new ideas", "votes": "votes", "comments": "comments",
    "mail_links_per_email": "mailed links for this address",
    "mail_links_per_ip": "mailed links from your network address",
}


def _window(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"


class RateLimiter:
    """Counts requests per (limit, subject); ``RateLimited`` once a window's limit is passed."""

    def __init__(self, store: Store, settings: RateLimitSettings,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.settings, self.clock = store, settings, clock

    def window(self, scope: str, subject: str) -> RateWindow | None:
        """The window one request of ``subject`` under the limit ``scope`` counts in now, or
        ``None`` when that limit is off."""
        rule = getattr(self.settings, scope)
        if rule.limit == 0:
            return None
        window = rule.window_seconds
        start = int(self.clock() // window) * window
        return RateWindow(scope, subject, start, start - window, rule.limit)

    def check(self, rate: RateWindow, hits: int) -> None:
        """``RateLimited`` (with the seconds to wait) when ``hits`` passed the window's limit."""
        if hits > rate.limit:
            length = rate.window_start - rate.forget_before
            retry = max(1, math.ceil(rate.window_start + length - self.clock()))
            raise RateLimited(
                f"too many {_DOING.get(rate.scope, rate.scope)}: at most {rate.limit} per "
                f"{_window(length)}; try again in {retry} seconds", retry)

    async def hit(self, scope: str, subject: str) -> None:
        """Count one request of ``subject`` under the limit named ``scope``."""
        rate = self.window(scope, subject)
        if rate is not None:
            self.check(rate, await self.store.count_rate_hit(
                rate.scope, rate.subject, rate.window_start, rate.forget_before))
