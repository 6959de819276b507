"""Fixtures of the runtime's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nlp.runner import Analyzer


@pytest.fixture
async def analyzer() -> AsyncIterator[Analyzer]:
    """An analyzer in this process (no worker processes) that knows no customer."""
    running = Analyzer(workers=0)
    await running.start([])
    try:
        yield running
    finally:
        await running.close()
