"""People: authors kept with their handles, attached to a customer or merged — the rules,
written once over the store's unit of work and run the same on every backend.

- Recording: each ``(platform, author)`` whose handle (compared without a leading @ and
  case-insensitively) no person holds becomes a new person; a known person without a name
  takes the author's display name.
- Attaching a person to a customer: every handle of the person becomes the customer's handle
  on that platform, and every stored mention written under those handles gets a confirmed link
  to the customer (rule ``person``), replacing its unconfirmed ones; a person attached to
  another customer is refused.
- Merging two people: every handle moves to the kept one, who keeps their name (else takes the
  other's); when either was attached, the merged person is attached to that customer; people
  attached to different customers are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain import Author, CustomerLink, Identity, Person, normalise_handle, utcnow
from crm.link_decisions import MANAGER_DECISION_STANDS
from domain.errors import BadInput, NotFound
from storage.base import Store
from storage.contract.uow import UnitOfWork

#: (platform, normalised handle) -> the first display name seen for it
Wanted = dict[tuple[str, str], str | None]


def wanted_people(authors: Sequence[tuple[str, Author]]) -> Wanted:
    """Each handle once (normalised), with the first name an author gave for it."""
    wanted: Wanted = {}
    for platform, author in authors:
        handle = normalise_handle(author.handle)
        if handle and platform:
            key = (platform, handle)
            wanted[key] = wanted.get(key) or author.name
    return wanted


async def record_in(uow: UnitOfWork, wanted: Wanted, now: datetime) -> int:
    """Keep each wanted handle as a person unless one holds it; how many are new."""
    new = 0
    held = await uow.people.holders([Identity(platform, handle) for platform, handle in wanted])
    for (platform, handle), name in wanted.items():
        identity = Identity(platform, handle)
        known = held.get(identity)
        if known is None:
            new += await uow.people.add(name, identity, now)
        elif name and known[1] is None:
            await uow.people.set_name(known[0], name, now)
    return new


async def record_people(store: Store, authors: Sequence[tuple[str, Author]],
                        now: datetime | None = None) -> int:
    """Keep each ``(platform, author)`` as a person unless their handle is known; how many are new."""
    wanted = wanted_people(authors)
    if not wanted:
        return 0
    at = now or utcnow()
    return await store.unit_of_work().run(lambda uow: record_in(uow, wanted, at))


async def _give_handles(uow: UnitOfWork, person: Person, customer_id: str, now: datetime) -> int:
    """The person's handles become the customer's; their mentions get confirmed links."""
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    await uow.people.set_customer(person.id, customer_id, now)
    attached = 0
    for identity in person.handles:
        await uow.customer_edits.add_handle(customer_id, identity)
        evidence = (f"author @{identity.handle} on {identity.platform} is person #{person.id}, "
                    f"attached to {customer.name} by a manager")
        link = CustomerLink(customer_id, MANAGER_DECISION_STANDS.confidence, "person", evidence,
                            status=MANAGER_DECISION_STANDS.decided)
        attached += await uow.author_links.confirm(identity, link, now, MANAGER_DECISION_STANDS)
    await uow.customer_edits.changed(now)
    return attached


async def attach_in(uow: UnitOfWork, person_id: int, customer_id: str,
                    now: datetime) -> tuple[Person, int]:
    """Attach a person to a customer inside ``uow``: the person afterwards and how many
    mentions were attached; ``NotFound``, ``BadInput`` (attached to another customer)."""
    person = await uow.people.get(person_id)
    if person.customer_id not in (None, customer_id):
        raise BadInput(f"person {person_id} is attached to customer {person.customer_id} already",
                       {"person": person_id, "customer_id": person.customer_id})
    attached = await _give_handles(uow, person, customer_id, now)
    return await uow.people.get(person_id), attached


async def merge_in(uow: UnitOfWork, person_id: int, into_id: int, now: datetime) -> tuple[Person, int]:
    """Merge ``person_id`` into ``into_id`` inside ``uow``: the merged person and how many
    mentions were attached; ``BadInput`` for one person or two customers, ``NotFound``."""
    if person_id == into_id:
        raise BadInput("a person cannot be merged into themselves", {"into": into_id})
    source, target = await uow.people.get(person_id), await uow.people.get(into_id)
    customers = {c for c in (source.customer_id, target.customer_id) if c}
    if len(customers) > 1:
        raise BadInput(f"people {person_id} and {into_id} are attached to different customers",
                       {"customers": sorted(customers)})
    await uow.people.move_handles(person_id, into_id)
    await uow.people.set_name(into_id, target.name or source.name, now)
    await uow.people.delete(person_id)
    merged = await uow.people.get(into_id)
    attached = await _give_handles(uow, merged, customers.pop(), now) if customers else 0
    return await uow.people.get(into_id), attached


async def attach_person(store: Store, person_id: int, customer_id: str,
                        now: datetime | None = None) -> tuple[Person, int]:
    """Attach a person to a customer in one unit of work (see the module's docstring)."""
    at = now or utcnow()
    return await store.unit_of_work().run(lambda uow: attach_in(uow, int(person_id), customer_id, at))


async def merge_people(store: Store, person_id: int, into_id: int,
                       now: datetime | None = None) -> tuple[Person, int]:
    """Merge one person into another in one unit of work (see the module's docstring)."""
    at = now or utcnow()
    return await store.unit_of_work().run(lambda uow: merge_in(uow, int(person_id), int(into_id), at))
