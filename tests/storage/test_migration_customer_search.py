"""Customers stored before the word search (SQLite migration 0080, MongoDB's start-up step)
are found by it after the upgrade: the words are filled with the same folding the write
path uses, from the stored name, company, e-mail addresses and handles."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain import Identity
from storage import open_store
from storage.mongo.customers import _customer_doc
from tests.conftest import T0, customer
from tests.storage.mongo_harness import database_url
from tests.storage.old_schema import database_before

OLD = [
    ("c_jose", "José Álvarez", "Café Düsseldorf GmbH", ["jose.alvarez@cafe-dus.example"], [("x", "pepe_a")]),
    ("c_anna", "Anna Smith", None, [], []),
    ("c_joanne", "Joanne Baker", "Bakery", [], [("reddit", "jo_bakes")]),
]


async def _search(url: str, text: str) -> list[str]:
    store = await open_store(url)
    try:
        return [c.id for c in (await store.list_customers(text, 10)).items]
    finally:
        await store.close()


async def test_0080_fills_the_words_of_customers_stored_before(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = database_before(path, 80)
    for cid, name, company, emails, handles in OLD:
        conn.execute("INSERT INTO customers (id, name, kind, company, emails, updated_at) "
                     "VALUES (?, ?, 'person', ?, ?, '2026-01-01T00:00:00.000000Z')",
                     (cid, name, company, json.dumps(emails)))
        conn.executemany("INSERT INTO customer_identities VALUES (?, ?, ?)",
                         [(cid, p, h) for p, h in handles])
    conn.close()
    url = f"sqlite:///{path}"
    assert await _search(url, "jose") == ["c_jose"]  # applies 0080
    assert await _search(url, "dusseldorf") == ["c_jose"]
    assert await _search(url, "jose.alvarez@cafe") == ["c_jose"]
    assert await _search(url, "pepe") == ["c_jose"]
    assert await _search(url, "jo_bakes") == ["c_joanne"]
    assert await _search(url, "ann") == ["c_anna"]


@pytest.fixture
async def old_mongo(mongodb_server_uri: str) -> AsyncIterator[tuple[str, object]]:
    """A URL of a fresh database and a raw handle on it; dropped afterwards."""
    from pymongo import AsyncMongoClient

    from storage.mongo.store import _take_option

    url = database_url(mongodb_server_uri)
    client: AsyncMongoClient = AsyncMongoClient(_take_option(url, "crmsphere_transactions")[0],
                                                tz_aware=True)
    db = client.get_default_database()
    try:
        yield url, db
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_mongodb_fills_the_words_of_customers_stored_before(old_mongo) -> None:
    url, db = old_mongo
    for cid, name, company, emails, handles in OLD:
        doc = _customer_doc(customer(cid, name, kind="person", company=company, emails=tuple(emails),
                                     identities=tuple(Identity(p, h) for p, h in handles)), T0)
        del doc["name_fold"], doc["search_words"]  # written before the word search
        await db.customers.insert_one(doc)
    assert await _search(url, "jose") == ["c_jose"]  # fills them at start-up
    assert await _search(url, "dusseldorf") == ["c_jose"]
    assert await _search(url, "jose.alvarez@cafe") == ["c_jose"]
    assert await _search(url, "pepe") == ["c_jose"]
    assert await _search(url, "jo_bakes") == ["c_joanne"]
    assert await _search(url, "ann") == ["c_anna"]
