"""Migration 0070 adds the outbox.  A store upgraded in place hands the routing consumer what
the retired sweeper would still have replayed — items of the last day whose routing was lost
— and nothing else: not a backfill, not a routed item, not older ones."""

from __future__ import annotations

from tests.storage.old_schema import database_before
from datetime import timedelta
from pathlib import Path

from domain import utcnow
from domain.events import (
    IDEA_CREATED,
    IDEA_STATUS_CHANGED,
    IDEA_VOTE_THRESHOLD,
    MENTION_STORED,
)
from storage import open_store


async def test_an_upgraded_store_records_the_lost_events_of_the_last_day(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = database_before(path, 70)
    now = utcnow()

    def stored(external_id: str, ago: timedelta, backfill: int = 0) -> int:
        at = (now - ago).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return conn.execute(
            "INSERT INTO mentions (source, external_id, author_handle, text, created_at, ingested_at,"
            " backfill) VALUES ('x', ?, 'someone', 'refund please', ?, ?, ?) RETURNING id",
            (external_id, at, at, backfill)).fetchone()[0]

    lost = stored("lost", timedelta(minutes=10))
    routed = stored("routed", timedelta(minutes=5))
    conn.execute("INSERT INTO routing_decisions VALUES ('mention', ?, 'mention.analysed', ?)",
                 (str(routed), now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
    stored("history", timedelta(minutes=3), backfill=1)
    stored("last-week", timedelta(days=7))
    conn.execute("INSERT INTO meta VALUES ('routing.sweep.mention', ?)", (str(routed),))
    # Ideas: one whose latest status change lost its routing, one decided since its change.
    stamp = (now - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ideas = []
    for title in ("Dark mode", "Bulk export"):
        idea_id = conn.execute(
            "INSERT INTO ideas (title, body, status, created_at, updated_at) "
            "VALUES (?, '', 'planned', ?, ?) RETURNING id", (title, stamp, stamp)).fetchone()[0]
        for old, new in (("open", "planned"), ("planned", "started")):
            conn.execute("INSERT INTO status_changes (idea_id, from_status, to_status, response, "
                         "created_at) VALUES (?, ?, ?, '', ?)", (idea_id, old, new, stamp))
        ideas.append(idea_id)
    decided = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn.executemany("INSERT INTO routing_decisions VALUES ('idea', ?, ?, ?)",
                     [(str(ideas[1]), "idea.status_changed", decided),
                      (str(ideas[1]), "idea.created", decided)])
    conn.executemany("INSERT INTO idea_thresholds VALUES (?, ?, ?)",
                     [(ideas[0], "votes:10", stamp), (ideas[0], "votes:50", decided)])
    conn.commit()
    conn.close()

    store = await open_store(f"sqlite:///{path}")  # applies 0070
    try:
        events = await store.read_events(0, [MENTION_STORED])
        assert [(e.subject_id, e.payload) for e in events] == [(str(lost), {"source": "x"})]
        assert await store.get_meta("routing.sweep.mention") is None
        (changed,) = await store.read_events(0, [IDEA_STATUS_CHANGED])
        assert (changed.subject_id, changed.payload) == (str(ideas[0]), {"from": "planned", "to": "started"})
        (created,) = await store.read_events(0, [IDEA_CREATED])
        assert created.subject_id == str(ideas[0])
        (crossed,) = await store.read_events(0, [IDEA_VOTE_THRESHOLD])
        assert (crossed.subject_id, crossed.payload) == (str(ideas[0]), {"threshold": "votes:50"})
    finally:
        await store.close()
