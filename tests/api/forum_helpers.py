"""Helpers of the forum API and page tests: an app with customers, accounts and tokens."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from community.access import Viewer
from community.accounts import Accounts
from tests.helpers import start_app


async def forum_client(aiohttp_client, tmp_path: Path, **overrides) -> TestClient:
    """A client of a fresh app whose store holds the Acme customers (dotted ``overrides``)."""
    return await start_app(aiohttp_client, tmp_path, None, overrides, customers=True)


async def token_for(client: TestClient, email: str, role: str = "customer",
                    customer_id: str | None = None, token_role: str | None = None) -> dict[str, str]:
    """An account made straight in the store, and Authorization headers of a token for it."""
    store = client.app[RUNTIME].store
    account = await store.create_account(email, email.split("@")[0], None, role)
    if customer_id:
        account = await store.update_account(account.id, customer_id=customer_id, email_verified=True)
    svc = Accounts(store, client.app[RUNTIME].settings.forum)
    plain, _ = await svc.create_token(Viewer(account=account, role=account.role, via="session"), "test",
                                      token_role)
    return {"Authorization": f"Bearer {plain}"}
