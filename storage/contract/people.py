"""The people part of the store: authors who are no known customer (yet), and their handles."""

from __future__ import annotations

from abc import ABC, abstractmethod

from domain import Page, Person


class PeopleStore(ABC):
    """People with handles per platform, read.  Recording, attaching and merging them are
    rules (``crm.people``) written through the unit of work."""

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
