"""``crmsphere migrate --from sqlite:///… --to mongodb://…``: copy a store, resumably, verified.

Copies every table the MongoDB backend holds (storage/mongo/migrate.py says
how each one maps), a chunk at a time with a checkpoint per table, so a run
that stops (Ctrl-C, a lost connection) continues where it stopped when run
again.  At the end it compares row counts per table and collection and prints
them; the exit code is 0 only when every count matches and no table with rows
was left behind.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.errors import ConfigError
from storage.sqlite.db import sqlite_path


@dataclass(frozen=True, slots=True)
class CountCheck:
    """One verified count: rows in SQLite and documents (or embedded entries) in MongoDB."""

    table: str
    collection: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        """Whether both sides hold the same number."""
        return self.source == self.target


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What a migration run copied and verified."""

    copied: dict[str, int]
    checks: tuple[CountCheck, ...]
    left_behind: dict[str, int]

    @property
    def ok(self) -> bool:
        """Every count matches and nothing with rows was left behind."""
        return all(c.ok for c in self.checks) and not self.left_behind


async def migrate_sqlite_to_mongo(from_url: str, to_url: str,
                                  progress: Callable[[str], None] = print) -> MigrationReport:
    """Copy the SQLite store ``from_url`` into the MongoDB store ``to_url`` (see the module notes)."""
    from storage.mongo import migrate as mm
    from storage.mongo.store import open_mongo_store
    from storage.sqlite.store import open_sqlite_store

    if not from_url.startswith("sqlite:///"):
        raise ConfigError("--from", from_url, "a sqlite:/// URL")
    if not to_url.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError("--to", to_url, "a mongodb:// or mongodb+srv:// URL")
    # Opening the source once brings its schema up to date, as the app would.
    await (await open_sqlite_store(from_url)).close()
    conn = sqlite3.connect(f"file:{sqlite_path(from_url)}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    target = await open_mongo_store(to_url)
    db = target.database
    try:
        tables = set(await asyncio.to_thread(mm.source_tables, conn))
        copied: dict[str, int] = {}
        for copy in mm.COPIES:
            if copy.table in tables:
                copied[copy.table] = await _copy_table(conn, db, copy, progress)
        await _advance_counters(conn, db, tables)
        checks = await _verify(conn, db, tables)
        known = {c.table for c in mm.COPIES} | {e[0] for e in mm.EMBEDDED} | set(mm.SKIPPED)
        left_behind = {}
        for table in sorted(tables - known):
            rows = await asyncio.to_thread(mm.count_rows, conn, table)
            if rows:
                left_behind[table] = rows
        for check in checks:
            progress(f"{check.table} -> {check.collection}: sqlite {check.source}, "
                     f"mongodb {check.target} {'ok' if check.ok else 'MISMATCH'}")
        for table, rows in left_behind.items():
            progress(f"{table}: {rows} rows NOT copied (this area is not on MongoDB yet)")
        return MigrationReport(copied, tuple(checks), left_behind)
    finally:
        conn.close()
        await target.close()


async def _copy_table(conn: sqlite3.Connection, db: Any, copy: Any, progress: Callable[[str], None]) -> int:
    from pymongo import ReplaceOne

    from storage.mongo.migrate import CHECKPOINTS, read_chunk

    mark = await db[CHECKPOINTS].find_one({"_id": copy.table}) or {}
    after, copied = mark.get("last_key"), 0
    if after is not None:
        progress(f"{copy.table}: resuming after row {', '.join(map(str, after))}")
    while True:
        docs, last = await asyncio.to_thread(read_chunk, conn, copy, after)
        if last is None:
            break
        if docs:
            # Upserts by key: a chunk copied again (after a crash) changes nothing.
            await db[copy.collection].bulk_write(
                [ReplaceOne(key, doc, upsert=True) for key, doc in docs], ordered=False)
        copied += len(docs)
        after = last
        await db[CHECKPOINTS].update_one({"_id": copy.table}, {"$set": {"last_key": after}}, upsert=True)
    return copied


async def _advance_counters(conn: sqlite3.Connection, db: Any, tables: set[str]) -> None:
    """Move every id counter past the highest copied id, so new records never reuse one."""
    from storage.mongo.migrate import COUNTERS, max_id

    for counter, table in COUNTERS.items():
        if table in tables:
            highest = await asyncio.to_thread(max_id, conn, table)
            await db.counters.update_one({"_id": counter}, {"$max": {"seq": highest}}, upsert=True)


async def _verify(conn: sqlite3.Connection, db: Any, tables: set[str]) -> list[CountCheck]:
    from storage.mongo import migrate as mm

    checks = []
    for copy in mm.COPIES:
        if copy.table in tables:
            source = await asyncio.to_thread(mm.count_rows, conn, copy.table)
            checks.append(CountCheck(copy.table, copy.collection, source,
                                     await db[copy.collection].count_documents({})))
    for table, collection, field in mm.EMBEDDED:
        if table in tables:
            source = await asyncio.to_thread(mm.embedded_source_count, conn, table)
            checks.append(CountCheck(table, f"{collection}.{field}", source,
                                     await mm.embedded_target_count(db, collection, field)))
    return checks
