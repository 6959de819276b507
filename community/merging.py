"""Merging duplicate ideas and undoing a merge, written once over the unit of work.

A merge moves the duplicate's (source's) votes — one per customer: a customer who voted on
both keeps the kept idea's vote, the duplicate's is kept whole in the record —, comments,
followers and linked mentions to the kept idea (target), marks the duplicate merged and
records exactly what moved, so that unmerging restores it; the counts of both ideas are
recounted from their rows (comments: those that count, ``community.comments.counts``).
Both backends run these rules in one unit of work.
"""

from __future__ import annotations

from datetime import datetime

from config.forum import ForumSettings
from community.access import Viewer, require_at_least
from community.comments import recount_in as recount_comments_in
from community.impact import rescore
from domain import utcnow
from domain.forum import MergeRecord
from domain.errors import Conflict, NotFound
from storage import Store
from storage.contract.uow import UnitOfWork


async def recount_idea_in(uow: UnitOfWork, idea_id: int) -> None:
    """Set the idea's vote count from its votes and its comment count from the comments that
    count (``community.comments.counts``)."""
    await uow.ideas.recount(idea_id)
    await recount_comments_in(uow, idea_id)


async def recount_idea(store: Store, idea_id: int) -> None:
    """``recount_idea_in`` in a unit of work of its own: repairs an idea's counts after a crash
    between two writes on a MongoDB server without transactions (docs/mongodb.md)."""
    await store.unit_of_work().run(lambda uow: recount_idea_in(uow, int(idea_id)))


async def merge_in(uow: UnitOfWork, source_id: int, target_id: int, account_id: int | None,
                   now: datetime) -> MergeRecord:
    """Merge ``source_id`` into ``target_id`` inside ``uow`` (see the module's docstring);
    ``Conflict`` for an idea merged into itself or one already merged, ``NotFound``."""
    if source_id == target_id:
        raise Conflict("an idea cannot be merged into itself")
    source, target = await uow.ideas.get(source_id), await uow.ideas.get(target_id)
    if source.merged_into is not None:
        raise Conflict(f"idea {source_id} is already merged into idea {source.merged_into}")
    if target.merged_into is not None:
        raise Conflict(f"idea {target_id} is merged into idea {target.merged_into}; merge into that one")
    votes = await uow.votes.rows(source_id)
    both = await uow.votes.of_customers(target_id, sorted({v["customer_id"] for v in votes}))
    followers = await uow.followers.of(source_id)
    kept_followers = set(await uow.followers.of(target_id))
    mentions = await uow.mentions.of(source_id)
    kept_mentions = set(await uow.mentions.of(target_id))
    dropped = [v for v in votes if v["customer_id"] in both]
    moved = {"votes_moved": [v["id"] for v in votes if v["customer_id"] not in both],
             "votes_dropped": dropped,
             "comments_moved": await uow.comments.ids(source_id),
             "followers": followers,
             "followers_added": [a for a in followers if a not in kept_followers],
             "mentions": mentions,
             "mentions_added": [m for m in mentions if m not in kept_mentions]}
    record = await uow.merges.add(source_id, target_id, account_id, moved, now)
    await uow.votes.delete([v["id"] for v in dropped])
    await uow.votes.move(source_id, target_id)
    await uow.comments.move(source_id, target_id)
    await uow.followers.add(target_id, moved["followers_added"])
    await uow.followers.remove(source_id)
    await uow.mentions.add(target_id, moved["mentions_added"])
    await uow.mentions.remove(source_id)
    await uow.ideas.set_merged(source_id, target_id, now)
    for idea_id in (source_id, target_id):
        await recount_idea_in(uow, idea_id)
    await uow.merges.finish(record.id)
    return record


async def unmerge_in(uow: UnitOfWork, source_id: int, now: datetime) -> MergeRecord:
    """Undo the source's latest open merge exactly, inside ``uow``; ``NotFound`` if none."""
    await uow.ideas.get(source_id)
    record = await uow.merges.open_of(source_id)
    if record is None:
        raise NotFound(f"idea {source_id} is not merged")
    m, target_id = record.moved, record.target_id
    await uow.votes.move(target_id, source_id, m["votes_moved"])
    await uow.votes.restore(m["votes_dropped"])
    # Replies written on the kept idea to a moved comment go back with their thread.
    await uow.comments.move(target_id, source_id, m["comments_moved"])
    await uow.followers.remove(target_id, m["followers_added"])
    await uow.followers.add(source_id, m["followers"])
    await uow.mentions.remove(target_id, m["mentions_added"])
    await uow.mentions.add(source_id, m["mentions"])
    await uow.ideas.set_merged(source_id, None, now)
    for idea_id in (source_id, target_id):
        await recount_idea_in(uow, idea_id)
    return await uow.merges.undone(record.id, now)


async def merge(store: Store, settings: ForumSettings, viewer: Viewer, source_id: int,
                target_id: int, at: datetime | None = None) -> MergeRecord:
    """Staff merge ``source_id`` into ``target_id``: votes (one per customer), comments,
    followers and linked mentions move; the merge is recorded (at ``at``, else now) and can be
    undone."""
    account = require_at_least(viewer, "team", "merge ideas")
    record = await store.unit_of_work().run(
        lambda uow: merge_in(uow, int(source_id), int(target_id), account.id, at or utcnow()))
    for idea_id in (source_id, target_id):
        await rescore(store, idea_id, settings.impact)
    return record


async def unmerge(store: Store, settings: ForumSettings, viewer: Viewer, source_id: int) -> MergeRecord:
    """Staff undo the latest merge of ``source_id`` exactly."""
    require_at_least(viewer, "team", "unmerge ideas")
    record = await store.unit_of_work().run(lambda uow: unmerge_in(uow, int(source_id), utcnow()))
    for idea_id in (source_id, record.target_id):
        await rescore(store, idea_id, settings.impact)
    return record
