"""Run the pipeline off the event loop: one thread, or a pool of worker processes.

A worker process builds its own pipeline once (from plain customer records) and
returns plain ``Analysis`` values, never Docs: shipping Docs back costs more than
the analysis itself. Repeated texts (spam from many accounts) are spotted here in
the parent, because only the parent sees every batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from spacy.language import Language

from crmsphere.domain import Analysis, Customer, LinkNegative, RawPost
from nlp.hygiene import RepeatTracker
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline

# The pipeline of this worker process (or of the analyser thread when workers == 0).
_worker_nlp: Language | None = None
_worker_options: StageOptions | None = None


def _init_worker(customers: list[Customer], negatives: list[LinkNegative],
                 options: StageOptions) -> None:
    global _worker_nlp, _worker_options
    _worker_nlp = build_pipeline(customers, options=options, negatives=negatives)
    _worker_options = options


def _analyse_in_worker(posts: list[RawPost], batch_size: int) -> list[Analysis]:
    assert _worker_nlp is not None, "worker initialiser did not run"
    return analyse_posts(_worker_nlp, posts, batch_size, _worker_options)


class Analyzer:
    """Async front of the NLP stage: ``await analyzer.analyse(posts)``."""

    def __init__(self, workers: int = 0, batch_size: int = 256,
                 options: StageOptions | None = None) -> None:
        self.workers = workers
        self.batch_size = batch_size
        self.options = options or StageOptions()
        self.repeats = RepeatTracker(self.options.spam_authors)
        self._executor: Executor | None = None
        self._nlp: Language | None = None

    @classmethod
    def from_settings(cls, nlp_settings: Any) -> "Analyzer":
        """An analyser configured by an ``NlpSettings`` section (taxonomy read from its file)."""
        from nlp.topics import load_taxonomy

        taxonomy = load_taxonomy(nlp_settings.topics_file) if nlp_settings.topics_file else ()
        return cls(nlp_settings.workers, nlp_settings.batch_size,
                   StageOptions.from_settings(nlp_settings, taxonomy))

    @property
    def review_below(self) -> float:
        """Links below this confidence await a manager."""
        return self.options.review_below

    async def start(self, customers: Sequence[Customer],
                    negatives: Sequence[LinkNegative] = ()) -> None:
        """Build the pipeline(s) for ``customers``; call again to reload the gazetteer."""
        old = self._executor
        records, negs = list(customers), list(negatives)
        if self.workers == 0:
            executor: Executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlp")
            loop = asyncio.get_running_loop()
            self._nlp = await loop.run_in_executor(
                executor, lambda: build_pipeline(records, options=self.options, negatives=negs))
        else:
            executor = ProcessPoolExecutor(
                max_workers=self.workers, initializer=_init_worker,
                initargs=(records, negs, self.options))
        self._executor = executor
        if old is not None:
            old.shutdown(wait=False)

    async def analyse(self, posts: Sequence[RawPost]) -> list[Analysis]:
        """Analyses of ``posts``, in order; work is split over the worker processes."""
        if self._executor is None:
            raise RuntimeError("Analyzer.start() was not called")
        if not posts:
            return []
        loop = asyncio.get_running_loop()
        if self.workers == 0:
            analyses = await loop.run_in_executor(
                self._executor, analyse_posts, self._nlp, list(posts), self.batch_size, self.options)
        else:
            size = max(1, -(-len(posts) // self.workers))
            shards = [list(posts[i:i + size]) for i in range(0, len(posts), size)]
            results = await asyncio.gather(*(
                loop.run_in_executor(self._executor, _analyse_in_worker, shard, self.batch_size)
                for shard in shards))
            analyses = [a for part in results for a in part]
        return [
            replace(a, flags=(*a.flags, "spam_repeated"))
            if self.repeats.add(p.text, f"{p.source}:{p.author.handle}") else a
            for p, a in zip(posts, analyses)
        ]

    async def close(self) -> None:
        """Stop the thread or worker processes."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
