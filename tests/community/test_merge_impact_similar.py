"""Merging and unmerging exactly, the impact score with its breakdown, similar ideas."""

from __future__ import annotations

import pytest

from community.access import ANONYMOUS
from community.engagement import Engagement
from community.ideas import Ideas
from community.impact import idea_impact, vote_impact
from community.merging import merge, unmerge
from community.similar import rank_similar, similar_ideas
from domain import Analysis, CustomerLink, Mention, MentionQuery
from domain.errors import Conflict, Forbidden, NotFound
from tests.community.forum_helpers import make_viewer
from tests.conftest import post


async def snapshot(store, idea_id):
    """Everything a merge may move, as comparable values."""
    idea = await store.get_idea(idea_id)
    return {
        "votes": sorted((v.id, v.customer_id, v.account_id, v.proxy, v.created_at) for v in await store.list_votes(idea_id)),
        "comments": sorted((c.id, c.parent_id, c.body, c.internal) for c in await store.list_comments(idea_id, True)),
        "followers": await store.followers(idea_id),
        "mentions": await store.idea_mentions(idea_id),
        "counts": (idea.vote_count, idea.comment_count, round(idea.impact, 6)),
        "merged_into": idea.merged_into,
    }


async def test_merge_then_unmerge_restores_exactly(forum_store, forum_settings) -> None:
    store, s = forum_store, forum_settings
    jo = await make_viewer(store, "jo@acmeanvils.example", customer_id="cus_jo")
    acme = await make_viewer(store, "boss@acmeanvils.example", customer_id="cus_acme")
    target_v = await make_viewer(store, "t@target.example", customer_id="cus_target")
    team = await make_viewer(store, "team@crm.example", "team")
    ideas, talk = Ideas(store, s), Engagement(store, s)
    keep = await ideas.submit(jo, "Dark mode", "keep this one")
    dup = await ideas.submit(acme, "Dark theme please", "duplicate")
    for viewer, idea in ((jo, keep), (acme, keep), (acme, dup), (target_v, dup)):
        await talk.vote(viewer, idea.id)
    await talk.proxy_vote(team, dup.id, "cus_jo", "said so on a call", "call")  # jo voted on both
    parent = await talk.comment(target_v, dup.id, "me too")
    await talk.comment(acme, dup.id, "agreed", parent_id=parent.id)
    await talk.comment(team, dup.id, "internal: same as #1", internal=True)
    link = CustomerLink("cus_target", 0.9, "author_handle", "handle")
    await store.save_mentions("t", [Mention(post("m1", "dark mode pls"), Analysis((link,)))], None)
    mention_id = (await store.list_mentions(MentionQuery())).items[0].id
    assert await talk.link_mention(team, dup.id, mention_id)
    before = (await snapshot(store, keep.id), await snapshot(store, dup.id))

    with pytest.raises(Forbidden):
        await merge(store, s, jo, dup.id, keep.id)
    record = await merge(store, s, team, dup.id, keep.id)
    assert len(record.moved["votes_dropped"]) == 2  # acme and jo had voted on both
    merged_keep, merged_dup = await snapshot(store, keep.id), await snapshot(store, dup.id)
    assert merged_keep["counts"][0] == 3  # jo, acme, target: one vote each
    assert merged_keep["counts"][1] == 2 and merged_dup["votes"] == [] and merged_dup["merged_into"] == keep.id
    assert set(merged_keep["followers"]) >= {jo.account.id, acme.account.id, target_v.account.id}
    assert merged_keep["mentions"] == [mention_id]
    with pytest.raises(Conflict):
        await talk.vote(jo, dup.id)
    with pytest.raises(Conflict):
        await merge(store, s, team, dup.id, keep.id)
    listed, _ = await ideas.browse(ANONYMOUS, sort="top")
    assert [i.id for i in listed] == [keep.id]

    await unmerge(store, s, team, dup.id)
    assert (await snapshot(store, keep.id), await snapshot(store, dup.id)) == before
    with pytest.raises(NotFound):
        await unmerge(store, s, team, dup.id)


async def test_impact_breakdown_follows_config(forum_store, forum_settings) -> None:
    store, s = forum_store, forum_settings
    jo = await make_viewer(store, "jo@acmeanvils.example", customer_id="cus_jo")
    acme = await make_viewer(store, "boss@acmeanvils.example", customer_id="cus_acme")
    idea = await Ideas(store, s).submit(jo, "Dark mode", "")
    for v in (jo, acme):
        await Engagement(store, s).vote(v, idea.id)
    breakdown = await idea_impact(store, idea.id, s.impact)
    # enterprise weight 3 each; Acme's 5M revenue adds log10(1 + 50) ≈ 1.71
    assert breakdown.votes == 2 and breakdown.by_segment["enterprise"]["votes"] == 2
    assert breakdown.segment_points == pytest.approx(6.0)
    assert breakdown.revenue_points == pytest.approx(1.7076, abs=1e-3)
    assert breakdown.total == pytest.approx((await store.get_idea(idea.id)).impact)
    heavier = s.impact.model_copy(update={"segment_weights": {"enterprise": 10.0}})
    assert (await idea_impact(store, idea.id, heavier)).segment_points == pytest.approx(20.0)
    assert vote_impact(None, s.impact) == s.impact.default_segment_weight


async def test_similar_ideas_full_text_and_fuzzy(forum_store, forum_settings) -> None:
    store, s = forum_store, forum_settings
    jo = await make_viewer(store, "jo@acmeanvils.example", customer_id="cus_jo")
    ideas = Ideas(store, s)
    dark = await ideas.submit(jo, "Dark mode for the dashboard", "night theme")
    await ideas.submit(jo, "Export invoices as CSV", "")
    found = await similar_ideas(store, s, "dark mode")
    assert [f.id for f in found][:1] == [dark.id]
    typo = await similar_ideas(store, s, "drak mode dashbord")
    assert [f.id for f in typo][:1] == [dark.id]
    assert await similar_ideas(store, s, "completely unrelated gardening tips") == []
    assert await similar_ideas(store, s, "da") == []
    assert rank_similar("x", [], [(1, "x")], 5, 0, exclude=1) == []


def test_the_breakdown_from_counted_groups_is_the_breakdown_from_each_voter() -> None:
    """The idea page weighs votes counted per segment and revenue (one store read); it must
    explain exactly what weighing each voter explains."""
    from community.impact import explain, explain_groups
    from config.forum import ImpactSettings
    from domain.forum import VoterGroup
    from tests.conftest import customer

    weights = ImpactSettings()
    voters = [customer(f"e{n}", "E", segment="Enterprise", annual_revenue=2_500_000) for n in range(700)]
    voters += [customer(f"s{n}", "S", segment="smb", annual_revenue=40_000) for n in range(2000)]
    voters += [customer(f"u{n}", "U") for n in range(300)] + [None] * 5
    groups = [VoterGroup("Enterprise", 2_500_000, 700), VoterGroup("smb", 40_000, 2000),
              VoterGroup(None, None, 305)]
    mentions = [customer("m", "M", segment="enterprise", annual_revenue=1_000_000), None]
    one_by_one, grouped = explain(voters, mentions, weights), explain_groups(groups, mentions, weights)
    assert grouped.as_json() == one_by_one.as_json()
    assert grouped.total == pytest.approx(one_by_one.total, abs=1e-6) and grouped.votes == 3005
