"""Accounts, one-time secrets, sessions and API tokens in MongoDB.

E-mail uniqueness is case-insensitive through a unique index on ``email_key``
(the lower-cased address), as SQLite's ``COLLATE NOCASE``.  Secrets and
sessions are keyed by their hash; using a secret is one conditional update, so
of two concurrent uses exactly one succeeds on any server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import utcnow
from domain.forum import Account, ApiToken, Session
from domain.errors import Conflict
from storage.mongo.db import (
    MongoWrites,
    get_time,
    next_ids,
    put_time,
    time_cmp,
    time_fields, need_time,
)
from storage.base import clamp_limit
from storage.rows import API_TOKEN
from storage.mongo.rows import doc_reader, found

ACCOUNT_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "accounts": [([("email_key", 1)], {"name": "accounts_email", "unique": True})],
    "sessions": [([("account_id", 1)], {"name": "sessions_account"})],
    "api_tokens": [([("token_hash", 1)], {"name": "api_tokens_hash", "unique": True}),
                   ([("account_id", 1), ("_id", -1)], {"name": "api_tokens_account"})],
    "customers": [([("email_keys", 1)], {"name": "customers_email"}),
                  ([("domain_keys", 1)], {"name": "customers_domain"})],
}


def account_from_doc(d: dict[str, Any]) -> Account:
    """An account from its document."""
    return Account(id=d["_id"], email=d["email"], name=d["name"], role=d["role"],
                   customer_id=d.get("customer_id"), email_verified=bool(d.get("email_verified")),
                   blocked=bool(d.get("blocked")), created_at=get_time(d, "created_at"))


_token = doc_reader(API_TOKEN)


async def read_token_with_owner(db: Any, token_hash: str, session: Any) -> tuple[ApiToken, Account] | None:
    """The unrevoked API token with this hash and its owner (in ``session``, if any)."""
    doc = await db.api_tokens.find_one({"token_hash": token_hash, "revoked_at": None}, session=session)
    if doc is None:
        return None
    owner = await db.accounts.find_one({"_id": doc["account_id"]}, session=session)
    if owner is None:
        return None
    return _token(doc), account_from_doc(owner)


class MongoAccounts:
    """The account part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def create_account(self, email: str, name: str, password_hash: str | None,
                             role: str = "customer") -> Account:
        from pymongo.errors import DuplicateKeyError

        account_id = await next_ids(self._db, "accounts")
        doc = {"_id": account_id, "email": email, "email_key": email.lower(), "name": name,
               "password_hash": password_hash, "role": role, "customer_id": None,
               "email_verified": False, "blocked": False}
        put_time(doc, "created_at", utcnow())
        try:
            await self._db.accounts.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("an account with this e-mail already exists", {"field": "email"}) from None
        return account_from_doc(doc)

    async def get_account(self, account_id: int) -> Account:
        doc = await found(self._db.accounts.find_one({"_id": int(account_id)}), f"no account {account_id}")
        return account_from_doc(doc)

    async def get_accounts(self, account_ids: list[int]) -> dict[int, Account]:
        ids = sorted({int(i) for i in account_ids})
        docs = await self._db.accounts.find({"_id": {"$in": ids}}).to_list() if ids else []
        return {d["_id"]: account_from_doc(d) for d in docs}

    async def get_login(self, email: str) -> tuple[Account, str | None] | None:
        doc = await self._db.accounts.find_one({"email_key": email.lower()})
        return (account_from_doc(doc), doc.get("password_hash")) if doc else None

    async def list_accounts(self, limit: int = 50, offset: int = 0) -> list[Account]:
        docs = await (self._db.accounts.find({}).sort("_id", 1).skip(max(0, offset))
                      .limit(clamp_limit(limit)).to_list())
        return [account_from_doc(d) for d in docs]

    async def update_account(self, account_id: int, *, name: str | None = None,
                             role: str | None = None, customer_id: str | None = None,
                             email_verified: bool | None = None, blocked: bool | None = None,
                             password_hash: str | None = None) -> Account:
        from pymongo import ReturnDocument

        changes = {k: v for k, v in (
            ("name", name), ("role", role), ("customer_id", customer_id),
            ("email_verified", email_verified), ("blocked", blocked),
            ("password_hash", password_hash)) if v is not None}
        if changes:
            lookup = self._db.accounts.find_one_and_update(
                {"_id": int(account_id)}, {"$set": changes}, return_document=ReturnDocument.AFTER)
        else:
            lookup = self._db.accounts.find_one({"_id": int(account_id)})
        return account_from_doc(await found(lookup, f"no account {account_id}"))

    async def customers_for_email(self, email: str) -> tuple[list[str], list[str]]:
        address = email.strip().lower()
        domain = address.rpartition("@")[2]
        by_email = sorted(await self._db.customers.distinct("_id", {"email_keys": address}))
        by_domain = sorted(await self._db.customers.distinct("_id", {"domain_keys": domain})) if domain else []
        return by_email, by_domain

    async def save_secret(self, secret_hash: str, account_id: int, purpose: str,
                          expires_at: datetime) -> None:
        doc = {"_id": secret_hash, "account_id": int(account_id), "purpose": purpose, "used_at": None}
        await self._db.account_secrets.insert_one(put_time(doc, "expires_at", expires_at))

    async def use_secret(self, secret_hash: str, purpose: str, now: datetime) -> int | None:
        doc = await self._db.account_secrets.find_one_and_update(
            {"$and": [{"_id": secret_hash, "purpose": purpose, "used_at": None},
                      time_cmp("expires_at", "$gt", now)]},
            {"$set": time_fields("used_at", now)})
        return doc["account_id"] if doc else None

    async def create_session(self, token_hash: str, account_id: int, csrf: str,
                             expires_at: datetime) -> None:
        doc = {"_id": token_hash, "account_id": int(account_id), "csrf": csrf}
        put_time(doc, "created_at", utcnow())
        await self._db.sessions.insert_one(put_time(doc, "expires_at", expires_at))

    async def get_session(self, token_hash: str, now: datetime) -> Session | None:
        doc = await self._db.sessions.find_one(
            {"$and": [{"_id": token_hash}, time_cmp("expires_at", "$gt", now)]})
        if doc is None:
            return None
        owner = await self._db.accounts.find_one({"_id": doc["account_id"]})
        if owner is None:
            return None  # the account is gone: so is its session
        return Session(account_from_doc(owner), doc["csrf"], need_time(doc, "expires_at"))

    async def delete_session(self, token_hash: str) -> None:
        await self._db.sessions.delete_one({"_id": token_hash})

    async def delete_sessions(self, account_id: int) -> int:
        return (await self._db.sessions.delete_many({"account_id": int(account_id)})).deleted_count

    async def create_api_token(self, account_id: int, name: str, token_hash: str,
                               role: str) -> ApiToken:
        token_id = await next_ids(self._db, "api_tokens")
        doc = {"_id": token_id, "account_id": int(account_id), "name": name,
               "token_hash": token_hash, "role": role}
        put_time(doc, "created_at", utcnow())
        put_time(doc, "last_used_at", None)
        put_time(doc, "revoked_at", None)
        await self._db.api_tokens.insert_one(doc)
        return _token(doc)

    async def get_api_token(self, token_hash: str, now: datetime) -> tuple[ApiToken, Account] | None:
        found = await read_token_with_owner(self._db, token_hash, None)
        if found is not None:
            await self.note_token_use(found[0], now)
        return found

    async def note_token_use(self, token: ApiToken, now: datetime) -> None:
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            # Noting use at most once a minute keeps token calls from writing on every request.
            await self._db.api_tokens.update_one({"_id": token.id}, {"$set": time_fields("last_used_at", now)})

    async def list_api_tokens(self, account_id: int) -> list[ApiToken]:
        docs = await self._db.api_tokens.find({"account_id": int(account_id)}).sort("_id", -1).to_list()
        return [_token(d) for d in docs]

    async def revoke_api_token(self, token_id: int, account_id: int | None, now: datetime) -> bool:
        filt: dict[str, Any] = {"_id": int(token_id), "revoked_at": None}
        if account_id is not None:
            filt["account_id"] = int(account_id)
        done = await self._db.api_tokens.update_one(filt, {"$set": time_fields("revoked_at", now)})
        return done.modified_count == 1
