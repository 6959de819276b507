"""What the forum's idea cards and idea page show besides the idea itself: the author's name
and company, a plain-text excerpt of the body, and the voters line of an idea page ("Acme
Anvils and 27 others").

The wording rules live here, not in the templates, so the pages only print a string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from api.markdown import render_markdown
from domain import Customer
from domain.forum import Idea, VoterName
from storage.base import Store


@dataclass(frozen=True, slots=True)
class Byline:
    """The author of an idea as a card shows them; ``company`` is empty when unknown."""

    name: str
    company: str = ""


def company_of(customer: Customer | VoterName) -> str:
    """The company a customer stands for (a person's employer, else the customer's name)."""
    return customer.company or customer.name or ""


async def bylines(store: Store, ideas: Sequence[Idea]) -> dict[int, Byline]:
    """The author and company of each idea that has a known author, by idea id."""
    accounts = await store.get_accounts([i.author_id for i in ideas if i.author_id])
    customers = await store.get_customers([a.customer_id for a in accounts.values() if a.customer_id])
    result: dict[int, Byline] = {}
    for idea in ideas:
        account = accounts.get(idea.author_id) if idea.author_id else None
        if account is None:
            continue
        customer = customers.get(account.customer_id) if account.customer_id else None
        result[idea.id] = Byline(account.name, company_of(customer) if customer else "")
    return result


def excerpt(body: str, limit: int = 180) -> str:
    """The body as plain text (Markdown rendered, tags dropped), cut at a word near ``limit``."""
    text = " ".join(render_markdown(body).striptags().split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(".,;:!?-") + "…"


def excerpts(ideas: Sequence[Idea]) -> dict[int, str]:
    """The excerpt of each idea's body, by idea id."""
    return {idea.id: excerpt(idea.body) for idea in ideas}


def voters_phrase(first: str | None, total: int) -> str:
    """"Acme Anvils and 27 others", "Acme Anvils and 1 other", "Acme Anvils", "27 customers",
    or "" when nobody voted; ``first`` is the company named (``None`` when unknown)."""
    if total <= 0:
        return ""
    if first is None:
        return f"{total} customer{'' if total == 1 else 's'}"
    others = total - 1
    if others == 0:
        return first
    return f"{first} and {others} other{'' if others == 1 else 's'}"


#: Voters read for an idea page's line: it names one; the rest are counted by the store.
VOTERS_NAMED = 1


async def voters_line(store: Store, idea_id: int) -> str:
    """The voters of an idea in one line: the first voter's company and how many others
    (one counting read: an idea with thousands of votes loads one voter, not all)."""
    voters = await store.idea_voters(idea_id, VOTERS_NAMED)
    first = voters.first[0] if voters.first else None
    # A voter missing from the registry is counted, not named.
    return voters_phrase(company_of(first) if first and first.name is not None else None, voters.count)


def moved_on(when: datetime | None, now: datetime) -> str:
    """The day an idea moved to its roadmap column, short: "3 Dec" this year, "3 Dec 2025"
    another year (UTC); "" when the idea never changed status (it started in that column)."""
    if when is None:
        return ""
    day = f"{when.day} {when:%b}"
    return day if when.year == now.year else f"{day} {when.year}"
