"""The NLP part of the store: the link review queue, teaching, re-linking."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import timedelta

from domain import (
    LinkNegative,
    LinkReview,
    Mention,
    Page,
    TopicLabel,
)


class LinkReviewStore(ABC):
    """Links awaiting a manager, their decisions, and what those decisions teach."""

    @abstractmethod
    async def list_link_reviews(self, limit: int = 50, cursor: str | None = None) -> Page[LinkReview]:
        """Pending links, oldest first, with their mentions."""

    @abstractmethod
    async def get_link(self, link_id: int) -> LinkReview:
        """One link with its mention; raises ``NotFound``."""

    @abstractmethod
    async def link_negatives(self) -> list[LinkNegative]:
        """Every negative example (to build the NLP gazetteer)."""

    @abstractmethod
    async def author_mentions(self, source: str, author_handle: str, limit: int = 10_000) -> list[Mention]:
        """The mentions an author wrote on a source (handle compared case-insensitively), oldest first."""

    @abstractmethod
    async def count_text_authors(self, texts: Sequence[tuple[str, str]], window: timedelta) -> list[int]:
        """Record who wrote which text and count distinct authors per text, in one transaction.

        ``texts`` holds ``(fingerprint, author)`` pairs; returns, for each pair in order,
        how many distinct authors wrote that fingerprint within ``window`` (this one
        included). Older records are forgotten, so the table stays small.
        """


class TopicLabelStore(ABC):
    """Managers' topic sets for mentions: they correct the mention and train the topic model."""

    @abstractmethod
    async def set_topic_label(self, mention_id: int, topics: Sequence[str], labelled_by: str) -> TopicLabel:
        """Record a manager's topic set for a mention, in one transaction with its effect.

        A new label replaces the mention's previous one. The set (duplicates dropped, order
        kept) becomes the mention's topics; a topic it keeps keeps its evidence, a topic it
        adds gets evidence rule ``manager``. ``NotFound`` if no such mention. Checking the
        keys against the taxonomy is the caller's job.
        """

    @abstractmethod
    async def get_topic_label(self, mention_id: int) -> TopicLabel | None:
        """The manager's topic set for a mention, ``None`` when it has none."""

    @abstractmethod
    async def topic_label_examples(self, limit: int = 100_000) -> list[tuple[str, tuple[str, ...]]]:
        """``(text, topics)`` of labelled mentions, oldest label first (training data)."""
