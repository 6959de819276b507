"""The customer 360's forum and routing sections: the customer's ideas, votes and routed items.

Ideas are those written by the customer's forum accounts; votes are the customer's (cast by
them or by staff for them); routed items are the routings of the customer's ideas and of the
mentions the 360 shows.  Each section says how many there are and lists the newest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from community.ideas import ON_CUSTOMER_360
from domain.routing import RoutedItem
from domain.forum import Idea
from storage.base import Store

#: How many entries each section lists (the count covers them all).
SECTION_LIMIT = 20


def _when(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def idea_entry(idea: Idea, labels: Mapping[str, str]) -> dict[str, Any]:
    """An idea as a 360 line: title, status (key and label), counts, forum link."""
    return {"id": idea.id, "title": idea.title, "status": idea.status,
            "status_label": labels.get(idea.status, idea.status), "votes": idea.vote_count,
            "comments": idea.comment_count, "created_at": _when(idea.created_at),
            "hidden": idea.hidden, "approval": idea.approval, "url": f"/forum/ideas/{idea.id}"}


def routed_entry(routed: RoutedItem, team_names: Mapping[str, str]) -> dict[str, Any]:
    """A routing as a 360 line: team (and its queue), status, priority, what was routed."""
    item = routed.item
    return {"id": routed.id, "team": routed.team_key,
            "team_name": team_names.get(routed.team_key, routed.team_key),
            "queue_url": f"/teams/{routed.team_key}", "status": routed.status,
            "priority": routed.priority, "routed_at": _when(routed.routed_at),
            "item_kind": item.kind, "item_id": item.id,
            "summary": (item.title or item.text or "")[:140],
            "item_url": (f"/forum/ideas/{item.id}" if item.kind == "idea"
                         else f"/dashboard/mentions/{item.id}" if item.kind == "mention" else None)}


async def forum_sections(store: Store, customer_id: str, mention_ids: Sequence[int],
                         labels: Mapping[str, str]) -> dict[str, Any]:
    """The ``ideas``, ``votes`` and ``routed`` sections of a customer's 360."""
    ideas, idea_count = await store.customer_ideas(customer_id, SECTION_LIMIT, shown=ON_CUSTOMER_360)
    votes, vote_count = await store.customer_votes(customer_id, SECTION_LIMIT, shown=ON_CUSTOMER_360)
    voted = await store.get_ideas([v.idea_id for v in votes])
    keys = [("idea", str(i.id)) for i in ideas] + [("mention", str(m)) for m in mention_ids]
    routed = await store.routed_for_items(keys, SECTION_LIMIT + 1)
    teams = {t.key: t.name for t in await store.list_teams()} if routed else {}
    return {
        "ideas": {"count": idea_count, "items": [idea_entry(i, labels) for i in ideas]},
        "votes": {"count": vote_count, "items": [
            {**idea_entry(voted[v.idea_id], labels), "voted_at": _when(v.created_at), "proxy": v.proxy}
            for v in votes if v.idea_id in voted]},
        "routed": {"count": len(routed), "more": len(routed) > SECTION_LIMIT,
                   "items": [routed_entry(r, teams) for r in routed[:SECTION_LIMIT]]},
    }
