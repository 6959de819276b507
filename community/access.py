"""Who is asking, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.forum import Account, Role, is_staff, role_rank
from domain.errors import AuthFailed, Forbidden


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person (or integration) behind a request.

    ``role`` is the effective role: an API token may carry less than its owner's.
    ``csrf`` is the token a signed-in browser must send back with every form.
    """

    account: Account | None = None
    role: Role | None = None
    via: Literal["anonymous", "session", "token"] = "anonymous"
    csrf: str | None = None

    @property
    def signed_in(self) -> bool:
        """True for a session or token of an unblocked account."""
        return self.account is not None

    @property
    def staff(self) -> bool:
        """Team members, managers and admins."""
        return self.role is not None and is_staff(self.role)

    @property
    def account_id(self) -> int | None:
        """The account's id, if any."""
        return self.account.id if self.account else None

    def at_least(self, role: Role) -> bool:
        """True when the viewer's role is ``role`` or above."""
        return self.role is not None and role_rank(self.role) >= role_rank(role)


ANONYMOUS = Viewer()


def require_signed_in(viewer: Viewer) -> Account:
    """The viewer's account; ``AuthFailed`` when nobody is signed in, ``Forbidden`` if blocked."""
    if viewer.account is None:
        raise AuthFailed("sign in first")
    if viewer.account.blocked:
        raise Forbidden("this account is blocked")
    return viewer.account


def require_at_least(viewer: Viewer, role: Role, doing: str) -> Account:
    """The viewer's account if their role is ``role`` or above; else ``Forbidden`` naming ``doing``."""
    account = require_signed_in(viewer)
    if not viewer.at_least(role):
        raise Forbidden(f"only {role} accounts and above may {doing}")
    return account
