"""Fixtures of the CRM tests: fake HubSpot and Salesforce servers on 127.0.0.1 and connectors to them."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme

from config.settings import load_settings
from crm.hubspot import HubSpotConnector
from crm.salesforce import SalesforceConnector
from tests.crm.fake_hubspot import FakeHubSpot
from tests.crm.fake_salesforce import FakeSalesforce


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


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    """A throwaway CA: the server's context and the CA bundle the client trusts."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    bundle = tmp_path_factory.mktemp("salesforce-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return server_context, str(bundle)


@pytest.fixture
async def fake(aiohttp_server: Any, tls: tuple[ssl.SSLContext, str]) -> FakeSalesforce:
    """A fake org listening with TLS."""
    fake = FakeSalesforce()
    server = await aiohttp_server(fake.app(), ssl=tls[0])
    fake.url = f"https://127.0.0.1:{server.port}"
    fake.ca_bundle = tls[1]  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def make(fake: FakeSalesforce) -> AsyncIterator[Any]:
    """Build connectors to the fake (OAuth refresh token by default); closed at the end."""
    made: list[SalesforceConnector] = []

    def build(credentials: dict[str, str] | None = None, **options: Any) -> SalesforceConnector:
        opts = {"login_url": fake.url, "ca_bundle": fake.ca_bundle, "page_size": 2,  # type: ignore[attr-defined]
                "account_fields": ["Segment__c", "Twitter_Handle__c"], **options}
        creds = credentials if credentials is not None else {
            "refresh_token": fake.refresh_token, "client_id": fake.client_id,
            "client_secret": fake.client_secret}
        made.append(SalesforceConnector(opts, creds))
        return made[-1]

    yield build
    for connector in made:
        await connector.close()
