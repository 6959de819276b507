"""The review queue worked in bulk: pending links grouped by customer, rule and matched words,
a group or a selection confirmed or rejected at once, an alias refused as a word.

A manager facing a thousand links of the word "is" to a customer aliased "IS" decides once
for the group.  Decisions go through the store one link at a time (each its own transaction,
as a single decision), the gazetteer is rebuilt once, and each author is re-linked once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from crmsphere import people
from crm.link_decisions import confirm_link, refuse_alias, reject_link, replace_links
from domain import utcnow
from domain.link_queue import PendingLink
from domain.errors import BadInput, NotFound
from crmsphere.runtime import Runtime

Action = Literal["confirm", "reject"]
#: Rules whose matched words are an alias of the customer (what "never link as a word" refuses).
ALIAS_RULES = frozenset({"alias"})
#: The links of a group the page shows to judge it by.
EXAMPLES = 5
#: Mentions re-analysed at once after a bulk rejection.
RELINK_BATCH = 500


def phrase_key(text: str) -> str:
    """Matched words compared as the matcher compares them: case and spacing ignored."""
    return " ".join(text.split()).lower()


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What a group of pending links shares: the customer, the rule and the matched words."""

    customer_id: str
    rule: str
    phrase: str

    def holds(self, row: PendingLink) -> bool:
        """Whether ``row`` belongs to this group."""
        return (row.link.customer_id == self.customer_id and row.link.rule == self.rule
                and phrase_key(row.phrase) == self.phrase)


@dataclass(slots=True)
class LinkGroup:
    """Pending links of one customer by one rule on the same words, oldest first."""

    key: GroupKey
    rows: list[PendingLink] = field(default_factory=list)

    @property
    def shown_phrase(self) -> str:
        """The spelling of the matched words seen most often."""
        return Counter(r.phrase.strip() for r in self.rows).most_common(1)[0][0]


def group_pending(rows: Iterable[PendingLink]) -> list[LinkGroup]:
    """Pending links in groups, the biggest first (ties: the oldest link first)."""
    groups: dict[GroupKey, LinkGroup] = {}
    for row in rows:
        key = GroupKey(row.link.customer_id, row.link.rule, phrase_key(row.phrase))
        groups.setdefault(key, LinkGroup(key)).rows.append(row)
    return sorted(groups.values(), key=lambda g: (-len(g.rows), g.rows[0].link.id or 0))


@dataclass(frozen=True, slots=True)
class BulkDecision:
    """What a bulk decision did: links decided, links skipped (and why), authors re-linked."""

    action: Action
    decided: list[int]
    skipped: list[tuple[int, str]]
    relinked_mentions: int


async def chosen_links(rt: Runtime, groups: Sequence[GroupKey], link_ids: Sequence[int],
                       limit: int) -> list[PendingLink]:
    """The pending links of ``groups`` and ``link_ids`` (each once, oldest first);
    ``BadInput`` when they are more than ``limit``."""
    wanted = set(link_ids)
    rows = [r for r in await rt.store.pending_links()
            if r.link.id in wanted or any(g.holds(r) for g in groups)]
    if len(rows) > limit:
        raise BadInput(f"{len(rows)} links chosen: decide at most {limit} at once "
                       f"(choose fewer groups)", {"chosen": len(rows), "limit": limit})
    return rows


async def decide(rt: Runtime, action: Action, rows: Sequence[PendingLink],
                 missing: Iterable[int] = ()) -> BulkDecision:
    """Confirm or reject ``rows``; a link decided meanwhile is skipped and named, not fatal.
    ``missing`` are asked-for ids that were not pending any more."""
    decided: list[int] = []
    skipped = [(i, "not pending (decided already or unknown)") for i in missing]
    authors: set[tuple[str, str]] = set()
    confirmed = []
    for row in rows:
        link_id = row.link.id
        assert link_id is not None  # stored links have ids
        try:
            if action == "confirm":
                confirmed.append((await confirm_link(rt.store, link_id)).mention)
            else:
                await reject_link(rt.store, link_id, row.phrase if row.link.start is not None else None)
        except NotFound:
            skipped.append((link_id, "not pending (decided already or unknown)"))
            continue
        decided.append(link_id)
        authors.add((row.source, row.author_handle))
    relinked = 0
    if action == "confirm":
        if rt.crm_outbound is not None and confirmed:  # confirmed links are sure: CRM timeline entries
            await rt.crm_outbound.links_confirmed(confirmed)
        for row in rows:
            if row.link.id in decided and row.link.rule in people.IDENTITY_RULES:
                attached = await people.attach_author(rt, row.source, row.author_handle, row.link.customer_id)
                relinked += attached.relinked_mentions if attached is not None else 0
    elif decided:
        # The negatives are in the store: rebuild the gazetteer once, re-link each author once.
        await rt.reload_customers()
        relinked = await relink_authors(rt, sorted(authors))
    return BulkDecision(action, decided, skipped, relinked)


async def relink_authors(rt: Runtime, authors: Sequence[tuple[str, str]]) -> int:
    """``link_review.relink_author`` for many authors: their mentions analysed in a few large batches (a
    thousand authors of one rejected group must not mean a thousand small analyses)."""
    relinked, batch = 0, []
    for source, handle in authors:
        batch.extend(m for m in await rt.store.author_mentions(source, handle) if m.id is not None)
        if len(batch) >= RELINK_BATCH:
            relinked += await _relink(rt, batch)
            batch = []
    return relinked + (await _relink(rt, batch) if batch else 0)


async def _relink(rt: Runtime, mentions: list) -> int:
    analyses = await rt.analyzer.analyse([m.post for m in mentions])
    await replace_links(rt.store, {m.id: a.links for m, a in zip(mentions, analyses)})
    return len(mentions)


@dataclass(frozen=True, slots=True)
class AliasRefusal:
    """What refusing an alias as a word did."""

    customer_id: str
    alias: str
    newly_refused: bool
    dropped_links: int


async def refuse_alias_as_word(rt: Runtime, customer_id: str, alias: str, by: str) -> AliasRefusal:
    """Never link ``alias`` as a word for the customer: store the refusal, rebuild the
    gazetteer, and drop the pending links that alias made (the customer's other links stay)."""
    customer = await rt.store.get_customer(customer_id)
    if phrase_key(alias) not in {phrase_key(a) for a in customer.aliases}:
        raise BadInput(f"'{alias[:80]}' is not an alias of {customer_id}",
                       {"field": "alias", "aliases": list(customer.aliases)[:20]})
    added = await refuse_alias(rt.store, customer_id, alias, by, utcnow())
    await rt.reload_customers()
    key = GroupKey(customer_id, "alias", phrase_key(alias))
    doomed = [r.link.id for r in await rt.store.pending_links()
              if r.link.rule in ALIAS_RULES and key.holds(r) and r.link.id is not None]
    dropped = await rt.store.drop_pending_links(doomed)
    return AliasRefusal(customer_id, alias.strip(), added, dropped)
