"""The ingest stage: collector batches -> de-duplication -> NLP -> one store transaction each.

This is the only place that joins a collector, the analyser and the store, so
that none of them needs to know the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from collectors.base import Collector
from collectors.post_format import MAX_FIELD
from domain import (
    Analysis,
    Customer,
    ImportReport,
    Mention,
    RawPost,
    Rejection,
)
from crmsphere.people import record_authors
from domain.mention_identity import mention_identity
from domain.text_edge import clean_post
from nlp.runner import Analyzer
from storage.base import Store

log = logging.getLogger(__name__)

#: Called with the mentions a batch stored (e.g. the router publishing "mention.analysed").
MentionsStored = Callable[[Sequence[Mention]], Awaitable[None]]
#: The cursor as if the posts with these external ids had not been handed on (``Batch.cursor_without``).
CursorWithout = Callable[[Collection[str]], dict[str, Any] | None]


#: The largest engagement count stored (either sign: a Reddit score can be negative).
MAX_COUNT = 10**12


def refusal(post: RawPost) -> str | None:
    """Why ``post`` cannot be stored as a mention, or ``None`` when it can.

    Every collector's posts pass here, so a bound the store relies on holds whatever
    the source sent; the limit on ids is the post format's.
    """
    if not post.external_id.strip():
        return "the post has no id"
    if len(post.external_id) > MAX_FIELD:
        return f"its id is longer than {MAX_FIELD} characters"
    for name, count in post.engagement.items():
        # MongoDB holds no integer past 64 bits, and the dashboard sums counts over thousands
        # of posts: a bound far above any real count (the most seen post has some 10^10 views)
        # keeps every sum inside 64 bits.
        if not -MAX_COUNT <= count <= MAX_COUNT:
            return (f"engagement count {name[:32]!r} is not a count any platform has "
                    f"({count}; at most 10^12 either way)")
    return None


async def store_posts(
    store: Store, analyzer: Analyzer, source_key: str, posts: Sequence[RawPost],
    cursor: dict | None, on_stored: MentionsStored | None = None, *,
    cursor_without: CursorWithout | None = None, backfill: bool = False,
) -> ImportReport:
    """Analyse the posts not stored yet and save them with ``cursor`` in one transaction.

    ``source_key`` is kept with every new mention as what stored it: a configured source's
    ``name`` for its run (replies to the mention go out through that source), ``push:<name>``
    for a signed push and ``jsonl:<path>`` for a bulk import (``demo:posts`` for the demo's);
    those were read by someone else, so a reply goes through the only configured source of
    the post's platform (see community/reply_writers.py).

    A post ``refusal`` names is left out and reported; ``cursor_without`` then gives the
    cursor to save instead, one that does not count the refused posts as handed on.
    ``on_stored`` then hears about the new mentions (after the commit, so a hook
    never sees a mention that was not stored), with their ids where the store gives them.
    ``backfill`` marks the mentions, in the same write, as history that is never routed
    or written to a CRM (the hooks and every other process see the mark).
    """
    refused: list[Rejection] = []
    refused_ids: set[str] = set()
    unique: dict[tuple[str, str], RawPost] = {}  # by (platform, mention identity)
    # Every post enters here, whatever collected it: its text is made storable once.
    for post in map(clean_post, posts):
        reason = refusal(post)
        if reason is not None:
            refused.append(Rejection(f"{post.source}:{post.external_id[:80]}", reason))
            refused_ids.add(post.external_id)
            continue
        unique.setdefault((post.source, mention_identity(post)), post)
    if refused_ids and cursor_without is not None:
        cursor = cursor_without(refused_ids)
    by_source: dict[str, list[str]] = {}
    for source, identity in unique:
        by_source.setdefault(source, []).append(identity)
    known: set[tuple[str, str]] = set()
    for source, identities in by_source.items():
        known.update((source, i) for i in await store.known_identities(source, identities))
    fresh = [p for key, p in unique.items() if key not in known]
    analyses = await analyzer.analyse(fresh)
    mentions = [Mention(p, a, backfill=backfill) for p, a in zip(fresh, analyses)]
    result = await store.save_mentions(source_key, mentions, cursor)
    await _keep_people(store, fresh, analyses)
    if on_stored is not None and result.inserted:
        # The mentions as stored (with ids) when the backend tells, so hooks need not read
        # them back: the live feed publishes them straight away.
        await on_stored(result.stored or mentions)
    return ImportReport(accepted=result.inserted,
                        duplicates=len(posts) - len(refused) - result.inserted, rejected=refused)


async def _keep_people(store: Store, posts: Sequence[RawPost], analyses: Sequence[Analysis]) -> None:
    """Keep unmatched authors as people (idempotent, so a crash just before is made good when
    the author posts again)."""
    try:
        await record_authors(store, posts, analyses)
    except NotImplementedError as exc:  # a backend without the people area yet
        log.debug("people not kept: %s", exc)


async def run_collector(collector: Collector, store: Store, analyzer: Analyzer,
                        on_stored: MentionsStored | None = None, *,
                        backfill: bool = False) -> ImportReport:
    """Drain ``collector`` from its stored cursor into the store; returns the totals.

    ``backfill``: the posts are history (a bulk import), stored marked as such."""
    report = ImportReport()
    cursor = await store.get_cursor(collector.key)
    async for batch in collector.fetch(cursor):
        part = await store_posts(store, analyzer, collector.key, batch.posts, batch.cursor,
                                 on_stored, cursor_without=batch.cursor_without, backfill=backfill)
        for rejection in part.rejected:
            log.warning("refused %s: %s", rejection.where, rejection.reason)
        part.rejected.extend(batch.rejected)
        part.failed.extend(batch.failed)
        for rejection in batch.rejected:
            log.warning("rejected %s: %s", rejection.where, rejection.reason)
        report.add(part)
    return report


async def import_customers(
    store: Store, customers: Sequence[Customer], rejected: Sequence[Rejection] = ()
) -> ImportReport:
    """Upsert customers in one transaction; rows already present count as updates."""
    result = await store.upsert_customers(customers)
    return ImportReport(accepted=result.inserted, duplicates=result.duplicates,
                        rejected=list(rejected))
