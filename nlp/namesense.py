"""Customer links from run-together spellings, and names that are part of someone else's name.

- A hashtag that spells a customer's name (``#AcmeAnvils``, ``#acme_anvils``, ``#KramerLtd``)
  links with rule ``hashtag``; an @handle nobody registered, or a web address, that spells
  one (``@acmeanvils``, ``acmeanvils.com``) with ``spelt_handle`` / ``spelt_domain``. A
  spelling of one word is less sure, and one that is a common word is never indexed
  (see ``nlp.hashtags``).
- A capitalised name right after another capitalised word mid-sentence ("Neil Patrick
  Harris" holding the customer "Patrick Harris"), or a person's name right before one,
  is part of a longer name: someone else. Where capitals say nothing — a sentence's first
  word ("Neil Patrick Harris joins the cast", also after a quote mark) or a headline in
  capitals ("NEIL PATRICK HARRIS JOINS THE CAST") — the word before counts only when it is
  the first name of a registered person ("neil"): a registry of many people holds the
  common first names, and "Today", "Loved" or "THANKS" are none.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from spacy.lang.en.stop_words import STOP_WORDS

from domain import CustomerLink
from nlp.ambiguity import BUSINESS_CONTEXT, COMPANY_SUFFIXES, in_sentence, service_cue_in
from nlp.hashtags import Spelling

if TYPE_CHECKING:
    from nlp.linking import CustomerLinker

_KIND = {"company_name": "company name", "person_name": "name", "alias": "alias"}
# A title-case word ("Neil", not "I", "HBO" or "CEO") right before or after a span.
_WORD_BEFORE = re.compile(r"([A-Z][a-z][\w'’]*)[ \t]$")
_WORD_AFTER = re.compile(r"[ \t]([A-Z][a-z][\w'’]*)")
# A word in capitals right before a span ("NEIL" in "NEIL PATRICK HARRIS").
_CAPS_WORD_BEFORE = re.compile(r"(?<![\w@#])([A-Z][A-Z'’]+)[ \t]$")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“(]\s*|\n)\W*$")
# Words before a name that are part of how people address or describe someone, not a name.
TITLES = frozenset("mr mrs ms miss mx dr prof sir dame lord lady rev hi hey hello dear thanks "
                   "thank congrats cc via ask call email meet met".split())


def spelling_links(linker: "CustomerLinker", links: list[CustomerLink], text: str, low: str) -> None:
    """Links for hashtags and for web addresses that spell a customer's name."""
    spelt = linker.spelt
    if "#" in text:
        for s, e, spellings in spelt.hashtags(text):
            _add(linker, links, spellings, "hashtag", f"hashtag '{text[s:e]}'", s, e, low)
    if "." in low:
        for s, e, host in spelt.domain_labels(low):
            if host in linker.domains:
                continue  # a registered domain: the name rule links it
            spellings = spelt.lookup(low[s:e])
            if spellings:
                _add(linker, links, spellings, "spelt_domain", f"web address '{text[s:s + len(host)]}'", s, e)


def spelt_handle_links(linker: "CustomerLinker", links: list[CustomerLink], handle: str,
                       start: int, end: int) -> None:
    """Links for an @handle that is no customer's but spells a customer's name."""
    spellings = linker.spelt.lookup(handle.partition("@")[0].split(".")[0])
    if spellings:
        _add(linker, links, spellings, "spelt_handle", f"@{handle} (no customer's handle)", start, end)


def _add(linker: "CustomerLinker", links: list[CustomerLink], spellings: list[Spelling],
         rule: str, what: str, start: int, end: int, low: str = "") -> None:
    """Links for ``spellings`` found at ``start:end``; ``low``: the folded lower-case post (hashtags)."""
    table = linker.confidence
    customers = {sp.customer_id for sp in spellings}
    for sp in spellings:
        note = ""
        if len(customers) > 1:
            confidence, note = table["shared_name"], f" (spelling shared by {len(customers)} customers)"
        elif sp.common_person and rule == "hashtag" and _customer_post(low):
            # "Refund sorted in a day #kathrynhernandez": a hashtag stands apart from the
            # sentence, so customer-service words anywhere in the post are its context.
            confidence = table["common_person_hashtag_with_cue"]
            note = " (a common name; customer-service words in the post)"
        elif sp.common_person:
            confidence, note = table["common_person_name"], " (a common name: may be someone else of that name)"
        elif sp.words == 1:
            confidence = table["hashtag_one_word" if rule == "hashtag" else "spelt_one_word"]
        else:
            confidence = table[rule]
        customer = linker.customers[sp.customer_id]
        stem = " without its legal form" if sp.stem else ""
        links.append(CustomerLink(
            sp.customer_id, confidence, rule,
            f"{what} spells the {_KIND[sp.source]} '{customer.name}'{stem}{note}", start, end))


def inside_longer_name(text: str, start: int, end: int, check: bool, person: bool,
                       first_names: frozenset[str] | set[str] = frozenset()) -> bool:
    """True when the capitalised name at ``text[start:end]`` is part of a longer capitalised name.

    Mid-sentence, for a name in title case in a post that is not in title case throughout (a
    headline capitalises every word): any name-like capitalised word right before it. A word
    after the name counts only for a person ("Acme Anvils Rocks" is still Acme). At a
    sentence's start, and for a name in capitals, only a person's registered first name
    (``first_names``, lower case) right before it counts. ``check`` False (other evidence
    names the customer) skips it.
    """
    if not check or not text[start:start + 1].isupper():
        return False
    if text[start:end].isupper():
        # In capitals every word looks like a name: "THANKS PATRICK HARRIS" is the customer.
        caps = _CAPS_WORD_BEFORE.search(text, max(0, start - 40), start)
        return caps is not None and _first_name(caps.group(1), first_names)
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    if before and _is_name_word(before.group(1)):
        if not _SENTENCE_START.search(text, 0, before.start()):
            return not _title_case_post(text)
        if person and _first_name(before.group(1), first_names):
            return True  # "Neil Patrick Harris joins the cast"
    after = _WORD_AFTER.match(text, end) if person else None
    if after and _is_name_word(after.group(1)) and end < len(text):
        return not _title_case_post(text)
    return False


def _first_name(word: str, first_names: frozenset[str] | set[str]) -> bool:
    return _is_name_word(word) and word.lower().rstrip("'’s") in first_names


# Words around a person's name in news and entertainment: the name is likelier a public
# figure's than a customer's ("Jerry West to be featured on HBO").
PUBLIC_FIGURE_WORDS = frozenset("""
hbo netflix oscars oscar grammy grammys emmy emmys premiere starring actor actress singer
rapper album movie film show episode season tour interview senator president governor
minister celebrity nba nfl mlb nhl fifa coach quarterback featured spotted biopic memoir
""".split())
_WORDS = re.compile(r"[a-z0-9]+")


def public_figure_context(low: str, start: int, end: int) -> bool:
    """News or entertainment words within five words of a name, in the name's sentence.

    Words of another sentence are about something else as often as not ("Couple simply
    film table room much. Gerard Guyon"); a public figure's name stands in the sentence
    that says why they are news ("Jerry West to be featured on HBO").
    """
    before, after = in_sentence(low, start, end, 40, 50)
    window = _WORDS.findall(before)[-5:] + _WORDS.findall(after)[:5]
    return not PUBLIC_FIGURE_WORDS.isdisjoint(window)


def _customer_post(low: str) -> bool:
    """Customer-service words in the post, and no news or entertainment words."""
    return service_cue_in(low) and PUBLIC_FIGURE_WORDS.isdisjoint(_WORDS.findall(low))


def _is_name_word(word: str) -> bool:
    low = word.lower().rstrip("'’s")
    return not (low in STOP_WORDS or low in TITLES or low in BUSINESS_CONTEXT or low in COMPANY_SUFFIXES)


def _title_case_post(text: str) -> bool:
    words = [w for w in text.split() if w[:1].isalpha()]
    capitalised = sum(1 for w in words if w[0].isupper())
    return len(words) >= 4 and capitalised >= len(words) * 0.75
