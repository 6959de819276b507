"""The impact score of an idea: votes weighted by customer segment and revenue, plus linked
social mentions, with the breakdown that explains it.  The weights come from ``[forum.impact]``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from config.forum import ImpactSettings
from domain import Customer
from domain.forum import VoterGroup
from storage import Store


def customer_weight(customer: Customer | None, weights: ImpactSettings) -> tuple[float, float]:
    """(segment points, revenue points) of one customer's voice."""
    if customer is None:
        return weights.default_segment_weight, 0.0
    return profile_weight(customer.segment, customer.annual_revenue, weights)


def profile_weight(segment: str | None, annual_revenue: int | None,
                   weights: ImpactSettings) -> tuple[float, float]:
    """(segment points, revenue points) of a voice from this segment and annual revenue."""
    points = weights.segment_weights.get((segment or "").lower(), weights.default_segment_weight)
    revenue = 0.0
    if annual_revenue and annual_revenue > 0:
        revenue = weights.revenue_weight * math.log10(1 + annual_revenue / weights.revenue_unit)
    return points, revenue


def vote_impact(customer: Customer | None, weights: ImpactSettings) -> float:
    """What one vote by ``customer`` adds to an idea's impact."""
    return round(sum(customer_weight(customer, weights)), 6)


@dataclass(slots=True)
class ImpactBreakdown:
    """An impact score and where its points came from."""

    total: float = 0.0
    votes: int = 0
    segment_points: float = 0.0
    revenue_points: float = 0.0
    mentions: int = 0
    mention_points: float = 0.0
    by_segment: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_json(self) -> dict:
        """JSON-ready values, rounded for people."""
        return {"total": round(self.total, 2), "votes": self.votes,
                "segment_points": round(self.segment_points, 2),
                "revenue_points": round(self.revenue_points, 2), "mentions": self.mentions,
                "mention_points": round(self.mention_points, 2),
                "by_segment": {k: {"votes": int(v["votes"]), "points": round(v["points"], 2)}
                               for k, v in sorted(self.by_segment.items())}}


def explain(voters: list[Customer | None], mention_authors: list[Customer | None],
            weights: ImpactSettings) -> ImpactBreakdown:
    """The breakdown for these voters and the customers of these linked mentions."""
    out = ImpactBreakdown()
    for customer in voters:
        segment_pts, revenue_pts = customer_weight(customer, weights)
        out.votes += 1
        out.segment_points += segment_pts
        out.revenue_points += revenue_pts
        key = (customer.segment if customer and customer.segment else "unknown").lower()
        bucket = out.by_segment.setdefault(key, {"votes": 0, "points": 0.0})
        bucket["votes"] += 1
        bucket["points"] += round(segment_pts + revenue_pts, 6)
    for customer in mention_authors:
        out.mentions += 1
        out.mention_points += weights.mention_weight * sum(customer_weight(customer, weights))
    out.total = round(sum(round(sum(customer_weight(c, weights)), 6) for c in voters)
                      + out.mention_points, 6)
    return out


def explain_groups(groups: list[VoterGroup], mention_authors: list[Customer | None],
                   weights: ImpactSettings) -> ImpactBreakdown:
    """The breakdown for votes counted per segment and revenue (``Store.idea_voter_groups``)
    and the customers of the linked mentions: what ``explain`` gives for the same voters."""
    out = ImpactBreakdown()
    voters_total = 0.0
    for group in sorted(groups, key=lambda g: (g.segment or "", g.annual_revenue or 0)):
        segment_pts, revenue_pts = profile_weight(group.segment, group.annual_revenue, weights)
        out.votes += group.votes
        out.segment_points += segment_pts * group.votes
        out.revenue_points += revenue_pts * group.votes
        key = (group.segment or "unknown").lower()
        bucket = out.by_segment.setdefault(key, {"votes": 0, "points": 0.0})
        bucket["votes"] += group.votes
        bucket["points"] += round(segment_pts + revenue_pts, 6) * group.votes
        voters_total += round(segment_pts + revenue_pts, 6) * group.votes
    for customer in mention_authors:
        out.mentions += 1
        out.mention_points += weights.mention_weight * sum(customer_weight(customer, weights))
    out.total = round(voters_total + out.mention_points, 6)
    return out


async def idea_impact(store: Store, idea_id: int, weights: ImpactSettings) -> ImpactBreakdown:
    """The current breakdown of an idea's impact, read from its votes (counted per segment and
    revenue by the store, not read one by one) and its linked mentions."""
    mention_customer_ids: list[str | None] = []
    for mention_id in await store.idea_mentions(idea_id):
        mention = await store.get_mention(mention_id)
        best = max(mention.analysis.links, key=lambda k: k.confidence, default=None)
        mention_customer_ids.append(best.customer_id if best else None)
    customers = await store.get_customers([c for c in mention_customer_ids if c])
    return explain_groups(await store.idea_voter_groups(idea_id),
                          [customers.get(c) if c else None for c in mention_customer_ids], weights)


async def rescore(store: Store, idea_id: int, weights: ImpactSettings) -> ImpactBreakdown:
    """Recompute and keep an idea's impact (after a merge, a linked mention, new weights)."""
    breakdown = await idea_impact(store, idea_id, weights)
    await store.set_impact(idea_id, breakdown.total)
    return breakdown
