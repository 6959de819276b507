"""``POST /api/ideas/{id}/vote`` with a bearer token and no body reads the token and its owner
inside the vote's own unit of work (one round trip to the store): the caller is judged exactly
as every other route judges a token — a revocation by any process refused at once, a blocked
owner refused, a token never outranking its owner — and a refused caller writes nothing."""

from __future__ import annotations

import asyncio
import sqlite3

from api.keys import RUNTIME
from domain import utcnow
from domain.forum import NewIdea
from storage import open_store
from storage.sqlite.db import sqlite_path
from tests.api.forum_helpers import forum_client, token_for
from tests.forum_rules import create_idea


def _vote_hits(client) -> int:
    """Requests counted in the vote rate windows, read from the file as another process would."""
    conn = sqlite3.connect(sqlite_path(client.app[RUNTIME].settings.store.url))
    try:
        return conn.execute("SELECT coalesce(sum(hits), 0) FROM rate_hits WHERE scope = 'votes'").fetchone()[0]
    finally:
        conn.close()


async def _ideas(store, *titles: str):
    return [await create_idea(store, NewIdea(t, "", None, "open"), utcnow()) for t in titles]


async def test_a_token_revoked_by_another_process_is_refused_at_its_next_vote(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    first, second = await _ideas(store, "Dark mode", "Export")
    assert (await client.post(f"/api/ideas/{first.id}/vote", headers=headers)).status == 201
    other = await open_store(client.app[RUNTIME].settings.store.url)  # a second serving process
    try:
        account, _ = await other.get_login("jo@acmeanvils.example")
        (token,) = await other.list_api_tokens(account.id)
        assert await other.revoke_api_token(token.id, account.id, utcnow())
    finally:
        await other.close()
    resp = await client.post(f"/api/ideas/{second.id}/vote", headers=headers)
    assert resp.status == 401, await resp.text()
    assert "unknown or revoked" in (await resp.json())["error"]["message"]
    assert await store.list_votes(second.id) == [] and _vote_hits(client) == 1


async def test_a_blocked_owner_or_an_unknown_token_votes_nothing(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    (idea,) = await _ideas(store, "Dark mode")
    account, _ = await store.get_login("jo@acmeanvils.example")
    await store.update_account(account.id, blocked=True)
    forged = {"Authorization": "Bearer cst_" + "A" * 43}  # shaped like a token, never issued
    junk = {"Authorization": "Bearer " + "x" * 500}  # not shaped like one: no store read
    for sent in (headers, forged, junk):
        resp = await client.post(f"/api/ideas/{idea.id}/vote", headers=sent)
        assert resp.status == 401 and "unknown or revoked" in (await resp.json())["error"]["message"]
    resp = await client.post(f"/api/ideas/{idea.id}/vote", headers={"Authorization": "Bearer  "})
    assert resp.status == 401 and "Bearer <token>" in (await resp.json())["error"]["message"]
    assert await store.list_votes(idea.id) == [] and _vote_hits(client) == 0


async def test_an_account_with_no_customer_is_told_to_verify_and_writes_nothing(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "new@acmeanvils.example")  # not linked to a customer yet
    (idea,) = await _ideas(store, "Dark mode")
    resp = await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert resp.status == 403 and "verify your e-mail" in (await resp.json())["error"]["message"]
    assert await store.list_votes(idea.id) == [] and _vote_hits(client) == 0


async def test_a_staff_token_of_a_demoted_owner_counts_against_the_vote_limit(aiohttp_client, tmp_path) -> None:
    """Staff are not rate limited; a team token whose owner became a customer votes as one."""
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "sam@acmeanvils.example", role="team", customer_id="cus_jo",
                              token_role="team")
    first, second = await _ideas(store, "Dark mode", "Export")
    assert (await client.post(f"/api/ideas/{first.id}/vote", headers=headers)).status == 201
    assert _vote_hits(client) == 0
    account, _ = await store.get_login("sam@acmeanvils.example")
    await store.update_account(account.id, role="customer")
    assert (await client.post(f"/api/ideas/{second.id}/vote", headers=headers)).status == 201
    assert _vote_hits(client) == 1


async def test_the_token_use_is_noted_when_the_vote_is_refused(aiohttp_client, tmp_path) -> None:
    """The token was used even when the idea does not exist: its last use is noted, as on
    every other route (``GET /api/auth/tokens`` shows it)."""
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    resp = await client.post("/api/ideas/987654/vote", headers=headers)
    assert resp.status == 404, await resp.text()
    account, _ = await store.get_login("jo@acmeanvils.example")
    # Noted before the answer, written by a task of the store with the other uses of the
    # moment: await that write instead of polling for it.
    await asyncio.gather(*store._token_use_writes)
    (token,) = await store.list_api_tokens(account.id)
    assert token.last_used_at is not None
