"""Accounts, one-time secrets, sessions and API tokens in SQLite."""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from datetime import datetime

from domain import utcnow
from domain.forum import Account, ApiToken, Role, Session
from domain.errors import Conflict
from storage.base import clamp_limit
from storage.sqlite.db import ThreadedConnection, from_db_time, to_db_time
from storage.rows import API_TOKEN
from storage.sqlite.rows import fetch_one, row_reader

log = logging.getLogger(__name__)


def account_from_row(r: sqlite3.Row) -> Account:
    """An account from its row."""
    return _account(r["id"], r["email"], r["name"], r["role"], r["customer_id"],
                    r["email_verified"], r["blocked"], r["created_at"])


@functools.lru_cache(maxsize=4096)
def _account(account_id: int, email: str, name: str, role: Role, customer_id: str | None,
             email_verified: int, blocked: int, created_at: str) -> Account:
    # Accounts are immutable values: the same column values always give an equal Account,
    # so one is made per distinct row, not per read (a page of ideas reads 20 authors).
    return Account(id=account_id, email=email, name=name, role=role, customer_id=customer_id,
                   email_verified=bool(email_verified), blocked=bool(blocked),
                   created_at=from_db_time(created_at))


_token_from_row = row_reader(API_TOKEN)


#: an unrevoked token by its hash and its owner: the token's columns, then ``_account``'s
#: The columns of a token and its owner, in the order ``token_with_owner`` takes them.
TOKEN_OWNER_COLUMNS = (
    "t.id, t.account_id, t.name, t.role, t.created_at, t.last_used_at, t.revoked_at, "
    "a.id, a.email, a.name, a.role, a.customer_id, a.email_verified, a.blocked, a.created_at")
#: How many values those are.
TOKEN_OWNER_WIDTH = 15
_TOKEN_WITH_OWNER = (
    f"SELECT {TOKEN_OWNER_COLUMNS} "
    "FROM api_tokens t JOIN accounts a ON a.id = t.account_id "
    "WHERE t.token_hash = ? AND t.revoked_at IS NULL")


def read_token_with_owner(conn: sqlite3.Connection, token_hash: str) -> tuple[ApiToken, Account] | None:
    """The unrevoked API token with this hash and its owner, in one statement (each statement
    hands the GIL between the event loop and the writer thread: bench/forum.py)."""
    row = conn.execute(_TOKEN_WITH_OWNER, (token_hash,)).fetchone()
    return None if row is None else token_with_owner(tuple(row))


@functools.lru_cache(maxsize=4096)
def token_with_owner(values: tuple) -> tuple[ApiToken, Account]:
    """A token and its owner from the values of ``TOKEN_OWNER_COLUMNS``."""
    # Both are immutable values: the same columns give equal ones, so the tokens voting at
    # the moment are decoded once (three timestamps and two objects), not once a vote.
    (token_id, account_id, name, role, created_at, last_used_at, revoked_at), owner = values[:7], values[7:]
    token = ApiToken(id=token_id, account_id=account_id, name=name, role=role,
                     created_at=from_db_time(created_at),
                     last_used_at=from_db_time(last_used_at) if last_used_at else None,
                     revoked_at=from_db_time(revoked_at) if revoked_at else None)
    return token, _account(*owner)


class SqliteAccounts:
    """The account part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection
    #: token id -> when it was used, not yet written; the writes of those under way
    _token_use: dict[int, datetime]
    _token_use_writes: set[asyncio.Task[None]]

    async def create_account(self, email: str, name: str, password_hash: str | None,
                             role: str = "customer") -> Account:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> Account:
            try:
                row = conn.execute(
                    "INSERT INTO accounts (email, name, password_hash, role, created_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING *",
                    (email, name, password_hash, role, now)).fetchone()
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc):
                    raise Conflict("an account with this e-mail already exists",
                                   {"field": "email"}) from None
                raise
            return account_from_row(row)

        return await self._writer.transaction(write)

    async def get_account(self, account_id: int) -> Account:
        def read(conn: sqlite3.Connection) -> Account:
            row = fetch_one(conn, "SELECT * FROM accounts WHERE id = ?", (account_id,), f"no account {account_id}")
            return account_from_row(row)

        return await self._reader.run(read)

    async def get_accounts(self, account_ids: list[int]) -> dict[int, Account]:
        ids = sorted({int(i) for i in account_ids})

        def read(conn: sqlite3.Connection) -> dict[int, Account]:
            found: dict[int, Account] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(f"SELECT * FROM accounts WHERE id IN ({marks})", chunk):
                    found[r["id"]] = account_from_row(r)
            return found

        return await self._reader.run(read)

    async def get_login(self, email: str) -> tuple[Account, str | None] | None:
        def read(conn: sqlite3.Connection) -> tuple[Account, str | None] | None:
            row = conn.execute("SELECT * FROM accounts WHERE email = ?", (email,)).fetchone()
            return (account_from_row(row), row["password_hash"]) if row else None

        return await self._reader.run(read)

    async def list_accounts(self, limit: int = 50, offset: int = 0) -> list[Account]:
        def read(conn: sqlite3.Connection) -> list[Account]:
            rows = conn.execute("SELECT * FROM accounts ORDER BY id LIMIT ? OFFSET ?",
                                (clamp_limit(limit), max(0, offset)))
            return [account_from_row(r) for r in rows]

        return await self._reader.run(read)

    async def update_account(self, account_id: int, *, name: str | None = None,
                             role: str | None = None, customer_id: str | None = None,
                             email_verified: bool | None = None, blocked: bool | None = None,
                             password_hash: str | None = None) -> Account:
        changes = {k: v for k, v in (
            ("name", name), ("role", role), ("customer_id", customer_id),
            ("email_verified", None if email_verified is None else int(email_verified)),
            ("blocked", None if blocked is None else int(blocked)),
            ("password_hash", password_hash)) if v is not None}

        def write(conn: sqlite3.Connection) -> Account:
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)  # keys are the fixed names above
                conn.execute(f"UPDATE accounts SET {sets} WHERE id = ?", [*changes.values(), account_id])
            row = fetch_one(conn, "SELECT * FROM accounts WHERE id = ?", (account_id,), f"no account {account_id}")
            return account_from_row(row)

        return await self._writer.transaction(write)

    async def customers_for_email(self, email: str) -> tuple[list[str], list[str]]:
        address = email.strip().lower()
        domain = address.rpartition("@")[2]

        def read(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
            by_email = [r[0] for r in conn.execute(
                "SELECT DISTINCT c.id FROM customers c, json_each(c.emails) e "
                "WHERE lower(e.value) = ? ORDER BY c.id", (address,))]
            by_domain = [r[0] for r in conn.execute(
                "SELECT DISTINCT c.id FROM customers c, json_each(c.domains) d "
                "WHERE lower(d.value) = ? ORDER BY c.id", (domain,))] if domain else []
            return by_email, by_domain

        return await self._reader.run(read)

    async def save_secret(self, secret_hash: str, account_id: int, purpose: str,
                          expires_at: datetime) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO account_secrets VALUES (?, ?, ?, ?, NULL)",
                         (secret_hash, account_id, purpose, to_db_time(expires_at)))

        await self._writer.transaction(write)

    async def use_secret(self, secret_hash: str, purpose: str, now: datetime) -> int | None:
        def write(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "UPDATE account_secrets SET used_at = ? WHERE secret_hash = ? AND purpose = ? "
                "AND used_at IS NULL AND expires_at > ? RETURNING account_id",
                (to_db_time(now), secret_hash, purpose, to_db_time(now))).fetchone()
            return row[0] if row else None

        return await self._writer.transaction(write)

    async def create_session(self, token_hash: str, account_id: int, csrf: str,
                             expires_at: datetime) -> None:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                         (token_hash, account_id, csrf, now, to_db_time(expires_at)))

        await self._writer.transaction(write)

    async def get_session(self, token_hash: str, now: datetime) -> Session | None:
        def read(conn: sqlite3.Connection) -> Session | None:
            row = conn.execute(
                "SELECT a.*, s.csrf AS s_csrf, s.expires_at AS s_expires FROM sessions s "
                "JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ? AND s.expires_at > ?",
                (token_hash, to_db_time(now))).fetchone()
            if row is None:
                return None
            return Session(account_from_row(row), row["s_csrf"], from_db_time(row["s_expires"]))

        return await self._reader.run(read, inline=True)  # every signed-in request: no thread hop

    async def delete_session(self, token_hash: str) -> None:
        await self._writer.transaction(
            lambda conn: conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,)))

    async def delete_sessions(self, account_id: int) -> int:
        return await self._writer.transaction(
            lambda conn: conn.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,)).rowcount)

    async def create_api_token(self, account_id: int, name: str, token_hash: str,
                               role: str) -> ApiToken:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> ApiToken:
            row = conn.execute(
                "INSERT INTO api_tokens (account_id, name, token_hash, role, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING *", (account_id, name, token_hash, role, now)).fetchone()
            return _token_from_row(row)

        return await self._writer.transaction(write)

    async def get_api_token(self, token_hash: str, now: datetime) -> tuple[ApiToken, Account] | None:
        found = await self._reader.run(lambda conn: read_token_with_owner(conn, token_hash),
                                       inline=True)  # every token request: no thread hop
        if found is not None:
            await self.note_token_use(found[0], now)
        return found

    async def note_token_use(self, token: ApiToken, now: datetime) -> None:
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            # Noting use at most once a minute keeps token calls off the writer, and the note
            # is written after the request, with the others of the moment: a vote stays one
            # hop to the writer thread.
            self._note_token_use(token.id, now)

    def _note_token_use(self, token_id: int, now: datetime) -> None:
        first = not self._token_use
        self._token_use[token_id] = now
        if first:
            task = asyncio.get_running_loop().create_task(self.write_token_use())
            self._token_use_writes.add(task)
            task.add_done_callback(self._token_use_writes.discard)

    async def write_token_use(self) -> None:
        """Store the token uses noted since the last write, in one transaction (the store
        does it on its own after token requests, and on closing)."""
        await asyncio.sleep(0)  # the requests arriving with this one note theirs too
        noted, self._token_use = self._token_use, {}
        if not noted:
            return
        try:
            await self._writer.transaction(lambda conn: conn.executemany(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND "
                "(last_used_at IS NULL OR last_used_at < ?)",
                [(to_db_time(at), token_id, to_db_time(at)) for token_id, at in noted.items()]))
        except (sqlite3.Error, RuntimeError):  # boundary: a use stamp; the next use notes it again
            log.exception("noting the use of %d API token(s) failed", len(noted))

    async def list_api_tokens(self, account_id: int) -> list[ApiToken]:
        def read(conn: sqlite3.Connection) -> list[ApiToken]:
            return [_token_from_row(r) for r in conn.execute(
                "SELECT * FROM api_tokens WHERE account_id = ? ORDER BY id DESC", (account_id,))]

        return await self._reader.run(read)

    async def revoke_api_token(self, token_id: int, account_id: int | None, now: datetime) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            sql = "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
            args: list = [to_db_time(now), token_id]
            if account_id is not None:
                sql += " AND account_id = ?"
                args.append(account_id)
            return conn.execute(sql, args).rowcount == 1

        return await self._writer.transaction(write)
