"""Migration 0076 keys the team notes stored before: the first note of a change keeps the key
the notifications consumer gives it, a note written twice by the old race stays (no row is
lost) without one, and the event handled again after the upgrade adds no third note."""

from __future__ import annotations

import dataclasses
import json
from datetime import timezone
from pathlib import Path

from community.notify import team_note_key
from domain.forum import StatusChange
from domain.routing import RoutableItem
from storage import open_store
from tests.conftest import T0
from tests.storage.old_schema import database_before

CHANGED_AT = T0.replace(microsecond=123456)
AT = CHANGED_AT.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
NOTE = ("Tell the linked social customers (Blue Lantern Logistics) that \u201cBulk routing\u201d is "
        "now Done. Suggested public reply: \u201cThanks for the feedback \u2014 this is now done: "
        "https://ideas.nimbus.example/forum/ideas/7\u201d")


async def test_0076_keys_the_first_note_of_a_change_and_keeps_the_repeat(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = database_before(path, 76)
    item = json.dumps(dataclasses.asdict(RoutableItem(kind="idea", id="7", text="Bulk routing")),
                      sort_keys=True)
    routed_id = conn.execute(
        "INSERT INTO routed_items (item_kind, item_id, rule_id, team_key, event, priority, status, "
        "item, routed_at, routed_by, updated_at) VALUES ('idea', '7', 'ideas', 'product', "
        "'idea.created', 'normal', 'new', ?, ?, 'rules', ?) RETURNING id", (item, AT, AT)).fetchone()[0]
    for actor in ("notify", "notify", "lena"):  # the race's two notes, and a person's comment
        conn.execute("INSERT INTO routing_log (routed_id, at, actor, action, detail) VALUES (?, ?, ?, "
                     "'comment', ?)", (routed_id, AT, actor, json.dumps({"text": NOTE})))
    conn.close()

    store = await open_store(f"sqlite:///{path}")  # applies 0076
    try:
        change = StatusChange(7, "open", "done", "Shipped", None, CHANGED_AT)
        await store.update_routed(routed_id, "notify", CHANGED_AT, comment=NOTE,
                                  note_key=team_note_key(change))
        comments = [(e.actor, e.detail["text"]) for e in await store.routing_log(routed_id)
                    if e.action == "comment"]
    finally:
        await store.close()
    assert comments == [("notify", NOTE), ("notify", NOTE), ("lena", NOTE)]
