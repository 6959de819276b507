"""The ``customer_linker`` spaCy component: which known customers a post is by or about.

Evidence, strongest first:
- the author's handle is a customer's handle on that platform;
- an @handle in the text is a customer's handle;
- an e-mail address in the text belongs to a customer's address or mail domain;
- a customer's company name, person name or alias appears in the text (PhraseMatcher on
  lower case); a one-word name written in lower case is as likely an ordinary word
  ("target", "shell") and gets a low confidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from crmsphere.domain import Customer, CustomerLink, normalise_handle

# Handles as platforms write them: @name, @name@server (Mastodon), @name.bsky.social (Bluesky).
_HANDLE = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[\w.\-]*[\w])?(?:@[\w\-]+(?:\.[\w\-]+)+)?)")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)")

CONFIDENCE = {
    "author_handle": 0.98,
    "mentioned_handle": 0.9,
    "email": 0.95,
    "mail_domain": 0.8,
    "company_name": 0.8,
    "person_name": 0.7,
    "alias": 0.7,
    "employer": 0.6,
    "lowercase_word": 0.35,
}

if not Doc.has_extension("crm_links"):
    Doc.set_extension("crm_links", default=None)


class CustomerLinker:
    """Finds customer links in a Doc; the post's platform and author come in ``doc.user_data``."""

    def __init__(self, nlp: Language, name: str = "customer_linker") -> None:
        self.nlp = nlp
        self.name = name
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.handles: dict[tuple[str, str], list[str]] = {}
        self.any_platform_handles: dict[str, list[str]] = {}
        self.emails: dict[str, list[str]] = {}
        self.domains: dict[str, list[str]] = {}
        self.customers: dict[str, Customer] = {}
        self.employers: dict[str, str] = {}

    def set_customers(self, customers: Iterable[Customer], chunk: int = 2000) -> None:
        """Replace the gazetteer with ``customers``."""
        self.__init__(self.nlp, self.name)  # type: ignore[misc]
        customers = list(customers)
        companies = {c.name.lower(): c.id for c in customers if c.kind == "company"}
        phrases: list[tuple[str, str, str]] = []  # (rule, customer id, phrase)
        for c in customers:
            self.customers[c.id] = c
            for ident in c.identities:
                h = normalise_handle(ident.handle)
                self.handles.setdefault((ident.platform, h), []).append(c.id)
                self.any_platform_handles.setdefault(h, []).append(c.id)
            for email in c.emails:
                self.emails.setdefault(email.strip().lower(), []).append(c.id)
            for domain in c.domains:
                self.domains.setdefault(domain.strip().lower(), []).append(c.id)
            if c.kind == "company":
                phrases.append(("company_name", c.id, c.name))
            else:
                phrases.append(("person_name", c.id, c.name))
                if c.company and c.company.lower() in companies:
                    self.employers[c.id] = companies[c.company.lower()]
            phrases.extend(("alias", c.id, a) for a in c.aliases if a.strip())
        # Patterns go in by chunks: one huge list of Docs peaks near a gigabyte of memory.
        for start in range(0, len(phrases), chunk):
            part = phrases[start:start + chunk]
            docs = self.nlp.tokenizer.pipe(p for _, _, p in part)
            for (rule, cid, _), doc in zip(part, docs):
                if len(doc):
                    self.matcher.add(f"{rule}|{cid}", [doc])
        # Tokenising the patterns filled the tokenizer's never-evicting cache; every post
        # after would pay for it.  Re-assigning the rules rebuilds the cache empty.
        self.nlp.tokenizer.rules = self.nlp.tokenizer.rules

    def __call__(self, doc: Doc) -> Doc:
        platform = doc.user_data.get("platform")
        author = normalise_handle(doc.user_data.get("author") or "")
        links: list[CustomerLink] = []
        if platform and author:
            for cid in self.handles.get((platform, author), ()):
                links.append(CustomerLink(
                    cid, CONFIDENCE["author_handle"], "author_handle",
                    f"author @{author} is {self.customers[cid].name}'s {platform} handle"))
        text = doc.text
        for m in _HANDLE.finditer(text):
            handle = normalise_handle(m.group(1))
            exact = self.handles.get((platform, handle), []) if platform else []
            others = [c for c in self.any_platform_handles.get(handle, ()) if c not in exact]
            for cid in exact:
                links.append(CustomerLink(
                    cid, CONFIDENCE["mentioned_handle"], "mentioned_handle",
                    f"@{handle} in the text is {self.customers[cid].name}'s {platform} handle",
                    m.start(), m.end()))
            for cid in others:
                links.append(CustomerLink(
                    cid, CONFIDENCE["mentioned_handle"] - 0.2, "mentioned_handle",
                    f"@{handle} in the text is {self.customers[cid].name}'s handle on another platform",
                    m.start(), m.end()))
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
        for match_id, start, end in self.matcher(doc):
            rule, _, cid = self.nlp.vocab.strings[match_id].partition("|")
            span = doc[start:end]
            confidence = CONFIDENCE[rule]
            label = {"company_name": "company name", "person_name": "name", "alias": "alias"}[rule]
            evidence = f"{label} '{span.text}' of {self.customers[cid].name}"
            if len(span) == 1 and span.text.islower():
                confidence = CONFIDENCE["lowercase_word"]
                evidence += " (one lower-case word: may be an ordinary word)"
            links.append(CustomerLink(cid, confidence, rule, evidence, span.start_char, span.end_char))
        doc._.crm_links = self._with_employers(links)
        return doc

    def _with_employers(self, links: list[CustomerLink]) -> list[CustomerLink]:
        """Add the company of a person who wrote the post, and drop repeats."""
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
                key = (item.customer_id, item.rule, item.start)
                if key not in seen:
                    seen.add(key)
                    out.append(item)
        out.sort(key=lambda k: -k.confidence)
        return out


@Language.factory("customer_linker")
def make_customer_linker(nlp: Language, name: str) -> CustomerLinker:
    """Build an empty linker; fill it with ``set_customers``."""
    return CustomerLinker(nlp, name)
