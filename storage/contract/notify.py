"""The notify part of the ``Store`` interface: mail settings, in-app notifications with their
outbox mail, idea thresholds already announced, and per-idea opt-outs.

A notification and its mail delivery are written in one transaction, and a notification is
unique per ``dedupe_key``, so replaying an event neither loses nor repeats a mail.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from domain.routing import Delivery
from domain.notify import Notification


class NotifyStore(ABC):
    """Persistence of what customers are told, and how they want to be told."""

    @abstractmethod
    async def enqueue_notifications(
        self, items: Sequence[tuple[Notification, Delivery | None]]
    ) -> list[Notification]:
        """Store each notification and (if given) its pending mail delivery, all in one
        transaction; a notification whose ``dedupe_key`` is stored already is skipped with
        its delivery.  Returns the notifications newly stored, with ids."""

    @abstractmethod
    async def enqueue_deliveries(self, deliveries: Sequence[Delivery], at: datetime) -> list[int]:
        """Put messages that belong to no routed item (account mails) in the outbox, in one
        transaction; returns their ids."""

    @abstractmethod
    async def list_notifications(self, account_id: int, unread_only: bool = False,
                                 limit: int = 50) -> list[Notification]:
        """An account's notifications, newest first."""

    @abstractmethod
    async def mark_notifications_read(self, account_id: int, ids: Sequence[int] | None,
                                      at: datetime) -> int:
        """Mark the account's notifications ``ids`` (all when ``None``) read; how many changed."""

    @abstractmethod
    async def _pref_switches(self, account_ids: Sequence[int], switch: str,
                             default: bool) -> dict[int, bool]:
        """One switch of the accounts' notification preferences (``mail`` or ``digest``, never
        outside input) per account; ``default`` for accounts that never set it."""

    @abstractmethod
    async def _set_pref_switch(self, account_id: int, switch: str, on: bool, at: datetime) -> None:
        """Set one switch of an account's notification preferences; the other keeps its value."""

    async def mail_enabled(self, account_ids: Sequence[int]) -> dict[int, bool]:
        """Whether each account wants notification mail (an account never asked: True)."""
        return await self._pref_switches(account_ids, "mail", True)

    async def set_mail_enabled(self, account_id: int, on: bool, at: datetime) -> None:
        """Turn an account's notification mail on or off."""
        await self._set_pref_switch(account_id, "mail", on, at)

    @abstractmethod
    async def record_threshold(self, idea_id: int, threshold: str, at: datetime) -> bool:
        """Remember that an idea crossed ``threshold``; False if it was recorded already."""

    @abstractmethod
    async def set_opted_out(self, idea_id: int, account_id: int, out: bool, at: datetime) -> None:
        """Record (or clear) an account's opt-out from mail about one idea."""

    @abstractmethod
    async def opted_out(self, idea_id: int) -> set[int]:
        """Accounts that opted out of mail about an idea."""

    @abstractmethod
    async def accounts_for_customers(self, customer_ids: Sequence[str], *,
                                     blocked: bool) -> dict[str, list[int]]:
        """Ids of the accounts linked to each customer, ascending (missing: none); blocked
        accounts among them only when ``blocked``."""

    @abstractmethod
    async def unread_count(self, account_id: int) -> int:
        """How many of an account's notifications are unread."""

    async def digest_enabled(self, account_ids: Sequence[int]) -> dict[int, bool]:
        """Whether each account wants the daily digest (an account never asked: False)."""
        return await self._pref_switches(account_ids, "digest", False)

    async def set_digest_enabled(self, account_id: int, on: bool, at: datetime) -> None:
        """Turn an account's daily digest on or off."""
        await self._set_pref_switch(account_id, "digest", on, at)

    @abstractmethod
    async def digest_accounts(self, *, blocked: bool) -> list[int]:
        """Accounts that want the daily digest, ascending; blocked ones only when ``blocked``."""

    @abstractmethod
    async def notifications_between(self, account_id: int, start: datetime,
                                    end: datetime) -> list[Notification]:
        """An account's notifications created in [start, end), oldest first."""

    @abstractmethod
    async def queue_digest(self, account_id: int, day: str, items: int, delivery: Delivery | None,
                           at: datetime) -> bool:
        """Record the digest of ``day`` for an account and put its mail in the outbox, in one
        transaction; False (nothing written) when that day's digest was queued already."""
