"""Rate limits with a fake clock, and a status change that cannot store its notifications
leaving nothing behind (one transaction)."""

from __future__ import annotations

import sqlite3

import pytest

from community.ideas import Ideas
from community.ratelimit import RateLimiter
from config.forum import RateLimitSettings
from domain.notify import Notification
from domain.errors import RateLimited
from tests.community.forum_helpers import make_viewer


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_rate_limit_windows_and_retry_after(forum_store) -> None:
    clock = FakeClock(10_000.0)
    limits = RateLimiter(forum_store, RateLimitSettings(
        comments={"limit": 2, "window_seconds": 60}, votes={"limit": 0, "window_seconds": 60}), clock)
    await limits.hit("comments", "account:1")
    await limits.hit("comments", "account:1")
    clock.now = 10_015.5
    with pytest.raises(RateLimited) as caught:
        await limits.hit("comments", "account:1")
    # The window started at 9960 (a multiple of 60) and ends at 10020.
    assert caught.value.retry_after == 5 and "at most 2 per minute" in str(caught.value)
    await limits.hit("comments", "account:2")  # someone else is not affected
    clock.now = 10_020.0
    await limits.hit("comments", "account:1")  # a new window
    for _ in range(50):
        await limits.hit("votes", "account:1")  # limit 0: off


class BrokenSink:
    """An event sink whose notifications name an account that does not exist."""

    async def idea_created(self, idea) -> None: ...
    async def idea_scored(self, idea_id) -> None: ...

    async def status_notifications(self, idea, change, follower_ids):
        note = Notification(account_id=987654, kind="status_changed", title="t", body="b",
                            dedupe_key=f"x:{idea.id}", created_at=change.created_at, idea_id=idea.id)
        return [(note, None)]

    async def status_changed(self, idea, change, follower_ids) -> None:
        raise AssertionError("not reached: the change failed")


async def test_a_status_change_whose_notifications_fail_changes_nothing(forum_store, forum_settings) -> None:
    author = await make_viewer(forum_store, "jo@acmeanvils.example", customer_id="cus_jo")
    staff = await make_viewer(forum_store, "pm@crm.example", "team")
    idea = await Ideas(forum_store, forum_settings).submit(author, "Dark mode", "")
    with pytest.raises(sqlite3.IntegrityError):
        await Ideas(forum_store, forum_settings, BrokenSink()).change_status(staff, idea.id, "planned", "Soon")
    assert (await forum_store.get_idea(idea.id)).status == "open"
    assert await forum_store.status_history(idea.id) == []
    assert await forum_store.list_notifications(author.account_id) == []
    changed = await Ideas(forum_store, forum_settings).change_status(staff, idea.id, "planned", "Soon")
    assert changed.idea.status == "planned"
