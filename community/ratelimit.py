"""Per-caller rate limits (create idea, vote, comment, sign-in, sign-up, mailed links), counted
in the store in fixed windows so that every serving process sees the same counts.

A limit may be a back-off ladder (``config.forum.Backoff``): the same requests counted over
growing windows, shortest first.  A request refused by one step is not counted by the
longer ones, so a caller who keeps trying gets through a few at each step and then waits
for the longest window it filled."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from config.forum import RateLimit, RateLimitSettings
from domain.forum import RateWindow
from domain.errors import RateLimited
from storage import Store

#: What each limit counts, for the message the caller reads.
_DOING = {
    "ideas": "new ideas", "votes": "votes", "comments": "comments",
    "mail_links_per_email": "mailed links for this address",
    "mail_links_per_ip": "mailed links from your network address",
    "sign_in_per_account": "sign-in attempts for this account",
    "sign_in_per_ip": "sign-in attempts from your network address",
    "signups_per_ip": "sign-ups from your network address",
}


async def count_hit(store: Store, rate: RateWindow) -> int:
    """Count one request in ``rate``'s window (older windows of its subject forgotten) and
    return the window's count so far, atomically: every serving process shares the count."""
    return await store.unit_of_work().run(lambda uow: uow.rates.hit(rate))


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
        """The window one request of ``subject`` under the single limit ``scope`` counts in
        now, or ``None`` when that limit is off."""
        return self._window(scope, getattr(self.settings, scope), subject)

    def _window(self, scope: str, rule: RateLimit, subject: str) -> RateWindow | None:
        if rule.limit == 0:
            return None
        window = rule.window_seconds
        start = int(self.clock() // window) * window
        return RateWindow(scope, subject, start, start - window, rule.limit)

    def windows(self, scope: str, subject: str) -> list[RateWindow]:
        """The windows one request counts in now under ``scope``: one per step of a back-off
        ladder (each step its own counter), shortest first; none when every step is off."""
        rules = getattr(self.settings, scope)
        if isinstance(rules, RateLimit):
            rules = (rules,)
        found = []
        for step, rule in enumerate(rules):
            # The first step keeps the scope's own name (counters of a single limit go on).
            key = scope if step == 0 else f"{scope}/{rule.window_seconds}"
            window = self._window(key, rule, subject)
            if window is not None:
                found.append(window)
        return found

    def check(self, rate: RateWindow, hits: int) -> None:
        """``RateLimited`` (with the seconds to wait) when ``hits`` passed the window's limit."""
        if hits > rate.limit:
            length = rate.window_start - rate.forget_before
            retry = max(1, math.ceil(rate.window_start + length - self.clock()))
            raise RateLimited(
                f"too many {_DOING.get(rate.scope.split('/')[0], rate.scope)}: "
                f"at most {rate.limit} per "
                f"{_window(length)}; try again in {retry} seconds", retry)

    async def hit(self, scope: str, subject: str) -> None:
        """Count one request of ``subject`` under the limit (or back-off ladder) named ``scope``;
        ``RateLimited`` at the first step it passes."""
        for rate in self.windows(scope, subject):
            self.check(rate, await count_hit(self.store, rate))
