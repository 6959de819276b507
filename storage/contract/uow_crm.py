"""Unit-of-work repositories for people and CRM identities (their rules: ``crm.people``,
``crm.records``, ``crm.link_decisions``); they only read and write."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import Customer, CustomerLink, Identity, LinkReview, LinkStanding, Person
from domain.crm import CrmLink
from storage.contract.crm import CrmRecordRow

class PersonRows(ABC):
    """People (authors kept with their handles); a handle belongs to one person at most."""

    @abstractmethod
    async def holders(self, identities: Sequence[Identity]) -> dict[Identity, tuple[int, str | None]]:
        """The id and name of the person holding each of ``identities`` (normalised handles)
        that a person holds."""

    @abstractmethod
    async def add(self, name: str | None, identity: Identity, now: datetime) -> bool:
        """A new person holding ``identity``; False (nothing kept) if the handle is held."""

    @abstractmethod
    async def get(self, person_id: int) -> Person:
        """One person with every handle; ``NotFound``."""

    @abstractmethod
    async def set_name(self, person_id: int, name: str | None, now: datetime) -> None:
        """Write the person's name."""

    @abstractmethod
    async def set_customer(self, person_id: int, customer_id: str, now: datetime) -> None:
        """Write the customer the person is attached to."""

    @abstractmethod
    async def move_handles(self, from_id: int, to_id: int) -> None:
        """Every handle of ``from_id`` becomes ``to_id``'s."""

    @abstractmethod
    async def delete(self, person_id: int) -> None:
        """Delete the person (their handles moved or gone first)."""


class CustomerEdits(ABC):
    """Writes on customers inside a unit of work."""

    @abstractmethod
    async def add_handle(self, customer_id: str, identity: Identity) -> bool:
        """Give the customer ``identity`` (kept once); False if it had it."""

    @abstractmethod
    async def set_aliases(self, customer_id: str, aliases: Sequence[str], now: datetime) -> None:
        """Write the customer's aliases."""

    @abstractmethod
    async def changed(self, now: datetime) -> None:
        """Note that the customer registry changed (the analysers reload it)."""

    @abstractmethod
    async def refuse_alias(self, customer_id: str, alias_key: str, alias: str, by: str,
                           at: datetime) -> bool:
        """Keep ``alias`` (under ``alias_key``) as refused for the customer once; True the first time."""

    @abstractmethod
    async def put(self, customer: Customer, now: datetime) -> None:
        """Write the customer whole (its handles are ``customer.identities``, no others)."""

    @abstractmethod
    async def delete(self, customer_id: str) -> None:
        """Delete the customer."""


class AuthorLinkRows(ABC):
    """Links of stored mentions to customers, by the mentions' author."""

    @abstractmethod
    async def confirm(self, identity: Identity, link: CustomerLink, now: datetime,
                      standing: LinkStanding) -> int:
        """Every mention written under ``identity`` (the handle with or without a leading @,
        any case): its links to ``link.customer_id`` whose status is not in
        ``standing.standing`` are dropped and ``link`` is added unless a standing one is there.
        How many got ``link``."""

    @abstractmethod
    async def review(self, link_id: int) -> LinkReview:
        """One link with its mention; ``NotFound``."""

    @abstractmethod
    async def confirm_pending(self, link_id: int, identity: Identity, customer_id: str,
                              now: datetime, standing: LinkStanding) -> None:
        """Link ``link_id``, and the links of status ``standing.waiting`` to ``customer_id`` of
        every mention written under ``identity`` (as ``confirm`` matches it), take status
        ``standing.decided`` with confidence ``standing.confidence``."""

    @abstractmethod
    async def drop(self, link_id: int) -> None:
        """Delete one link."""

    @abstractmethod
    async def confirmed_customers(self, mention_id: int, standing: LinkStanding) -> set[str] | None:
        """The customers the mention has links to whose status is in ``standing.standing``;
        ``None`` when no such mention."""

    @abstractmethod
    async def replace_unconfirmed(self, mention_id: int, links: Sequence[CustomerLink],
                                  standing: LinkStanding) -> None:
        """The mention's links whose status is not in ``standing.standing`` are replaced by
        ``links``."""

    @abstractmethod
    async def add_negative(self, customer_id: str, identity: Identity, phrase: str, now: datetime) -> None:
        """Keep the negative example (customer, source, author, phrase) once."""


class CrmRecordRows(ABC):
    """CRM records (unique on connector, object type, CRM id) and CRM cursors."""

    @abstractmethod
    async def get(self, connector: str, object_type: str, crm_id: str) -> CrmRecordRow | None:
        """One record, deleted or merged ones included."""

    @abstractmethod
    async def put(self, row: CrmRecordRow, now: datetime) -> None:
        """Write the record (synced ``now``); its ``learned_written`` stays as stored."""

    @abstractmethod
    async def set_merged(self, link: CrmLink, into_crm_id: str, customer_id: str, now: datetime) -> None:
        """Mark the record merged into ``into_crm_id``, feeding ``customer_id``."""

    @abstractmethod
    async def set_deleted(self, link: CrmLink, now: datetime) -> None:
        """Mark the record deleted."""

    @abstractmethod
    async def of_customer(self, customer_id: str) -> list[CrmLink]:
        """Every record pointing at the customer, deleted and merged ones included."""

    @abstractmethod
    async def reassign(self, links: Sequence[CrmLink], to_customer: str) -> None:
        """The records ``links`` point at ``to_customer``."""

    @abstractmethod
    async def set_cursor(self, connector: str, object_type: str, cursor: dict[str, Any],
                         now: datetime) -> None:
        """Keep the cursor of (connector, object type)."""


class CustomerRefRows(ABC):
    """What refers to a customer: mention links, votes, accounts, link negatives."""

    @abstractmethod
    async def voted_ideas(self, customer_id: str) -> set[int]:
        """Ids of the ideas the customer voted on."""

    @abstractmethod
    async def move(self, from_customer: str, to_customer: str) -> None:
        """Everything referring to ``from_customer`` refers to ``to_customer``, each unique key
        kept: a mention linked to both keeps ``to_customer``'s link, a link negative is kept
        once.  Votes move as they are (one per idea and customer: the rule removes doubles
        first)."""

    @abstractmethod
    async def referenced(self, customer_id: str) -> bool:
        """Whether a mention link, a vote or an account refers to the customer."""
