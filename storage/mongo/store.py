"""The MongoDB backend of ``Store`` on PyMongo's async API (``pymongo.AsyncMongoClient``).

Selected by a ``mongodb://`` or ``mongodb+srv://`` store URL; the database is the
URL's path (``mongodb://host/crm`` -> ``crm``), ``crmsphere`` when it has none.
Indexes are created at start-up, idempotently.  Like the SQLite store, it is
assembled from one class per area, each in its own ``storage/mongo/<area>.py``.

What is guaranteed
------------------
On a **replica set or sharded cluster** (the server names a set, or is mongos),
every group of writes that belongs together (a batch of mentions and its cursor;
a vote and its count; a routed item and its deliveries; ...) is one
multi-document transaction: all of it is stored or none of it.

On a **standalone server** there are no transactions.  Each area then orders its
writes (and relies on unique indexes) so that a crash repeats or completes work
instead of losing it silently; each ``storage/mongo/<area>.py`` says how, and
docs/mongodb.md has the table.  What is NOT guaranteed there: after a crash a
half-written group may be visible (part of a mention batch; a vote count one
short until recounted).

Writes use the client's write concern; a store URL asking for unacknowledged
writes (``w=0``) is refused, because such writes can be lost without an error.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

from domain.errors import ConfigError
from storage.base import Store
from storage.mongo.accounts import ACCOUNT_INDEXES, MongoAccounts
from storage.mongo.changelog import CHANGELOG_INDEXES, MongoChangelog
from storage.mongo.comments import MongoComments
from storage.mongo.crm import CRM_INDEXES, MongoCrm
from storage.mongo.customers import CUSTOMER_INDEXES, MongoCustomers, fill_customer_search
from storage.mongo.dashboard import DASHBOARD_INDEXES, MongoDashboard
from storage.mongo.dashboard_customer import MongoDashboardCustomer
from storage.mongo.db import MongoWrites, import_pymongo, topology_has_transactions
from storage.mongo.idea_audience import MongoIdeaAudience
from storage.mongo.demo import MongoDemo
from storage.mongo.events import EVENT_INDEXES, MongoEvents
from storage.mongo.idea_votes import MongoIdeaVotes
from storage.mongo.idea_titles import MongoIdeaTitles
from storage.mongo.ideas import IDEA_INDEXES, MongoIdeas, prepare_idea_search
from storage.mongo.link_queue import LINK_QUEUE_INDEXES, MongoLinkQueue
from storage.mongo.mentions import MENTION_INDEXES, MongoMentions, fill_source_keys
from storage.mongo.mention_identities import fill_mention_identities
from storage.mongo.team_notes import key_team_notes
from storage.mongo.merges import MERGE_INDEXES, MongoMerges
from storage.mongo.uow import MongoUnitOfWork
from storage.mongo.moderation import MODERATION_INDEXES, MongoModeration
from storage.mongo.nlp import NLP_INDEXES, MongoNlp
from storage.mongo.notify import NOTIFY_INDEXES, MongoNotify
from storage.mongo.people import PEOPLE_INDEXES, MongoPeople
from storage.mongo.replies import REPLY_INDEXES, MongoReplies
from storage.mongo.routing import ROUTING_INDEXES, MongoRouting
from storage.mongo.routing_jobs import ROUTING_JOB_INDEXES, MongoRoutingJobs
from storage.mongo.sources import MongoSources
from storage.mongo.triage import TRIAGE_INDEXES, MongoTriage

_LEASE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "leases": [([("holder", 1)], {"name": "leases_holder"})],
}
#: Every area's indexes, collection -> specs (areas may add indexes to one collection).
_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {}
for _area in (CUSTOMER_INDEXES, MENTION_INDEXES, TRIAGE_INDEXES, NLP_INDEXES, ROUTING_INDEXES, ROUTING_JOB_INDEXES,
              NOTIFY_INDEXES, ACCOUNT_INDEXES, IDEA_INDEXES, MERGE_INDEXES, DASHBOARD_INDEXES,
              MODERATION_INDEXES, PEOPLE_INDEXES, CRM_INDEXES, LINK_QUEUE_INDEXES, CHANGELOG_INDEXES, REPLY_INDEXES, EVENT_INDEXES,
              _LEASE_INDEXES):
    for _collection, _specs in _area.items():
        _INDEXES.setdefault(_collection, []).extend(_specs)


async def open_mongo_store(url: str, *, transactions: bool | None = None) -> MongoStore:
    """Connect to the MongoDB named by ``url`` and create the indexes it needs.

    ``transactions`` overrides the detection of whether the server runs them
    (``None``: ask the server).  The URL option ``crmsphere_transactions`` (taken out
    before the URL reaches the driver) says the same in configuration:

    - ``auto`` (default): transactions when the server runs them, else ordered writes;
    - ``required``: refuse to start unless the server runs transactions (a production
      set-up that must never fall back to the standalone guarantees);
    - ``on``: use transactions whatever the server says (tests on mongoeco).
    """
    pymongo = import_pymongo()
    url, mode = _take_option(url, TRANSACTIONS_OPTION)
    if mode not in (None, "auto", "required", "on"):
        raise ConfigError("store.url", f"{TRANSACTIONS_OPTION}={mode}", "auto, required or on")
    if transactions is None and mode == "on":
        transactions = True

    try:
        client = pymongo.AsyncMongoClient(
            url, tz_aware=True, tzinfo=UTC, connect=False, appname="crmsphere")
    except (pymongo.errors.ConfigurationError, pymongo.errors.InvalidURI, ValueError) as exc:
        raise ConfigError("store.url", url, f"a valid MongoDB URL ({exc})") from exc
    try:
        if not client.write_concern.acknowledged:
            raise ConfigError("store.url", url,
                              "acknowledged writes (w=0 can lose data without an error)")
        database = client.get_default_database(default="crmsphere")
        if transactions is None:
            try:
                hello = await client.admin.command("hello")
            except pymongo.errors.PyMongoError as exc:
                raise ConfigError("store.url", _redacted(url),
                                  f"a reachable MongoDB server ({type(exc).__name__})") from exc
            transactions = topology_has_transactions(hello)
            if mode == "required" and not transactions:
                raise ConfigError("store.url", _redacted(url),
                                  f"a replica set or sharded cluster ({TRANSACTIONS_OPTION}=required; "
                                  "this server is standalone and runs no transactions)")
        store = MongoStore(client, database, transactions)
        await key_team_notes(database)  # before the unique index on the keys is made
        await fill_mention_identities(database)  # likewise
        await store.create_indexes()
        await fill_customer_search(database)  # customers stored before the word search
        await fill_source_keys(database)  # a database written before mentions kept their source
    except BaseException:
        await client.close()
        raise
    return store


TRANSACTIONS_OPTION = "crmsphere_transactions"


def _take_option(url: str, name: str) -> tuple[str, str | None]:
    """``url`` without the query option ``name``, and that option's value (``None``: absent)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    value = next((v for k, v in query if k == name), None)
    if value is None:
        return url, None
    rest = urlencode([(k, v) for k, v in query if k != name])
    return urlunsplit(parts._replace(query=rest)), value


def _redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class MongoStore(MongoDemo, MongoCustomers, MongoMentions, MongoSources, MongoTriage, MongoNlp, MongoRouting, MongoRoutingJobs,
                 MongoNotify, MongoAccounts, MongoIdeaVotes, MongoIdeas, MongoIdeaTitles, MongoIdeaAudience, MongoComments, MongoMerges, MongoUnitOfWork,
                 MongoDashboard, MongoDashboardCustomer, MongoLinkQueue, MongoModeration, MongoPeople, MongoCrm, MongoChangelog, MongoReplies, MongoEvents,
                 Store):
    """``Store`` on one MongoDB database through one ``AsyncMongoClient``."""

    def __init__(self, client: Any, database: Any, transactions: bool) -> None:
        self._client = client
        self._db = database
        self._writes = MongoWrites(client, transactions)

    @property
    def database(self) -> Any:
        """The ``AsyncDatabase`` (for tools such as tests and the migration)."""
        return self._db

    @property
    def transactions(self) -> bool:
        """Whether grouped writes run as multi-document transactions."""
        return self._writes.transactions

    async def create_indexes(self) -> None:
        """Create every index the store's queries use; existing ones are left alone."""
        from pymongo import IndexModel

        await prepare_idea_search(self._db)
        # One command per collection, all at once: start-up waits for the slowest, not the sum.
        await asyncio.gather(*(
            self._db[collection].create_indexes([IndexModel(keys, **options) for keys, options in specs])
            for collection, specs in _INDEXES.items()))

    async def close(self) -> None:
        await self._client.close()

    async def get_meta(self, key: str) -> str | None:
        doc = await self._db.meta.find_one({"_id": key})
        return doc["value"] if doc else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.meta.update_one({"_id": key}, {"$set": {"value": value}}, upsert=True)

    async def counts(self) -> dict[str, int]:
        links = await self._db.mentions.aggregate([
            {"$match": {"customer_ids.0": {"$exists": True}}},
            {"$group": {"_id": None, "n": {"$sum": {"$size": "$links"}}}},
        ])
        totals = await links.to_list()
        return {
            "customers": await self._db.customers.count_documents({}),
            "mentions": await self._db.mentions.count_documents({}),
            "mention_links": int(totals[0]["n"]) if totals else 0,
        }
