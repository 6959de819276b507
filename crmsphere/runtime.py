"""The composition root: settings -> store -> analyser, opened and closed together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from config.settings import Settings
from nlp.runner import Analyzer
from storage import Store, open_store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    """The long-lived parts every command and the web app work with."""

    settings: Settings
    store: Store
    analyzer: Analyzer

    async def reload_customers(self) -> None:
        """Rebuild the NLP gazetteer from the store (after customers changed)."""
        await self.analyzer.start(await self.store.all_customers())


@asynccontextmanager
async def open_runtime(settings: Settings, *, with_nlp: bool = True) -> AsyncIterator[Runtime]:
    """Open the store and (unless ``with_nlp`` is false) start the analyser."""
    store = await open_store(settings.store.url)
    analyzer = Analyzer(settings.nlp.workers, settings.nlp.batch_size)
    try:
        if with_nlp:
            customers = await store.all_customers()
            await analyzer.start(customers)
            log.info("nlp: pipeline ready with %d customers, %d worker process(es)",
                     len(customers), settings.nlp.workers)
        yield Runtime(settings, store, analyzer)
    finally:
        await analyzer.close()
        await store.close()
