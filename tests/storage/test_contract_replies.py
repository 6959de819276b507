"""Store contract of replies to mentions: add once per idea, conditional moves with their audit,
what is due to send: every backend."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from domain import Mention
from community.reply_sending import DUE_TO_SEND
from domain.replies import PlatformLimit, RepliesDue, Reply, ReplyAudit
from domain.errors import NotFound
from storage import Store
from tests.conftest import T0, post
from tests.stored import stored_mention_ids


async def _mentions(store: Store, n: int = 2) -> list[int]:
    await store.save_mentions("mastodon", [Mention(post(str(i), f"need bulk routing {i}", source="mastodon"))
                                           for i in range(n)], None)
    return sorted((await stored_mention_ids(store, [("mastodon", str(i)) for i in range(n)])).values())


def _draft(mention_id: int, text: str = "Thanks! This shipped: https://ideas.example/forum/ideas/3",
           **kw: object) -> Reply:
    return Reply(mention_id=mention_id, source="mastodon", text=text, drafted_by="account:7",
                 drafted_at=T0, **kw)  # type: ignore[arg-type]


async def test_add_list_and_once_per_idea(store: Store) -> None:
    m1, m2 = await _mentions(store)
    [plain] = await store.add_replies([_draft(m1, team_key="support")], ["by hand"])
    assert plain.id is not None and plain.state == "draft" and plain.drafted_at == T0
    shipped = [_draft(m, idea_id=3, batch_key="shipped:3", team_key="product") for m in (m1, m2)]
    added = await store.add_replies(shipped, ["idea 3 shipped"] * 2)
    assert [r.mention_id for r in added] == [m1, m2]
    # A replayed status change drafts nothing twice.
    assert await store.add_replies(shipped, ["again"] * 2) == []
    assert [r.mention_id for r in await store.list_replies(batch_key="shipped:3")] == [m2, m1]
    assert [r.id for r in await store.list_replies(team_key="support")] == [plain.id]
    assert len(await store.list_replies(mention_ids=[m1])) == 2
    assert len(await store.list_replies(states=["draft"], limit=2)) == 2
    assert await store.get_reply(plain.id) == plain
    [audit] = await store.reply_audit(plain.id)
    assert (audit.action, audit.actor, audit.at, audit.detail) == ("drafted", "account:7", T0, "by hand")
    with pytest.raises(NotFound):
        await store.add_replies([_draft(424242)], [""])
    with pytest.raises(NotFound):
        await store.get_reply(424242)


async def test_moves_only_from_the_expected_state(store: Store) -> None:
    [m1] = await _mentions(store, 1)
    [reply] = await store.add_replies([_draft(m1)], [""])
    assert reply.id is not None
    at = T0 + timedelta(minutes=5)
    approved = await store.move_reply(reply.id, ["draft"], {"state": "approved", "approved_by": "account:8",
                                                            "approved_at": at},
                                      ReplyAudit(reply.id, "approved", "account:8", at))
    assert approved is not None and approved.state == "approved" and approved.approved_at == at
    # A second process approving or claiming it again finds it moved.
    assert await store.move_reply(reply.id, ["draft"], {"state": "approved"},
                                  ReplyAudit(reply.id, "approved", "account:9", at)) is None
    sending = await store.move_reply(reply.id, ["approved"], {"state": "sending", "sending_at": at, "attempts": 1},
                                     ReplyAudit(reply.id, "sending", "job", at))
    assert sending is not None and sending.attempts == 1
    # Two claims of the same stale send: only the one that saw the current attempt count wins.
    claim = {"state": "sending", "sending_at": at, "attempts": 2}
    assert await store.move_reply(reply.id, ["sending"], claim, ReplyAudit(reply.id, "sending", "a", at),
                                  attempts=1) is not None
    assert await store.move_reply(reply.id, ["sending"], claim, ReplyAudit(reply.id, "sending", "b", at),
                                  attempts=1) is None
    sent = await store.move_reply(reply.id, ["sending"], {"state": "sent", "sent_at": at, "platform_id": "9",
                                                          "platform_url": "https://m.example/@n/9"},
                                  ReplyAudit(reply.id, "sent", "job", at, "9"))
    assert sent == dataclasses.replace(sending, state="sent", sent_at=at, platform_id="9", attempts=2,
                                       platform_url="https://m.example/@n/9")
    assert [a.action for a in await store.reply_audit(reply.id)] == ["drafted", "approved", "sending", "sending",
                                                                    "sent"]
    with pytest.raises(NotFound):
        await store.move_reply(424242, ["draft"], {"state": "approved"}, ReplyAudit(424242, "x", "y", at))


async def test_due_replies_wait_for_retry_after_and_stale_sending(store: Store) -> None:
    m1, m2 = await _mentions(store)
    ready, limited = await store.add_replies([_draft(m1, state="approved"),
                                              _draft(m2, state="approved", retry_after=T0 + timedelta(minutes=10))],
                                             ["", ""])
    [stuck] = await store.add_replies([_draft(m1, state="sending", sending_at=T0)], [""])
    assert [r.id for r in await store.due_replies(T0, T0 - timedelta(minutes=2), due=DUE_TO_SEND)] == [ready.id]
    later = T0 + timedelta(minutes=10)
    assert [r.id for r in await store.due_replies(later, later - timedelta(minutes=2), due=DUE_TO_SEND)] == [
        ready.id, limited.id, stuck.id]


async def test_due_replies_are_those_in_the_states_the_callers_rule_names(store: Store) -> None:
    """The store applies the states it is given: a rule naming drafts as ready gets drafts; a
    stalled state counts only past the cut-off; a rule naming no state gets nothing."""
    m1, m2 = await _mentions(store)
    draft, approved = await store.add_replies([_draft(m1), _draft(m2, state="approved")], ["", ""])
    [stuck] = await store.add_replies([_draft(m1, state="sending", sending_at=T0)], [""])
    [failed] = await store.add_replies([_draft(m2, state="failed", sending_at=T0 - timedelta(hours=1))], [""])
    cut_off = T0 + timedelta(minutes=1)
    drafts = RepliesDue(ready=("draft",), stalled=())
    assert [r.id for r in await store.due_replies(cut_off, cut_off, due=drafts)] == [draft.id]
    retried = RepliesDue(ready=("approved",), stalled=("sending", "failed"))
    assert [r.id for r in await store.due_replies(cut_off, cut_off, due=retried)] == [
        approved.id, stuck.id, failed.id]
    assert [r.id for r in await store.due_replies(cut_off, T0 - timedelta(minutes=30), due=retried)] == [
        approved.id, failed.id]
    assert [r.id for r in await store.due_replies(cut_off, cut_off, due=DUE_TO_SEND)] == [approved.id, stuck.id]
    assert await store.due_replies(cut_off, cut_off, due=RepliesDue(ready=(), stalled=())) == []


async def test_platform_limits_are_kept_for_every_process_and_only_a_later_wait_replaces_one(store: Store) -> None:
    later, sooner = T0 + timedelta(minutes=15, microseconds=250), T0 + timedelta(minutes=5)
    await store.set_platform_limit(PlatformLimit("mastodon", "mastodon_b", later,
                                                 "mastodon rate limit reached on the reply: try again in 900 s"))
    await store.set_platform_limit(PlatformLimit("mastodon", "mastodon_b", sooner, "an older answer"))
    await store.set_platform_limit(PlatformLimit("bluesky", "sky", sooner, "bluesky rate limit reached"))
    assert await store.platform_limits(T0) == [
        PlatformLimit("bluesky", "sky", sooner, "bluesky rate limit reached"),
        PlatformLimit("mastodon", "mastodon_b", later, "mastodon rate limit reached on the reply: try again in 900 s")]
    # Instance A of the same platform was never limited; a wait that is over is not in force.
    assert [(x.platform, x.source_key) for x in await store.platform_limits(sooner)] == [("mastodon", "mastodon_b")]
    assert await store.platform_limits(later) == []
    even_later = later + timedelta(minutes=1)
    await store.set_platform_limit(PlatformLimit("mastodon", "mastodon_b", even_later, "again"))
    assert await store.platform_limits(later) == [PlatformLimit("mastodon", "mastodon_b", even_later, "again")]


async def test_a_move_of_fields_not_movable_or_of_nothing_is_refused_and_writes_nothing(store: Store) -> None:
    [m1] = await _mentions(store, 1)
    [reply] = await store.add_replies([_draft(m1)], [""])
    assert reply.id is not None
    audit = ReplyAudit(reply.id, "approved", "account:8", T0)
    with pytest.raises(ValueError, match="not movable: \\['drafted_by', 'mention_id'\\]"):
        await store.move_reply(reply.id, ["draft"], {"state": "approved", "mention_id": 99,
                                                     "drafted_by": "account:1"}, audit)
    with pytest.raises(ValueError, match="nothing to change"):
        await store.move_reply(reply.id, ["draft"], {}, audit)
    assert await store.get_reply(reply.id) == reply
    assert [a.action for a in await store.reply_audit(reply.id)] == ["drafted"]
