"""Build the pipeline from options and analyse batches of posts with it (synchronous; see ``runner``).

The components, in order (each a ``@Language.factory``):
``language_detector`` → ``customer_linker`` → ``topic_tagger`` → ``sentiment_scorer`` →
``intent_classifier``, then the component of every other registered signal
(``nlp.signals``). Hygiene (entities, invisible characters, size) happens on the
text before the Doc is made, because a Doc's text cannot change.
"""

from __future__ import annotations

import gc
from collections import deque
from contextlib import contextmanager
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

import importlib

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from domain import Analysis, Customer, CustomerLink, LinkNegative, RawPost
from nlp import linking, topics  # noqa: F401  (register factories)
from nlp.hygiene import normalise_text
from nlp.lexattrs import use_fast_lexeme_attrs
from nlp.phrases import lower_same_length
from nlp.signals import signals, stored_apart
from nlp.textcat import add_topic_model, has_model
from nlp.tokenizer import CACHE_SIZE, blank
from nlp.topics import Topic

DEFAULT_COMPONENTS = ("language_detector", "customer_linker", "topic_tagger",
                      "sentiment_scorer", "intent_classifier")
#: Longest text analysed by default; longer posts are cut and flagged ``truncated``.
MAX_CHARS = 5_000


@dataclass(frozen=True, slots=True)
class StageOptions:
    """How the NLP stage behaves (built from the ``[nlp]`` settings); plain data for workers."""

    review_below: float = 0.6
    positive_above: float = 0.05
    negative_below: float = -0.05
    max_chars: int = MAX_CHARS
    languages: tuple[str, ...] = ("en",)
    components: tuple[str, ...] = DEFAULT_COMPONENTS
    base: str | None = None
    spam_authors: int = 3
    spam_window_hours: float = 2.0
    model_dir: str | None = None
    model_threshold: float = 0.5
    topics: tuple[Topic, ...] = field(default=())
    #: posts a pipeline analyses normally before the rest go through spaCy memory zones
    #: (``analyse_posts``); 0: zones from the first post, negative: never
    warm_posts: int = 20_000

    @classmethod
    def from_settings(cls, nlp_settings: Any, taxonomy: tuple[Topic, ...] = ()) -> "StageOptions":
        """Options from an ``NlpSettings`` section and a loaded taxonomy."""
        return cls(
            review_below=nlp_settings.review_below,
            positive_above=nlp_settings.positive_above,
            negative_below=nlp_settings.negative_below,
            max_chars=nlp_settings.max_chars,
            languages=tuple(nlp_settings.languages),
            components=tuple(nlp_settings.components),
            base=nlp_settings.base_pipeline or None,
            spam_authors=nlp_settings.spam_authors,
            spam_window_hours=nlp_settings.spam_window_hours,
            model_dir=nlp_settings.model_dir or None,
            model_threshold=nlp_settings.model_threshold,
            topics=taxonomy,
            warm_posts=nlp_settings.warm_posts,
        )


def build_pipeline(customers: Iterable[Customer], base: str | None = None, *,
                   options: StageOptions | None = None,
                   negatives: Iterable[LinkNegative] = ()) -> Language:
    """A pipeline from a trained package when one is named and installed, else ``blank("en")``.

    The blank pipeline gets the social tokenizer (``nlp.tokenizer``: same tokens, links and
    handles taken whole); a trained package keeps its own tokenizer, with a larger cache.
    """
    with collection_paused():
        return _build(customers, base, options or StageOptions(), negatives)


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (it resumes as it was after).

    Building a gazetteer makes millions of objects that all outlive the build; each full
    collection on the way walks every one made so far (measured: 2 of 5 s CPU at 100k
    customers), and finds nothing to free.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(customers: Iterable[Customer], base: str | None, options: StageOptions,
           negatives: Iterable[LinkNegative]) -> Language:
    base = base or options.base
    if base:
        nlp = spacy.load(base)
        nlp.tokenizer.max_cache_size = CACHE_SIZE
    else:
        nlp = blank("en")
    # Every link and many handles are new strings: their lexical attributes are computed
    # by faster twins of spaCy's functions (same values).
    use_fast_lexeme_attrs(nlp.vocab)
    by_factory = {s.factory: s for s in signals()}
    for s in by_factory.values():
        importlib.import_module(s.module)  # declares the component's factory
    for name in options.components:
        config = (by_factory[name].config(options) if name in by_factory
                  else {"languages": list(options.languages)} if name == "customer_linker" else {})
        nlp.add_pipe(name, config=config)
    # A signal declared since the options were written runs after the others (the built-in
    # ones run only when ``nlp.components`` lists them).
    for s in signals():
        if s.stored_field is None and s.factory not in nlp.pipe_names:
            nlp.add_pipe(s.factory, config=s.config(options))
    if "customer_linker" in nlp.pipe_names:
        nlp.get_pipe("customer_linker").set_customers(customers, negatives)
    model = "topic_tagger" in nlp.pipe_names and has_model(options.model_dir)
    if model:
        add_topic_model(nlp, options.model_dir)
    if "topic_tagger" in nlp.pipe_names:
        nlp.get_pipe("topic_tagger").set_taxonomy(options.topics, options.model_threshold if model else None)
    # The gazetteer is millions of long-lived objects; left in the collector's generations,
    # every full collection walks them all (measured: a third of the stage's time).
    # Frozen, a pipeline is never collected: whoever replaces one must free it (see
    # ``nlp.runner._free_replaced_pipeline``).
    gc.freeze()
    return nlp


#: posts each pipeline has analysed outside memory zones (see ``analyse_posts``)
_warmed: WeakKeyDictionary[Language, int] = WeakKeyDictionary()


def analyse_posts(nlp: Language, posts: Sequence[RawPost], batch_size: int = 256,
                  options: StageOptions | None = None) -> list[Analysis]:
    """One ``Analysis`` per post, in order.

    Every new string a post brings (a link, a handle, a typo) would otherwise stay in the
    pipeline's vocabulary for good: a service reading a firehose would grow by ~1.3 entries
    a post until it runs out of memory.  So once a pipeline has analysed
    ``options.warm_posts`` posts normally — which fills the vocabulary and the tokenizer's
    cache with the words that come back — each later call runs in a spaCy memory zone,
    which forgets what the call added.  Only plain ``Analysis`` values leave the call.
    """
    options = options or StageOptions()
    warmed = _warmed.get(nlp, 0)
    if 0 <= options.warm_posts <= warmed:
        with nlp.memory_zone():
            return _analyse(nlp, posts, batch_size, options)
    _warmed[nlp] = warmed + len(posts)
    return _analyse(nlp, posts, batch_size, options)


def _analyse(nlp: Language, posts: Sequence[RawPost], batch_size: int,
             options: StageOptions) -> list[Analysis]:
    flags: deque[tuple[str, ...]] = deque()

    def docs() -> Iterator[Doc]:
        # Made as the pipe asks for them: only about a batch of Docs is alive at a time
        # (all 50,000 of a large call at once peaked near 1 GB).
        for post in posts:
            text, found = normalise_text(post.text, options.max_chars)
            doc = nlp.make_doc(text)
            # Doc.text is rebuilt from the tokens on every access; the components share these.
            doc.user_data["text"] = text
            doc.user_data["low"] = lower_same_length(text)
            doc.user_data["platform"] = post.source
            doc.user_data["author"] = post.author.handle
            doc.user_data["author_name"] = post.author.name
            flags.append(found)
            yield doc

    # Each signal's reader, made once: sentiment, intent and language have fields of their own.
    own = [(s.stored_field, s.reader(options)) for s in signals() if s.stored_field is not None]
    apart = [(s.name, s.reader(options)) for s in stored_apart()]
    out = []
    for doc in nlp.pipe(docs(), batch_size=batch_size):
        found = flags.popleft()
        data = doc.user_data
        full = data.get("full", True)
        links = data.get("crm_links")
        out.append(Analysis(
            links=_with_status(links, options.review_below) if links else (),
            topics=data.get("topics", ()),
            topic_evidence=data.get("topic_evidence", ()),
            sentiment=round(float(data.get("sentiment", 0.0)), 4),
            flags=found if full else (*found, "language_not_analysed"),
            signals=tuple((name, read(data)) for name, read in apart) if apart else (),
            **{name: read(data) for name, read in own},
        ))
    return out


def _with_status(links: Iterable[CustomerLink], review_below: float) -> tuple[CustomerLink, ...]:
    """Mark links below the review threshold as awaiting a manager."""
    # Built directly: dataclasses.replace costs ~10 µs a call.
    return tuple(CustomerLink(k.customer_id, k.confidence, k.rule, k.evidence, k.start, k.end, "pending")
                 if k.confidence < review_below else k for k in links)
