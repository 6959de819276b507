"""``POST /api/ideas/{id}/vote`` writes in one transaction: the request makes one hop to the
SQLite writer thread (the bearer token read, checks, rate count, vote, count, follower,
events); noting the token's use is written after it, with the other uses of the moment."""

from __future__ import annotations

from api.keys import RUNTIME
from domain import utcnow
from domain.events import IDEA_VOTED
from domain.forum import NewIdea
from tests.api.forum_helpers import forum_client, token_for
from tests.forum_rules import create_idea
from tests.request_statements import count_calls_per_request, request_statements


async def test_a_vote_request_is_one_writer_hop(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    ideas = [await create_idea(store, NewIdea(title, "", None, "open"), utcnow()) for title in ("Dark mode", "Export")]
    # Only the requests' own calls: the consumers, the jobs and the coordinator's lease hand
    # the writer calls of their own meanwhile, in tasks of their own.
    calls = count_calls_per_request(store._writer)
    for idea in ideas:  # the first is the token's first use
        resp = await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["vote_count"] == 1
    await store.write_token_use()
    # Two votes, one writer call each: the token's use is noted off the request, batched.
    assert list(calls.values()) == [1, 1]
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
    calls = count_calls_per_request(store._writer)
    resp = await client.delete(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["vote_count"] == 0
    again = await client.delete(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert (again.status, (await again.json())["changed"]) == (200, False)
    # One writer call per request (the consumers' cursor moves, the jobs' writes and the
    # token's last use, written batched by a task of its own, are not the requests').
    assert list(calls.values()) == [1, 1]
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
    # Only the request's own statements: the event consumers (live feed, routing, notices,
    # CRM), the jobs and the coordinator's lease read and write beside it, and the writer may
    # commit their units in one transaction with the vote's (storage/sqlite/group_commit.py).
    async with request_statements(store._writer) as writes, request_statements(store._reader) as reads:
        resp = await client.post(f"/api/ideas/{ideas[1].id}/vote", headers=headers)
        assert resp.status == 201, await resp.text()
    # One transaction (its BEGIN and COMMIT are the writer's, around the units it commits).
    (written,) = writes
    # SQLite traces a statement again for each trigger it fires (the counts the ideas keep)
    ran = [s for n, s in enumerate(written) if not s.startswith("PRAGMA") and (n == 0 or written[n - 1] != s)]
    words = [" ".join(s.split()[:3]) for s in ran]
    # was 10: idea, tags, customer, identities apart, and the old windows; then 6 and the token
    # read on the event loop
    assert len(words) == 6, words
    first = ran[0]  # the token with its owner, the idea with its tags, the owner's customer
    assert all(f"FROM {table}" in first or f"JOIN {table}" in first for table in (
        "api_tokens", "accounts", "ideas", "idea_tags", "customers", "customer_identities")), first
    assert ["INSERT INTO rate_hits", "INSERT INTO votes", "UPDATE ideas SET",
            "INSERT OR IGNORE", "INSERT INTO events"] == words[1:6]
    # Only the reads and the rate count return a row: fetching one steps the statement again
    assert [s.split()[0] for s in ran if "RETURNING" in s] == ["INSERT"] and "rate_hits" in ran[1], ran
    request_reads = [s for call in reads for s in call if not s.startswith("PRAGMA")]
    assert request_reads == [], reads  # was 1 (the token), run on the event loop before the vote
