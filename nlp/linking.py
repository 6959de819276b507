"""The ``customer_linker`` spaCy component: which known customers a post is by or about.

Evidence, strongest first:
- the author's handle is a customer's handle on that platform;
- an e-mail address in the text is a customer's, or is at a customer's mail domain;
- an @handle in the text is a customer's handle (on another platform: less sure);
- a customer's company name, person name, alias or web domain appears in the text.
  Names are found in one Aho-Corasick pass over the lower-cased raw text, folded one
  character for one (line breaks and hyphens as spaces, accents dropped: see
  ``nlp.wordsense``). Whether a name is an everyday word comes from wordfreq's shipped
  frequency lists: a one-word name that is one ("Apple", "Bolt", "Kramer") needs support
  nearby (a company suffix, business words, another link) or stays low — in lower case
  with nothing next to it, or capitalised only by the sentence, it is no link at all; a
  person's name of common words ("Jerry West") without business words (in lower case:
  without customer-service words such as "renewal", "invoice", "api"), or any person's
  name beside news or entertainment words, waits for review; a name right after another
  capitalised word mid-sentence ("Neil Patrick Harris") is someone else's; and a name
  two customers share stays low unless other evidence picks one (their handle, their
  employer named in the post, or a hyphen or accent only one of them writes:
  ``nlp.shared_names``).
- a hashtag, an unregistered @handle or a web address that spells a name run together
  (``#AcmeAnvils``, ``@kramerltd``, ``acmeanvils.com``, ``#Mr._James_Baldwin_PhD``; see
  ``nlp.namesense``); a common person's name as a hashtag needs customer-service words
  somewhere in the post.
- a capitalised span one typo away from a name (rule ``fuzzy``, see ``nlp.fuzzy``), less sure.

Links below the review threshold are kept but await a manager (see ``pipeline``);
what managers rejected comes back as ``LinkNegative`` and silences that author's
weak links to that customer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc

from domain import Customer, CustomerLink, LinkNegative, normalise_handle
from nlp.calibration import CONFIDENCE
from nlp.fuzzy import FuzzyNames
from nlp.hashtags import SpellingIndex
from nlp.name_confidence import name_confidence
from nlp.namesense import inside_longer_name, public_figure_context, spelling_links, spelt_handle_links
from nlp.phrases import PhraseIndex, lower_same_length
from nlp.shared_names import pick_shared, spelt_exactly
from nlp.wordsense import WordSense, fold

# Handles as platforms write them: @name, @name@server (Mastodon), @name.bsky.social (Bluesky).
# Starts with the literal "@" (the look-behind after it checks the character before it),
# so the regex engine jumps from "@" to "@" instead of trying every position (3x faster).
_HANDLE = re.compile(r"@(?<![\w@]@)([A-Za-z0-9_](?:[\w.\-]*[\w])?(?:@[\w\-]+(?:\.[\w\-]+)+)?)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n)\W*$")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)")

#: Rules that a manager's rejection silences for that author (exact identities are never silenced).
WEAK_RULES = frozenset({"fuzzy", "company_name", "person_name", "alias", "domain", "author_name",
                        "handle_other_platform", "author_other_platform", "employer",
                        "hashtag", "spelt_handle", "spelt_domain"})
_STRONG = frozenset({"author_handle", "email", "mentioned_handle", "mail_domain", "employer"})
_LABEL = {"company_name": "company name", "person_name": "name", "alias": "alias", "domain": "web domain"}

if not Doc.has_extension("crm_links"):
    Doc.set_extension("crm_links", getter=lambda doc: doc.user_data.get("crm_links"))


class CustomerLinker:
    """Finds customer links in a Doc; the post's platform and author come in ``doc.user_data``."""

    confidence = CONFIDENCE

    def __init__(self, nlp: Language, name: str = "customer_linker",
                 languages: tuple[str, ...] = ("en",)) -> None:
        self.nlp = nlp
        self.name = name
        # Which names are everyday words, from the word lists of the languages posts are in.
        self.sense = WordSense(languages)
        self._reset()

    def _reset(self) -> None:
        self.names: PhraseIndex[tuple[str, str]] = PhraseIndex()
        # The registry's one-word names and aliases that are everyday words (filled on load).
        self.ordinary: set[str] = set(STOP_WORDS)
        self.fuzzy = FuzzyNames(self.ordinary)  # type: ignore[arg-type]  (read only)
        self.spelt = SpellingIndex(self.sense)
        self.handles: dict[tuple[str, str], list[str]] = {}
        self.any_platform_handles: dict[str, list[str]] = {}
        self.emails: dict[str, list[str]] = {}
        self.domains: dict[str, list[str]] = {}
        self.person_names: dict[str, list[str]] = {}
        # First words of people's names ("neil"): a name right after one is someone else's.
        self.first_names: set[str] = set()
        self.customers: dict[str, Customer] = {}
        self.employers: dict[str, str] = {}
        self.negatives: set[tuple[str, str, str]] = set()
        self.rejected_phrases: dict[tuple[str, str], int] = {}

    def set_customers(self, customers: Iterable[Customer],
                      negatives: Iterable[LinkNegative] = ()) -> None:
        """Replace the gazetteer with ``customers`` and what managers rejected."""
        self._reset()
        customers = list(customers)
        # Employers by name; a name two companies share says nothing about which one it is.
        companies: dict[str, str | None] = {}
        for c in customers:
            if c.kind == "company":
                companies[c.name.lower()] = None if c.name.lower() in companies else c.id
        # Each name and alias folded and split once (this runs for every name of the registry).
        phrases = [[(p, fold(p).lower().split()) for p in (c.name, *c.aliases)] for c in customers]
        is_common = self.sense.is_common
        self.ordinary.update(words[0] for names in phrases for _, words in names
                             if len(words) == 1 and is_common(words[0]))
        names, spelt, fuzzy = self.names, self.spelt, self.fuzzy
        for c, ((_, name_words), *aliases) in zip(customers, phrases):
            cid = c.id
            self.customers[cid] = c
            for ident in c.identities:
                h = normalise_handle(ident.handle)
                self.handles.setdefault((ident.platform, h), []).append(cid)
                self.any_platform_handles.setdefault(h, []).append(cid)
            for email in c.emails:
                self.emails.setdefault(email.strip().lower(), []).append(cid)
            for domain in c.domains:
                domain = domain.strip().lower()
                self.domains.setdefault(domain, []).append(cid)
                names.add(fold(domain), ("domain", cid))
            # Names are matched folded (hyphens and line breaks as spaces, no diacritics).
            name_key = " ".join(name_words)
            if "ß" in name_key:  # written "ss" where the keyboard has no "ß", and in capitals
                names.add_key(name_key.replace("ß", "ss"), ("company_name" if c.kind == "company"
                                                             else "person_name", cid))
            if c.kind == "company":
                names.add_key(name_key, ("company_name", cid))
                spelt.add(cid, c.name, "company_name", words=name_words)
            else:
                names.add_key(name_key, ("person_name", cid))
                spelt.add(cid, c.name, "person_name", person=True, words=name_words)
                self.person_names.setdefault(" ".join(c.name.lower().split()), []).append(cid)
                if len(name_words) > 1:
                    self.first_names.add(name_words[0])
                employer = companies.get(c.company.lower()) if c.company else None
                if employer:
                    self.employers[cid] = employer
            fuzzy.add(name_key)
            for alias, words in aliases:
                self._add_alias(cid, alias, words)
        self.names.finalise()
        self.set_negatives(negatives)

    def set_negatives(self, negatives: Iterable[LinkNegative]) -> None:
        """Replace what managers rejected (the gazetteer itself stays as it is)."""
        self.negatives, self.rejected_phrases = set(), {}
        for n in negatives:
            self.negatives.add((n.customer_id, n.source, normalise_handle(n.author_handle)))
            if n.phrase:
                key = (n.customer_id, n.phrase.lower())
                self.rejected_phrases[key] = self.rejected_phrases.get(key, 0) + 1

    def learn(self, customer: Customer) -> bool:
        """Take in handles and aliases a known customer gained, without rebuilding the gazetteer.

        A manager's confirmation only ever adds those; anything else (a new, renamed or
        removed customer, a lost alias) returns False: ``set_customers`` is then needed.
        What is added here must be what ``set_customers`` adds for the same record
        (tests/nlp/test_incremental_learning.py compares both).
        """
        old = self.customers.get(customer.id)
        if old is None or not customer.only_adds_handles_or_aliases_to(old):
            return False
        new_identities = [i for i in customer.identities if i not in old.identities]
        new_aliases = [a for a in customer.aliases if a not in old.aliases]
        self.customers[customer.id] = customer
        for ident in new_identities:
            h = normalise_handle(ident.handle)
            self.handles.setdefault((ident.platform, h), []).append(customer.id)
            self.any_platform_handles.setdefault(h, []).append(customer.id)
        for alias in new_aliases:
            # Folded exactly as ``set_customers`` folds it ("Société" is matched as "societe").
            words = fold(alias).lower().split()
            if len(words) == 1 and self.sense.is_common(words[0]):
                self.ordinary.add(words[0])
            self._add_alias(customer.id, alias, words)
        return True

    def _add_alias(self, cid: str, alias: str, words: list[str]) -> None:
        """Index one alias (``words``: folded, lower case, split) for exact, spelt and fuzzy matching."""
        key = " ".join(words)
        self.names.add_key(key, ("alias", cid))
        if "ß" in key:
            self.names.add_key(key.replace("ß", "ss"), ("alias", cid))
        self.spelt.add(cid, alias, "alias", words=words)
        self.fuzzy.add(key)

    def __call__(self, doc: Doc) -> Doc:
        platform = doc.user_data.get("platform") or ""
        author = normalise_handle(doc.user_data.get("author") or "")
        text = doc.user_data.get("text") or doc.text
        links: list[CustomerLink] = []
        self._author_links(links, platform, author, doc.user_data.get("author_name"))
        if "@" in text:
            self._handle_links(links, text, platform)
            if _may_hold_address(text):
                self._mail_links(links, text)
        # One character for one: a name split over lines, hyphenated or without its accents.
        plain = doc.user_data.get("low") or lower_same_length(text)
        low = fold(plain)
        if self.spelt:
            spelling_links(self, links, text, low)
        exact = self._name_links(links, text, low)
        # Nothing to fold in the lower-cased text (the same object back): nothing in the text.
        self._fuzzy_links(links, text if low is plain else fold(text), exact)
        if links:
            pick_shared(self, links)  # "Alex Kim from Zentrix Labs": the Alex Kim who works there
        # Results live in user_data (doc._ builds an object per access); doc._ reads them.
        doc.user_data["crm_links"] = self._finish(links, platform, author, text) if links else []
        return doc

    # -- rules ---------------------------------------------------------------
    def _author_links(self, links: list[CustomerLink], platform: str, author: str,
                      author_name: str | None) -> None:
        if not author:
            return
        exact = self.handles.get((platform, author), ())
        for cid in exact:
            links.append(CustomerLink(
                cid, CONFIDENCE["author_handle"], "author_handle",
                f"author @{author} is {self.customers[cid].name}'s {platform} handle"))
        if exact:
            return
        for cid in self.any_platform_handles.get(author, ()):
            links.append(CustomerLink(
                cid, CONFIDENCE["author_other_platform"], "author_other_platform",
                f"author @{author} on {platform} has the handle {self.customers[cid].name} "
                f"uses on another platform (may be someone else)"))
        if author_name:
            for cid in self.person_names.get(" ".join(author_name.lower().split()), ()):
                links.append(CustomerLink(
                    cid, CONFIDENCE["author_name"], "author_name",
                    f"author's display name '{author_name}' is customer {self.customers[cid].name}"))

    def _handle_links(self, links: list[CustomerLink], text: str, platform: str) -> None:
        for m in _HANDLE.finditer(text):
            handle = normalise_handle(m.group(1))
            exact = self.handles.get((platform, handle), []) if platform else []
            for cid in exact:
                links.append(CustomerLink(
                    cid, CONFIDENCE["mentioned_handle"], "mentioned_handle",
                    f"@{handle} in the text is {self.customers[cid].name}'s {platform} handle",
                    m.start(), m.end()))
            others = self.any_platform_handles.get(handle, ())
            for cid in others:
                if cid not in exact:
                    links.append(CustomerLink(
                        cid, CONFIDENCE["handle_other_platform"], "handle_other_platform",
                        f"@{handle} in the text is {self.customers[cid].name}'s handle "
                        f"on another platform", m.start(), m.end()))
            if not others and self.spelt:
                # Nobody's handle: it may still spell a customer's name ("@acme_anvils").
                spelt_handle_links(self, links, handle, m.start(), m.end())

    def _mail_links(self, links: list[CustomerLink], text: str) -> None:
        for m in _EMAIL.finditer(text):
            address = m.group(0).lower()
            domain = m.group(2).lower()
            for cid in self.emails.get(address, ()):
                links.append(CustomerLink(
                    cid, CONFIDENCE["email"], "email",
                    f"address {address} belongs to {self.customers[cid].name}", m.start(), m.end()))
            for cid in self.domains.get(domain, ()):
                links.append(CustomerLink(
                    cid, CONFIDENCE["mail_domain"], "mail_domain",
                    f"mail domain {domain} belongs to {self.customers[cid].name}",
                    m.start(2), m.end(2)))

    def _name_links(self, links: list[CustomerLink], text: str, low: str) -> list[tuple[int, int]]:
        """Links for names found exactly; returns their spans."""
        found = [(s, e, vals) for s, e, vals in self.names.find(low)]
        if not found:
            return []
        # A name inside a longer name ("Jordan Lee" in "Jordan Lee Consulting") is the longer one.
        found.sort(key=lambda f: f[0] - f[1])
        kept: list[tuple[int, int, list[tuple[str, str]]]] = []
        for s, e, vals in found:
            if any(ks <= s and e <= ke and (ke - ks) > (e - s) for ks, ke, _ in kept):
                continue
            kept.append((s, e, vals))
        strong = {k.customer_id for k in links if k.rule in _STRONG}
        for s, e, vals in kept:
            span_text = text[s:e]
            customers = {cid for _, cid in vals}
            # "RICHARD-FREEMAN" is the company Richard-Freeman, not the person Richard Freeman:
            # names that fold together, but only one is spelt as written (hyphen, accents).
            spelt_as = spelt_exactly(self, span_text, vals) if len(customers) > 1 else None
            # "Patrick Harris" in "Neil Patrick Harris" is someone else.
            if vals[0][0] != "domain" and inside_longer_name(
                    text, s, e, customers.isdisjoint(strong), all(r == "person_name" for r, _ in vals),
                    self.first_names):
                continue
            for rule, cid in vals:
                if rule == "domain" and s > 0 and low[s - 1] == "@":
                    continue  # inside an address: the mail rule has it
                confidence, note = name_confidence(self, rule, text, low, s, e, cid in strong,
                                                   fold(self.customers[cid].name).lower())
                if not confidence:
                    continue
                if rule == "person_name" and cid not in strong and public_figure_context(low, s, e):
                    confidence = min(confidence, CONFIDENCE["common_person_name"])
                    note = " (news or entertainment words nearby: may be a public figure of that name)"
                if len(customers) > 1 and cid not in strong and cid != spelt_as:
                    confidence = min(confidence, CONFIDENCE["shared_name"])
                    note = f" (name shared by {len(customers)} customers)"
                elif cid == spelt_as:
                    note += f" (spelt as only this one of {len(customers)} customers writes it)"
                evidence = f"{_LABEL[rule]} '{span_text}' of {self.customers[cid].name}{note}"
                links.append(CustomerLink(cid, confidence, rule, evidence, s, e))
        return [(s, e) for s, e, _ in found]

    def _fuzzy_links(self, links: list[CustomerLink], text: str, exact: list[tuple[int, int]]) -> None:
        """Links for capitalised spans one typo away from a name (only where nothing matched exactly)."""
        for s, e, name in self.fuzzy.candidates(text, exact):
            first = text[s:e].split(None, 1)[0].lower()
            if (first != name.split(None, 1)[0] and self.sense.is_common(first)
                    and _SENTENCE_START.search(text, 0, s)):
                # "Loved Cameron Tonya Moore in that show" is not "Love-Cameron" mistyped: the
                # sentence's capital made an everyday word look like a name's first word.
                continue
            # "Acme Anvil" holds the alias "Acme": the longer (mistyped) name is the reading.
            links[:] = [k for k in links if k.start is None or k.rule not in _LABEL
                        or not (s <= k.start and k.end <= e and k.end - k.start < e - s)]
            values = [(rule, cid) for rule, cid in self.names.get(name) if rule != "domain"]
            customers = {cid for _, cid in values}
            for rule, cid in values:
                if len(customers) > 1:
                    confidence, note = CONFIDENCE["shared_name"], f" (name shared by {len(customers)} customers)"
                elif rule == "company_name" and " " in name:
                    confidence, note = CONFIDENCE["fuzzy"], ""
                else:
                    confidence, note = CONFIDENCE["fuzzy_weak"], " (awaits a manager)"
                links.append(CustomerLink(
                    cid, confidence, "fuzzy",
                    f"'{text[s:e]}' is one typo from the {_LABEL[rule]} '{self.customers[cid].name}'{note}",
                    s, e))

    def _finish(self, links: list[CustomerLink], platform: str, author: str,
                text: str) -> list[CustomerLink]:
        """Add employers of authors, apply rejections, drop repeats; strongest first."""
        seen: set[tuple[str, str, int | None]] = set()
        out: list[CustomerLink] = []
        for link in links:
            extra = []
            if link.rule == "author_handle" and link.customer_id in self.employers:
                company_id = self.employers[link.customer_id]
                extra.append(CustomerLink(
                    company_id, CONFIDENCE["employer"], "employer",
                    f"author {self.customers[link.customer_id].name} works at "
                    f"{self.customers[company_id].name}"))
            for item in (link, *extra):
                if item.rule in WEAK_RULES and (item.customer_id, platform, author) in self.negatives:
                    continue
                if self.rejected_phrases and item.start is not None:
                    phrase = text[item.start:item.end].lower()
                    if self.rejected_phrases.get((item.customer_id, phrase), 0) >= 2:
                        item = CustomerLink(item.customer_id, min(item.confidence, 0.4), item.rule,
                                            item.evidence + " (rejected before for other authors)",
                                            item.start, item.end)
                key = (item.customer_id, item.rule, item.start)
                if key not in seen:
                    seen.add(key)
                    out.append(item)
        out.sort(key=lambda k: -k.confidence)
        return out


def _may_hold_address(text: str) -> bool:
    """True when some "@" follows a character an address can hold ("@handle" alone does not).

    The address regex tries every position of the text (~10 µs a post); this finds the
    few "@" directly.
    """
    at = text.find("@", 1)
    while at > 0:
        before = text[at - 1]
        if before.isalnum() or before in "_.+-":
            return True
        at = text.find("@", at + 1)
    return False


@Language.factory("customer_linker", default_config={"languages": ["en"]})
def make_customer_linker(nlp: Language, name: str, languages: list[str]) -> CustomerLinker:
    """Build an empty linker; fill it with ``set_customers``.

    ``languages``: the languages posts are written in, whose everyday words make a name ambiguous.
    """
    return CustomerLinker(nlp, name, tuple(languages))
