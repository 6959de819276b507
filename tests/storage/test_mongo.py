"""What only the MongoDB backend has: both write modes, indexes, ids, refused set-ups.

The Store contract itself runs on MongoDB through the ``store`` fixture; these
tests cover the two ways it groups writes (transactions, or ordered writes on a
standalone server) whichever the test server is.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest

from community.similar import SUGGESTED
from domain import Analysis, CustomerLink, Mention, MentionQuery
from domain.errors import ConfigError, Conflict
from storage import open_store
from storage.mongo.db import import_pymongo, text_search, topology_has_transactions
from tests.conftest import acme_customers, post
from tests.storage.mongo_harness import database_url


def mention(external_id: str, links: tuple[CustomerLink, ...] = ()) -> Mention:
    return Mention(post(external_id, f"post {external_id}"), Analysis(links=links))


@pytest.fixture
async def mongo_url(mongodb_server_uri: str) -> AsyncIterator[str]:
    """A URL naming a fresh database, dropped afterwards."""
    from pymongo import AsyncMongoClient

    from storage.mongo.store import _take_option

    url = database_url(mongodb_server_uri)
    yield url
    client: AsyncMongoClient = AsyncMongoClient(_take_option(url, "crmsphere_transactions")[0])
    await client.drop_database(client.get_default_database().name)
    await client.close()


@pytest.fixture(params=["transactions", "ordered-writes"])
async def mongo_store(request: pytest.FixtureRequest, mongo_url: str):
    """A MongoDB store in each write mode."""
    from storage.mongo.store import open_mongo_store

    store = await open_mongo_store(mongo_url, transactions=request.param == "transactions")
    yield store
    await store.close()


async def test_failed_batch_leaves_no_mentions_and_no_cursor(mongo_store) -> None:
    await mongo_store.upsert_customers(acme_customers())
    await mongo_store.save_mentions("k", [mention("1")], {"at": 1})
    bad = CustomerLink("no_such_customer", 0.9, "author_handle", "x")
    with pytest.raises(Conflict) as caught:
        await mongo_store.save_mentions("k", [mention("2"), mention("3", (bad,))], {"at": 3})
    assert caught.value.details == {"customer_ids": ["no_such_customer"]}
    assert await mongo_store.known_identities("x", ["1", "2", "3"]) == {"1"}
    assert await mongo_store.get_cursor("k") == {"at": 1}


WRITE_CONFLICT = ("mongoeco reports a concurrent transaction's write conflict without the "
                  "TransientTransactionError label that real MongoDB sends, so the driver "
                  "does not retry it")


@pytest.mark.parametrize("transactions", [
    False, pytest.param(True, marks=pytest.mark.mongoeco_difference(WRITE_CONFLICT))])
async def test_concurrent_overlapping_batches_store_each_mention_once(
    mongo_url: str, transactions: bool
) -> None:
    from storage.mongo.store import open_mongo_store

    mongo_store = await open_mongo_store(mongo_url, transactions=transactions)
    try:
        await _save_overlapping_batches(mongo_store)
    finally:
        await mongo_store.close()


async def _save_overlapping_batches(mongo_store) -> None:
    batches = [[mention(str(i)) for i in range(start, start + 10)] for start in range(0, 30, 5)]
    results = await asyncio.gather(*(mongo_store.save_mentions(f"k{n}", b, {"n": n})
                                     for n, b in enumerate(batches)))
    assert sum(r.inserted for r in results) == 35
    assert sum(r.duplicates for r in results) == 25
    assert (await mongo_store.counts())["mentions"] == 35
    assert await mongo_store.get_cursor("k5") == {"n": 5}


async def test_crash_before_the_cursor_repeats_the_batch_without_duplicates(
    mongo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Standalone mode: mentions first, cursor last; a crash in between loses nothing."""
    from storage.mongo.store import open_mongo_store

    store = await open_mongo_store(mongo_url, transactions=False)
    try:
        await store.save_mentions("k", [mention("1")], {"at": 1})
        # Collections are made afresh on each attribute access, so the class is patched.
        cursors = store.database.cursors

        class Crash(RuntimeError):
            pass

        async def crash(*args, **kwargs):
            raise Crash("process died")

        monkeypatch.setattr(type(cursors), "update_one", crash)
        with pytest.raises(Crash):
            await store.save_mentions("k", [mention("2"), mention("3")], {"at": 3})
        monkeypatch.undo()
        assert await store.get_cursor("k") == {"at": 1}  # the next run starts from here again
        again = await store.save_mentions("k", [mention("2"), mention("3")], {"at": 3})
        assert (again.inserted, again.duplicates) == (0, 2)
        assert (await store.counts())["mentions"] == 3
        assert await store.get_cursor("k") == {"at": 3}
    finally:
        await store.close()


async def test_mention_ids_are_increasing_ints(mongo_store) -> None:
    await mongo_store.save_mentions("k", [mention("1"), mention("2")], None)
    await mongo_store.save_mentions("k", [mention("2"), mention("3")], None)
    page = await mongo_store.list_mentions(MentionQuery())
    ids = {m.post.external_id: m.id for m in page.items}
    assert all(isinstance(i, int) for i in ids.values())
    assert ids["1"] < ids["2"] < ids["3"]
    assert (await mongo_store.get_mention(ids["3"])).post.external_id == "3"


async def test_indexes_are_created_once_and_again_without_error(mongo_url: str) -> None:
    first = await open_store(mongo_url)
    await first.close()
    store = await open_store(mongo_url)  # a second start-up finds them in place
    try:
        indexes = {i["name"]: i async for i in await store.database.mentions.list_indexes()}
        assert indexes["mentions_source_identity"].get("unique") is True
        assert not indexes["mentions_source_external_id"].get("unique")  # two servers, one id
        assert {"mentions_text", "mentions_feed", "mentions_customer_feed"} <= set(indexes)
        names = {i["name"] async for i in await store.database.customers.list_indexes()}
        assert {"customers_name", "customers_identity"} <= names
    finally:
        await store.close()


async def test_unacknowledged_writes_are_refused(mongodb_server_uri: str) -> None:
    url = database_url(mongodb_server_uri)
    url += ("&" if "?" in url else "?") + "w=0"
    with pytest.raises(ConfigError, match="w=0"):
        await open_store(url)


async def test_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="valid MongoDB URL"):
        await open_store("mongodb://")


def test_missing_driver_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymongo", None)  # makes `import pymongo` fail
    with pytest.raises(ConfigError, match=r"crmsphere\[mongodb\]"):
        import_pymongo()


def test_transactions_are_used_on_replica_sets_and_mongos_only() -> None:
    assert topology_has_transactions({"setName": "rs0", "isWritablePrimary": True})
    assert topology_has_transactions({"msg": "isdbgrid"})
    assert not topology_has_transactions({"isWritablePrimary": True})


def test_text_search_quotes_every_word() -> None:
    assert text_search('" OR -billing (NEAR') == '"OR" "billing" "NEAR"'
    assert text_search("***") is None


def test_without_python_313_the_mongodb_tests_are_skipped_with_the_reason(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.storage.mongo_harness import mongoeco_python

    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.13, no pyenv
    monkeypatch.delenv("MONGOECO_PYTHON", raising=False)
    monkeypatch.delenv("MONGOECO_VENV", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"Python >= 3\.13"):
        mongoeco_python(tmp_path)


async def test_two_stores_claiming_deliveries_never_share(mongo_store, mongo_url: str) -> None:
    from datetime import timedelta

    from domain.routing import Delivery, RoutableItem, RoutedItem
    from tests.conftest import T0

    routed = RoutedItem(RoutableItem("mention", "1", "text"), "r1", "product", "mention.analysed",
                        routed_at=T0)
    await mongo_store.route_item(routed, [
        Delivery(None, "product", "webhook", {"url": "x"}, {"n": i}, f"k{i}") for i in range(30)])
    other = await open_store(mongo_url)  # a second process, in effect

    async def claim_all(store, worker: str) -> list[str]:
        got: list[str] = []
        while batch := await store.claim_deliveries(worker, T0, T0 + timedelta(minutes=5), 3):
            got += [d.idempotency_key for d in batch]
        return got

    try:
        a, b = await asyncio.gather(claim_all(mongo_store, "a"), claim_all(other, "b"))
    finally:
        await other.close()
    assert sorted(a + b) == sorted(f"k{i}" for i in range(30)) and not set(a) & set(b)


async def test_unreachable_server_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        await open_store("mongodb://user:secret@127.0.0.1:1/x?serverSelectionTimeoutMS=300")
    assert "reachable" in str(caught.value) and "secret" not in str(caught.value)


async def test_a_half_written_routing_is_completed_by_its_replay(mongo_url: str) -> None:
    """Standalone mode: a crash after the routed item, before its deliveries, loses nothing."""
    from domain.routing import Delivery, RoutableItem, RoutedItem
    from storage.mongo.store import open_mongo_store
    from tests.conftest import T0

    store = await open_mongo_store(mongo_url, transactions=False)
    try:
        routed = RoutedItem(RoutableItem("mention", "7", "text"), "r1", "product", "mention.analysed",
                            routed_at=T0)
        mail = Delivery(None, "product", "mail", {"to": "p@example.com"}, {"n": 1}, "k-mail")
        # What a crash right after the first write leaves: the item, marked incomplete.
        first = await store.route_item(routed, [])
        await store.database.routed_items.update_one({"_id": first.id}, {"$set": {"complete": False}})
        again = await store.route_item(routed, [mail])
        assert again is not None and again.id == first.id
        assert [d.idempotency_key for d in (await store.list_deliveries()).items] == ["k-mail"]
        assert await store.route_item(routed, [mail]) is None  # complete now: routed once
    finally:
        await store.close()


async def test_transactions_can_be_required_or_forced_by_the_url(mongodb_server_uri: str) -> None:
    from storage.mongo.store import _take_option

    url = _take_option(database_url(mongodb_server_uri), "crmsphere_transactions")[0]
    sep = "&" if "?" in url else "?"
    if not os.environ.get("MONGODB_URI"):  # mongoeco is a standalone server
        with pytest.raises(ConfigError, match="replica set or sharded cluster"):
            await open_store(f"{url}{sep}crmsphere_transactions=required")
    forced = await open_store(f"{url}{sep}crmsphere_transactions=on")
    try:
        assert forced.transactions is True  # type: ignore[attr-defined]
    finally:
        await forced.close()
    with pytest.raises(ConfigError, match="auto, required or on"):
        await open_store(f"{url}{sep}crmsphere_transactions=maybe")
    assert _take_option("mongodb://h/db?a=1&crmsphere_transactions=on&b=2", "crmsphere_transactions") == (
        "mongodb://h/db?a=1&b=2", "on")


async def test_ideas_stored_before_stemming_are_found_after_an_upgrade(mongo_url: str) -> None:
    """A database from before stemmed search (the old unstemmed text index, ideas without
    stemmed copies) is upgraded at start: old index replaced, old ideas found by stems."""
    from pymongo import AsyncMongoClient

    from storage.mongo.store import _take_option, open_mongo_store

    client: AsyncMongoClient = AsyncMongoClient(_take_option(mongo_url, "crmsphere_transactions")[0])
    try:
        db = client.get_default_database()
        await db.ideas.create_index([("title", "text"), ("body", "text")], name="ideas_text",
                                    default_language="none")
        await db.ideas.insert_one({"_id": 1, "title": "Export invoices as CSV", "body": "", "status": "open",
                                   "merged_into": None, "hidden": False, "approval": "approved",
                                   "vote_count": 0, "tags": []})
    finally:
        await client.close()
    store = await open_mongo_store(mongo_url, transactions=False)
    try:
        names = [i["name"] for i in await (await store.database.ideas.list_indexes()).to_list()]
        assert "ideas_text" not in names and "ideas_search" in names
        assert [h[0] for h in await store.idea_titles_matching("invoice", 5, SUGGESTED)] == [1]
    finally:
        await store.close()


async def test_mentions_stored_before_their_source_was_kept_get_it_where_it_is_certain(mongo_url: str) -> None:
    from domain import SourceHealth
    from storage.mongo.mentions import SOURCE_KEYS_FILLED

    store = await open_store(mongo_url)
    try:
        for key, kind in (("sky", "bluesky"), ("mastodon_a", "mastodon"), ("mastodon_b", "mastodon")):
            await store.save_source_health(SourceHealth(key, kind))
        await store.save_mentions("sky", [Mention(post("at://did:plc:a/app.bsky.feed.post/1", source="bluesky"))], None)
        await store.save_mentions("mastodon_b", [Mention(post("115600000000000101", source="mastodon"))], None)
        # As a version that did not keep the source wrote them.
        await store.database.mentions.update_many({}, {"$unset": {"source_key": 1}})
        await store.database.schema_steps.delete_one({"_id": SOURCE_KEYS_FILLED})
    finally:
        await store.close()

    store = await open_store(mongo_url)  # the next start-up fills in what is certain
    try:
        keys = {d["source"]: d.get("source_key") async for d in store.database.mentions.find({})}
        assert keys == {"bluesky": "sky", "mastodon": None}  # two Mastodon sources: unknown
    finally:
        await store.close()


async def test_a_forged_cursor_of_the_wrong_kind_is_refused_by_name(mongo_store) -> None:
    """MongoDB cannot compare any value with any value (SQLite can): a cursor that decodes but
    holds text where an id or a time belongs is refused as a bad cursor, not a server error."""
    from domain.errors import BadInput
    from storage.base import encode_cursor

    forged = encode_cursor("1 OR 1=1")
    calls = [lambda: mongo_store.list_people(cursor=forged),
             lambda: mongo_store.list_link_reviews(cursor=forged),
             lambda: mongo_store.list_deliveries("pending", cursor=forged),
             lambda: mongo_store.team_queue("billing", cursor=encode_cursor("yesterday", 7)),
             lambda: mongo_store.team_queue("billing", cursor=encode_cursor("2026-12-31T23:00:00+00:00", [7]))]
    for call in calls:
        with pytest.raises(BadInput, match="cursor is not valid"):
            await call()
