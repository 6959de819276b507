"""A MongoDB database written before mention identities and team-note keys, opened by this
release: every mention gets the identity ``mention_identity`` gives (a federated status stored
twice keeps both documents, the later one marked), the old unique index on (source,
external_id) gives way to (source, identity), old team notes get their key (the first of a
doubled note only), and the same posts again add nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from domain import Analysis, Author, Mention, RawPost
from domain.mention_identity import identity_of, repeated_identity
from storage import open_store
from storage.mongo.db import put_time
from storage.mongo.mentions import mention_doc
from tests.conftest import T0
from tests.storage.mongo_harness import database_url
from tests.storage.test_migration_mention_identity import OLD_ROWS


@pytest.fixture
async def old_database(mongodb_server_uri: str) -> AsyncIterator[tuple[str, object]]:
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


def _post(source: str, external_id: str, url: str | None, thread: str | None, text: str) -> RawPost:
    return RawPost(source=source, external_id=external_id, author=Author("target"), text=text,
                   created_at=T0, url=url, thread_id=thread)


async def test_an_old_database_gets_identities_and_note_keys(old_database) -> None:
    url, db = old_database
    for n, (source, external_id, link, thread, key, text) in enumerate(OLD_ROWS, start=1):
        doc = mention_doc(n * 10, Mention(_post(source, external_id, link, thread, text), Analysis(),
                                          source_key=key), T0)
        del doc["identity"]  # written before identities existed
        await db.mentions.insert_one(doc)
    await db.mentions.create_index([("source", 1), ("external_id", 1)],
                                   name="mentions_source_external", unique=True)
    note = {"routed_id": 5, "actor": "notify", "action": "comment",
            "detail": json.dumps({"text": "Tell the linked social customers (Target Logistics)"})}
    for log_id in (1, 2):  # the old race: the same note twice
        await db.routing_log.insert_one(put_time({"_id": log_id, **note}, "at", T0))

    store = await open_store(url)
    try:
        again = await store.save_mentions(
            "jsonl:/srv/import/mentions.jsonl",
            [Mention(_post(s, e, u, t, x), Analysis()) for s, e, u, t, _, x in OLD_ROWS], None)
        other = await store.save_mentions("mastodon-social", [Mention(_post(
            "mastodon", "115600000000000101", "https://social.example/@lee/115600000000000101",
            None, "Our Nimbus rollout went fine"), Analysis())], None)
        indexes = {i["name"]: i for i in await (await db.mentions.list_indexes()).to_list()}
        identities = {d["_id"]: d["identity"] async for d in db.mentions.find({"_id": {"$in": [n * 10 for n in range(1, len(OLD_ROWS) + 1)]}})}
        keys = {d["_id"]: d.get("note_key") async for d in db.routing_log.find({})}
    finally:
        await store.close()

    expected = {n * 10: identity_of(source, external_id, link, thread)
                for n, (source, external_id, link, thread, _, _) in enumerate(OLD_ROWS, start=1)}
    expected[30] = repeated_identity(expected[30], 30)
    assert identities == expected
    assert "mentions_source_external" not in indexes
    assert indexes["mentions_source_identity"].get("unique") is True
    assert (again.inserted, other.inserted) == (0, 1)
    assert keys == {1: "status:2026-11-01T12:00:00.000000Z", 2: None}
