"""Merging duplicate ideas and undoing a merge, with the impact scores kept right."""

from __future__ import annotations

from datetime import datetime

from config.forum import ForumSettings
from community.access import Viewer, require_at_least
from community.impact import rescore
from crmsphere.domain import utcnow
from crmsphere.domain_forum import MergeRecord
from storage import Store


async def merge(store: Store, settings: ForumSettings, viewer: Viewer, source_id: int,
                target_id: int, at: datetime | None = None) -> MergeRecord:
    """Staff merge ``source_id`` into ``target_id``: votes (one per customer), comments,
    followers and linked mentions move; the merge is recorded (at ``at``, else now) and can be
    undone."""
    account = require_at_least(viewer, "team", "merge ideas")
    record = await store.merge_ideas(source_id, target_id, account.id, at or utcnow())
    for idea_id in (source_id, target_id):
        await rescore(store, idea_id, settings.impact)
    return record


async def unmerge(store: Store, settings: ForumSettings, viewer: Viewer, source_id: int) -> MergeRecord:
    """Staff undo the latest merge of ``source_id`` exactly."""
    require_at_least(viewer, "team", "unmerge ideas")
    record = await store.unmerge_idea(source_id, utcnow())
    for idea_id in (source_id, record.target_id):
        await rescore(store, idea_id, settings.impact)
    return record
