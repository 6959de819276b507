"""Fixtures of the HTTP tests in this folder (plain helpers are in ``tests/helpers.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.api.notify_helpers import Inbox, smtp_server
from tests.browser_helpers import launched_chromium
from tests.helpers import start_app


@pytest.fixture
def app_client(aiohttp_client: Any, tmp_path: Path) -> Callable[..., Awaitable[TestClient]]:
    """Makes a client of a fresh app on this test's temporary store:
    ``await app_client(config, overrides, customers=True, posts=[...], route=True)``
    (the arguments of ``tests.helpers.start_app``)."""
    async def make(config: str | None = None, overrides: dict[str, Any] | None = None,
                   **seed: Any) -> TestClient:
        return await start_app(aiohttp_client, tmp_path, config, overrides, **seed)

    return make


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 keeping every message: its inbox and port."""
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield inbox, port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for a browser test module (see ``tests/browser_helpers.py``)."""
    with launched_chromium() as chromium:
        yield chromium
