"""Shipped ideas: a drafted reply per linked social mention, once, approved in one batch; the
team note names only the customers no reply can reach (both backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from community.notify import Notifier
from community.reply_shipped import draft_shipped_replies, shipped_batch
from config.forum import ForumSettings
from config.notify import NotifySettings
from domain.forum import NewIdea, StatusChange
from storage import Store
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, MastodonWrites
from tests.community.reply_fixtures import MANAGER, Clock, desk_for, fake_mastodon, mastodon_mention
from tests.conftest import T0
from tests.forum_rules import create_idea

IDEA_URL = "https://ideas.nimbus.example/forum/ideas/{}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_shipped_idea_drafts_one_batch_approved_in_one_action(store: Store, http: aiohttp.ClientSession) -> None:
    fake = MastodonWrites()
    ids = [str(115600000000000101 + n) for n in range(3)]
    for status_id in ids:
        fake.add_status(status_id, "bulk routing please")
    server = await fake_mastodon(fake)
    try:
        desk = desk_for(store, server, http, Clock())
        mentions = [await mastodon_mention(store, s, customer_id=f"cus_{n}") for n, s in enumerate(ids)]
        rss = await mastodon_mention(store, "https://blog.example/p/1", source="rss", customer_id="cus_blog")
        idea = await create_idea(store, NewIdea("Bulk routing", "", None, "open"), T0)
        for mention_id in (*mentions, rss):
            await store.link_mention(idea.id, mention_id)
        change = StatusChange(idea.id, "in_progress", "done", "Shipped in 4.2", None, T0)

        covered = await draft_shipped_replies(desk, idea, change, IDEA_URL.format(idea.id))
        assert covered == {"cus_0", "cus_1", "cus_2"}
        batch = shipped_batch(idea.id, "done")
        drafts = await desk.list_replies(batch_key=batch)
        assert sorted(r.mention_id for r in drafts) == sorted(mentions)
        assert drafts[0].text == f"Thanks for the idea, Target Logistics: this shipped. {IDEA_URL.format(idea.id)}"
        # Replayed: nothing twice.  Not a shipped status: nothing at all.
        await draft_shipped_replies(desk, idea, change, IDEA_URL.format(idea.id))
        assert len(await desk.list_replies(batch_key=batch)) == 3
        declined = StatusChange(idea.id, "done", "declined", "", None, T0)
        assert await draft_shipped_replies(desk, idea, declined, "x") == set()

        approved = await desk.approve_batch(MANAGER, batch)
        assert len(approved) == 3 and {r.approved_by for r in approved} == {MANAGER.key}
        run = await desk.sender.run_due()
        assert run.sent == 3
        replies_to = sorted(s["in_reply_to_id"] for s in fake.statuses.values()
                            if s["account"]["id"] == OUR_ACCOUNT["id"])
        assert replies_to == sorted(ids)
    finally:
        await server.close()


async def test_team_note_names_only_customers_no_reply_reaches(store: Store, http: aiohttp.ClientSession) -> None:
    fake = MastodonWrites()
    fake.add_status("115600000000000101", "bulk routing please")
    server = await fake_mastodon(fake)
    try:
        desk = desk_for(store, server, http, Clock())
        social = await mastodon_mention(store, customer_id="cus_target")
        blog = await mastodon_mention(store, "https://blog.example/p/1", source="rss", customer_id="cus_blog")
        idea = await create_idea(store, NewIdea("Bulk routing", "", None, "open"), T0)
        for mention_id in (social, blog):
            await store.link_mention(idea.id, mention_id)
        notes: list[list[str]] = []
        notifier = Notifier(store, NotifySettings(), ForumSettings(), "https://ideas.nimbus.example", b"k" * 32)

        async def tell(idea, change, customer_ids, label):  # type: ignore[no-untyped-def]
            notes.append(list(customer_ids))

        notifier._tell_teams = tell  # type: ignore[method-assign]
        notifier.shipped_replies = lambda i, c: draft_shipped_replies(desk, i, c, IDEA_URL.format(i.id))
        await notifier.status_stored(idea, StatusChange(idea.id, "open", "done", "", None, T0))
        assert notes == [["cus_blog"]]
        assert [r.mention_id for r in await desk.list_replies(state="draft")] == [social]
    finally:
        await server.close()
