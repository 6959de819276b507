"""What context makes an ambiguous customer name the customer: company suffixes and business words."""

from __future__ import annotations

import re

# Which names are everyday words is decided from word-frequency data: see ``nlp.wordsense``.

# Words after a name that make it a company ("Apple Inc", "Target Corp").
COMPANY_SUFFIXES = frozenset(
    "inc inc. corp corp. corporation ltd ltd. llc plc gmbh co co. group company ag sa "
    "bv nv limited holdings labs technologies software systems".split())

# Words near a name that make a customer (rather than fruit or a city) the likely reading.
BUSINESS_CONTEXT = frozenset("""
support customer customers service services app apps account accounts order orders refund
refunds subscription subscriptions store stores team staff product products update updates
release pricing price invoice invoices billing shipping delivery deliveries ceo cto founder
shares stock earnings contract vendor platform api integration integrations login outage
dashboard plan plans tier license licence rep reps manager management headquarters hq
employee employees hiring acquisition partner partners partnership ticket tickets helpdesk
sla renewal renew upgrade downgrade onboarding checkout cart warehouse logistics freight
software saas crm feature features bug bugs
""".split())

_WORDS = re.compile(r"[a-z0-9][a-z0-9.&'-]*")


# Words of product and customer service near a person's name: the person is dealing with a
# company as a customer ("a call with eric cox about the renewal", "#kathrynhernandez sorted
# my refund"). Chosen from what surrounds customers in the labelled set (support, invoice,
# billing, export, api, pricing, onboarding, renewal, docs, ticket, account, contract) and
# from service vocabulary; none of the words around public figures (premiere, interview,
# tour, episode: ``nlp.namesense.PUBLIC_FIGURE_WORDS``), and not the generic business words
# of ``BUSINESS_CONTEXT`` (team, staff, store, price, plan, product, management) that
# ordinary sentences are full of.
SERVICE_CUES = frozenset("""
support helpdesk ticket tickets invoice invoices invoiced billing billed refund refunds renewal
renewals renew onboarding pricing account accounts export exports api apis docs documentation
customer customers subscription subscriptions contract contracts login logins outage outages
integration integrations dashboard upgrade upgraded downgrade checkout license licence licenses
sla csv sync bug bugs workspace admin migrated migration trial demo quote
""".split())


def _after(low: str, end: int) -> list[str]:
    """The words after a span, a possessive "'s" of the name itself not counted."""
    if low.startswith("'s", end):
        end += 2
    return _WORDS.findall(low[end:end + 60])


def has_service_cue(low: str, start: int, end: int, reach: int = 5) -> bool:
    """Words of product or customer service (``SERVICE_CUES``) within ``reach`` words of the span."""
    window = _WORDS.findall(low[max(0, start - 50):start])[-reach:] + _after(low, end)[:reach]
    return any(w.rstrip(".'s") in SERVICE_CUES or w in SERVICE_CUES for w in window)


def service_cue_in(low: str) -> bool:
    """Words of product or customer service anywhere in the (lower-cased) post."""
    return not SERVICE_CUES.isdisjoint(w.rstrip(".'s") for w in _WORDS.findall(low))


def has_context(low: str, start: int, end: int, reach: int = 5) -> bool:
    """Business words within ``reach`` words of the span, or a company suffix right after it."""
    after = _after(low, end)
    if after and after[0] in COMPANY_SUFFIXES:
        return True
    before = _WORDS.findall(low[max(0, start - 50):start])
    window = before[-reach:] + after[:reach]
    return any(w.rstrip(".'s") in BUSINESS_CONTEXT or w in BUSINESS_CONTEXT for w in window)


# Words right after a name that make it a company's: its suffix or a service people use.
SERVICE_WORDS = COMPANY_SUFFIXES | frozenset(
    "support billing customer helpdesk app account accounts checkout invoice invoices refund "
    "subscription ceo".split())


def service_word_after(low: str, end: int) -> bool:
    """A company suffix or a service word right after the span ("Apple support", "Target Corp")."""
    after = _WORDS.match(low, end + 1) if low[end:end + 1] == " " else None
    if after is None:
        return False
    word = after.group()
    return word in SERVICE_WORDS or word.rstrip(".'s") in SERVICE_WORDS

