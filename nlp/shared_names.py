"""A name several customers share, told apart by how it is spelt or by the other evidence a post carries.

Names that fold together ("Richard-Freeman" the company and "Richard Freeman" the person,
"Renée" and "Renee") are told apart by what the post wrote: people drop a hyphen or an
accent from a name but do not add one, so a span that carries one and is spelt so by only
one of them is that one (``spelt_exactly``).

"Alex Kim" may be two customers of the registry; no rule can pick one from the name. A
real post often says more: the author is one of them (their handle: already a strong link),
another customer named in the same post is one's employer ("Alex Kim from Zentrix Labs
sorted our renewal", or its web domain), or the post names one of them by other evidence.
When exactly one of the customers sharing the name has such support, that link rises to
the ``shared_name_picked`` confidence; the others stay at ``shared_name``.
What counts as support is a link that kept its rule's full confidence (a distinctive name,
a handle, a domain) to that customer or to the company that customer works for. (The
company of an author who is a customer already links by the ``employer`` rule.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import CustomerLink
from nlp.wordsense import fold

if TYPE_CHECKING:
    from nlp.linking import CustomerLinker

# Rules whose links a shared name (or spelling) caps at ``shared_name``.
_NAME_RULES = frozenset({"company_name", "person_name", "alias", "hashtag", "spelt_handle",
                         "spelt_domain", "fuzzy"})


def pick_shared(linker: "CustomerLinker", links: list[CustomerLink]) -> None:
    """Raise, in place, the one link of each shared name that other evidence in the post supports."""
    table = linker.confidence
    shared_value = table["shared_name"]
    spans: dict[tuple[int, int], list[int]] = {}
    for i, k in enumerate(links):
        if k.start is not None and k.end is not None and k.rule in _NAME_RULES and k.confidence == shared_value:
            spans.setdefault((k.start, k.end), []).append(i)
    if not spans:
        return
    capped = {i for group in spans.values() for i in group}
    named = {k.customer_id for i, k in enumerate(links)
             if i not in capped and k.confidence >= table.get(k.rule, 1.0)}
    if not named:
        return
    works_at = linker.employers
    for group in spans.values():
        support: dict[str, str] = {}
        for i in group:
            cid = links[i].customer_id
            if cid in named:
                support[cid] = "the post names this one by other evidence too"
            elif works_at.get(cid) in named:
                support[cid] = f"the post also names their employer {linker.customers[works_at[cid]].name}"
        if len(support) != 1:
            continue  # none, or several: the name still says nothing about which
        ((chosen, why),) = support.items()
        for i in group:
            k = links[i]
            if k.customer_id == chosen:
                links[i] = CustomerLink(chosen, table["shared_name_picked"], k.rule,
                                        f"{k.evidence}; {why}", k.start, k.end)


def spelt_exactly(linker: "CustomerLinker", span_text: str, vals: list[tuple[str, str]]) -> str | None:
    """The one customer among ``vals`` (rule, customer id) whose registered name or alias is
    ``span_text`` as written, when the span carries what folding drops (a hyphen, an accent)."""
    written = " ".join(span_text.lower().split())
    if fold(written) == written:
        return None
    customers = linker.customers
    exact = {cid for rule, cid in vals if rule != "domain" and any(
        " ".join(p.lower().split()) == written for p in (customers[cid].name, *customers[cid].aliases))}
    return exact.pop() if len(exact) == 1 else None
