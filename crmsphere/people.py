"""People: authors kept with their handles, attached to a customer or merged by a manager.

Joins the store and the analyser like ``link_review``: ``crm.people`` attaches or merges in
one unit of work (handles become the customer's, past mentions get confirmed links);
then the gazetteer learns the handles in place (``Runtime.learn_customers``) so new posts link
by handle, and the person's mentions are analysed again so their other, weaker links are
brought up to date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from community.impact_refresh import refresh_impact
from crm.people import attach_person, merge_people, record_people
from domain import Analysis, Person, RawPost
from storage.base import Store

if TYPE_CHECKING:  # the runtime imports ingest, which imports this module
    from crmsphere.runtime import Runtime

#: Rules that say who the author *is* (not what the post is about): confirming one attaches
#: the author's person to the customer.
IDENTITY_RULES = frozenset({"author_handle", "author_other_platform", "author_name"})


@dataclass(frozen=True, slots=True)
class Attachment:
    """What attaching or merging did."""

    person: Person
    attached_mentions: int
    relinked_mentions: int


async def record_authors(store: Store, posts: Sequence[RawPost], analyses: Sequence[Analysis]) -> int:
    """Keep the authors that matched no customer by their handle as people; returns how many are new."""
    authors = [(p.source, p.author) for p, a in zip(posts, analyses)
               if p.author.handle and not any(k.rule == "author_handle" for k in a.links)]
    return await record_people(store, authors) if authors else 0


async def relink_person(rt: Runtime, person: Person) -> int:
    """Analyse the mentions under every handle of ``person`` again (after the gazetteer changed)."""
    from crmsphere.link_review import relink_author

    total = 0
    for handle in person.handles:
        total += await relink_author(rt, handle.platform, handle.handle)
    return total


async def attach(rt: Runtime, person_id: int, customer_id: str, *,
                 in_step: bool | None = None) -> Attachment:
    """Attach a person (every handle, every past mention) to a customer.

    ``in_step``: ``rt.gazetteer_in_step()`` as asked before the caller's own first write
    (asked here when None).
    """
    if in_step is None:
        in_step = await rt.gazetteer_in_step()
    person, attached = await attach_person(rt.store, person_id, customer_id)
    await rt.learn_customers([customer_id], in_step=in_step)
    relinked = await relink_person(rt, person)
    # The person's mentions now weigh by the customer in the impact of ideas linked to them.
    await refresh_impact(rt.store, [customer_id], rt.settings.forum.impact)
    return Attachment(person, attached, relinked)


async def merge(rt: Runtime, person_id: int, into_id: int) -> Attachment:
    """Merge one person into another (one identity across platforms)."""
    in_step = await rt.gazetteer_in_step()
    person, attached = await merge_people(rt.store, person_id, into_id)
    relinked = 0
    if person.customer_id:
        await rt.learn_customers([person.customer_id], in_step=in_step)
        relinked = await relink_person(rt, person)
        await refresh_impact(rt.store, [person.customer_id], rt.settings.forum.impact)
    return Attachment(person, attached, relinked)


async def attach_author(rt: Runtime, source: str, handle: str, customer_id: str, *,
                        in_step: bool | None = None) -> Attachment | None:
    """Attach the person behind an author handle, if one is kept (after a confirmed identity link)."""
    try:
        person = await rt.store.person_by_handle(source, handle)
    except NotImplementedError:  # a backend without the people area yet: the link alone
        return None
    if person is None or person.customer_id not in (None, customer_id):
        return None
    return await attach(rt, person.id, customer_id, in_step=in_step)
