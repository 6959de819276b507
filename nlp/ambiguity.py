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


# The end of a sentence: words past it are about something else. Not the dot of a title,
# an initial or a legal form ("Dr. Jerry West", "J. Smith", "Acme Inc. support").
_SENTENCE_END = re.compile(r"([a-z]*)[.!?]+(?:\s|$)")
_NO_END = frozenset("mr mrs ms dr prof st jr sr inc ltd co corp vs etc no".split())


def _ends(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence end in ``text`` (lower case)."""
    return [(m.end(1), m.end()) for m in _SENTENCE_END.finditer(text)
            if not (m.group().startswith(m.group(1) + ".") and
                    (m.group(1) in _NO_END or len(m.group(1)) == 1))]


def in_sentence(low: str, start: int, end: int, back: int = 80, ahead: int = 100) -> tuple[str, str]:
    """The text of the span's own sentence before it (up to ``back`` characters) and after it
    (up to ``ahead``), a possessive "'s" of the name itself kept after it."""
    before = low[max(0, start - back):start]
    ends = _ends(before)
    if ends:
        before = before[ends[-1][1]:]
    after = low[end:end + ahead]
    skip = 2 if after.startswith("'s") else 0
    stops = _ends(after[skip:])
    return before, after[:stops[0][0] + skip] if stops else after


def has_service_cue(low: str, start: int, end: int, reach: int = 8) -> bool:
    """Words of product or customer service (``SERVICE_CUES``) within ``reach`` words of the
    span, in its own sentence ("jenny del pi pushed an update and now the export is broken":
    the export is the seventh word after the name, in the same sentence)."""
    before, after = in_sentence(low, start, end)
    window = _WORDS.findall(before)[-reach:] + _after(after, 0)[:reach]
    return any(w.rstrip(".'s") in SERVICE_CUES or w in SERVICE_CUES for w in window)


def service_cue_in(low: str) -> bool:
    """Words of product or customer service anywhere in the (lower-cased) post."""
    return not SERVICE_CUES.isdisjoint(w.rstrip(".'s") for w in _WORDS.findall(low))


def has_context(low: str, start: int, end: int, reach: int = 5) -> bool:
    """Business words within ``reach`` words of the span in its sentence, or a company suffix
    right after it."""
    before_text, after_text = in_sentence(low, start, end, 50, 60)
    after = _after(after_text, 0)
    if after and after[0] in COMPANY_SUFFIXES:
        return True
    window = _WORDS.findall(before_text)[-reach:] + after[:reach]
    return any(w.rstrip(".'s") in BUSINESS_CONTEXT or w in BUSINESS_CONTEXT for w in window)


# Words right after a name that say a service people use ("Apple support", "Shell billing").
SERVICE_WORDS = frozenset(
    "support billing customer helpdesk app account accounts checkout invoice invoices refund "
    "subscription ceo".split())
# Legal forms that are no everyday word: after a name they say "a company", in any case.
LEGAL_ABBREVIATIONS = frozenset("inc inc. corp corp. ltd ltd. llc plc gmbh co.".split())


def _word_after(low: str, end: int) -> re.Match[str] | None:
    return _WORDS.match(low, end + 1) if low[end:end + 1] == " " else None


def service_word_after(low: str, end: int) -> bool:
    """A service word right after the span ("Apple support", "Orange customer service")."""
    after = _word_after(low, end)
    if after is None:
        return False
    word = after.group()
    return word in SERVICE_WORDS or word.rstrip(".'s") in SERVICE_WORDS


def legal_form_after(text: str, low: str, start: int, end: int, registered: str = "") -> bool:
    """A company's legal form right after the span, written as part of a name: an abbreviation
    ("Apple Inc.", "target corp") or a capitalised suffix word ("Orange Group"; not "Baby
    group", where the sentence capitalised an everyday word and "group" is a word).

    ``registered``: the customer's registered name (lower case, folded); when its own word
    after the alias is another suffix word, the post names another company ("Bolt Labs" for
    the customer "Bolt Technologies").
    """
    after = _word_after(low, end)
    if after is None:
        return False
    word = after.group()
    if word in LEGAL_ABBREVIATIONS:
        return True
    if word not in COMPANY_SUFFIXES or not text[after.start()].isupper():
        return False
    theirs = registered.split()
    other = len(theirs) > 1 and theirs[0] == low[start:end] and theirs[1] in COMPANY_SUFFIXES
    return not (other and theirs[1] != word)
