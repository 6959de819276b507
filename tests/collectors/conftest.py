"""Fixtures of the collector tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session, as the composition root passes it."""
    async with aiohttp.ClientSession() as session:
        yield session
