"""The registry handed to the linker: each customer's aliases without those refused as words.

A manager who says "never link 'IS' as a word" refuses that alias for that customer: the
gazetteer is built from this registry, so the matcher never sees the alias again (the
customer's name, handles, domains and other aliases still link).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from domain import Customer
from domain.link_queue import RefusedAlias
from storage.base import Store


def without_refused(customers: Sequence[Customer], refused: Iterable[RefusedAlias]) -> list[Customer]:
    """``customers`` with every refused alias taken out (compared case-insensitively)."""
    by_customer: dict[str, set[str]] = {}
    for r in refused:
        by_customer.setdefault(r.customer_id, set()).add(r.alias.strip().lower())
    if not by_customer:
        return list(customers)
    kept = []
    for c in customers:
        gone = by_customer.get(c.id)
        if gone and any(a.strip().lower() in gone for a in c.aliases):
            c = dataclasses.replace(c, aliases=tuple(a for a in c.aliases if a.strip().lower() not in gone))
        kept.append(c)
    return kept


async def gazetteer_registry(store: Store) -> list[Customer]:
    """Every customer as the linker should know them (refused aliases left out)."""
    return without_refused(await store.all_customers(), await store.refused_aliases())
