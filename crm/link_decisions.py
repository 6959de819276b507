"""A manager's decision on a customer link, and what it teaches the registry — the rules,
written once over the store's unit of work and run the same on every backend.

- Confirming a link confirms it (confidence 1) with every other pending link from the same
  author (the handle with or without a leading @, any case, on the same platform) to the same
  customer; ``identity`` becomes the customer's handle and ``alias`` one of its aliases
  (compared case-insensitively) when given; the registry is marked changed when either is new.
- Refusing an alias as a word (compared stripped and lower-cased) keeps it once per customer
  and marks the registry changed the first time, so every process rebuilds its gazetteer.
- Analysing stored mentions again replaces their links, except that a manager's confirmation
  stands: confirmed links stay, and a new link to a customer confirmed on that mention is
  skipped.
- Rejecting a link keeps the negative example (customer, platform, author, lower-cased phrase)
  first, then removes the link: a crash between the two leaves a link a manager sees again,
  never a rejection that taught nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from domain import (
    LINK_CONFIRMED,
    LINK_PENDING,
    CustomerLink,
    Identity,
    LinkReview,
    LinkStanding,
    normalise_handle,
    utcnow,
)
from domain.errors import NotFound
from storage.base import Store
from storage.contract.uow import UnitOfWork

#: A manager's decision stands: it confirms with full confidence, settles the author's other
#: pending links to that customer, and survives every analysis run again or author attached.
MANAGER_DECISION_STANDS = LinkStanding(decided=LINK_CONFIRMED, confidence=1.0, waiting=LINK_PENDING,
                                       standing=frozenset({LINK_CONFIRMED}))


def _author(review: LinkReview) -> Identity:
    post = review.mention.post
    return Identity(post.source, normalise_handle(post.author.handle))


async def confirm_in(uow: UnitOfWork, link_id: int, identity: Identity | None, alias: str | None,
                     now: datetime) -> LinkReview:
    """Confirm a link inside ``uow`` (see the module's docstring); the link afterwards, ``NotFound``."""
    review = await uow.author_links.review(link_id)
    customer_id = review.link.customer_id
    await uow.author_links.confirm_pending(link_id, _author(review), customer_id, now, MANAGER_DECISION_STANDS)
    changed = False
    if identity is not None:
        changed = await uow.customer_edits.add_handle(
            customer_id, Identity(identity.platform, normalise_handle(identity.handle)))
    taught = (alias or "").strip()
    customer = await uow.customers.get(customer_id) if taught else None
    if customer is not None and taught.lower() not in {a.lower() for a in customer.aliases}:
        await uow.customer_edits.set_aliases(customer_id, [*customer.aliases, taught], now)
        changed = True
    if changed:
        await uow.customer_edits.changed(now)
    return await uow.author_links.review(link_id)


async def reject_in(uow: UnitOfWork, link_id: int, phrase: str | None, now: datetime) -> LinkReview:
    """Reject a link inside ``uow`` (see the module's docstring); the link as it was, ``NotFound``."""
    review = await uow.author_links.review(link_id)
    await uow.author_links.add_negative(review.link.customer_id, _author(review),
                                        (phrase or "").strip().lower(), now)
    await uow.author_links.drop(link_id)
    return review


async def confirm_link(store: Store, link_id: int, identity: Identity | None = None,
                       alias: str | None = None, now: datetime | None = None) -> LinkReview:
    """Confirm a link in one unit of work, with what it teaches."""
    at = now or utcnow()
    return await store.unit_of_work().run(lambda uow: confirm_in(uow, int(link_id), identity, alias, at))


async def reject_link(store: Store, link_id: int, phrase: str | None = None,
                      now: datetime | None = None) -> LinkReview:
    """Reject a link in one unit of work, keeping the negative example."""
    at = now or utcnow()
    return await store.unit_of_work().run(lambda uow: reject_in(uow, int(link_id), phrase, at))


async def refuse_alias_in(uow: UnitOfWork, customer_id: str, alias: str, by: str, at: datetime) -> bool:
    """Refuse ``alias`` of a customer as a word inside ``uow``; False when it was refused
    already, ``NotFound`` for an unknown customer."""
    if await uow.customers.get(customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    added = await uow.customer_edits.refuse_alias(customer_id, alias.strip().lower(), alias.strip(), by, at)
    if added:  # other processes rebuild their gazetteer (crmsphere/customer_watch.py)
        await uow.customer_edits.changed(at)
    return added


async def refuse_alias(store: Store, customer_id: str, alias: str, by: str, at: datetime) -> bool:
    """Refuse ``alias`` of a customer as a word in one unit of work (see the module's docstring)."""
    return await store.unit_of_work().run(lambda uow: refuse_alias_in(uow, customer_id, alias, by, at))


async def relink_in(uow: UnitOfWork, links: Mapping[int, Sequence[CustomerLink]]) -> int:
    """Replace the unconfirmed links of each mention id inside ``uow``, a manager's
    confirmation standing (see the module's docstring); how many links were written."""
    written = 0
    for mention_id, new in links.items():
        confirmed = await uow.author_links.confirmed_customers(mention_id, MANAGER_DECISION_STANDS)
        if confirmed is None:  # deleted since it was analysed
            continue
        keep = [k for k in new if k.customer_id not in confirmed]
        await uow.author_links.replace_unconfirmed(mention_id, keep, MANAGER_DECISION_STANDS)
        written += len(keep)
    return written


async def replace_links(store: Store, links: Mapping[int, Sequence[CustomerLink]]) -> int:
    """Replace the unconfirmed links of each mention id in one unit of work."""
    return await store.unit_of_work().run(lambda uow: relink_in(uow, links)) if links else 0
