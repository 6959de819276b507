"""What a token vote costs the SQLite writer thread in Python, beside its statements.

The writer does more per vote than the event loop (bench/forum.py): what it runs besides
SQLite is pinned here by the functions it calls, never by time.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

from api.keys import RUNTIME
from domain import utcnow
from domain.forum import NewIdea, Tag
from tests.api.forum_helpers import forum_client, token_for
from tests.forum_rules import create_idea
from tests.request_statements import serves_a_request


def _profiled(fn: Callable[[sqlite3.Connection], Any], calls: Counter[str]) -> Callable[[sqlite3.Connection], Any]:
    def run(conn: sqlite3.Connection) -> Any:
        def seen(frame: FrameType, event: str, _arg: Any) -> None:
            if event == "call":
                code = frame.f_code
                calls[f"{code.co_filename.rsplit('/', 2)[-2:][-1]}:{code.co_qualname}"] += 1

        sys.setprofile(seen)  # this thread only: the writer's
        try:
            return fn(conn)
        finally:
            sys.setprofile(None)

    return run


async def test_a_token_vote_makes_no_repository_and_no_encoder_and_copies_no_idea_by_name(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    ideas = [await create_idea(store, NewIdea(title, "", None, "open", tags=(Tag("ui", True),)), utcnow())
             for title in ("Dark mode", "Export", "Keyboard shortcuts")]
    for idea in ideas[:2]:  # the writer's first units: the repositories are made once
        assert (await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)).status == 201
    await store.write_token_use()

    calls: Counter[str] = Counter()
    transaction = store._writer.transaction

    async def profiled(fn: Callable[[sqlite3.Connection], Any]) -> Any:
        if serves_a_request(asyncio.current_task()):
            fn = _profiled(fn, calls)
        return await transaction(fn)

    store._writer.transaction = profiled
    try:
        resp = await client.post(f"/api/ideas/{ideas[2].id}/vote", headers=headers)
        assert resp.status == 201, await resp.text()
    finally:
        del store._writer.transaction
    assert calls["voting.py:cast_in"] == 1, calls  # the vote's unit was profiled
    made = {name for name in calls if name.endswith(("__getattr__", "__init__"))
            and name.startswith(("uow.py", "uow_forum.py"))}
    assert made == set(), made  # was six repositories made for every vote
    assert calls["dataclasses.py:replace"] == 0  # the counted idea: was every field by name
    assert calls["__init__.py:dumps"] == 0  # the event's payload: was a new encoder each
    assert calls["__init__.py:loads"] == 0  # the idea's tags: decoded once per set of tags
