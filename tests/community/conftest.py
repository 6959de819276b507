"""Fixtures of the community tests: a store in a SQLite file of the test, one with the Acme
customers for the forum, and forum settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.forum import ForumSettings
from storage import Store, open_store
from tests.conftest import acme_customers
from tests.serve_helpers import stop_serve
from tests.serving import Served, serve


@pytest.fixture
async def file_store(tmp_path: Path) -> AsyncIterator[Store]:
    """An empty store in a SQLite file of this test (closed afterwards)."""
    store = await open_store(f"sqlite:///{tmp_path / 'community.db'}")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def forum_store(file_store: Store) -> Store:
    """A store with the Acme customers."""
    await file_store.upsert_customers(acme_customers())
    return file_store


@pytest.fixture
def forum_settings() -> ForumSettings:
    """Forum defaults."""
    return ForumSettings()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """A running ``crmsphere serve`` on a fresh SQLite store (tests/serving.py), stopped after
    the test."""
    running = await serve(tmp_path)
    try:
        yield running
    finally:
        stop_serve(running.proc)
