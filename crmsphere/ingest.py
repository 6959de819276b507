"""The ingest stage: collector batches -> de-duplication -> NLP -> one store transaction each.

This is the only place that joins a collector, the analyser and the store, so
that none of them needs to know the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from collectors.base import Collector
from crmsphere.domain import (
    Analysis,
    Customer,
    ImportReport,
    Mention,
    RawPost,
    Rejection,
)
from crmsphere.people import record_authors
from crmsphere.text_edge import clean_post
from nlp.runner import Analyzer
from storage.base import Store

log = logging.getLogger(__name__)

#: Called with the mentions a batch stored (e.g. the router publishing "mention.analysed").
MentionsStored = Callable[[Sequence[Mention]], Awaitable[None]]


async def store_posts(
    store: Store, analyzer: Analyzer, source_key: str, posts: Sequence[RawPost],
    cursor: dict | None, on_stored: MentionsStored | None = None,
) -> ImportReport:
    """Analyse the posts not stored yet and save them with ``cursor`` in one transaction.

    ``on_stored`` then hears about the new mentions (after the commit, so a hook
    never sees a mention that was not stored), with their ids where the store gives them.
    """
    unique: dict[tuple[str, str], RawPost] = {}
    # Every post enters here, whatever collected it: its text is made storable once.
    for post in map(clean_post, posts):
        unique.setdefault((post.source, post.external_id), post)
    by_source: dict[str, list[str]] = {}
    for source, external_id in unique:
        by_source.setdefault(source, []).append(external_id)
    known: set[tuple[str, str]] = set()
    for source, ids in by_source.items():
        known.update((source, i) for i in await store.known_external_ids(source, ids))
    fresh = [p for key, p in unique.items() if key not in known]
    analyses = await analyzer.analyse(fresh)
    mentions = [Mention(p, a) for p, a in zip(fresh, analyses)]
    result = await store.save_mentions(source_key, mentions, cursor)
    await _keep_people(store, fresh, analyses)
    if on_stored is not None and result.inserted:
        # The mentions as stored (with ids) when the backend tells, so hooks need not read
        # them back: the live feed publishes them straight away.
        await on_stored(result.stored or mentions)
    return ImportReport(accepted=result.inserted,
                        duplicates=len(posts) - result.inserted)


async def _keep_people(store: Store, posts: Sequence[RawPost], analyses: Sequence[Analysis]) -> None:
    """Keep unmatched authors as people (idempotent, so a crash just before is made good when
    the author posts again)."""
    try:
        await record_authors(store, posts, analyses)
    except NotImplementedError as exc:  # a backend without the people area yet
        log.debug("people not kept: %s", exc)


async def run_collector(collector: Collector, store: Store, analyzer: Analyzer,
                        on_stored: MentionsStored | None = None) -> ImportReport:
    """Drain ``collector`` from its stored cursor into the store; returns the totals."""
    report = ImportReport()
    cursor = await store.get_cursor(collector.key)
    async for batch in collector.fetch(cursor):
        part = await store_posts(store, analyzer, collector.key, batch.posts, batch.cursor,
                                 on_stored)
        part.rejected.extend(batch.rejected)
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
