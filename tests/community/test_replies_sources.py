"""Replies go out through the source that read the mention: two Mastodon instances, each with
its own account, on 127.0.0.1; a mention whose source is unknown or removed is refused with
the reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from community.replies import ReplyDesk
from community.reply_writers import writers_by_source
from config.replies import RepliesSettings
from domain.errors import Conflict
from storage import Store
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, MastodonWrites
from tests.community.reply_fixtures import MANAGER, SECOND_MANAGER, Clock, fake_mastodon, mastodon_mention

TEXT = "Thanks! Bulk routing shipped: https://ideas.nimbus.example/forum/ideas/3"
#: One customer's status as each instance knows it: federated copies get local ids.
ON_A, ON_B = "109412345678901234", "115600000000000101"


def ours(fake: MastodonWrites) -> list[dict]:
    return [s for s in fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]


@pytest.fixture
async def instances() -> AsyncIterator[tuple[tuple[MastodonWrites, str], tuple[MastodonWrites, str]]]:
    a, b = MastodonWrites(token="token-of-our-account-on-a"), MastodonWrites(token="token-of-our-account-on-b")
    a.add_status(ON_A, "Anyone tried the bulk routing API?")
    b.add_status(ON_B, "Anyone tried the bulk routing API?")
    servers = [await fake_mastodon(a), await fake_mastodon(b)]
    try:
        yield (a, str(servers[0].make_url("")).rstrip("/")), (b, str(servers[1].make_url("")).rstrip("/"))
    finally:
        for server in servers:
            await server.close()


def desk_of(store: Store, http: aiohttp.ClientSession, *bases: tuple[str, str]) -> ReplyDesk:
    """A desk with one Mastodon source per (name, base URL), each with its own token."""
    tables = [{"kind": "mastodon", "name": name, "instance": base, "hashtags": ["nimbus"],
               "reply": {"access_token_env": f"REPLY_TOKEN_{name.upper()}"}} for name, base in bases]
    environ = {"REPLY_TOKEN_MASTODON_A": "token-of-our-account-on-a",
               "REPLY_TOKEN_MASTODON_B": "token-of-our-account-on-b"}
    return ReplyDesk(store, RepliesSettings(), writers_by_source(tables, environ, http), clock=Clock())


async def approved_and_sent(desk: ReplyDesk, mention_id: int):  # type: ignore[no-untyped-def]
    draft = await desk.draft(MANAGER, mention_id, text=TEXT)
    await desk.approve(SECOND_MANAGER, draft.id or 0)
    await desk.sender.run_due()
    return await desk.store.get_reply(draft.id or 0)


async def test_a_reply_goes_out_through_the_instance_that_read_the_mention(store: Store, instances) -> None:  # type: ignore[no-untyped-def]
    (a, base_a), (b, base_b) = instances
    async with aiohttp.ClientSession() as http:
        desk = desk_of(store, http, ("mastodon_a", base_a), ("mastodon_b", base_b))
        from_b = await mastodon_mention(store, ON_B, key="mastodon_b")
        # What its reply fold says: the source that read it, ready.
        assert desk.reply_source_of(await store.get_mention(from_b)) == ("mastodon_b", "")

        sent = await approved_and_sent(desk, from_b)

        assert sent.state == "sent", sent.failure
        [posted] = ours(b)
        assert posted["in_reply_to_id"] == ON_B and sent.platform_id == posted["id"]
        assert ours(a) == [] and a.posts == []  # instance A was never asked
        from_a = await mastodon_mention(store, ON_A, key="mastodon_a", customer_id="cus_other", name="Other Co")
        assert (await approved_and_sent(desk, from_a)).state == "sent"
        assert [s["in_reply_to_id"] for s in ours(a)] == [ON_A] and len(ours(b)) == 1


async def test_an_unknown_or_removed_source_turns_the_reply_off_with_the_reason(store: Store, instances) -> None:  # type: ignore[no-untyped-def]
    (a, base_a), (b, base_b) = instances
    async with aiohttp.ClientSession() as http:
        desk = desk_of(store, http, ("mastodon_a", base_a), ("mastodon_b", base_b))
        # Stored before the source was kept: either instance could have read it.
        legacy = await mastodon_mention(store, ON_B, key="mastodon_b")
        await store_without_key(store, legacy)
        ready, why = desk.reply_status_of(await store.get_mention(legacy))
        assert not ready and why == ("which mastodon source read this mention is not known "
                                     "(configured: mastodon_a, mastodon_b): reply on mastodon itself")
        assert desk.reply_source_of(await store.get_mention(legacy)) == (None, why)
        draft = await desk.draft(MANAGER, legacy, text=TEXT)
        with pytest.raises(Conflict, match="is not known"):
            await desk.approve(SECOND_MANAGER, draft.id or 0)

        retired = await mastodon_mention(store, "109999999999999999", key="mastodon_retired",
                                         customer_id="cus_gone", name="Gone Ltd")
        ready, why = desk.reply_status_of(await store.get_mention(retired))
        assert not ready and why == ("source 'mastodon_retired', which read this mention, is no longer "
                                     "configured: reply on mastodon itself")
        assert desk.reply_source_of(await store.get_mention(retired)) == (None, why)
        assert a.posts == [] and b.posts == []

        # With one Mastodon source left, an unknown or pushed mention has only one way out.
        only_b = desk_of(store, http, ("mastodon_b", base_b))
        assert only_b.reply_source_of(await store.get_mention(legacy)) == ("mastodon_b", "")
        assert (await approved_and_sent(only_b, legacy)).state == "sent"
        pushed = await mastodon_mention(store, "115600000000000202", key="push:partner",
                                        customer_id="cus_push", name="Push Co")
        b.add_status("115600000000000202", "pushed by a partner")
        assert (await approved_and_sent(only_b, pushed)).state == "sent"
        demo = await mastodon_mention(store, "115600000000000303", key="demo:posts",
                                      customer_id="cus_demo", name="Demo Co")
        b.add_status("115600000000000303", "a demo post")
        assert (await approved_and_sent(only_b, demo)).state == "sent"
        assert sorted(s["in_reply_to_id"] for s in ours(b)) == [ON_B, "115600000000000202", "115600000000000303"]
        assert a.posts == []


async def store_without_key(store: Store, mention_id: int) -> None:
    """Make the mention look like one stored before migration 0071 could tell its source."""
    conn = getattr(store, "_writer", None)
    if conn is not None:
        await conn.transaction(lambda c: c.execute("UPDATE mentions SET source_key = NULL WHERE id = ?",
                                                   (mention_id,)))
    else:
        await store.database.mentions.update_one(  # type: ignore[attr-defined]
            {"_id": mention_id}, {"$unset": {"source_key": 1}})
