"""What a vote reads, in one statement: the idea with its tags and the voting customer with
its identities (``UnitOfWork.vote_subjects`` over SQLite).

Each statement on the writer thread hands the GIL to the event loop and waits to get it
back; the four reads this replaces (the idea, its tags, the customer, its identities) were
a third of a vote's statements (bench/forum.py).
"""

from __future__ import annotations

import functools
import json
import sqlite3

from domain import Customer, Identity
from domain.errors import NotFound
from domain.forum import Account, ApiToken, Idea, Tag
from storage.sqlite.accounts import TOKEN_OWNER_COLUMNS, TOKEN_OWNER_WIDTH, token_with_owner
from storage.sqlite.idea_rows import IDEA_COLUMNS, idea_from_values

_IDEA = ", ".join(f"i.{c}" for c in IDEA_COLUMNS)
#: the customer's columns, in the order ``_customer`` takes them
_CUSTOMER = ("id", "name", "kind", "company", "segment", "annual_revenue", "emails", "domains", "aliases")
_READ = (
    f"SELECT {_IDEA}, "
    "(SELECT json_group_array(json_array(tag, public)) FROM idea_tags WHERE idea_id = i.id), "
    f"{', '.join(f'c.{c}' for c in _CUSTOMER)}, "
    "(SELECT json_group_array(json_array(platform, handle)) FROM customer_identities "
    " WHERE customer_id = c.id) "
    "FROM ideas i LEFT JOIN customers c ON c.id = ? WHERE i.id = ?")
#: The same with the bearer token and its owner first, the customer being the owner's.
_TOKEN_READ = (
    f"SELECT {TOKEN_OWNER_COLUMNS}, {_IDEA}, "
    "(SELECT json_group_array(json_array(tag, public)) FROM idea_tags WHERE idea_id = i.id), "
    f"{', '.join(f'c.{c}' for c in _CUSTOMER)}, "
    "(SELECT json_group_array(json_array(platform, handle)) FROM customer_identities "
    " WHERE customer_id = c.id) "
    "FROM api_tokens t JOIN accounts a ON a.id = t.account_id "
    "LEFT JOIN ideas i ON i.id = ? LEFT JOIN customers c ON c.id = a.customer_id "
    "WHERE t.token_hash = ? AND t.revoked_at IS NULL")
_TAGS_AT = len(IDEA_COLUMNS)
_CUSTOMER_AT = _TAGS_AT + 1
_IDENTITIES_AT = _CUSTOMER_AT + len(_CUSTOMER)


def read_vote_subjects(conn: sqlite3.Connection, idea_id: int, customer_id: str) -> tuple[Idea, Customer | None]:
    """The idea (``NotFound`` when there is none) and the customer (``None`` when unknown),
    each as its own read gives it: tags ordered by name, identities by platform and handle
    (sorted here, in SQLite's binary order: an aggregate keeps no order)."""
    row = conn.execute(_READ, (customer_id, idea_id)).fetchone()
    if row is None:
        raise NotFound(f"no idea {idea_id}")
    return _subjects(tuple(row))


def read_token_vote_subjects(conn: sqlite3.Connection, token_hash: str, idea_id: int
                             ) -> tuple[tuple[ApiToken, Account] | None, Idea | None, Customer | None]:
    """``UnitOfWork.token_vote_subjects`` in one statement: the unrevoked token with its owner
    (``None``: nothing else is read), the idea (``None`` when there is none: then no customer
    either) and the owner's customer (``None`` when the account has none, or it is unknown)."""
    row = conn.execute(_TOKEN_READ, (idea_id, token_hash)).fetchone()
    if row is None:
        return None, None, None
    values = tuple(row)
    found, rest = token_with_owner(values[:TOKEN_OWNER_WIDTH]), values[TOKEN_OWNER_WIDTH:]
    if rest[0] is None:  # no such idea: the rule refuses the vote, after judging the caller
        return found, None, None
    idea, customer = _subjects(rest)
    return found, idea, customer


def _subjects(row: tuple) -> tuple[Idea, Customer | None]:
    idea = idea_from_values(tuple(row[:_TAGS_AT]), _tags(row[_TAGS_AT]))
    if row[_CUSTOMER_AT] is None:
        return idea, None
    return idea, _customer(tuple(row[_CUSTOMER_AT:_IDENTITIES_AT]), row[_IDENTITIES_AT])


@functools.lru_cache(maxsize=1024)
def _tags(aggregated: str) -> tuple[Tag, ...]:
    # An idea's tags change rarely and most ideas share a few sets (most have none): the
    # aggregate's text is decoded once per distinct set, not once a vote.
    return tuple(Tag(name, bool(public)) for name, public in sorted(json.loads(aggregated)))


@functools.lru_cache(maxsize=1024)
def _customer(values: tuple, identities: str) -> Customer:
    # Customers are immutable values: the same columns give an equal Customer, so the voters
    # of the moment are decoded once, not once a vote.
    cid, name, kind, company, segment, annual_revenue, emails, domains, aliases = values
    return Customer(id=cid, name=name, kind=kind, company=company, segment=segment,
                    annual_revenue=annual_revenue, emails=tuple(json.loads(emails)),
                    domains=tuple(json.loads(domains)), aliases=tuple(json.loads(aliases)),
                    identities=tuple(Identity(p, h) for p, h in sorted(json.loads(identities))))
