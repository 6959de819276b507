"""When an idea ships: a drafted reply ("this shipped: <link>") for each linked social mention
whose platform can be written to, queued on the idea's team as one batch to approve together.

This replaces the "Suggested public reply" note (community/notify.py) for those mentions: the
customers they cover are returned so the note names only the others.
"""

from __future__ import annotations

import logging

from collectors.replies import ReplyWriter
from community.replies import SYSTEM, ReplyDesk
from community.routing_items import speaking_customer
from domain.forum import Idea, StatusChange
from domain.replies import Reply
from domain.errors import NotFound

log = logging.getLogger(__name__)


def shipped_batch(idea_id: int, status: str) -> str:
    """The batch key of the replies drafted when idea ``idea_id`` reached ``status``."""
    return f"idea:{idea_id}:{status}"


async def draft_shipped_replies(desk: ReplyDesk, idea: Idea, change: StatusChange, idea_url: str) -> set[str]:
    """Draft the shipped replies for ``idea`` (once, however often the change is replayed);
    the ids of the customers whose mentions got one (or had one already)."""
    if change.to_status not in desk.settings.shipped_statuses or change.from_status == change.to_status:
        return set()
    store = desk.store
    routings = await store.routed_for_item("idea", str(idea.id))
    team_key = routings[0].team_key if routings else None
    drafts: list[Reply] = []
    covered: set[str] = set()
    for mention_id in await store.idea_mentions(idea.id):
        try:
            mention = await store.get_mention(mention_id)
        except NotFound:
            continue
        if not isinstance(desk.writers.for_mention(mention), ReplyWriter):
            # No writer for that platform, or none configured for the source that read it (no
            # posting credentials, removed): no reply can reach them, so the team note still
            # names this customer.
            continue
        link = speaking_customer(mention)
        if link is not None:
            covered.add(link.customer_id)
        text = await desk.render_saved(desk.settings.shipped_reply, mention_id, idea_url)
        drafts.append(Reply(mention_id=mention_id, source=mention.post.source, text=text, drafted_by=SYSTEM,
                            drafted_at=desk.clock(), team_key=team_key, idea_id=idea.id,
                            batch_key=shipped_batch(idea.id, change.to_status)))
    added = await store.add_replies(drafts, [f"idea {idea.id} is now {change.to_status}"] * len(drafts))
    if added:
        log.info("idea %s shipped: %d repl(ies) drafted for team %s", idea.id, len(added), team_key or "(none)")
    return covered
