"""Typed application keys, declared in one place."""

from aiohttp import web

from config.settings import Settings
from crmsphere.runtime import Runtime

SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
