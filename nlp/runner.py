"""Run the pipeline off the event loop: one thread, or a pool of worker processes.

A worker process builds its own pipeline once (from plain customer records) and
returns plain ``Analysis`` values, never Docs: shipping Docs back costs more than
the analysis itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from spacy.language import Language

from crmsphere.domain import Analysis, Customer, RawPost
from nlp.pipeline import analyse_posts, build_pipeline

# The pipeline of this worker process (or of the analyser thread when workers == 0).
_worker_nlp: Language | None = None


def _init_worker(customers: list[Customer]) -> None:
    global _worker_nlp
    _worker_nlp = build_pipeline(customers)


def _analyse_in_worker(posts: list[RawPost], batch_size: int) -> list[Analysis]:
    assert _worker_nlp is not None, "worker initialiser did not run"
    return analyse_posts(_worker_nlp, posts, batch_size)


class Analyzer:
    """Async front of the NLP stage: ``await analyzer.analyse(posts)``."""

    def __init__(self, workers: int = 0, batch_size: int = 256) -> None:
        self.workers = workers
        self.batch_size = batch_size
        self._executor: Executor | None = None
        self._nlp: Language | None = None

    async def start(self, customers: Sequence[Customer]) -> None:
        """Build the pipeline(s) for ``customers``; call again to reload the gazetteer."""
        old = self._executor
        records = list(customers)
        if self.workers == 0:
            executor: Executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlp")
            loop = asyncio.get_running_loop()
            self._nlp = await loop.run_in_executor(executor, build_pipeline, records)
        else:
            executor = ProcessPoolExecutor(
                max_workers=self.workers, initializer=_init_worker, initargs=(records,))
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
            return await loop.run_in_executor(
                self._executor, analyse_posts, self._nlp, list(posts), self.batch_size)
        size = max(1, -(-len(posts) // self.workers))
        shards = [list(posts[i:i + size]) for i in range(0, len(posts), size)]
        results = await asyncio.gather(*(
            loop.run_in_executor(self._executor, _analyse_in_worker, shard, self.batch_size)
            for shard in shards))
        return [a for part in results for a in part]

    async def close(self) -> None:
        """Stop the thread or worker processes."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
