"""A customer search ranked the same way on every backend.

Results come in two tiers: customers whose whole name starts with the query (an exact name
first, since it is the least string with that prefix), then the other customers whose words
start with every term of the query (``domain.customer_search``).  Each tier is ordered by
the folded name, then the id; a page's cursor holds (tier, folded name, id), so the next page
continues where the last stopped, even across the tiers.  Each backend reads a tier from an
index (``read_tier``): no read scans the registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from domain import Customer, Page
from domain.customer_search import query_terms
from storage.base import BadInput, cut_page, typed_cursor

#: A tier's rows: (folded name, id, customer), in that order.
TierRows = list[tuple[str, str, Customer]]
#: Reads one tier: (tier, query prefix, terms, after (folded name, id) or None, how many).
TierReader = Callable[[int, str, Sequence[str], "tuple[str, str] | None", int], Awaitable[TierRows]]

NAME_PREFIX, WORD_PREFIX = 1, 2


async def ranked_search(text: str, limit: int, cursor: str | None, read_tier: TierReader) -> Page[Customer]:
    """A page of the customers matching ``text`` (see the module's docstring for the order).

    A query with no terms (only punctuation) matches nothing.
    """
    terms = query_terms(text)
    if not terms:
        return Page((), None)
    prefix = " ".join(terms)
    tier, after = NAME_PREFIX, None
    if cursor:
        tier, name, cid = typed_cursor(cursor, int, str, str)
        if tier not in (NAME_PREFIX, WORD_PREFIX):
            raise BadInput("cursor is not valid", {"cursor": cursor})
        after = (name, cid)
    rows: list[tuple[int, str, str, Customer]] = []
    if tier == NAME_PREFIX:
        rows += [(NAME_PREFIX, *row) for row in await read_tier(NAME_PREFIX, prefix, terms, after, limit + 1)]
        after = None
    if len(rows) <= limit:
        rows += [(WORD_PREFIX, *row)
                 for row in await read_tier(WORD_PREFIX, prefix, terms, after, limit + 1 - len(rows))]
    shown, nxt = cut_page(rows, limit, lambda r: (r[0], r[1], r[2]))
    return Page(tuple(r[3] for r in shown), nxt)
