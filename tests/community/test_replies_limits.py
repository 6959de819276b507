"""A platform's rate limit is kept in the store: another process (its own store connection and
desk) and a process started after it wait too, without asking the platform again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp

from collectors.replies.mastodon import MastodonReplies
from community.replies import ReplyDesk
from storage import open_store
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, RESET, MastodonWrites
from tests.community.reply_fixtures import (
    MANAGER,
    SECOND_MANAGER,
    SOURCE_KEY,
    STATUS_ID,
    Clock,
    desk_for,
    fake_mastodon,
    mastodon_mention,
)

TEXT = "Thanks! Bulk routing shipped: https://ideas.nimbus.example/forum/ideas/3"


def limited_clock(desk: ReplyDesk) -> None:
    """The writer reads Mastodon's reset header against this clock: 600 s to wait."""
    writer = desk.writers.by_source[SOURCE_KEY]
    assert isinstance(writer, MastodonReplies)
    writer.clock = lambda: (RESET - timedelta(seconds=600)).timestamp()


async def test_a_limit_one_process_was_told_holds_another_and_a_restarted_one(tmp_path: Path) -> None:
    fake = MastodonWrites()
    fake.add_status(STATUS_ID, "Anyone tried the bulk routing API?")
    server = await fake_mastodon(fake)
    url = f"sqlite:///{tmp_path / 'replies.db'}"
    first_store, second_store = await open_store(url), await open_store(url)
    clock = Clock()
    try:
        async with aiohttp.ClientSession() as http:
            api = desk_for(first_store, server, http, clock)  # the process serving the manager
            job = desk_for(second_store, server, http, clock)  # the scheduler process
            limited_clock(api)
            limited_clock(job)
            mention_id = await mastodon_mention(first_store)
            fake.remaining = 0  # the instance answers 429 until its window resets
            one = await api.draft(MANAGER, mention_id, text=TEXT)
            await api.approve(SECOND_MANAGER, one.id or 0)
            await api.sender.run_due()
            assert (await first_store.get_reply(one.id or 0)).retry_after == clock() + timedelta(seconds=600)
            asked = len(fake.posts)
            [limit] = await second_store.platform_limits(clock())
            assert (limit.platform, limit.source_key, limit.until) == ("mastodon", SOURCE_KEY,
                                                                      clock() + timedelta(seconds=600))
            assert "try again in 600 s" in limit.reason

            # The window has reset on the platform's side, but the other process still waits.
            fake.remaining = 300
            two = await job.draft(MANAGER, mention_id, text=TEXT + " (2)")
            await job.approve(SECOND_MANAGER, two.id or 0)
            run = await job.sender.run_due()
            held = await second_store.get_reply(two.id or 0)
            assert run.sent == 0 and held.state == "approved" and held.retry_after == limit.until
            assert "asked us to wait" in (held.failure or "") and len(fake.posts) == asked

            # A restart: a new store handle and desk remember the wait, then send after it.
            await first_store.close()
            first_store = await open_store(url)
            restarted = desk_for(first_store, server, http, clock)
            assert (await restarted.sender.run_due()).sent == 0 and len(fake.posts) == asked
            clock.advance(601)
            assert (await restarted.sender.run_due()).sent == 2
            assert len([s for s in fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]) == 2
            assert await first_store.platform_limits(clock()) == []
    finally:
        await first_store.close()
        await second_store.close()
        await server.close()
