"""Keeping impact scores fresh when customers change.

A vote's weight depends on its customer's segment and revenue, which the CRM sync, the
bridge, a customers CSV import or a CRM merge can change long after the vote was cast.
``refresh_impact`` recomputes the impact of every unmerged idea those customers voted on or
that is linked to their mentions (a linked mention weighs by its customer too), with the
same formula as ``community.impact.explain``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from community.impact import explain
from config.forum import ImpactSettings
from domain.errors import NotFound
from domain.forum import IdeaShown
from storage import Store

log = logging.getLogger(__name__)

#: The ideas whose impact is kept fresh: an idea merged away has none of its own (its votes
#: moved to the target, which is rescored); hidden and waiting ones keep a score for staff.
IMPACT_RESCORED = IdeaShown(merged=False, hidden=True, unapproved=True)

#: Ideas recomputed per round: their voters are read with one customer lookup.
PAGE = 200


async def refresh_impact(store: Store, customer_ids: Iterable[str],
                         weights: ImpactSettings) -> int:
    """Recompute and keep the impact of every unmerged idea voted by any of ``customer_ids`` or
    linked to one of their mentions; returns how many ideas were rescored."""
    wanted = sorted({c for c in customer_ids if c})
    if not wanted:
        return 0
    # A mention's best-linked customer, read once per refresh (many ideas share mentions rarely,
    # but a mention is read at most once either way).
    mention_authors: dict[int, str | None] = {}
    # An idea both voted on and linked is rescored once.
    rescored: set[int] = set()
    for find in (store.ideas_voted_by, store.ideas_linked_to_customers):
        after = 0
        while True:
            idea_ids = await find(wanted, shown=IMPACT_RESCORED, after=after, limit=PAGE)
            fresh = [i for i in idea_ids if i not in rescored]
            if fresh:
                await _rescore_page(store, fresh, weights, mention_authors)
                rescored.update(fresh)
            if len(idea_ids) < PAGE:
                break
            after = idea_ids[-1]
    return len(rescored)


async def _rescore_page(store: Store, idea_ids: list[int], weights: ImpactSettings,
                        mention_authors: dict[int, str | None]) -> int:
    votes = {i: await store.list_votes(i) for i in idea_ids}
    mentions = {i: await store.idea_mentions(i) for i in idea_ids}
    for mention_id in {m for ms in mentions.values() for m in ms} - mention_authors.keys():
        try:
            mention = await store.get_mention(mention_id)
        except NotFound:  # removed meanwhile: it weighs as an unknown author's
            mention_authors[mention_id] = None
            continue
        best = max(mention.analysis.links, key=lambda k: k.confidence, default=None)
        mention_authors[mention_id] = best.customer_id if best else None
    # Every voter and mention author of the page in one lookup.
    customers = await store.get_customers(sorted(
        {v.customer_id for vs in votes.values() for v in vs}
        | {c for m in mentions.values() for c in (mention_authors[i] for i in m) if c}))
    for idea_id in idea_ids:
        authors = [mention_authors[m] for m in mentions[idea_id]]
        breakdown = explain([customers.get(v.customer_id) for v in votes[idea_id]],
                            [customers.get(c) if c else None for c in authors], weights)
        await store.set_impact(idea_id, breakdown.total)
    log.debug("impact rescored for %d idea(s)", len(idea_ids))
    return len(idea_ids)
