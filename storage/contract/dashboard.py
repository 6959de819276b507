"""The dashboard part of the ``Store`` interface: the live feed's catch-up and the analytics."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from collections.abc import Mapping, Sequence
from typing import Any

from domain.routing import RoutedItem
from domain import Mention, MentionQuery
from domain.dashboard import (
    DayAverage,
    FirstResponse,
    KeyCount,
    SavedView,
    SpikeAlert,
    SubjectVolume,
)
from domain.forum import Idea, IdeaShown, Vote
from domain.triage import AuthorVolume, VolumeRow
from domain.signals import facets as signal_facets

#: The most (kind, id) keys ``routed_for_items`` looks up at once.
MAX_ROUTED_KEYS = 1000

#: The most posts a thread view shows (a long thread is cut, oldest kept).
THREAD_LIMIT = 200


#: Platforms whose post, thread and parent ids are only unique on the server that gave them
#: (domain/mention_identity.py): a thread is read among the mentions the same source stored,
#: or a second instance's post 101 would join the thread of this instance's post 101.
SERVER_LOCAL_THREADS: tuple[str, ...] = ("mastodon", "discourse")


def thread_is_per_source(mention: Mention) -> bool:
    """Whether ``mention``'s thread is read among the mentions of its own ``source_key``."""
    return mention.post.source in SERVER_LOCAL_THREADS


def thread_keys(mention: Mention) -> tuple[str, list[str]]:
    """The external id a mention's thread is keyed by (its first post, else the post replied
    to, else the mention itself) and the external ids a thread member may have or reply to."""
    p = mention.post
    root = p.thread_id or p.parent_id or p.external_id
    return root, sorted({root, p.external_id, *([p.parent_id] if p.parent_id else [])})

def facet_names() -> tuple[str, ...]:
    """The facets the stream counts next to its filter controls: source, topic, every signal
    the registry counts (``domain.signals``), triage status."""
    return ("source", "topic", *(s.name for s in signal_facets()), "status")


def wanted_facets(facets: Sequence[str] | None, known: Mapping[str, object]) -> Sequence[str]:
    """The facets ``facet_counts`` counts (``None``: ``facet_names()``); ``ValueError`` naming
    the first one the backend has no grouping for in ``known``."""
    facets = facet_names() if facets is None else facets
    unknown = [f for f in facets if f not in known]
    if unknown:
        raise ValueError(f"unknown facet {unknown[0]!r}")
    return facets


def brand_phrases(terms: Sequence[str]) -> list[list[str]]:
    """The words of each of a brand's ``terms`` (punctuation is a word break, as in a search
    index), leaving out terms without a word: ``count_naming`` matches each as a phrase."""
    phrases = ["".join(c if c.isalnum() else " " for c in term).split() for term in terms]
    return [words for words in phrases if words]


class DashboardStore(ABC):
    """Reads the community manager's dashboard needs, each one query."""

    @abstractmethod
    async def move_forward(self, days: int) -> None:
        """Date every stored mention, spike alert and forum record (ideas, votes, comments,
        status changes) ``days`` whole days later, summaries included: a demo brought up to
        now (``crmsphere demo load --refresh``).  Whole days keep weekdays and hours."""

    @abstractmethod
    async def latest_mention_id(self) -> int:
        """The highest mention id stored (0 when there is none)."""

    @abstractmethod
    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        """Mentions stored after id ``after_id`` (in storage order), at most ``limit``."""

    @abstractmethod
    async def mention_thread(self, mention: Mention, limit: int = 200) -> list[Mention]:
        """The stored posts of ``mention``'s conversation on its source, oldest first: its
        thread's first post (``thread_id``), the post it replies to (``parent_id``), the posts
        of the same thread and the replies to it (``mention`` itself included), at most ``limit``."""

    @abstractmethod
    async def volume_by_day(self, since: datetime, until: datetime,
                            customer_id: str | None = None) -> list[VolumeRow]:
        """Mentions per UTC day (``YYYY-MM-DD``) and source created in [since, until)."""

    @abstractmethod
    async def top_authors(self, since: datetime, until: datetime, limit: int = 10) -> list[AuthorVolume]:
        """Authors with the most mentions in [since, until), most first."""

    @abstractmethod
    async def topic_volume_by_day(self, since: datetime, until: datetime) -> list[VolumeRow]:
        """Mentions per UTC day and topic created in [since, until) (a mention counts per topic)."""

    @abstractmethod
    async def topic_counts(self, since: datetime, until: datetime) -> list[KeyCount]:
        """Mentions per topic created in [since, until), most first."""

    @abstractmethod
    async def sentiment_by_day(self, since: datetime, until: datetime) -> list[DayAverage]:
        """Mean sentiment and mention count per UTC day of mentions created in [since, until)."""

    @abstractmethod
    async def count_naming(self, since: datetime, until: datetime,
                           brands: Mapping[str, Sequence[str]]) -> list[KeyCount]:
        """Per brand, the mentions created in [since, until) whose text holds one of its
        phrases (whole words, case-insensitive), in the order given."""

    @abstractmethod
    async def first_responses(self, since: datetime, until: datetime) -> list[FirstResponse]:
        """For mentions created in [since, until) that staff acted on (a triage change or a
        note), the delay between posting and that first action, by day of posting."""

    @abstractmethod
    async def facet_counts(self, query: MentionQuery, status: str | None, assignee: str | None,
                           tag: str | None, facets: Sequence[str] | None = None
                           ) -> dict[str, list[KeyCount]]:
        """Counts per value of each facet (default: ``facet_names()``) over the mentions the
        filters select (the query's cursor and limit are ignored), most first."""

    # -- the customer 360's forum and routing sections -----------------------
    @abstractmethod
    async def customer_ideas(self, customer_id: str, limit: int = 50, *,
                             shown: IdeaShown) -> tuple[list[Idea], int]:
        """The ideas among ``shown`` written by the customer's forum accounts, newest first (at
        most ``limit``), and how many there are."""

    @abstractmethod
    async def customer_votes(self, customer_id: str, limit: int = 50, *,
                             shown: IdeaShown) -> tuple[list[Vote], int]:
        """The customer's votes on ideas among ``shown``, newest first (at most ``limit``), and
        how many there are."""

    @abstractmethod
    async def routed_for_items(self, keys: Sequence[tuple[str, str]], limit: int = 50) -> list[RoutedItem]:
        """Every routing of the (kind, item id) ``keys`` (at most 1,000 keys), newest first."""

    # -- spike alerts ------------------------------------------------------
    @abstractmethod
    async def subject_volumes(self, kind: str, until: datetime, buckets: int, *,
                              pending_links: bool) -> list[SubjectVolume]:
        """Mentions per subject (``topic`` or ``customer``) in each of ``buckets`` 24-hour
        buckets before ``until`` (bucket 0 ends at ``until``); empty buckets are left out.  A
        customer's mentions count its links awaiting review only when ``pending_links``."""

    @abstractmethod
    async def record_spike_alerts(self, alerts: Sequence[SpikeAlert]) -> list[SpikeAlert]:
        """Store the alerts in one transaction; returns only the new ones (with ids): an alert
        for a (kind, subject, window_start) already stored is not stored again."""

    @abstractmethod
    async def list_spike_alerts(self, since: datetime | None = None,
                                limit: int = 50) -> list[SpikeAlert]:
        """Alerts detected at or after ``since``, newest first."""

    # -- saved views -------------------------------------------------------
    @abstractmethod
    async def save_view(self, owner: str, name: str, filters: Mapping[str, Any],
                        now: datetime) -> SavedView:
        """Keep (or replace, by owner and name) a named filter set, saved at ``now`` (the
        caller's clock: it becomes the view's ``updated_at``)."""

    @abstractmethod
    async def list_views(self, owner: str) -> list[SavedView]:
        """An owner's saved views by name."""

    @abstractmethod
    async def delete_view(self, owner: str, view_id: int) -> None:
        """Delete one of the owner's views; ``NotFound`` when the owner has no such view."""
