"""Fixtures and helpers of the forum domain tests (imported by each module): a store with customers, a cheap password hasher, viewers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from community.access import Viewer
from community.accounts import Accounts
from config.forum import ForumSettings
from crmsphere.domain_forum import Account
from storage import Store, open_store
from tests.conftest import acme_customers

#: argon2 with small costs: the tests check the flow, not the strength
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
async def forum_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store with the Acme customers."""
    store = await open_store(f"sqlite:///{tmp_path / 'forum.db'}")
    await store.upsert_customers(acme_customers())
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def forum_settings() -> ForumSettings:
    """Forum defaults."""
    return ForumSettings()


async def make_viewer(store: Store, email: str, role: str = "customer",
                      customer_id: str | None = None) -> Viewer:
    """An account (linked to ``customer_id``) seen as a signed-in viewer."""
    account = await store.create_account(email, email.split("@")[0], None, role)
    if customer_id:
        account = await store.update_account(account.id, customer_id=customer_id, email_verified=True)
    return Viewer(account=account, role=account.role, via="session", csrf="x")


def accounts(store: Store, settings: ForumSettings) -> Accounts:
    """The account service with the cheap hasher."""
    return Accounts(store, settings, CHEAP_HASHER)


__all__ = ["Account", "make_viewer", "accounts", "CHEAP_HASHER"]
