"""The replies workflow on both backends, against a fake Mastodon over real HTTP: who may do
what, a second person's approval, exactly once across a crash, rate limits, Hacker News."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from collectors.replies import ReplyTarget
from collectors.replies.mastodon import MastodonReplies
from community.replies import ReplyDesk
from config.replies import RepliesSettings
from domain.errors import BadInput, Conflict, Forbidden
from storage import Store
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, RESET, MastodonWrites
from tests.community.reply_fixtures import (
    CUSTOMER,
    MANAGER,
    SECOND_MANAGER,
    SOURCE_KEY,
    STATUS_ID,
    TEAM_MEMBER,
    Clock,
    desk_for,
    fake_mastodon,
    mastodon_mention,
)

TEXT = "Thanks Target! Bulk routing shipped today: https://ideas.nimbus.example/forum/ideas/3"


@pytest.fixture
async def fake() -> AsyncIterator[MastodonWrites]:
    instance = MastodonWrites()
    instance.add_status(STATUS_ID, "Anyone tried the bulk routing API?")
    yield instance


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def desk(store: Store, fake: MastodonWrites, http: aiohttp.ClientSession) -> AsyncIterator[ReplyDesk]:
    server = await fake_mastodon(fake)
    try:
        yield desk_for(store, server, http, Clock())
    finally:
        await server.close()


def ours(fake: MastodonWrites) -> list[dict]:
    return [s for s in fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]


async def test_a_second_person_approves_and_the_reply_lands_in_the_thread(
        store: Store, desk: ReplyDesk, fake: MastodonWrites) -> None:
    mention_id = await mastodon_mention(store)
    draft = await desk.draft(MANAGER, mention_id, text=TEXT, team_key="product")
    with pytest.raises(Forbidden, match="second person"):
        await desk.approve(MANAGER, draft.id or 0)

    approved = await desk.approve(SECOND_MANAGER, draft.id or 0)

    # Approving only records it: the sender, woken by the approval, posts it off the request.
    assert approved.state == "approved" and approved.approved_by == "account:2"
    await desk.sender.settled()
    sent = await store.get_reply(draft.id or 0)
    assert sent.state == "sent" and sent.sent_by == "account:2"
    [posted] = ours(fake)
    assert posted["in_reply_to_id"] == STATUS_ID and sent.platform_id == posted["id"]
    assert sent.platform_url == posted["url"]
    audit = await store.reply_audit(sent.id or 0)
    assert [(a.action, a.actor) for a in audit] == [
        ("drafted", "account:1"), ("approved", "account:2"), ("sending", "job:replies"), ("sent", "job:replies")]
    with pytest.raises(Conflict, match="is sent"):
        await desk.send(SECOND_MANAGER, sent.id or 0)
    assert len(ours(fake)) == 1


async def test_roles_customers_never_and_team_members_only_with_the_right(
        store: Store, desk: ReplyDesk, fake: MastodonWrites) -> None:
    mention_id = await mastodon_mention(store)
    with pytest.raises(Forbidden):
        await desk.draft(CUSTOMER, mention_id, text=TEXT)
    draft = await desk.draft(TEAM_MEMBER, mention_id, saved="thanks")
    assert draft.text == "Thanks Target Logistics, we have passed this on to the team."
    for move in (desk.approve, desk.send):
        with pytest.raises(Forbidden, match="only managers"):
            await move(TEAM_MEMBER, draft.id or 0)
        with pytest.raises(Forbidden):
            await move(CUSTOMER, draft.id or 0)
    # A team that needs no approval: a manager sends a draft at once; with the right, a member may.
    relaxed = RepliesSettings(approval_by_team={"support": False}, team_members_may_send=True)
    desk.settings = desk.sender.settings = relaxed
    own = await desk.draft(TEAM_MEMBER, mention_id, text=TEXT, team_key="support")
    assert (await desk.send(TEAM_MEMBER, own.id or 0)).state == "approved"
    await desk.sender.settled()
    assert (await store.get_reply(own.id or 0)).state == "sent"
    with pytest.raises(BadInput, match="NUL"):
        await desk.draft(MANAGER, mention_id, text="bad\x00text")
    with pytest.raises(BadInput, match="needs an idea link"):
        await desk.draft(MANAGER, mention_id, saved="shipped")
    with pytest.raises(BadInput, match="idea_url must be an http"):  # the form path has no schema
        await desk.draft(MANAGER, mention_id, saved="shipped", idea_url="javascript:alert(1)")


class CrashAfterSend(MastodonReplies):
    """The process dies after the platform took the reply, before it is recorded."""

    async def send(self, target: ReplyTarget, text: str):  # type: ignore[override]
        await super().send(target, text)
        raise RuntimeError("killed between send and record")


async def test_a_crash_between_send_and_record_never_posts_twice(
        store: Store, desk: ReplyDesk, fake: MastodonWrites) -> None:
    mention_id = await mastodon_mention(store)
    real = desk.writers.by_source[SOURCE_KEY]
    assert isinstance(real, MastodonReplies)
    crashing = CrashAfterSend(real.credentials, real.options, real.http)
    desk.writers.by_source[SOURCE_KEY] = crashing  # type: ignore[index]
    draft = await desk.draft(MANAGER, mention_id, text=TEXT)
    await desk.approve(SECOND_MANAGER, draft.id or 0)
    await desk.sender.settled()  # the woken round died between send and record (logged)
    assert (await store.get_reply(draft.id or 0)).state == "sending"
    assert len(ours(fake)) == 1

    # The job leaves a fresh send alone; once stale it asks the platform, finds the reply, records it.
    clock = desk.clock
    assert isinstance(clock, Clock)
    assert (await desk.sender.run_due()).sent == 0
    clock.advance(desk.settings.stale_sending_seconds + 1)
    run = await desk.sender.run_due()

    done = await store.get_reply(draft.id or 0)
    assert run.sent == 1 and done.state == "sent" and done.platform_id == ours(fake)[0]["id"]
    assert len(ours(fake)) == 1 and len(fake.posts) == 1
    assert "found_sent" in [a.action for a in await store.reply_audit(done.id or 0)]


async def test_rate_limit_is_stored_shown_and_respected(store: Store, desk: ReplyDesk, fake: MastodonWrites) -> None:
    mention_id = await mastodon_mention(store)
    writer = desk.writers.by_source[SOURCE_KEY]
    assert isinstance(writer, MastodonReplies)
    writer.clock = lambda: (RESET - timedelta(seconds=600)).timestamp()
    fake.remaining = 0
    draft = await desk.draft(MANAGER, mention_id, text=TEXT)

    await desk.approve(SECOND_MANAGER, draft.id or 0)
    await desk.sender.settled()
    waiting = await store.get_reply(draft.id or 0)

    assert waiting.state == "approved" and waiting.retry_after == desk.clock() + timedelta(seconds=600)
    assert waiting.failure is not None and "try again in 600 s" in waiting.failure
    fake.remaining = 300
    with pytest.raises(Conflict, match="asked us to wait"):
        await desk.send(MANAGER, draft.id or 0)  # "send now" does not jump the platform's limit
    # Another reply approved meanwhile waits too, without asking the platform again.
    other = await desk.draft(MANAGER, mention_id, text=TEXT + " (2)")
    asked = len(fake.posts)
    await desk.approve(SECOND_MANAGER, other.id or 0)
    await desk.sender.settled()
    held = await store.get_reply(other.id or 0)
    assert held.state == "approved" and held.retry_after == waiting.retry_after and len(fake.posts) == asked
    assert (await desk.sender.run_due()).sent == 0  # not before the wait is over
    clock = desk.clock
    assert isinstance(clock, Clock)
    clock.advance(601)
    assert (await desk.sender.run_due()).sent == 2
    assert (await store.get_reply(draft.id or 0)).state == "sent" and len(ours(fake)) == 2


async def test_refused_token_fails_with_the_reason_and_a_person_retries(
        store: Store, fake: MastodonWrites, http: aiohttp.ClientSession) -> None:
    server = await fake_mastodon(fake)
    try:
        desk = desk_for(store, server, http, Clock(), token="revoked")
        draft = await desk.draft(MANAGER, await mastodon_mention(store), text=TEXT)
        await desk.approve(SECOND_MANAGER, draft.id or 0)
        await desk.sender.settled()
        failed = await store.get_reply(draft.id or 0)
        assert failed.state == "failed" and "HTTP 401: The access token is invalid" in (failed.failure or "")
        again = await desk.retry(MANAGER, failed.id or 0)
        assert again.state == "approved" and again.failure is None
    finally:
        await server.close()
    assert ours(fake) == []


async def test_hacker_news_is_copied_by_hand_and_marked_sent(store: Store, desk: ReplyDesk) -> None:
    mention_id = await mastodon_mention(store, "41234567", source="hackernews", customer_id="cus_hn")
    draft = await desk.draft(MANAGER, mention_id, text="We shipped it: https://ideas.nimbus.example/forum/ideas/3")
    await desk.approve(SECOND_MANAGER, draft.id or 0)
    await desk.sender.settled()
    failed = await store.get_reply(draft.id or 0)
    assert failed.state == "failed"
    assert failed.failure == "Hacker News has no write API: copy the text and open the thread"
    with pytest.raises(BadInput):
        await desk.mark_sent(MANAGER, draft.id or 0, "javascript:alert(1)")
    done = await desk.mark_sent(MANAGER, draft.id or 0, "https://news.ycombinator.com/item?id=41234999")
    assert done.state == "sent" and done.platform_url.endswith("41234999")  # type: ignore[union-attr]


async def test_a_send_that_cannot_be_checked_stays_for_a_person(store: Store, desk: ReplyDesk) -> None:
    mention_id = await mastodon_mention(store, "41234567", source="hackernews", customer_id="cus_hn")
    [stuck] = await store.add_replies([
        (await desk.draft(MANAGER, mention_id, text="hello there")).__class__(
            mention_id=mention_id, source="hackernews", text="hello there", drafted_by="account:1",
            drafted_at=desk.clock(), state="sending", sending_at=desk.clock())], [""])
    clock = desk.clock
    assert isinstance(clock, Clock)
    clock.advance(desk.settings.stale_sending_seconds + 1)
    await desk.sender.run_due()
    done = await store.get_reply(stuck.id or 0)
    assert done.state == "failed" and "could not check whether the earlier attempt was posted" in (done.failure or "")
