"""Typed application keys, declared in one place."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.public_cache import PublicCache
from collectors.scheduler import CollectorScheduler
from community.deliveries import DeliveryWorker
from config.settings import Settings
from crmsphere.runtime import Runtime

SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
SCHEDULER = web.AppKey("scheduler", CollectorScheduler)
#: Tasks started by requests (e.g. run a source now), awaited or cancelled at shutdown.
BACKGROUND = web.AppKey("background", set[asyncio.Task])
#: The outbox worker, when ``routing.worker_enabled``.
DELIVERY_WORKER = web.AppKey("delivery_worker", DeliveryWorker)
#: Answers to anonymous reads, kept while the store is unchanged (api/public_cache.py).
PUBLIC_CACHE = web.AppKey("public_cache", PublicCache)
