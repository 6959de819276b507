"""Store contract for the forum areas (accounts, ideas, votes, comments, merges): every backend."""

from __future__ import annotations

from community.similar import SUGGESTED
from tests.forum_rules import (
    add_comment, add_vote, create_idea, delete_comment, merge_ideas, remove_vote, set_status, unmerge_idea,
)
import asyncio
from datetime import timedelta

import pytest

from domain import utcnow
from domain.forum import IdeaPatch, IdeaQuery, NewIdea, StatusChange, Tag, Vote
from domain.errors import Conflict, NotFound
from tests.conftest import acme_customers


@pytest.fixture
async def forum(store):
    await store.upsert_customers(acme_customers())
    author = await store.create_account("jo@acmeanvils.example", "Jo", "hash")
    idea = await create_idea(store, NewIdea("Dark mode", "body", author.id, "open", "ui",
                                           (Tag("ui"), Tag("vip", False))), utcnow())
    return store, author, idea


async def test_accounts_unique_email_case_insensitive(store) -> None:
    a = await store.create_account("Jo@Example.com", "Jo", "h")
    with pytest.raises(Conflict):
        await store.create_account("jo@example.com", "Jo again", "h")
    account, hashed = await store.get_login("JO@example.com")
    assert account.id == a.id and hashed == "h"
    assert (await store.update_account(a.id, role="team", blocked=True)).role == "team"
    with pytest.raises(NotFound):
        await store.get_account(999)


async def test_customers_for_email(store) -> None:
    await store.upsert_customers(acme_customers())
    assert await store.customers_for_email("Jo@AcmeAnvils.example") == (["cus_jo"], ["cus_acme"])
    assert await store.customers_for_email("x@nowhere.example") == ([], [])


async def test_secrets_are_one_time_and_expire(store) -> None:
    a = await store.create_account("a@b.example", "A", None)
    now = utcnow()
    await store.save_secret("s1", a.id, "verify", now + timedelta(hours=1))
    await store.save_secret("s2", a.id, "verify", now - timedelta(seconds=1))
    results = await asyncio.gather(*(store.use_secret("s1", "verify", now) for _ in range(5)))
    assert results.count(a.id) == 1 and results.count(None) == 4
    assert await store.use_secret("s2", "verify", now) is None
    await store.save_secret("s3", a.id, "verify", now + timedelta(hours=1))
    assert await store.use_secret("s3", "password_reset", now) is None


async def test_sessions_and_tokens(store) -> None:
    a = await store.create_account("a@b.example", "A", None)
    now = utcnow()
    await store.create_session("h1", a.id, "csrf1", now + timedelta(days=1))
    await store.create_session("h2", a.id, "csrf2", now - timedelta(seconds=1))
    assert (await store.get_session("h1", now)).csrf == "csrf1"
    assert await store.get_session("h2", now) is None
    assert await store.delete_sessions(a.id) == 2
    assert await store.get_session("h1", now) is None
    token = await store.create_api_token(a.id, "ci", "th", "customer")
    found, owner = await store.get_api_token("th", now)
    assert found.id == token.id and owner.id == a.id
    assert await store.revoke_api_token(token.id, a.id + 1, now) is False
    assert await store.revoke_api_token(token.id, a.id, now) is True
    assert await store.get_api_token("th", now) is None


async def test_a_unit_of_work_reads_a_token_with_its_owner_as_of_its_own_transaction(store) -> None:
    """A vote sent with a bearer token reads it in the vote's unit of work: the token and its
    owner as ``get_api_token`` reads them, with no use noted (``note_token_use`` does), and a
    revocation stored before the unit is seen by it."""
    a = await store.create_account("ci@acmeanvils.example", "CI", None)
    await store.update_account(a.id, blocked=True)  # the rules judge a blocked owner, not the store
    token = await store.create_api_token(a.id, "ci", "th-unit", "team")

    def read(token_hash: str):
        return store.unit_of_work().run(lambda uow: uow.token_vote_subjects(token_hash, 1))

    (found, owner), _, _ = await read("th-unit")
    assert (found.id, found.role, found.last_used_at, owner.id, owner.blocked) == (token.id, "team", None, a.id, True)
    assert await read("th-other") == (None, None, None)
    (listed,) = await store.list_api_tokens(a.id)
    assert listed.last_used_at is None  # reading in a unit of work noted no use
    used = utcnow()
    await store.note_token_use(found, used)
    for _ in range(400):  # the note may be written after the call returns (SQLite: batched)
        (listed,) = await store.list_api_tokens(a.id)
        if listed.last_used_at is not None:
            break
        await asyncio.sleep(0.05)
    assert listed.last_used_at is not None and abs((listed.last_used_at - used).total_seconds()) < 0.01
    assert await store.revoke_api_token(token.id, a.id, utcnow()) is True
    assert await read("th-unit") == (None, None, None)


async def test_a_token_vote_reads_the_token_the_idea_and_the_owners_customer_together(forum) -> None:
    store, author, idea = forum
    linked = await store.create_account("jo.rivera@acmeanvils.example", "Jo", None)
    await store.update_account(linked.id, customer_id="cus_jo", email_verified=True)
    await store.create_api_token(linked.id, "ci", "th-jo", "customer")
    await store.create_api_token(author.id, "ci", "th-author", "customer")  # no customer linked

    def read(token_hash: str, idea_id: int):
        return store.unit_of_work().run(lambda uow: uow.token_vote_subjects(token_hash, idea_id))

    (token, owner), seen, customer = await read("th-jo", idea.id)
    assert (token.name, owner.id, seen.id, seen.vote_count, customer.id) == ("ci", linked.id, idea.id, 0, "cus_jo")
    assert [t.name for t in seen.tags] == [t.name for t in idea.tags]  # as ``ideas.get`` reads them
    assert customer == await store.get_customer("cus_jo")
    (_, owner), seen, customer = await read("th-author", idea.id)
    assert (owner.id, seen.id, customer) == (author.id, idea.id, None)
    (_, owner), seen, customer = await read("th-jo", idea.id + 1000)  # no such idea: the caller still judged
    assert (owner.id, seen, customer) == (linked.id, None, None)
    assert await read("th-unknown", idea.id) == (None, None, None)


async def test_votes_are_unique_and_counted_under_concurrency(forum) -> None:
    store, author, idea = forum
    vote = Vote(idea.id, "cus_jo", author.id, utcnow())
    added = await asyncio.gather(*(add_vote(store, vote, 2.0) for _ in range(20)))
    assert added.count(True) == 1
    others = await asyncio.gather(*(add_vote(store, Vote(idea.id, c, None, utcnow()), 1.0)
                                    for c in ("cus_acme", "cus_target")))
    assert others == [True, True]
    got = await store.get_idea(idea.id)
    assert got.vote_count == 3 and got.impact == pytest.approx(4.0)
    assert await store.voted("cus_jo", [idea.id, 999]) == {idea.id}
    assert await remove_vote(store, idea.id, "cus_jo", 2.0) is True
    assert await remove_vote(store, idea.id, "cus_jo", 2.0) is False
    assert (await store.get_idea(idea.id)).vote_count == 2
    with pytest.raises(NotFound):
        await add_vote(store, Vote(idea.id, "cus_nobody", None, utcnow()))
    assert author.id in await store.followers(idea.id)


async def test_listing_filters_and_sorts(forum) -> None:
    store, author, first = forum
    second = await create_idea(store, NewIdea("Export CSV invoices", "", author.id, "planned"), utcnow())
    await add_vote(store, Vote(second.id, "cus_jo", None, utcnow()))
    ideas, total = await store.list_ideas(IdeaQuery(sort="top"))
    assert total == 2 and [i.id for i in ideas] == [second.id, first.id]
    assert [i.id for i in (await store.list_ideas(IdeaQuery(sort="new")))[0]] == [second.id, first.id]
    assert [i.id for i in (await store.list_ideas(IdeaQuery(sort="trending")))[0]][0] == second.id
    assert [i.id for i in (await store.list_ideas(IdeaQuery(status="planned")))[0]] == [second.id]
    assert [i.id for i in (await store.list_ideas(IdeaQuery(text="invoices")))[0]] == [second.id]
    assert (await store.list_ideas(IdeaQuery(tag="vip")))[1] == 0
    assert (await store.list_ideas(IdeaQuery(tag="vip", include_private_tags=True)))[1] == 1
    await store.update_idea(first.id, IdeaPatch(hidden=True, title="Dark mode!"), utcnow())
    assert (await store.list_ideas(IdeaQuery()))[1] == 1
    assert (await store.list_ideas(IdeaQuery(include_hidden=True, text="dark")))[1] == 1
    hits = await store.idea_titles_matching("csv export", 5, SUGGESTED)
    assert [h[0] for h in hits] == [second.id]


async def test_status_change_is_recorded_and_checked(forum) -> None:
    store, author, idea = forum
    now = utcnow()
    changed = await set_status(store, StatusChange(idea.id, "open", "planned", "soon", author.id, now))
    assert changed.status == "planned" and changed.status_response == "soon"
    with pytest.raises(Conflict):
        await set_status(store, StatusChange(idea.id, "open", "done", "late", author.id, now))
    assert [h.to_status for h in await store.status_history(idea.id)] == ["planned"]


async def test_comments_count_and_internal_notes(forum) -> None:
    store, author, idea = forum
    now = utcnow()
    c = await add_comment(store, idea.id, author.id, "hi", None, False, now)
    await add_comment(store, idea.id, author.id, "reply", c.id, False, now)
    note = await add_comment(store, idea.id, author.id, "note", None, True, now)
    assert (await store.get_idea(idea.id)).comment_count == 2
    assert note.id not in [x.id for x in await store.list_comments(idea.id, False)]
    await delete_comment(store, c.id, now)
    assert (await store.get_comment(c.id)).deleted and (await store.get_idea(idea.id)).comment_count == 1


async def test_merge_and_unmerge_restore_everything(forum) -> None:
    store, author, keep = forum
    other = await store.create_account("b@acmeanvils.example", "B", None)
    dup = await create_idea(store, NewIdea("Dark theme", "", other.id, "open"), utcnow())
    await add_vote(store, Vote(keep.id, "cus_jo", author.id, utcnow()))
    await add_vote(store, Vote(dup.id, "cus_jo", author.id, utcnow()))
    await add_vote(store, Vote(dup.id, "cus_acme", other.id, utcnow()))
    await add_comment(store, dup.id, other.id, "me too", None, False, utcnow())

    async def state():
        return [(sorted((v.id, v.customer_id) for v in await store.list_votes(i)),
                 [c.id for c in await store.list_comments(i, True)], await store.followers(i),
                 (await store.get_idea(i)).vote_count) for i in (keep.id, dup.id)]

    before = await state()
    record = await merge_ideas(store, dup.id, keep.id, author.id, utcnow())
    assert (await store.get_idea(keep.id)).vote_count == 2 and (await store.get_idea(dup.id)).merged_into == keep.id
    assert [m.id for m in await store.merges_of(keep.id)] == [record.id]
    with pytest.raises(Conflict):
        await merge_ideas(store, keep.id, dup.id, None, utcnow())
    await unmerge_idea(store, dup.id, utcnow())
    assert await state() == before
    with pytest.raises(NotFound):
        await unmerge_idea(store, dup.id, utcnow())
