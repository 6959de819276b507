"""What a page of CRM changes does to the customers — the rules, written once over the
store's unit of work and run the same on every backend.

- An upsert writes the customer as the CRM gives it, keeping what crmsphere learned: the
  handles and aliases the customer has that the CRM did not give last time (remembered on the
  CRM record) stay.
- A merge (the CRM merged record A into B) moves everything of A's customer — handles,
  aliases, e-mails, domains, mention links, votes (one per idea: a double is dropped), accounts,
  link negatives, other live records — to B's customer and removes A's; A's name becomes an
  alias of B when it differs.
- A deleted record is flagged; its customer is removed only when no other live record feeds it
  and nothing (mention link, vote, account) refers to it.
- The page's cursor is written last, in the same unit of work (without a transaction a crash
  repeats the page, and every write is by key, so a repeated page changes nothing).

Learned identities (what is written back to the CRM) are the customer's handles and aliases
the CRM did not give.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from domain import Customer, Identity
from domain.crm import CrmBatch, CrmBatchResult, CrmCustomer, CrmLink, CrmMerge, LearnedIdentities
from domain.errors import BadInput
from storage.base import Store
from storage.contract.crm import CrmRecordRow
from storage.contract.uow import UnitOfWork

#: the kinds of customer a CRM record may feed
KINDS = ("person", "company")


def union(*lists: Iterable[str]) -> list[str]:
    """Values of every list in order, once each (case-insensitively)."""
    seen: set[str] = set()
    out: list[str] = []
    for values in lists:
        for value in values:
            if value.lower() not in seen:
                seen.add(value.lower())
                out.append(value)
    return out


def learned_from(customer: Customer, row: CrmRecordRow | None) -> tuple[list[Identity], list[str]]:
    """The customer's handles and aliases the record's CRM did not give (all, without a record)."""
    from_crm = set(row.crm_identities) if row else set()
    crm_aliases = {a.lower() for a in row.crm_aliases} if row else set()
    return (sorted(set(customer.identities) - from_crm, key=lambda i: (i.platform, i.handle)),
            [a for a in customer.aliases if a.lower() not in crm_aliases])


async def _upsert(uow: UnitOfWork, record: CrmCustomer, now: datetime) -> bool:
    """Write one CRM-fed customer keeping what crmsphere learned; True when it is new."""
    c = record.customer
    existing = await uow.customers.get(c.id)
    prior = await uow.crm_records.get(record.connector, record.object_type, record.crm_id)
    learned_ids, learned_aliases = learned_from(existing, prior) if existing else ([], [])
    handles = sorted(set(c.identities) | set(learned_ids), key=lambda i: (i.platform, i.handle))
    await uow.customer_edits.put(replace(c, aliases=tuple(union(c.aliases, learned_aliases)),
                                         identities=tuple(handles)), now)
    link = CrmLink(record.connector, record.object_type, record.crm_id, c.id, record.company_crm_id)
    await uow.crm_records.put(CrmRecordRow(
        link, tuple(sorted(set(c.identities), key=lambda i: (i.platform, i.handle))),
        tuple(c.aliases)), now)
    return existing is None


async def _merge_customers(uow: UnitOfWork, loser_id: str, survivor_id: str, now: datetime) -> None:
    """Move everything of customer ``loser_id`` onto ``survivor_id`` and remove ``loser_id``."""
    loser, survivor = await uow.customers.get(loser_id), await uow.customers.get(survivor_id)
    if loser is None or survivor is None:
        return
    names = [loser.name] if loser.name.lower() != survivor.name.lower() else []
    handles = sorted(set(survivor.identities) | set(loser.identities), key=lambda i: (i.platform, i.handle))
    await uow.customer_edits.put(replace(
        survivor, emails=tuple(union(survivor.emails, loser.emails)),
        domains=tuple(union(survivor.domains, loser.domains)),
        aliases=tuple(union(survivor.aliases, loser.aliases, names)), identities=tuple(handles)), now)
    # One vote per customer and idea: a double vote is dropped and the idea's count follows.
    doubled = await uow.customer_refs.voted_ideas(loser_id) & await uow.customer_refs.voted_ideas(survivor_id)
    for idea_id in sorted(doubled):
        await uow.votes.remove(idea_id, loser_id)
        await uow.ideas.recount(idea_id)
    await uow.customer_refs.move(loser_id, survivor_id)
    # The loser's live records now feed the survivor (one naming no CRM is not a CRM's to move).
    await uow.crm_records.reassign([k for k in await uow.crm_records.of_customer(loser_id)
                                    if is_live(k) and k.connector], survivor_id)
    # The loser last: without a transaction a crash leaves both, never a dangling reference.
    await uow.customer_edits.delete(loser_id)


async def _merge(uow: UnitOfWork, connector: str, merge: CrmMerge, now: datetime) -> bool:
    loser = await uow.crm_records.get(connector, merge.object_type, merge.crm_id)
    survivor = await uow.crm_records.get(connector, merge.object_type, merge.survivor_crm_id)
    if loser is None or survivor is None or loser.link.merged_into == merge.survivor_crm_id:
        return False
    if loser.link.customer_id != survivor.link.customer_id:
        await _merge_customers(uow, loser.link.customer_id, survivor.link.customer_id, now)
    await uow.crm_records.set_merged(loser.link, merge.survivor_crm_id, survivor.link.customer_id, now)
    return True


async def _delete(uow: UnitOfWork, connector: str, object_type: str, crm_id: str, now: datetime) -> bool:
    row = await uow.crm_records.get(connector, object_type, crm_id)
    if row is None or row.link.deleted:
        return False
    await uow.crm_records.set_deleted(row.link, now)
    customer_id = row.link.customer_id
    # The customer goes only when no other live record feeds it and nothing refers to it.
    if (row.link.merged_into is None
            and not any(is_live(k) for k in await uow.crm_records.of_customer(customer_id))
            and not await uow.customer_refs.referenced(customer_id)):
        await uow.customer_edits.delete(customer_id)
    return True


def check_batch(batch: CrmBatch) -> None:
    """``BadInput`` naming the records whose customer kind is unknown (nothing is written)."""
    bad = [r.crm_id for r in batch.upserts if r.customer.kind not in KINDS]
    if bad:
        raise BadInput(f"CRM records with a kind other than {' or '.join(KINDS)}", {"crm_ids": bad})


async def apply_in(uow: UnitOfWork, batch: CrmBatch, now: datetime) -> CrmBatchResult:
    """Apply one page of CRM changes and its cursor inside ``uow`` (see the module's docstring)."""
    inserted = 0
    for record in batch.upserts:
        inserted += await _upsert(uow, record, now)
    merged = 0
    for m in batch.merges:
        merged += await _merge(uow, batch.connector, m, now)
    deleted = 0
    for crm_id in batch.deleted:
        deleted += await _delete(uow, batch.connector, batch.object_type, crm_id, now)
    if batch.upserts or merged or deleted:
        await uow.customer_edits.changed(now)
    if batch.cursor is not None:
        await uow.crm_records.set_cursor(batch.connector, batch.object_type, batch.cursor, now)
    return CrmBatchResult(inserted=inserted, updated=len(batch.upserts) - inserted,
                          deleted=deleted, merged=merged)


async def apply_crm_batch(store: Store, batch: CrmBatch, at: datetime) -> CrmBatchResult:
    """Apply one page of CRM changes and its cursor in one unit of work; ``BadInput`` (nothing
    written) for a record of an unknown kind."""
    check_batch(batch)
    return await store.unit_of_work().run(lambda uow: apply_in(uow, batch, at))


def is_live(link: CrmLink) -> bool:
    """Whether a CRM record still feeds its customer: one deleted in the CRM or merged into
    another feeds nobody."""
    return not link.deleted and link.merged_into is None


async def feeding_link(store: Store, customer_id: str) -> CrmLink | None:
    """The CRM record that feeds ``customer_id``: the most recently synced live one, or ``None``."""
    return next((link for link in await store.crm_links_of_customer(customer_id) if is_live(link)), None)


async def learned_identities(store: Store, connector: str) -> list[LearnedIdentities]:
    """Every live record of ``connector`` whose customer has learned handles or aliases."""
    found = []
    for row, customer in await store.crm_records(connector):
        if not is_live(row.link):
            continue
        handles, aliases = learned_from(customer, row)
        if handles or aliases:
            found.append(LearnedIdentities(row.link, tuple(handles), tuple(aliases), row.learned_written))
    return found

