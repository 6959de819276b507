"""WAL checkpoints on their own connection and thread, off the writer's path.

SQLite checkpoints automatically inside the commit that pushes the WAL past 1,000 pages:
that commit then copies the pages into the database file and syncs it, and every write
queued behind it waits (tens of milliseconds: most of a vote's p99 in bench/forum.py).
Here a third connection checkpoints passively a few times a second — a passive checkpoint
never blocks the writer or the readers — and the writer checkpoints itself only once the
WAL is far behind (a safety valve should this loop ever stall).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

from storage.sqlite.db import ThreadedConnection

log = logging.getLogger(__name__)

#: pages in the WAL before the writer checkpoints by itself (the valve; SQLite's default: 1000)
WRITER_AUTOCHECKPOINT_PAGES = 50_000


def _checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
    return tuple(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval`` seconds while open."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self._conn = ThreadedConnection(path, "sqlite-checkpoint")
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def open(self, writer: ThreadedConnection) -> None:
        """Open the connection, move the writer's own checkpoints to the valve and start."""
        await self._conn.open()
        await writer.run(lambda conn: conn.execute(
            f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}"))
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="sqlite-checkpoint")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._conn.run(_checkpoint)
            except sqlite3.Error:  # e.g. locked by another process's checkpoint: next round
                log.warning("WAL checkpoint failed; retrying", exc_info=True)

    async def close(self) -> None:
        """Stop the loop, checkpoint what is left and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(sqlite3.Error):
                await self._conn.run(_checkpoint)
        await self._conn.close()
