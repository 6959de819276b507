"""Typed application keys, declared in one place."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.public_cache import PublicCache
from community.deliveries import DeliveryWorker
from config.settings import Settings
from crmsphere.coordinator import Coordinator
from crmsphere.runtime import Runtime

SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
#: The coordinator of the periodic jobs (crmsphere/jobs.py), in a process that runs any.
SCHEDULER = web.AppKey("scheduler", Coordinator)
#: Tasks started by requests (e.g. run a source now), awaited or cancelled at shutdown.
BACKGROUND = web.AppKey("background", set[asyncio.Task])
#: The outbox worker, when ``routing.worker_enabled``.
DELIVERY_WORKER = web.AppKey("delivery_worker", DeliveryWorker)
#: Answers to anonymous reads, kept while the store is unchanged (api/public_cache.py).
PUBLIC_CACHE = web.AppKey("public_cache", PublicCache)
#: The OpenAPI document, serialised on its first request (api/openapi/document.py).
OPENAPI_CACHE = web.AppKey("openapi_cache", dict[str, str])
