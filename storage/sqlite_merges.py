"""Merging duplicate ideas in SQLite, recorded so that unmerging restores exactly what moved."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from crmsphere.domain_forum import MergeRecord
from crmsphere.errors import Conflict, NotFound
from storage.sqlite_db import ThreadedConnection, from_db_time, to_db_time
from storage.sqlite_ideas import fetch_idea

_VOTE_COLUMNS = ("id", "idea_id", "customer_id", "account_id", "proxy", "proxy_note",
                 "proxy_source", "created_at")


def _recount(conn: sqlite3.Connection, idea_id: int) -> None:
    conn.execute(
        "UPDATE ideas SET vote_count = (SELECT count(*) FROM votes WHERE idea_id = ?), "
        "comment_count = (SELECT count(*) FROM comments WHERE idea_id = ? AND internal = 0 "
        "AND deleted = 0) WHERE id = ?", (idea_id, idea_id, idea_id))


def _record_from_row(r: sqlite3.Row) -> MergeRecord:
    return MergeRecord(id=r["id"], source_id=r["source_id"], target_id=r["target_id"],
                       account_id=r["account_id"], created_at=from_db_time(r["created_at"]),
                       undone_at=from_db_time(r["undone_at"]) if r["undone_at"] else None,
                       moved=json.loads(r["moved"]))


def _ids(conn: sqlite3.Connection, sql: str, *args: object) -> list:
    return [r[0] for r in conn.execute(sql, args)]


def _in(values: list) -> str:
    return ",".join("?" * len(values))


class SqliteMerges:
    """The merge part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def merge_ideas(self, source_id: int, target_id: int, account_id: int | None,
                          now: datetime) -> MergeRecord:
        def write(conn: sqlite3.Connection) -> MergeRecord:
            if source_id == target_id:
                raise Conflict("an idea cannot be merged into itself")
            source, target = fetch_idea(conn, source_id), fetch_idea(conn, target_id)
            if source.merged_into is not None:
                raise Conflict(f"idea {source_id} is already merged into idea {source.merged_into}")
            if target.merged_into is not None:
                raise Conflict(f"idea {target_id} is merged into idea {target.merged_into}; "
                               "merge into that one")
            # Votes: a customer who voted on both keeps the target's vote; the source's is kept
            # whole in the record so that unmerging brings it back as it was.
            dup_rows = conn.execute(
                "SELECT * FROM votes WHERE idea_id = ? AND customer_id IN "
                "(SELECT customer_id FROM votes WHERE idea_id = ?) ORDER BY id",
                (source_id, target_id)).fetchall()
            dropped = [{k: r[k] for k in _VOTE_COLUMNS} for r in dup_rows]
            if dropped:
                ids = [v["id"] for v in dropped]
                conn.execute(f"DELETE FROM votes WHERE id IN ({_in(ids)})", ids)
            votes_moved = _ids(conn, "SELECT id FROM votes WHERE idea_id = ? ORDER BY id", source_id)
            conn.execute("UPDATE votes SET idea_id = ? WHERE idea_id = ?", (target_id, source_id))
            comments_moved = _ids(conn, "SELECT id FROM comments WHERE idea_id = ? ORDER BY id", source_id)
            conn.execute("UPDATE comments SET idea_id = ? WHERE idea_id = ?", (target_id, source_id))
            followers = _ids(conn, "SELECT account_id FROM idea_followers WHERE idea_id = ? "
                                   "ORDER BY account_id", source_id)
            followers_added = _ids(conn, "SELECT account_id FROM idea_followers WHERE idea_id = ? "
                                         "AND account_id NOT IN (SELECT account_id FROM idea_followers "
                                         "WHERE idea_id = ?) ORDER BY account_id", source_id, target_id)
            conn.execute("INSERT OR IGNORE INTO idea_followers SELECT ?, account_id FROM idea_followers "
                         "WHERE idea_id = ?", (target_id, source_id))
            conn.execute("DELETE FROM idea_followers WHERE idea_id = ?", (source_id,))
            mentions = _ids(conn, "SELECT mention_id FROM idea_mentions WHERE idea_id = ? "
                                  "ORDER BY mention_id", source_id)
            mentions_added = _ids(conn, "SELECT mention_id FROM idea_mentions WHERE idea_id = ? "
                                        "AND mention_id NOT IN (SELECT mention_id FROM idea_mentions "
                                        "WHERE idea_id = ?) ORDER BY mention_id", source_id, target_id)
            conn.execute("INSERT OR IGNORE INTO idea_mentions SELECT ?, mention_id FROM idea_mentions "
                         "WHERE idea_id = ?", (target_id, source_id))
            conn.execute("DELETE FROM idea_mentions WHERE idea_id = ?", (source_id,))
            conn.execute("UPDATE ideas SET merged_into = ?, updated_at = ? WHERE id = ?",
                         (target_id, to_db_time(now), source_id))
            _recount(conn, source_id)
            _recount(conn, target_id)
            moved = {"votes_moved": votes_moved, "votes_dropped": dropped,
                     "comments_moved": comments_moved, "followers": followers,
                     "followers_added": followers_added, "mentions": mentions,
                     "mentions_added": mentions_added}
            row = conn.execute(
                "INSERT INTO idea_merges (source_id, target_id, account_id, moved, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING *",
                (source_id, target_id, account_id, json.dumps(moved), to_db_time(now))).fetchone()
            return _record_from_row(row)

        return await self._writer.transaction(write)

    async def unmerge_idea(self, source_id: int, now: datetime) -> MergeRecord:
        def write(conn: sqlite3.Connection) -> MergeRecord:
            fetch_idea(conn, source_id)
            row = conn.execute("SELECT * FROM idea_merges WHERE source_id = ? AND undone_at IS NULL "
                               "ORDER BY id DESC LIMIT 1", (source_id,)).fetchone()
            if row is None:
                raise NotFound(f"idea {source_id} is not merged")
            record = _record_from_row(row)
            m, target_id = record.moved, record.target_id
            if m["votes_moved"]:
                conn.execute(f"UPDATE votes SET idea_id = ? WHERE idea_id = ? AND id IN ({_in(m['votes_moved'])})",
                             [source_id, target_id, *m["votes_moved"]])
            conn.executemany(
                f"INSERT OR IGNORE INTO votes ({', '.join(_VOTE_COLUMNS)}) VALUES ({_in(list(_VOTE_COLUMNS))})",
                [[v[k] for k in _VOTE_COLUMNS] for v in m["votes_dropped"]])
            if m["comments_moved"]:
                moved = m["comments_moved"]
                # Replies written on the kept idea to a moved comment go back with their thread.
                conn.execute(f"UPDATE comments SET idea_id = ? WHERE idea_id = ? AND "
                             f"(id IN ({_in(moved)}) OR parent_id IN ({_in(moved)}))",
                             [source_id, target_id, *moved, *moved])
            if m["followers_added"]:
                conn.execute(f"DELETE FROM idea_followers WHERE idea_id = ? AND account_id IN "
                             f"({_in(m['followers_added'])})", [target_id, *m["followers_added"]])
            conn.executemany("INSERT OR IGNORE INTO idea_followers VALUES (?, ?)",
                             [(source_id, a) for a in m["followers"]])
            if m["mentions_added"]:
                conn.execute(f"DELETE FROM idea_mentions WHERE idea_id = ? AND mention_id IN "
                             f"({_in(m['mentions_added'])})", [target_id, *m["mentions_added"]])
            conn.executemany("INSERT OR IGNORE INTO idea_mentions VALUES (?, ?)",
                             [(source_id, x) for x in m["mentions"]])
            conn.execute("UPDATE ideas SET merged_into = NULL, updated_at = ? WHERE id = ?",
                         (to_db_time(now), source_id))
            _recount(conn, source_id)
            _recount(conn, target_id)
            done = conn.execute("UPDATE idea_merges SET undone_at = ? WHERE id = ? RETURNING *",
                                (to_db_time(now), record.id)).fetchone()
            return _record_from_row(done)

        return await self._writer.transaction(write)

    async def merges_of(self, idea_id: int) -> list[MergeRecord]:
        return await self._reader.run(lambda conn: [_record_from_row(r) for r in conn.execute(
            "SELECT * FROM idea_merges WHERE source_id = ? OR target_id = ? ORDER BY id DESC",
            (idea_id, idea_id))])
