"""Fixtures of the CRM tests: a fake HubSpot on 127.0.0.1 and a connector pointed at it."""

from __future__ import annotations

from typing import Any

import pytest

from config.settings import load_settings
from crm.hubspot import HubSpotConnector
from tests.crm.fake_hubspot import FakeHubSpot


@pytest.fixture
async def hub(aiohttp_server: Any) -> FakeHubSpot:
    """A running fake HubSpot; its URL is ``hub.url``."""
    fake = FakeHubSpot()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


def hubspot_options(url: str, **extra: Any) -> dict[str, Any]:
    """The default ``[crm.hubspot]`` table pointed at ``url``."""
    options = load_settings(environ={}).crm.hubspot.options()
    options.update(base_url=url, **extra)
    return options


def connector(hub: FakeHubSpot, token: str = "token-1", **extra: Any) -> HubSpotConnector:
    """A HubSpot connector on the fake, with a private-app token (or OAuth credentials in extra)."""
    creds = {"access_token": token, **extra.pop("credentials", {})}
    return HubSpotConnector(hubspot_options(hub.url, **extra), creds)  # type: ignore[attr-defined]
