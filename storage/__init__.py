"""Storage: one async ``Store`` interface, backends chosen by URL scheme.

``sqlite:///path`` is the embedded default.  Backends register a factory per
scheme; a backend's driver is imported only when its scheme is used.
"""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

from domain.errors import ConfigError
from storage.base import Store

__all__ = ["Store", "open_store", "BACKENDS"]

#: URL scheme -> "module:factory".  The factory is ``async def (url) -> Store``.
BACKENDS: dict[str, str] = {
    "sqlite": "storage.sqlite.store:open_sqlite_store",
    "mongodb": "storage.mongo.store:open_mongo_store",
    "mongodb+srv": "storage.mongo.store:open_mongo_store",
}


async def open_store(url: str) -> Store:
    """Open (and migrate) the store named by ``url``."""
    scheme = urlsplit(url).scheme
    target = BACKENDS.get(scheme)
    if target is None:
        raise ConfigError("store.url", url, f"a URL with one of the schemes {sorted(BACKENDS)}")
    module_name, _, factory = target.partition(":")
    module = importlib.import_module(module_name)
    return await getattr(module, factory)(url)
