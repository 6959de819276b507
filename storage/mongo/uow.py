"""The unit of work in MongoDB: repositories inside one session transaction, where there is one.

On a replica set (or mongos) every call passes the session of one transaction
(``MongoWrites.run``: ``start_session`` + ``with_transaction``, run again after a
transient error or a lost uniqueness race).

A standalone server runs no transactions — mongoeco, the test server, answers ``hello`` as
one, and refuses ``startTransaction``.  There the strongest form it offers is used:
each write is atomic on its one document, uniqueness is kept by unique indexes (a vote is
one upsert guarded by the (idea, customer) index), the vote is counted by one conditional
``findOneAndUpdate`` that matches only while the idea is as the rule read it
(``unchanged``), and when the block raises or is cancelled the writes of a vote (the vote,
its rate hit, count, follow, threshold and events) are undone in reverse order (compensation,
``storage.mongo.uow_undo``).
A write's answer can be lost to a cancellation after the server applied it: the count's undo
is named before its write and applies only where the write left its mark on the idea
(``uow_undo.COUNTING``), which a block that ends well clears.  A crash between two writes can leave a vote
stored and the count one short (``community.merging.recount_idea`` repairs it; docs/mongodb.md), or a merge
marked in progress in ``merges_of`` with everything needed to finish or undo it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from domain import Customer
from domain.errors import NotFound
from domain.events import NewEvent
from domain.forum import Account, ApiToken, Idea, MergeRecord, RateWindow, Vote
from storage.contract.uow import (
    CommentRows, CustomerRows, EventRows, IdeaRows, LinkRows, MergeRows, RateRows,
    ThresholdRows, UnitOfWork, UnitOfWorkScope, VoteRow, VoteRows,
)
from storage.mongo.accounts import read_token_with_owner
from storage.mongo.customers import MongoCustomerEdits, _customer_from_doc
from storage.mongo.db import (
    MongoWrites, get_time, import_pymongo, insert_once, need_time, next_ids, put_time, time_fields,
)
from storage.mongo.events import record_events
from storage.mongo.ideas import idea_from_doc
from storage.mongo.moderation import bump_rate_hit
from storage.mongo.crm import MongoCrmRecords, MongoCustomerRefs
from storage.mongo.people import MongoAuthorLinks, MongoPersonRows
from storage.mongo.uow_forum import forum_repositories
from storage.mongo.rows import found
from storage.mongo.uow_undo import Undo, UndoLog


R = TypeVar("R")
#: The idea fields the vote rules read; a vote is counted only while none has changed.
GATE_FIELDS = ("status", "locked", "merged_into", "approval", "hidden", "spam")


def unchanged(doc: dict[str, Any]) -> dict[str, Any]:
    """A filter matching the idea of ``doc`` only while its ``GATE_FIELDS`` are as in ``doc``."""
    gate: dict[str, Any] = {"_id": doc["_id"]}
    for name in GATE_FIELDS:
        gate[name] = doc[name] if name in doc else {"$exists": False}
    return gate


def merge_from_doc(d: dict[str, Any]) -> MergeRecord:
    """A merge record from its document."""
    return MergeRecord(id=d["_id"], source_id=d["source_id"], target_id=d["target_id"],
                       account_id=d.get("account_id"), created_at=need_time(d, "created_at"),
                       undone_at=get_time(d, "undone_at"), moved=json.loads(d["moved"]))


def _vote_row(d: dict[str, Any]) -> VoteRow:
    created = get_time(d, "created_at")
    return {"id": d["_id"], "idea_id": d["idea_id"], "customer_id": d["customer_id"],
            "account_id": d.get("account_id"), "proxy": int(bool(d.get("proxy"))),
            "proxy_note": d.get("proxy_note"), "proxy_source": d.get("proxy_source"),
            "created_at": created.isoformat() if created else None}


def _vote_doc(row: VoteRow) -> dict[str, Any]:
    doc = {"_id": row["id"], "idea_id": row["idea_id"], "customer_id": row["customer_id"],
           "account_id": row.get("account_id"), "proxy": bool(row.get("proxy")),
           "proxy_note": row.get("proxy_note"), "proxy_source": row.get("proxy_source")}
    created = datetime.fromisoformat(row["created_at"]) if row.get("created_at") else None
    return put_time(doc, "created_at", created)


async def recount(db: Any, idea_id: int, session: Any) -> None:
    """Set an idea's vote count from its votes."""
    votes = await db.votes.count_documents({"idea_id": idea_id}, session=session)
    await db.ideas.update_one({"_id": idea_id}, {"$set": {"vote_count": votes}}, session=session)


class _Uow(UnitOfWork):
    def __init__(self, db: Any, session: Any) -> None:
        self.db, self.session = db, session
        #: what this block takes back if it fails where no transaction runs
        self.undo_log = UndoLog(db, session)
        #: idea documents as read in this unit of work (``count_vote``'s guard)
        self.read: dict[int, dict[str, Any]] = {}
        self.ideas, self.customers, self.rates = _Ideas(self), _Customers(self), _Rates(self)
        self.votes, self.comments = _Votes(self), _Comments(self)
        self.followers = _Links(self, "idea_followers", "account_id")
        self.mentions = _Links(self, "idea_mentions", "mention_id")
        self.thresholds, self.events, self.merges = _Thresholds(self), _Events(self), _Merges(self)
        self.people, self.customer_edits = MongoPersonRows(db, session), MongoCustomerEdits(db, session)
        self.author_links = MongoAuthorLinks(db, session)
        self.crm_records, self.customer_refs = MongoCrmRecords(db, session), MongoCustomerRefs(db, session)
        (self.comment_records, self.idea_records, self.status_changes, self.notifications,
         self.reports) = forum_repositories(db, session)

    async def token_vote_subjects(self, token_hash: str, idea_id: int
                                  ) -> tuple[tuple[ApiToken, Account] | None, Idea | None, Customer | None]:
        token = await read_token_with_owner(self.db, token_hash, self.session)
        if token is None:
            return None, None, None
        customer_id = token[1].customer_id
        try:
            idea, customer = await self.vote_subjects(idea_id, customer_id or "")
        except NotFound:
            return token, None, None
        return token, idea, customer if customer_id is not None else None

    def undo_on_failure(self, undo: Undo) -> None:
        self.undo_log.undo_on_failure(undo)


class _Repo:
    def __init__(self, uow: _Uow) -> None:
        self._uow, self._db, self._s = uow, uow.db, uow.session


class _Ideas(_Repo, IdeaRows):
    async def get(self, idea_id: int) -> Idea:
        doc = await found(self._db.ideas.find_one({"_id": int(idea_id)}, session=self._s), f"no idea {idea_id}")
        self._uow.read[doc["_id"]] = doc
        return idea_from_doc(doc)

    async def count_vote(self, idea: Idea, impact: float) -> Idea | None:
        pymongo = import_pymongo()
        doc = self._uow.read.get(idea.id)
        after = await self._db.ideas.find_one_and_update(
            unchanged(doc) if doc is not None else {"_id": idea.id}, self._uow.undo_log.count_change(idea.id, 1, impact),
            return_document=pymongo.ReturnDocument.AFTER, session=self._s)
        return None if after is None else idea_from_doc(after)

    async def uncount_vote(self, idea: Idea, impact: float) -> Idea:
        pymongo = import_pymongo()
        after = await self._db.ideas.find_one_and_update(
            {"_id": idea.id}, self._uow.undo_log.count_change(idea.id, -1, impact),
            return_document=pymongo.ReturnDocument.AFTER, session=self._s)
        if after is None:
            return idea
        if after.get("impact", 0.0) < 0:  # never below nothing
            await self._db.ideas.update_one({"_id": idea.id, "impact": {"$lt": 0}},
                                            {"$set": {"impact": 0.0}}, session=self._s)
            after["impact"] = 0.0
        return idea_from_doc(after)

    async def set_merged(self, idea_id: int, target_id: int | None, now: datetime) -> None:
        await self._db.ideas.update_one({"_id": idea_id}, {"$set": {
            "merged_into": target_id, **time_fields("updated_at", now)}}, session=self._s)

    async def recount(self, idea_id: int) -> None:
        await recount(self._db, idea_id, self._s)


class _Customers(_Repo, CustomerRows):
    async def get(self, customer_id: str) -> Customer | None:
        found = await self._db.customers.find_one({"_id": customer_id}, session=self._s)
        return _customer_from_doc(found) if found is not None else None


class _Rates(_Repo, RateRows):
    async def hit(self, window: RateWindow) -> int:
        hits = await bump_rate_hit(self._db, window.scope, window.subject, window.window_start,
                                   window.forget_before, self._s)
        key = {"_id": {"scope": window.scope, "subject": window.subject,
                       "window_start": int(window.window_start)}}
        self._uow.undo_on_failure(lambda: self._db.rate_hits.update_one(key, {"$inc": {"hits": -1}}))
        return hits


class _Votes(_Repo, VoteRows):
    async def add(self, vote: Vote) -> bool:
        vote_id = await next_ids(self._db, "votes", session=self._s)
        key = {"idea_id": int(vote.idea_id), "customer_id": vote.customer_id}
        doc = put_time({"_id": vote_id, **key, "account_id": vote.account_id, "proxy": bool(vote.proxy),
                        "proxy_note": vote.proxy_note, "proxy_source": vote.proxy_source},
                       "created_at", vote.created_at)
        # Taken back by its own id, named before the write: a block cancelled while the write
        # is on its way (the server may still apply it) takes it back too.
        self._uow.undo_on_failure(lambda: self._db.votes.delete_one({"_id": vote_id}))
        return await insert_once(self._db.votes, key, doc, self._s)

    async def remove(self, idea_id: int, customer_id: str) -> bool:
        key = {"idea_id": int(idea_id), "customer_id": customer_id}
        if self._s is None:
            # Named before the delete, which a cancelled block may not hear of: put back once.
            doc = await self._db.votes.find_one(key)
            if doc is None:
                return False
            self._uow.undo_on_failure(lambda: insert_once(self._db.votes, key, doc))
            key = {"_id": doc["_id"]}
        gone = await self._db.votes.delete_one(key, session=self._s)
        return bool(gone.deleted_count)

    async def of_customers(self, idea_id: int, customer_ids: Sequence[str]) -> set[str]:
        return set(await self._db.votes.distinct("customer_id", {
            "idea_id": idea_id, "customer_id": {"$in": list(customer_ids)}}, session=self._s))

    async def rows(self, idea_id: int) -> list[VoteRow]:
        docs = await self._db.votes.find({"idea_id": idea_id}, session=self._s).sort("_id", 1).to_list()
        return [_vote_row(d) for d in docs]

    async def delete(self, vote_ids: Sequence[int]) -> None:
        if vote_ids:
            await self._db.votes.delete_many({"_id": {"$in": list(vote_ids)}}, session=self._s)

    async def move(self, from_idea: int, to_idea: int, vote_ids: Sequence[int] | None = None) -> None:
        which: dict[str, Any] = {"idea_id": from_idea}
        if vote_ids is not None:
            if not vote_ids:
                return
            which["_id"] = {"$in": list(vote_ids)}
        await self._db.votes.update_many(which, {"$set": {"idea_id": to_idea}}, session=self._s)

    async def restore(self, rows: Sequence[VoteRow]) -> None:
        for row in rows:
            vote = _vote_doc(row)
            await insert_once(self._db.votes, {"idea_id": vote["idea_id"], "customer_id": vote["customer_id"]},
                              vote, self._s)


class _Comments(_Repo, CommentRows):
    async def ids(self, idea_id: int) -> list[int]:
        return sorted(await self._db.comments.distinct("_id", {"idea_id": idea_id}, session=self._s))

    async def move(self, from_idea: int, to_idea: int, thread_ids: Sequence[int] | None = None) -> None:
        which: dict[str, Any] = {"idea_id": from_idea}
        if thread_ids is not None:
            if not thread_ids:
                return
            which["$or"] = [{"_id": {"$in": list(thread_ids)}}, {"parent_id": {"$in": list(thread_ids)}}]
        await self._db.comments.update_many(which, {"$set": {"idea_id": to_idea}}, session=self._s)


class _Links(_Repo, LinkRows):
    def __init__(self, uow: _Uow, collection: str, field: str) -> None:
        super().__init__(uow)
        self._coll, self._field = self._db[collection], field

    async def of(self, idea_id: int) -> list[int]:
        return sorted(await self._coll.distinct(self._field, {"idea_id": idea_id}, session=self._s))

    async def add(self, idea_id: int, ids: Sequence[int]) -> None:
        for linked in ids:
            key = {"idea_id": int(idea_id), self._field: int(linked)}
            if await insert_once(self._coll, key, dict(key), self._s):
                self._uow.undo_on_failure(functools.partial(self._coll.delete_one, key))

    async def remove(self, idea_id: int, ids: Sequence[int] | None = None) -> None:
        which: dict[str, Any] = {"idea_id": idea_id}
        if ids is not None:
            if not ids:
                return
            which[self._field] = {"$in": list(ids)}
        await self._coll.delete_many(which, session=self._s)


class _Thresholds(_Repo, ThresholdRows):
    async def record_each(self, idea_id: int, names: Sequence[str], at: datetime) -> list[str]:
        return [name for name in names if await self._record(idea_id, name, at)]

    async def _record(self, idea_id: int, name: str, at: datetime) -> bool:
        key = {"_id": {"idea_id": int(idea_id), "threshold": name}}
        if not await insert_once(self._db.idea_thresholds, key, put_time(
                {"idea_id": int(idea_id), "threshold": name}, "crossed_at", at), self._s):
            return False
        self._uow.undo_on_failure(lambda: self._db.idea_thresholds.delete_one(key))
        return True


class _Events(_Repo, EventRows):
    async def record(self, events: Sequence[NewEvent], at: datetime) -> None:
        await record_events(self._db, events, at, self._s, self._taking)

    def _taking(self, ids: list[int]) -> None:
        # Named before the write, like a vote: an event of a vote taken back would be read
        # by consumers as a vote nobody cast.
        self._uow.undo_on_failure(lambda: self._db.events.delete_many({"_id": {"$in": ids}}))


class _Merges(_Repo, MergeRows):
    async def add(self, source_id: int, target_id: int, account_id: int | None,
                  moved: dict[str, Any], now: datetime) -> MergeRecord:
        merge_id = await next_ids(self._db, "idea_merges", session=self._s)
        record = {"_id": merge_id, "source_id": source_id, "target_id": target_id,
                  "account_id": account_id, "moved": json.dumps(moved), "in_progress": True}
        put_time(record, "created_at", now)
        put_time(record, "undone_at", None)
        await self._db.idea_merges.insert_one(record, session=self._s)
        return merge_from_doc(record)

    async def finish(self, merge_id: int) -> None:
        await self._db.idea_merges.update_one({"_id": merge_id}, {"$set": {"in_progress": False}},
                                              session=self._s)

    async def open_of(self, source_id: int) -> MergeRecord | None:
        doc = await self._db.idea_merges.find_one({"source_id": source_id, "undone_at": None},
                                                  sort=[("_id", -1)], session=self._s)
        return None if doc is None else merge_from_doc(doc)

    async def undone(self, merge_id: int, now: datetime) -> MergeRecord:
        pymongo = import_pymongo()
        done = await self._db.idea_merges.find_one_and_update(
            {"_id": merge_id}, {"$set": time_fields("undone_at", now)},
            return_document=pymongo.ReturnDocument.AFTER, session=self._s)
        return merge_from_doc(done)


class _Scope(UnitOfWorkScope):
    def __init__(self, client: Any, db: Any, writes: MongoWrites) -> None:
        self._client, self._db, self._writes = client, db, writes
        self._session: Any = None
        self._uow: _Uow | None = None

    async def __aenter__(self) -> UnitOfWork:
        if self._writes.transactions:
            self._session = self._client.start_session()
            await self._session.start_transaction()
        self._uow = _Uow(self._db, self._session)
        return self._uow

    async def __aexit__(self, kind: Any, error: Any, trace: Any) -> None:
        assert self._uow is not None
        session, self._session = self._session, None
        if session is None:
            if kind is not None:
                await self._uow.undo_log.take_back()
            else:
                await self._uow.undo_log.clear_marks()
            return
        try:
            if kind is None:
                await session.commit_transaction()
            else:
                await session.abort_transaction()
        finally:
            await session.end_session()

    async def run(self, work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
        async def attempt(session: Any) -> R:
            uow = _Uow(self._db, session)
            try:
                done = await work(uow)
            except BaseException:
                await uow.undo_log.take_back()
                raise
            await uow.undo_log.clear_marks()
            return done

        return await self._writes.run(attempt)


class MongoUnitOfWork:
    """``unit_of_work`` of ``MongoStore``."""

    _client: Any
    _db: Any
    _writes: MongoWrites

    def unit_of_work(self) -> UnitOfWorkScope:
        """One session transaction where the server runs them (see the module's docstring)."""
        return _Scope(self._client, self._db, self._writes)
