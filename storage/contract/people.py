"""The people part of the store: authors who are no known customer (yet), and their handles."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from domain import Author, Page, Person


class PeopleStore(ABC):
    """People with handles per platform; attaching one to a customer attaches all their mentions."""

    @abstractmethod
    async def record_people(self, authors: Sequence[tuple[str, Author]]) -> int:
        """Keep each ``(platform, author)`` as a person unless their handle is known; returns how many are new.

        Handles are compared without a leading @ and case-insensitively; a known
        person without a name gets the author's display name.
        """

    @abstractmethod
    async def get_person(self, person_id: int) -> Person:
        """One person with every handle; raises ``NotFound``."""

    @abstractmethod
    async def person_by_handle(self, platform: str, handle: str) -> Person | None:
        """The person holding ``handle`` on ``platform``, if any."""

    @abstractmethod
    async def list_people(self, q: str | None = None, limit: int = 50,
                          cursor: str | None = None) -> Page[Person]:
        """People by id; ``q`` matches a part of the name or of a handle (case-insensitive)."""

    @abstractmethod
    async def attach_person(self, person_id: int, customer_id: str) -> tuple[Person, int]:
        """Attach a person to a customer, in one transaction with what it implies.

        Every handle of the person becomes the customer's handle on that platform, and
        every stored mention written under those handles gets a confirmed link to the
        customer (rule ``person``). Returns the person and how many mentions were attached.
        ``NotFound`` for an unknown person or customer; ``BadInput`` when the person is
        attached to another customer already.
        """

    @abstractmethod
    async def merge_people(self, person_id: int, into_id: int) -> tuple[Person, int]:
        """Move every handle of ``person_id`` to ``into_id`` and drop the first, in one transaction.

        When either was attached to a customer, the merged person is, with the effect of
        ``attach_person``. Returns the merged person and how many mentions were attached.
        ``BadInput`` when both are attached to different customers or are the same person.
        """
