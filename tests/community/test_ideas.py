"""Ideas, statuses, votes (one per customer, under concurrency), comments and internal notes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from community.access import ANONYMOUS
from community.engagement import Engagement, mentioned_names
from community.ideas import Ideas
from domain.errors import AuthFailed, BadInput, Conflict, Forbidden, NotFound
from tests.community.forum_helpers import make_viewer


@pytest.fixture
async def people(forum_store):
    """A customer (Jo), a second customer (Acme), and a team member."""
    return {
        "jo": await make_viewer(forum_store, "jo@acmeanvils.example", customer_id="cus_jo"),
        "acme": await make_viewer(forum_store, "boss@acmeanvils.example", customer_id="cus_acme"),
        "unlinked": await make_viewer(forum_store, "new@else.example"),
        "team": await make_viewer(forum_store, "t@crm.example", "team"),
    }


async def test_submit_browse_and_sort(forum_store, forum_settings, people) -> None:
    ideas, votes = Ideas(forum_store, forum_settings), Engagement(forum_store, forum_settings)
    a = await ideas.submit(people["jo"], "Dark mode for the dashboard", "Please!", "ui", ["ui"])
    b = await ideas.submit(people["acme"], "Export invoices as CSV", "for accounting", "billing")
    assert a.status == "open" and [t.name for t in a.tags] == ["ui"]
    await votes.vote(people["acme"], a.id)
    top, total = await ideas.browse(ANONYMOUS, sort="top")
    assert total == 2 and [i.id for i in top] == [a.id, b.id]
    new, _ = await ideas.browse(ANONYMOUS, sort="new")
    assert [i.id for i in new] == [b.id, a.id]
    impact, _ = await ideas.browse(ANONYMOUS, sort="impact")
    assert impact[0].id == a.id and impact[0].impact > 0
    trending, _ = await ideas.browse(ANONYMOUS, sort="trending")
    assert trending[0].id == a.id
    found, _ = await ideas.browse(ANONYMOUS, text="invoices")
    assert [i.id for i in found] == [b.id]
    mine, _ = await ideas.browse(people["jo"], mine=True)
    assert [i.id for i in mine] == [a.id]
    with pytest.raises(BadInput):
        await ideas.browse(ANONYMOUS, sort="random")
    with pytest.raises(AuthFailed):
        await ideas.submit(ANONYMOUS, "A title", "body")


async def test_private_tags_only_for_staff(forum_store, forum_settings, people) -> None:
    ideas = Ideas(forum_store, forum_settings)
    with pytest.raises(Forbidden):
        await ideas.submit(people["jo"], "Something new", "", tags=["private:vip"])
    idea = await ideas.submit(people["team"], "Something new", "", tags=["ui", "private:vip"])
    assert {t.name for t in (await ideas.get(people["team"], idea.id)).tags} == {"ui", "vip"}
    assert {t.name for t in (await ideas.get(people["jo"], idea.id)).tags} == {"ui"}
    listed, _ = await ideas.browse(ANONYMOUS, tag="vip")
    assert listed == []


async def test_statuses_are_staff_only_and_close_voting(forum_store, forum_settings, people) -> None:
    ideas, votes = Ideas(forum_store, forum_settings), Engagement(forum_store, forum_settings)
    idea = await ideas.submit(people["jo"], "Offline mode", "")
    with pytest.raises(Forbidden):
        await ideas.change_status(people["jo"], idea.id, "planned", "yes")
    with pytest.raises(BadInput):
        await ideas.change_status(people["team"], idea.id, "shipped-maybe", "yes")
    changed = await ideas.change_status(people["team"], idea.id, "done", "Shipped in 2.0")
    assert changed.idea.status == "done" and changed.idea.status_response == "Shipped in 2.0"
    assert changed.notify_account_ids == (people["jo"].account.id,)
    assert [(c.from_status, c.to_status) for c in await forum_store.status_history(idea.id)] == [("open", "done")]
    with pytest.raises(Conflict):
        await votes.vote(people["acme"], idea.id)
    lanes = await ideas.roadmap(ANONYMOUS)
    assert [s.key for s, _ in lanes] == ["planned", "in-progress", "done"]
    assert [i.id for i in lanes[2][1]] == [idea.id]


async def test_vote_toggle_and_unlinked_account(forum_store, forum_settings, people) -> None:
    ideas, votes = Ideas(forum_store, forum_settings), Engagement(forum_store, forum_settings)
    idea = await ideas.submit(people["jo"], "Offline mode", "")
    first = await votes.vote(people["acme"], idea.id)
    again = await votes.vote(people["acme"], idea.id)
    assert (first.changed, first.vote_count) == (True, 1) and (again.changed, again.vote_count) == (False, 1)
    assert people["acme"].account.id in await forum_store.followers(idea.id)
    off = await votes.unvote(people["acme"], idea.id)
    assert (off.voted, off.changed, off.vote_count) == (False, True, 0)
    assert (await forum_store.get_idea(idea.id)).impact == pytest.approx(0, abs=1e-6)
    with pytest.raises(Forbidden):
        await votes.vote(people["unlinked"], idea.id)


async def test_fifty_concurrent_votes_by_one_customer_count_once(forum_store, forum_settings, people) -> None:
    ideas, votes = Ideas(forum_store, forum_settings), Engagement(forum_store, forum_settings)
    idea = await ideas.submit(people["jo"], "Offline mode", "")
    outcomes = await asyncio.gather(*(votes.vote(people["jo"], idea.id) for _ in range(50)))
    assert sum(o.changed for o in outcomes) == 1
    assert (await forum_store.get_idea(idea.id)).vote_count == 1
    assert len(await forum_store.list_votes(idea.id)) == 1


async def test_proxy_vote(forum_store, forum_settings, people) -> None:
    ideas, votes = Ideas(forum_store, forum_settings), Engagement(forum_store, forum_settings)
    idea = await ideas.submit(people["jo"], "Offline mode", "")
    with pytest.raises(Forbidden):
        await votes.proxy_vote(people["jo"], idea.id, "cus_target", "on a call", "call")
    with pytest.raises(BadInput):
        await votes.proxy_vote(people["team"], idea.id, "cus_target", "", "pigeon")
    with pytest.raises(NotFound):
        await votes.proxy_vote(people["team"], idea.id, "cus_nobody", "", "call")
    out = await votes.proxy_vote(people["team"], idea.id, "cus_target", "asked on a call", "call")
    assert out.changed and out.vote_count == 1
    [vote] = await forum_store.list_votes(idea.id)
    assert vote.proxy and vote.proxy_source == "call" and vote.proxy_note == "asked on a call"
    assert people["team"].account.id not in await forum_store.followers(idea.id)


async def test_comments_replies_and_internal_notes(forum_store, forum_settings, people) -> None:
    ideas, talk = Ideas(forum_store, forum_settings), Engagement(forum_store, forum_settings)
    idea = await ideas.submit(people["jo"], "Offline mode", "")
    top = await talk.comment(people["acme"], idea.id, "Yes please @jo")
    reply = await talk.comment(people["jo"], idea.id, "Thanks!", parent_id=top.id)
    nested = await talk.comment(people["acme"], idea.id, "deeper", parent_id=reply.id)
    assert reply.parent_id == top.id and nested.parent_id == top.id  # one level of replies
    note = await talk.comment(people["team"], idea.id, "big account, prioritise", internal=True)
    with pytest.raises(Forbidden):
        await talk.comment(people["jo"], idea.id, "sneaky", internal=True)
    assert note.id not in [c.id for c in await talk.comments(people["jo"], idea.id)]
    assert note.id in [c.id for c in await talk.comments(people["team"], idea.id)]
    assert (await forum_store.get_idea(idea.id)).comment_count == 3
    with pytest.raises(Forbidden):
        await talk.edit_comment(people["jo"], top.id, "hijack")
    assert (await talk.edit_comment(people["acme"], top.id, "Yes!")).body == "Yes!"
    with pytest.raises(NotFound):
        await talk.edit_comment(people["jo"], note.id, "read it")
    await talk.delete_comment(people["acme"], top.id)
    assert (await forum_store.get_idea(idea.id)).comment_count == 2
    assert mentioned_names("hi @Jo and @sam.k, mail a@b.c") == ["jo", "sam.k"]


async def test_edit_rules(forum_store, forum_settings, people) -> None:
    ideas = Ideas(forum_store, forum_settings)
    idea = await ideas.submit(people["jo"], "Offline mode", "")
    assert (await ideas.edit(people["jo"], idea.id, {"title": "Offline mode please"})).title == "Offline mode please"
    with pytest.raises(Forbidden):
        await ideas.edit(people["acme"], idea.id, {"title": "mine now"})
    with pytest.raises(Forbidden):
        await ideas.edit(people["jo"], idea.id, {"hidden": True})
    with pytest.raises(BadInput):
        await ideas.edit(people["jo"], idea.id, {"status": "done"})
    hidden = await ideas.edit(people["team"], idea.id, {"hidden": True})
    assert hidden.hidden
    with pytest.raises(NotFound):
        await ideas.get(people["acme"], idea.id)
    await ideas.delete(people["team"], idea.id)
    with pytest.raises(NotFound):
        await forum_store.get_idea(idea.id)


async def test_writes_are_stamped_by_the_injected_clock_and_edits_judged_by_it(
        forum_store, forum_settings, people) -> None:
    """The services take a clock (the demo dates its forum over past weeks with it)."""
    at = [datetime(2026, 3, 1, 23, 59, tzinfo=UTC)]
    ideas = Ideas(forum_store, forum_settings, clock=lambda: at[0])
    votes = Engagement(forum_store, forum_settings, clock=lambda: at[0])
    idea = await ideas.submit(people["jo"], "Dark mode for the dashboard", "Please!")
    assert idea.created_at == at[0]
    at[0] += timedelta(days=2)
    await votes.vote(people["acme"], idea.id)
    comment = await votes.comment(people["acme"], idea.id, "Yes please")
    assert [v.created_at for v in await forum_store.list_votes(idea.id)] == [at[0]]
    assert comment.created_at == at[0]
    at[0] += timedelta(days=3)
    changed = await ideas.change_status(people["team"], idea.id, "planned", "On the roadmap")
    assert changed.change.created_at == at[0] == changed.idea.status_changed_at
    # The edit window is counted on the same clock: three days later the author may not edit.
    with pytest.raises(Forbidden):
        await ideas.edit(people["jo"], idea.id, {"title": "Dark mode everywhere"})
    with pytest.raises(Forbidden):
        await votes.edit_comment(people["acme"], comment.id, "Yes please, soon")
