"""Run the pipeline off the event loop: one thread, or a pool of worker processes.

A worker process builds its own pipeline once (from plain customer records) and
returns plain ``Analysis`` values, never Docs: shipping Docs back costs more than
the analysis itself. Repeated texts (spam from many accounts) are spotted here in
the parent: counted by ``repeat_counter`` when one is given (the store's count, which
holds across processes and restarts; the runtime wires it), else in this process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

from spacy.language import Language

from domain import Analysis, Customer, LinkNegative, RawPost, normalise_handle
from nlp.hygiene import RepeatTracker, text_fingerprint
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline

log = logging.getLogger(__name__)

#: What managers taught since the pipeline was built: changed customers, and the full list of
#: rejections when it changed (None: unchanged).
Lesson = tuple[tuple[Customer, ...], tuple[LinkNegative, ...] | None]
#: Lessons kept for worker processes before a full rebuild folds them in.
MAX_LESSONS = 200

# The pipeline of this worker process (or of the analyser thread when workers == 0).
_worker_nlp: Language | None = None
_worker_options: StageOptions | None = None
_worker_lessons = 0


def _init_worker(customers: list[Customer], negatives: list[LinkNegative],
                 options: StageOptions) -> None:
    global _worker_nlp, _worker_options, _worker_lessons
    _worker_nlp = build_pipeline(customers, options=options, negatives=negatives)
    _worker_options = options
    _worker_lessons = 0


def _analyse_in_worker(posts: list[RawPost], batch_size: int,
                       lessons: tuple[Lesson, ...] = ()) -> list[Analysis]:
    global _worker_lessons
    assert _worker_nlp is not None, "worker initialiser did not run"
    # Every task carries all lessons since the pool started; a worker takes the ones it lacks.
    for customers, negatives in lessons[_worker_lessons:]:
        if not teach_pipeline(_worker_nlp, customers, negatives):
            log.warning("nlp worker: a lesson needed a rebuild; the parent should have rebuilt")
    _worker_lessons = len(lessons)
    return analyse_posts(_worker_nlp, posts, batch_size, _worker_options)


def teach_pipeline(nlp: Language, customers: Sequence[Customer],
                   negatives: Sequence[LinkNegative] | None) -> bool:
    """Update ``nlp``'s gazetteer in place; False (nothing changed) when it needs a rebuild."""
    if "customer_linker" not in nlp.pipe_names:
        return True
    linker = nlp.get_pipe("customer_linker")
    if not all(c.id in linker.customers and c.only_adds_handles_or_aliases_to(linker.customers[c.id]) for c in customers):
        return False
    for customer in customers:
        linker.learn(customer)
    if negatives is not None:
        linker.set_negatives(negatives)
    return True


def _free_replaced_pipeline() -> None:
    """Collect a replaced pipeline that ``gc.freeze`` made immortal.

    ``build_pipeline`` (and the server at start-up) freeze what is loaded, so full
    collections skip the gazetteer's millions of objects.  A pipeline is a web of cycles
    (the linker holds the pipeline that holds the linker): once frozen, dropping it frees
    nothing, and every reload kept the last pipeline (~230 MB at 100k customers).  Run on
    the old pipeline's thread after its last analysis: unfreeze, collect (one walk of
    everything, ~0.2 s at 100k customers), freeze what stays.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


#: Records (fingerprint, author) pairs and returns distinct authors per pair within a window.
RepeatCounter = Callable[[Sequence[tuple[str, str]], timedelta], Awaitable[list[int]]]


def with_flag(analysis: Analysis, flag: str) -> Analysis:
    """``analysis`` with ``flag`` among its flags (once)."""
    return analysis if flag in analysis.flags else replace(analysis, flags=(*analysis.flags, flag))


class Analyzer:
    """Async front of the NLP stage: ``await analyzer.analyse(posts)``."""

    def __init__(self, workers: int = 0, batch_size: int = 256,
                 options: StageOptions | None = None,
                 repeat_counter: RepeatCounter | None = None) -> None:
        self.workers = workers
        self.batch_size = batch_size
        self.options = options or StageOptions()
        self.repeats = RepeatTracker(self.options.spam_authors)
        #: Records ``(fingerprint, "source:handle")`` pairs and returns distinct authors per
        #: pair within a window (``Store.count_text_authors``); None counts in this process.
        self.repeat_counter = repeat_counter
        self._executor: Executor | None = None
        self._nlp: Language | None = None
        #: full gazetteer builds started (``start``); ``learn`` does not add to it
        self.builds = 0
        # Worker mode: the records the pool was built from, and what was taught since.
        self._records: dict[str, Customer] = {}
        self._lessons: tuple[Lesson, ...] = ()
        # A reload and a lesson never overlap (see ``learn``).
        self._swapping = asyncio.Lock()

    @classmethod
    def from_settings(cls, nlp_settings: Any) -> "Analyzer":
        """An analyser configured by an ``NlpSettings`` section (taxonomy read from its file)."""
        from nlp.topics import load_taxonomy

        taxonomy = load_taxonomy(nlp_settings.topics_file) if nlp_settings.topics_file else ()
        return cls(nlp_settings.workers, nlp_settings.batch_size,
                   StageOptions.from_settings(nlp_settings, taxonomy))

    @property
    def started(self) -> bool:
        """True once ``start`` built the pipeline(s) (and until ``close``)."""
        return self._executor is not None

    @property
    def review_below(self) -> float:
        """Links below this confidence await a manager."""
        return self.options.review_below

    async def start(self, customers: Sequence[Customer],
                    negatives: Sequence[LinkNegative] = ()) -> None:
        """Build the pipeline(s) for ``customers``; call again to reload the gazetteer."""
        async with self._swapping:
            await self._start(list(customers), list(negatives))

    async def _start(self, records: list[Customer], negs: list[LinkNegative]) -> None:
        old = self._executor
        self.builds += 1
        if self.workers == 0:
            executor: Executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlp")
            loop = asyncio.get_running_loop()
            self._nlp = await loop.run_in_executor(
                executor, lambda: build_pipeline(records, options=self.options, negatives=negs))
        else:
            executor = ProcessPoolExecutor(
                max_workers=self.workers, initializer=_init_worker,
                initargs=(records, negs, self.options))
            self._records, self._lessons = {c.id: c for c in records}, ()
        self._executor = executor
        if old is not None:
            if self.workers == 0:
                # Queued after the old pipeline's last analysis on its own thread; awaited, so
                # that two reloads in a row never hold three pipelines.
                await asyncio.get_running_loop().run_in_executor(old, _free_replaced_pipeline)
            old.shutdown(wait=False)

    async def learn(self, customers: Sequence[Customer],
                    negatives: Sequence[LinkNegative] | None = None) -> bool:
        """Teach the running pipeline(s) customers that gained handles or aliases, and the
        full list of rejections when it changed, without rebuilding the gazetteer.

        False (nothing changed) when some change needs ``start`` (a new, renamed or shrunk
        customer), or when worker processes hold ``MAX_LESSONS`` lessons already.
        """
        # After a reload under way: taught to the old pipeline, a lesson would be lost with it.
        async with self._swapping:
            return await self._learn(customers, negatives)

    async def _learn(self, customers: Sequence[Customer], negatives: Sequence[LinkNegative] | None) -> bool:
        if self._executor is None:
            raise RuntimeError("Analyzer.start() was not called")
        lesson: Lesson = (tuple(customers), tuple(negatives) if negatives is not None else None)
        if self.workers == 0:
            loop = asyncio.get_running_loop()
            # On the analyser's own thread: never while a batch is being analysed.
            return await loop.run_in_executor(self._executor, teach_pipeline, self._nlp, *lesson)
        if len(self._lessons) >= MAX_LESSONS or not all(
                c.id in self._records and c.only_adds_handles_or_aliases_to(self._records[c.id]) for c in customers):
            return False
        for c in customers:
            self._records[c.id] = c
        if negatives is not None:  # the full list: earlier ones need not travel with every batch
            self._lessons = tuple((taught, None) for taught, _ in self._lessons)
        self._lessons = (*self._lessons, lesson)
        return True

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
                loop.run_in_executor(self._executor, _analyse_in_worker, shard, self.batch_size,
                                     self._lessons)
                for shard in shards))
            analyses = [a for part in results for a in part]
        if self.repeat_counter is not None:
            try:
                return await self._flag_counted_repeats(posts, analyses)
            except NotImplementedError as exc:  # a store without the count yet
                log.info("text repeats counted per process: %s", exc)
                self.repeat_counter = None
        return self.flag_repeats(posts, analyses)

    async def _flag_counted_repeats(self, posts: Sequence[RawPost],
                                    analyses: list[Analysis]) -> list[Analysis]:
        assert self.repeat_counter is not None
        keyed = [(i, text_fingerprint(p.text)) for i, p in enumerate(posts)]
        keyed = [(i, fp) for i, fp in keyed if fp is not None]
        if not keyed:
            return analyses
        pairs = [(fp, f"{posts[i].source}:{normalise_handle(posts[i].author.handle)}") for i, fp in keyed]
        counts = await self.repeat_counter(pairs, timedelta(hours=self.options.spam_window_hours))
        out = list(analyses)
        for (i, _), count in zip(keyed, counts):
            if count >= self.options.spam_authors:
                out[i] = with_flag(out[i], "spam_repeated")
        return out

    def flag_repeats(self, posts: Sequence[RawPost], analyses: Sequence[Analysis]) -> list[Analysis]:
        """Flag ``spam_repeated`` on texts this process saw from enough accounts."""
        return [
            with_flag(a, "spam_repeated")
            if self.repeats.add(p.text, f"{p.source}:{p.author.handle}") else a
            for p, a in zip(posts, analyses)
        ]

    async def close(self) -> None:
        """Stop the thread or worker processes."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
