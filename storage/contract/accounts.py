"""The account part of the ``Store`` interface: accounts, one-time secrets, sessions, API tokens.

Secrets, session tokens and API tokens are stored only as hashes; the caller hashes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from domain.forum import Account, ApiToken, Session


class AccountStore(ABC):
    """Persistence of forum accounts and their credentials."""

    @abstractmethod
    async def create_account(self, email: str, name: str, password_hash: str | None,
                             role: str = "customer") -> Account:
        """A new account; ``Conflict`` when the e-mail (case-insensitive) is taken."""

    @abstractmethod
    async def get_account(self, account_id: int) -> Account:
        """One account; raises ``NotFound``."""

    @abstractmethod
    async def get_accounts(self, account_ids: list[int]) -> dict[int, Account]:
        """The accounts among ``account_ids`` that exist, by id."""

    @abstractmethod
    async def get_login(self, email: str) -> tuple[Account, str | None] | None:
        """The account with ``email`` and its password hash, or ``None``."""

    @abstractmethod
    async def list_accounts(self, limit: int = 50, offset: int = 0) -> list[Account]:
        """Accounts by id."""

    @abstractmethod
    async def update_account(self, account_id: int, *, name: str | None = None,
                             role: str | None = None, customer_id: str | None = None,
                             email_verified: bool | None = None, blocked: bool | None = None,
                             password_hash: str | None = None) -> Account:
        """Change the given fields (``None`` keeps a field); raises ``NotFound``."""

    @abstractmethod
    async def customers_for_email(self, email: str) -> tuple[list[str], list[str]]:
        """Customer ids holding ``email`` exactly, and customer ids holding its mail domain."""

    # -- one-time secrets ----------------------------------------------------
    @abstractmethod
    async def save_secret(self, secret_hash: str, account_id: int, purpose: str,
                          expires_at: datetime) -> None:
        """Keep a one-time secret (verification, sign-in link, password reset)."""

    @abstractmethod
    async def use_secret(self, secret_hash: str, purpose: str, now: datetime) -> int | None:
        """Mark the secret used and return its account id; ``None`` if unknown, used or expired.

        Atomic: of two concurrent uses exactly one gets the account id.
        """

    # -- sessions ------------------------------------------------------------
    @abstractmethod
    async def create_session(self, token_hash: str, account_id: int, csrf: str,
                             expires_at: datetime) -> None:
        """Store a new session."""

    @abstractmethod
    async def get_session(self, token_hash: str, now: datetime) -> Session | None:
        """The unexpired session with this hash, or ``None``."""

    @abstractmethod
    async def delete_session(self, token_hash: str) -> None:
        """End one session (sign-out)."""

    @abstractmethod
    async def delete_sessions(self, account_id: int) -> int:
        """End every session of an account (password change, block); how many ended."""

    # -- API tokens ----------------------------------------------------------
    @abstractmethod
    async def create_api_token(self, account_id: int, name: str, token_hash: str,
                               role: str) -> ApiToken:
        """Store a new token."""

    @abstractmethod
    async def get_api_token(self, token_hash: str, now: datetime) -> tuple[ApiToken, Account] | None:
        """The unrevoked token with this hash and its owner (noting its use), or ``None``."""

    @abstractmethod
    async def note_token_use(self, token: ApiToken, now: datetime) -> None:
        """Note that ``token`` (as read, with its ``last_used_at``) was used at ``now``: stored
        at most about once a minute a token, maybe after this call returns."""

    @abstractmethod
    async def list_api_tokens(self, account_id: int) -> list[ApiToken]:
        """An account's tokens, newest first, revoked ones included."""

    @abstractmethod
    async def revoke_api_token(self, token_id: int, account_id: int | None, now: datetime) -> bool:
        """Revoke a token (of ``account_id`` unless ``None``); False if there was none to revoke."""
