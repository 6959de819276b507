"""What a MongoDB unit of work without a transaction takes back (``storage.mongo.uow``).

A standalone server (mongoeco, the test server, is one) runs no transactions, so the writes a
rule may take back are undone in reverse order when its block raises or is cancelled
(compensation).  Each undo is named before its write: a block cancelled while the write is on
its way (the server may still apply it) takes it back too.

A count's write leaves a mark on its idea (``COUNTING``) and its undo applies only where that
mark is, so an undo never takes back a change the server did not make; a block that ends well
clears its marks (one left behind by a failure is harmless).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from storage.mongo.db import import_pymongo

log = logging.getLogger(__name__)

#: The idea field holding the marks of counts written by blocks still running (no transaction).
COUNTING = "counting"
Undo = Callable[[], Awaitable[Any]]


class UndoLog:
    """The undos and count marks of one unit of work; inert where a transaction runs
    (``session`` is not ``None``), whose abort takes everything back."""

    def __init__(self, db: Any, session: Any) -> None:
        self._db, self._session = db, session
        #: writes to take back if the work raises (no transaction to roll them back)
        self.undo: list[Undo] = []
        #: (idea id, mark) of the counts this block wrote, cleared once it ended well
        self.marks: list[tuple[int, str]] = []

    def undo_on_failure(self, undo: Undo) -> None:
        """Keep ``undo`` to run if the block fails (only without a transaction)."""
        if self._session is None:
            self.undo.append(undo)

    async def take_back(self) -> None:
        """Run the kept undos, the last write's first."""
        for undo in reversed(self.undo):
            await undo()
        self.undo.clear()

    async def clear_marks(self) -> None:
        """After a block that ended well, its counts' marks go (one left by a failure is harmless)."""
        pymongo = import_pymongo()
        for idea_id, mark in self.marks:
            try:
                await self._db.ideas.update_one({"_id": idea_id}, {"$pull": {COUNTING: mark}})
            except pymongo.errors.PyMongoError as exc:
                log.warning("the count mark %s stays on idea %s: %s", mark, idea_id, exc)
        self.marks.clear()

    def count_change(self, idea_id: int, delta: int, impact: float) -> dict[str, Any]:
        """The change of an idea's counts by one vote.  Without a transaction its undo is
        named before the write, like a vote's: a block cancelled while the write is on its
        way (the server may still apply it) takes it back too, and only if it landed: it
        left its mark, which the undo removes with the change."""
        change: dict[str, Any] = {"$inc": {"vote_count": delta, "impact": delta * float(impact)}}
        if self._session is None:
            mark = secrets.token_hex(8)
            change["$push"] = {COUNTING: mark}
            self.marks.append((idea_id, mark))
            self.undo_on_failure(lambda: self._db.ideas.update_one(
                {"_id": idea_id, COUNTING: mark},
                {"$inc": {"vote_count": -delta, "impact": -delta * float(impact)}, "$pull": {COUNTING: mark}}))
        return change
