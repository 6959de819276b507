"""``POST /api/ideas/{id}/vote`` writes in one transaction: the request makes one hop to the
SQLite writer thread (the bearer token read, checks, rate count, vote, count, follower,
events); noting the token's use is written after it, with the other uses of the moment."""

from __future__ import annotations

from api.keys import RUNTIME
from domain import utcnow
from community.voting import cast, weighed
from domain.events import IDEA_VOTE_THRESHOLD, IDEA_VOTED
from domain.forum import NewIdea, ScoreThreshold, Vote
from tests.conftest import customer
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


async def test_a_vote_on_an_idea_past_its_thresholds_records_them_in_one_statement(aiohttp_client, tmp_path) -> None:
    """An idea past 10 and 50 votes (both announced when they were crossed) is where most
    votes land on a busy forum: each threshold reached was one INSERT a vote, each a
    hand-over of the GIL on the writer thread; now one statement asks for all of them, and
    still records and announces none again."""
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await create_idea(store, NewIdea("Dark mode", "", None, "open"), utcnow())
    await store.upsert_customers([customer(f"cus_{n:02d}", f"Voter {n}") for n in range(60)])
    past = [ScoreThreshold(f"votes:{t}", "votes", t) for t in (10, 50, 100, 500)]  # the defaults
    for n in range(60):
        await cast(store.unit_of_work, Vote(idea.id, f"cus_{n:02d}", None, utcnow()), weighed(1.0), None, past)
    announced = await store.read_events(0, [IDEA_VOTE_THRESHOLD], 50)
    assert sorted(e.payload["threshold"] for e in announced) == ["votes:10", "votes:50"]
    assert (await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)).status == 201
    await store.write_token_use()
    other = await create_idea(store, NewIdea("Export", "", None, "open"), utcnow())
    for n in range(60):  # the second idea past 10 and 50 too, its thresholds recorded
        await cast(store.unit_of_work, Vote(other.id, f"cus_{n:02d}", None, utcnow()), weighed(1.0), None, past)
    async with request_statements(store._writer) as writes:
        resp = await client.post(f"/api/ideas/{other.id}/vote", headers=headers)
        assert resp.status == 201, await resp.text()
    (written,) = writes
    recording = [s for s in written if "idea_thresholds" in s and s.startswith("INSERT")]
    assert len(recording) == 1, recording  # was 2: one for votes:10, one for votes:50
    after = await store.read_events(0, [IDEA_VOTE_THRESHOLD], 50)
    assert sorted((e.subject_id, e.payload["threshold"]) for e in after) == sorted(
        (str(i), t) for i in (idea.id, other.id) for t in ("votes:10", "votes:50"))
    assert (await store.get_idea(other.id)).vote_count == 61
