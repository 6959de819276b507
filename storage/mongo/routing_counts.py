"""Counting the teams' queues in MongoDB (the /teams page): waiting and overdue items of
every team at once, each team with its own acknowledgement cut-off."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.routing import QueueCounts
from storage.mongo.db import time_cmp


async def teams_queue_counts(
    db: Any, status: str, unacknowledged_before: Mapping[str, datetime | None]
) -> dict[str, QueueCounts]:
    """``Store.teams_queue_counts`` on ``db``: two reads for any number of teams."""
    keys = list(unacknowledged_before)
    counts = dict.fromkeys(keys, (0, 0))
    if not keys:
        return {}
    # Two reads for any number of teams: the waiting items by team, then the overdue
    # ones, each team with its own cut-off (a team without an SLA has none overdue).
    waiting = await (await db.routed_items.aggregate([
        {"$match": {"team_key": {"$in": keys}, "status": status}},
        {"$group": {"_id": "$team_key", "n": {"$sum": 1}}}])).to_list()
    for doc in waiting:
        counts[doc["_id"]] = (doc["n"], 0)
    late = [{"team_key": key, **time_cmp("routed_at", "$lt", before)}
            for key, before in unacknowledged_before.items() if before is not None]
    if late and waiting:
        overdue = await (await db.routed_items.aggregate([
            {"$match": {"status": status, "acknowledged_at": None, "$or": late}},
            {"$group": {"_id": "$team_key", "n": {"$sum": 1}}}])).to_list()
        for doc in overdue:
            counts[doc["_id"]] = (counts[doc["_id"]][0], doc["n"])
    return {key: QueueCounts(*pair) for key, pair in counts.items()}
