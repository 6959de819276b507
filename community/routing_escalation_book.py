"""The escalation rules in force: seeded from ``[[routing.escalations]]``, edited by admins.

Like the routing rules, they live in the store: at start-up the configured escalations are
written when none are stored or the config's escalations changed since the last start
(otherwise an admin's edit stays); ``PUT /api/routing/escalations`` replaces them.  They
are one small JSON document under a meta key (a handful of rules, edited rarely), so every
backend keeps them and the SQLite-to-MongoDB copy carries them along.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from config.routing_escalations import EscalationBookSettings, EscalationSettings
from domain import utcnow
from domain.errors import BadInput
from storage.base import Store

log = logging.getLogger(__name__)

#: The meta key holding the stored escalations.
META_KEY = "routing.escalations"


@dataclass(frozen=True, slots=True)
class StoredEscalations:
    """The escalations in force; ``version`` grows by one with every change."""

    book: EscalationBookSettings
    version: int
    updated_at: datetime
    updated_by: str
    seed_hash: str | None = None


def _encode(stored: StoredEscalations) -> str:
    return json.dumps({"body": stored.book.body(), "version": stored.version,
                       "updated_at": stored.updated_at.isoformat(), "updated_by": stored.updated_by,
                       "seed_hash": stored.seed_hash}, sort_keys=True)


class EscalationBook:
    """Reads, seeds and replaces the stored escalations."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.clock = store, clock

    async def load(self) -> StoredEscalations | None:
        """The stored escalations, or ``None`` when none are stored (or they cannot be read,
        e.g. written by a newer version: then the caller keeps to the config)."""
        raw = await self.store.get_meta(META_KEY)
        if raw is None:
            return None
        try:
            data: dict[str, Any] = json.loads(raw)
            return StoredEscalations(
                book=EscalationBookSettings.model_validate(data["body"]),
                version=int(data["version"]), updated_at=datetime.fromisoformat(data["updated_at"]),
                updated_by=str(data["updated_by"]), seed_hash=data.get("seed_hash"))
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            log.error("stored escalations are not valid, using the configured ones: %s", exc)
            return None

    async def in_force(self, configured: tuple[EscalationSettings, ...]) -> tuple[EscalationSettings, ...]:
        """The stored escalations, else ``configured``."""
        stored = await self.load()
        return configured if stored is None else stored.book.escalations

    async def seed(self, book: EscalationBookSettings) -> None:
        """Store the configured escalations unless those stored came from the same config."""
        fingerprint = book.fingerprint()
        stored = await self.load()
        if stored is not None and stored.seed_hash == fingerprint:
            return
        version = stored.version + 1 if stored is not None else 1
        await self.store.set_meta(META_KEY, _encode(StoredEscalations(
            book, version, self.clock(), "config", fingerprint)))

    async def replace(self, book: EscalationBookSettings, actor: str) -> StoredEscalations:
        """An admin's edit: ``BadInput`` naming the field when a team does not exist."""
        known = {t.key for t in await self.store.list_teams()}
        unknown = book.unknown_teams(known)
        if unknown:
            field, team = unknown[0]
            raise BadInput(f"field '{field}': no team '{team}' (teams: "
                           f"{', '.join(sorted(known)) or 'none'})", {"field": field, "value": team})
        stored = await self.load()
        # Keep the seed hash: a later change of the TOML still wins, as for rules and teams.
        new = StoredEscalations(book, stored.version + 1 if stored else 1, self.clock(), actor,
                                stored.seed_hash if stored else None)
        await self.store.set_meta(META_KEY, _encode(new))
        log.info("escalations v%d set by %s: %d escalation(s)", new.version, actor,
                 len(book.escalations))
        return new
