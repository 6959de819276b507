"""Helpers of the forum domain tests: a cheap password hasher and viewers (the ``forum_store`` and
``forum_settings`` fixtures are in this folder's conftest)."""

from __future__ import annotations

from argon2 import PasswordHasher

from community.access import Viewer
from community.accounts import Accounts
from config.forum import ForumSettings
from domain.forum import Account
from storage import Store

#: argon2 with small costs: the tests check the flow, not the strength
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


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


__all__ = ["CHEAP_HASHER", "Account", "accounts", "make_viewer"]
