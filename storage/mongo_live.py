"""Newly stored mentions as a MongoDB change stream (replica sets and sharded clusters only).

Every API process opens one stream on ``mentions`` (inserts only) and hands the
documents to its live hub, so a mention stored by any process reaches every
open dashboard within the stream's latency instead of a polling interval.  A
standalone server has no change streams; the hub then polls (crmsphere/live.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from crmsphere.domain import Mention
from storage.mongo_db import MongoWrites
from storage.mongo_mentions import mention_from_doc


class MongoLive:
    """The change-stream part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    #: Mention ids are taken before their batch commits (see mongo_mentions), so a lower id
    #: can become visible after a higher one: the live hub's polling looks back for them.
    ids_in_commit_order = False

    @property
    def change_streams(self) -> bool:
        """Whether the server offers change streams (the same servers that run transactions)."""
        return self._writes.transactions

    async def watch_new_mentions(self, max_batch: int = 200) -> AsyncIterator[list[Mention]]:
        """Mentions as they are inserted, in batches of what arrived together, until cancelled.

        Raises the driver's error when the stream cannot be opened or breaks; the
        caller falls back to polling.
        """
        pipeline = [{"$match": {"operationType": "insert"}}]
        async with await self._db.mentions.watch(pipeline, batch_size=max_batch) as stream:
            while True:
                change = await stream.next()
                batch = [mention_from_doc(change["fullDocument"])]
                # Whatever else already arrived goes out in the same batch.
                while len(batch) < max_batch:
                    more = await stream.try_next()
                    if more is None:
                        break
                    batch.append(mention_from_doc(more["fullDocument"]))
                yield batch
