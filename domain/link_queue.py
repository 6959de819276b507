"""The review queue as managers work it: pending links in groups, and aliases refused as words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import CustomerLink


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A link awaiting a manager, with what of its mention the queue page shows."""

    link: CustomerLink
    mention_id: int
    source: str
    author_handle: str
    text: str
    created_at: datetime

    @property
    def phrase(self) -> str:
        """The words the rule matched (the evidence when the link has no span)."""
        k = self.link
        if k.start is not None and k.end is not None and 0 <= k.start < k.end <= len(self.text):
            return self.text[k.start:k.end]
        return k.evidence


@dataclass(frozen=True, slots=True)
class RefusedAlias:
    """An alias a manager refused as a plain word: the gazetteer is built without it."""

    customer_id: str
    alias: str
    refused_by: str
    refused_at: datetime
