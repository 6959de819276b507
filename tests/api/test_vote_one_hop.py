"""``POST /api/ideas/{id}/vote`` writes in one transaction: the request makes one hop to the
SQLite writer thread (the bearer token read, checks, rate count, vote, count, follower,
events); noting the token's use is written after it, with the other uses of the moment."""

from __future__ import annotations

import asyncio
from collections import Counter

from api.keys import RUNTIME
from domain import utcnow
from domain.events import IDEA_VOTED
from domain.forum import NewIdea
from tests.api.forum_helpers import forum_client, token_for
from tests.forum_rules import create_idea


def _count_writer_calls_per_task(store) -> Counter:
    """Which task handed each call to the writer thread (the request's, or one of its own)."""
    calls: Counter = Counter()
    hand = store._writer._on_thread

    async def counted(fn, conn):
        calls[asyncio.current_task()] += 1
        return await hand(fn, conn)

    store._writer._on_thread = counted
    return calls


def _units(statements: list[str]) -> list[list[str]]:
    """The traced statements cut where a unit of work opens (its transaction, or its savepoint
    in a transaction the writer shares among units), ``COMMIT`` left out: one list per unit."""
    out: list[list[str]] = []
    for statement in statements:
        if statement.startswith(("BEGIN", "SAVEPOINT")) or not out:
            out.append([])
        if statement != "COMMIT":
            out[-1].append(statement)
    return out


async def test_a_vote_request_is_one_writer_hop(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    ideas = [await create_idea(store, NewIdea(title, "", None, "open"), utcnow()) for title in ("Dark mode", "Export")]
    calls = _count_writer_calls_per_task(store)
    for idea in ideas:  # the first is the token's first use
        resp = await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["vote_count"] == 1
    await store.write_token_use()
    # Two votes and the use noted (once or twice, as the write and the second request meet):
    # no task — no request — handed the writer more than one call.
    assert max(calls.values()) == 1 and sum(calls.values()) >= 3
    events = await store.read_events(0, [IDEA_VOTED], 10)
    assert [(e.subject_id, e.payload["customer_id"]) for e in events] == [
        (str(i.id), "cus_jo") for i in ideas]
    account, _ = await store.get_login("jo@acmeanvils.example")
    (token,) = await store.list_api_tokens(account.id)
    assert token.last_used_at is not None


async def test_taking_a_vote_back_is_one_writer_hop(aiohttp_client, tmp_path) -> None:
    """The idea and the customer read and checked, the rate count, the vote deleted and
    uncounted: one transaction (it used to be one for the rate count, one for the vote)."""
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await create_idea(store, NewIdea("Dark mode", "", None, "open"), utcnow())
    assert (await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)).status == 201
    await store.write_token_use()
    calls = _count_writer_calls_per_task(store)
    resp = await client.delete(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["vote_count"] == 0
    again = await client.delete(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert (again.status, (await again.json())["changed"]) == (200, False)
    # One writer call per request; the token's last use may be written after them, batched,
    # by a task of its own (``write_token_use``).
    per_request = [n for task, n in calls.items()
                   if task.get_coro().__qualname__ != "SqliteAccounts.write_token_use"]
    assert per_request == [1, 1]
    after = await store.get_idea(idea.id)
    assert (after.vote_count, after.impact, await store.list_votes(idea.id)) == (0, 0.0, [])


async def test_a_vote_request_runs_one_statement_for_each_thing_it_reads_or_writes(aiohttp_client, tmp_path) -> None:
    """Each statement hands the GIL between the event loop and the writer thread and waits to
    get it back (bench/forum.py): the token, its owner, the idea, its tags, the owner's
    customer and its identities are one read, made in the vote's own unit of work (nothing is
    read on the event loop), the rate count one statement while there is no old window to
    forget; then the vote, its count, the follower and the event."""
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    ideas = [await create_idea(store, NewIdea(title, "", None, "open"), utcnow()) for title in ("Dark mode", "Export")]
    assert (await client.post(f"/api/ideas/{ideas[0].id}/vote", headers=headers)).status == 201
    await store.write_token_use()  # the token's first use noted: the next vote writes only itself
    written: list[str] = []
    read: list[str] = []
    await store._writer.run(lambda conn: conn.set_trace_callback(written.append))
    await store._reader.run(lambda conn: conn.set_trace_callback(read.append))
    resp = await client.post(f"/api/ideas/{ideas[1].id}/vote", headers=headers)
    assert resp.status == 201, await resp.text()
    await store._writer.run(lambda conn: conn.set_trace_callback(None))
    await store._reader.run(lambda conn: conn.set_trace_callback(None))
    # SQLite traces a statement again for each trigger it fires (the counts the ideas keep).
    # The event consumers (live feed, routing, notices, CRM) run beside the request: they read
    # the new event and move their cursors in units of their own, which the writer may commit
    # in one transaction with the vote's, each unit in a savepoint (storage/sqlite/group_commit.py).
    ran = [s for n, s in enumerate(written) if not s.startswith("PRAGMA") and (n == 0 or written[n - 1] != s)]
    units = _units(ran)
    assert all("event_cursors" in " ".join(u) for u in units if not any("INTO votes" in s for s in u)), ran
    (vote,) = [u for u in units if any("INTO votes" in s for s in u)]
    assert vote[0] in ("BEGIN IMMEDIATE", "SAVEPOINT unit") and ran[-1] == "COMMIT", ran
    words = [" ".join(s.split()[:3]) for s in vote[1:]]
    # was 10: idea, tags, customer, identities apart, and the old windows; then 6 and the token
    # read on the event loop
    assert len(words) == 6, words
    first = vote[1]  # the token with its owner, the idea with its tags, the owner's customer
    assert all(f"FROM {table}" in first or f"JOIN {table}" in first for table in (
        "api_tokens", "accounts", "ideas", "idea_tags", "customers", "customer_identities")), first
    assert ["INSERT INTO rate_hits", "INSERT INTO votes", "UPDATE ideas SET",
            "INSERT OR IGNORE", "INSERT INTO events"] == words[1:6]
    # Only the reads and the rate count return a row: fetching one steps the statement again
    assert [s.split()[0] for s in vote if "RETURNING" in s] == ["INSERT"] and "rate_hits" in vote[2], vote
    consumers = (" FROM events ", " FROM event_cursors ")  # the consumers' reads of the outbox
    request_reads = [s for s in read if not s.startswith("PRAGMA") and not any(c in s for c in consumers)]
    assert request_reads == [], read  # was 1 (the token), run on the event loop before the vote
