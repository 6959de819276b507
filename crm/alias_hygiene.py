"""Alias hygiene when a customer registry is imported (CSV, CRM sync, the bridge API).

An alias is matched as a word in every post.  "IS" for Infinite Systems matches the word "is"
in almost every English post: each match is a low-confidence link that waits in the review
queue, and the queue drowns.  So, when a registry comes in:

- an alias shorter than ``MIN_ALIAS_LETTERS`` letters and digits is refused: it is not
  stored, so nothing links by it (the customer's name, handles, domains and other aliases
  still link), and the import reports it;
- an alias that is a common word ("Bolt", "Square") is kept, and reported: the linker links
  it only with a cue (capitalised mid-sentence, business words nearby, a legal suffix), so
  whoever keeps the registry may add a handle, a domain or a more distinctive alias.

The rule is written once, here, and every import path runs it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain import Customer
from domain.crm import CrmBatch

#: Aliases with fewer letters and digits than this are refused at import.
MIN_ALIAS_LETTERS = 3
TOO_SHORT = f"shorter than {MIN_ALIAS_LETTERS} letters: refused, it would match ordinary words"
COMMON_WORD = ("a common word: kept, but it links only with a cue (capitalised mid-sentence, "
               "business words, a legal suffix)")


@dataclass(frozen=True, slots=True)
class AliasNote:
    """An alias an import refused (``refused``) or kept with a flag, and why."""

    customer_id: str
    alias: str
    reason: str
    refused: bool

    def as_json(self) -> dict[str, Any]:
        """The note as an API answer lists it."""
        return {"customer_id": self.customer_id, "alias": self.alias, "reason": self.reason,
                "refused": self.refused}


class AliasCheck:
    """Checks the aliases of imported customers against the languages posts are written in."""

    def __init__(self, languages: Iterable[str] = ("en",)) -> None:
        # Imported when first used: the word lists load slowly.
        from nlp.wordsense import WordSense, name_words

        self._sense = WordSense(languages)
        self._words = name_words

    def customer(self, customer: Customer) -> tuple[Customer, list[AliasNote]]:
        """``customer`` without its too-short aliases, and a note for each alias refused or flagged."""
        kept: list[str] = []
        notes: list[AliasNote] = []
        for alias in customer.aliases:
            words = self._words(alias)
            # Letters and digits only: "I.S." and "I S" are as short as "IS".
            if sum(ch.isalnum() for ch in "".join(words)) < MIN_ALIAS_LETTERS:
                notes.append(AliasNote(customer.id, alias, TOO_SHORT, refused=True))
                continue
            kept.append(alias)
            if len(words) == 1 and self._sense.is_common(words[0]):
                notes.append(AliasNote(customer.id, alias, COMMON_WORD, refused=False))
        if len(kept) != len(customer.aliases):
            customer = dataclasses.replace(customer, aliases=tuple(kept))
        return customer, notes

    def customers(self, customers: Sequence[Customer]) -> tuple[list[Customer], list[AliasNote]]:
        """Every customer checked as ``customer`` does; the notes in registry order."""
        checked: list[Customer] = []
        notes: list[AliasNote] = []
        for c in customers:
            kept, found = self.customer(c)
            checked.append(kept)
            notes.extend(found)
        return checked, notes

    def batch(self, batch: CrmBatch) -> tuple[CrmBatch, list[AliasNote]]:
        """A CRM batch with the aliases of its upserted customers checked."""
        notes: list[AliasNote] = []
        upserts = []
        for upsert in batch.upserts:
            kept, found = self.customer(upsert.customer)
            notes.extend(found)
            upserts.append(upsert if kept is upsert.customer else dataclasses.replace(upsert, customer=kept))
        if not notes:
            return batch, notes
        return dataclasses.replace(batch, upserts=tuple(upserts)), notes
