"""Build the pipeline and analyse batches of posts with it (synchronous; see ``runner``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import spacy
from spacy.language import Language

from crmsphere.domain import Analysis, Customer, RawPost
from nlp import linking  # noqa: F401  (registers the factory)

#: Longest text analysed; longer posts are analysed on their first part only.
MAX_CHARS = 20_000


def build_pipeline(customers: Iterable[Customer], base: str | None = None) -> Language:
    """A pipeline from a trained package when ``base`` names one installed, else ``blank("en")``."""
    nlp = spacy.load(base) if base else spacy.blank("en")
    linker = nlp.add_pipe("customer_linker")
    linker.set_customers(customers)
    return nlp


def analyse_posts(nlp: Language, posts: Sequence[RawPost], batch_size: int = 256) -> list[Analysis]:
    """One ``Analysis`` per post, in order."""
    docs = []
    for post in posts:
        doc = nlp.make_doc(post.text[:MAX_CHARS])
        doc.user_data["platform"] = post.source
        doc.user_data["author"] = post.author.handle
        docs.append(doc)
    return [
        Analysis(links=tuple(doc._.crm_links or ()))
        for doc in nlp.pipe(docs, batch_size=batch_size)
    ]
