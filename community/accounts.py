"""Accounts: sign-up, sign-in, sessions, e-mail verification and customer linking, API tokens.

Every secret handed to a browser or an integration is random; the store keeps only
its SHA-256 (they carry 256 bits, so a fast hash is enough), passwords only as argon2.

Sign-in, sign-up and mailed links are limited per e-mail address and per client address
with back-off ladders (``community.ratelimit``), counted before any password is hashed;
none of them tells a caller whether an address has an account.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.forum import ForumSettings, PasswordHashingSettings
from community.access import Viewer, require_at_least, require_signed_in
from community.ratelimit import RateLimiter
from domain import Customer, utcnow
from domain.forum import ROLES, Account, ApiToken, Session, role_rank
from domain.errors import AuthFailed, BadInput, Conflict, Forbidden, NotFound
from storage import Store

_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
TOKEN_PREFIX = "cst_"
#: What a caller whose bearer token counts for nothing is told (401).
TOKEN_REFUSED = "the bearer token is unknown or revoked"
VERIFY, SIGN_IN_LINK, PASSWORD_RESET = "verify", "sign_in_link", "password_reset"
#: The mail to an address that someone tried to sign up with again (it carries no secret).
SIGNUP_TAKEN = "signup_taken"


def secret_hash(secret: str) -> str:
    """The stored form of a session token, API token or one-time secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_hash_of(plain: str) -> str | None:
    """The stored form of an ``Authorization: Bearer`` value, or ``None`` when it cannot be
    one of our API tokens (no store read is spent on it)."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    return secret_hash(plain)


def token_viewer_of(found: tuple[ApiToken, Account] | None) -> Viewer | None:
    """The viewer an unrevoked token and its owner stand for (``None``: refused, the owner
    blocked).  A token never outranks its owner, even after the owner was demoted."""
    if found is None or found[1].blocked:
        return None
    token, owner = found
    role = min(token.role, owner.role, key=role_rank)
    return Viewer(account=owner, role=role, via="token")


def check_email(email: object) -> str:
    """A normalised e-mail address; ``BadInput`` naming the field otherwise."""
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise BadInput("email must be an e-mail address", {"field": "email"})
    return email.strip().lower()


def check_password(password: object) -> str:
    """A password of 10 to 1024 characters."""
    if not isinstance(password, str) or not 10 <= len(password) <= 1024:
        raise BadInput("password must be 10 to 1024 characters", {"field": "password"})
    return password


def check_name(name: object, field: str = "name", max_len: int = 80) -> str:
    """A display name: 1 to ``max_len`` printable characters."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > max_len:
        raise BadInput(f"{field} must be 1 to {max_len} characters", {"field": field})
    if any(ord(ch) < 32 for ch in name):
        raise BadInput(f"{field} must not contain control characters", {"field": field})
    return name.strip()


@dataclass(frozen=True, slots=True)
class SignedUp:
    """A sign-up for the mailer: a new account and the one-time secret that verifies its
    e-mail, or (``verify_secret`` ``None``) the account that already had this address, whose
    owner is told someone tried; the caller is answered the same either way."""

    account: Account
    verify_secret: str | None


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just begun: the cookie value (shown once) and the session."""

    token: str
    session: Session


class Accounts:
    """Account rules over a store; cheap to build per request."""

    def __init__(self, store: Store, settings: ForumSettings,
                 hasher: PasswordHasher | None = None) -> None:
        self.store, self.settings = store, settings
        self.hasher = hasher or password_hasher(settings.password_hashing)
        self.limits = RateLimiter(store, settings.rate_limits)

    async def limit_mail(self, address: str, client: str) -> None:
        """Count a mail to ``address`` asked for by ``client`` (a network address):
        ``RateLimited`` past either ladder, so nobody floods an inbox or the outbox."""
        await self.limits.hit("mail_links_per_ip", f"ip:{client}")
        await self.limits.hit("mail_links_per_email", f"email:{address}")

    async def _hash(self, password: str) -> str:
        # argon2 is deliberately slow: off the event loop.
        return await asyncio.to_thread(self.hasher.hash, password)

    async def _verify(self, stored: str, password: str) -> bool:
        def verify() -> bool:
            try:
                return self.hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(verify)

    async def sign_up(self, email: object, password: object, name: object,
                      client: str = "unknown") -> SignedUp:
        """A new customer account; linked to the registry now if sign-up e-mails are trusted.

        An address that has an account already gets no second one, and nothing in the answer
        or its timing says so: the mailer tells that address's owner instead."""
        address, pw, display = check_email(email), check_password(password), check_name(name)
        await self.limits.hit("signups_per_ip", f"ip:{client}")
        await self.limit_mail(address, client)
        password_hash = await self._hash(pw)  # hashed either way: the same time for both answers
        try:
            account = await self.store.create_account(address, display, password_hash)
        except Conflict:
            found = await self.store.get_login(address)
            if found is None:  # deleted in between: nobody to tell
                raise
            return SignedUp(found[0], None)
        verify_secret = await self.issue_secret(account.id, VERIFY, timedelta(days=7))
        if self.settings.trust_signup_email:
            account = await self.link_customer(account)
        return SignedUp(account, verify_secret)

    async def sign_in(self, email: object, password: object, client: str = "unknown") -> NewSession:
        """A new session for the right e-mail and password; ``AuthFailed`` otherwise, and
        ``RateLimited`` (before any hashing) when the address or the client tried too often."""
        if not isinstance(email, str) or not isinstance(password, str) or len(password) > 1024:
            raise AuthFailed("e-mail or password is wrong")
        address = email.strip().lower()[:320]
        # Every attempt counts, known address or not, so the limits reveal no account either.
        # The account's ladder first: hammering one account is refused without using up the
        # address's allowance, which then counts guesses spread over many accounts.
        await self.limits.hit("sign_in_per_account", f"email:{address}")
        await self.limits.hit("sign_in_per_ip", f"ip:{client}")
        found = await self.store.get_login(address)
        stored = found[1] if found is not None else None
        if found is None or stored is None:
            # Same time whether the account exists or not (a hash made with the same costs).
            await self._verify(dummy_hash(self.hasher), password)
            raise AuthFailed("e-mail or password is wrong")
        account = found[0]
        if not await self._verify(stored, password):
            raise AuthFailed("e-mail or password is wrong")
        if account.blocked:
            raise Forbidden("this account is blocked")
        if self.hasher.check_needs_rehash(stored):
            await self.store.update_account(account.id, password_hash=await self._hash(password))
        return await self.start_session(account)

    async def start_session(self, account: Account) -> NewSession:
        """Begin a session for ``account`` (after sign-in or a one-time link)."""
        # 128 bits of CSRF token are beyond guessing; every form of every page carries it.
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
        expires = utcnow() + timedelta(days=self.settings.session_days)
        await self.store.create_session(secret_hash(token), account.id, csrf, expires)
        return NewSession(token, Session(account, csrf, expires))

    async def session(self, token: str) -> Session | None:
        """The live session of a cookie value, or ``None``."""
        if not token or len(token) > 200:
            return None
        return await self.store.get_session(secret_hash(token), utcnow())

    async def sign_out(self, token: str) -> None:
        """End the session of a cookie value."""
        await self.store.delete_session(secret_hash(token))

    async def issue_secret(self, account_id: int, purpose: str, ttl: timedelta) -> str:
        """A one-time secret for a mailed link (verification, sign-in link, password reset)."""
        secret = secrets.token_urlsafe(32)
        await self.store.save_secret(secret_hash(secret), account_id, purpose, utcnow() + ttl)
        return secret

    async def verify_email(self, secret: str) -> Account:
        """Mark the e-mail verified and link the account to its customer; ``AuthFailed`` if spent."""
        account_id = await self.store.use_secret(secret_hash(secret), VERIFY, utcnow())
        if account_id is None:
            raise AuthFailed("this verification link is unknown, used or expired")
        return await self.link_customer(await self.store.get_account(account_id))

    async def request_sign_in_link(self, email: object,
                                   client: str = "unknown") -> tuple[Account, str] | None:
        """A one-time sign-in secret for the mailer, or ``None`` for an unknown address."""
        address = check_email(email)
        await self.limit_mail(address, client)
        found = await self.store.get_login(address)
        if found is None or found[0].blocked:
            return None
        return found[0], await self.issue_secret(found[0].id, SIGN_IN_LINK, timedelta(minutes=30))

    async def sign_in_with_link(self, secret: str) -> NewSession:
        """A session from a one-time sign-in link (which also proves the e-mail)."""
        account_id = await self.store.use_secret(secret_hash(secret), SIGN_IN_LINK, utcnow())
        if account_id is None:
            raise AuthFailed("this sign-in link is unknown, used or expired")
        account = await self.store.get_account(account_id)
        if account.blocked:
            raise Forbidden("this account is blocked")
        if not account.email_verified:
            account = await self.link_customer(account)
        return await self.start_session(account)

    async def request_password_reset(self, email: object,
                                     client: str = "unknown") -> tuple[Account, str] | None:
        """A one-time password-reset secret for the mailer, or ``None`` for an unknown address."""
        address = check_email(email)
        await self.limit_mail(address, client)
        found = await self.store.get_login(address)
        if found is None:
            return None
        return found[0], await self.issue_secret(found[0].id, PASSWORD_RESET, timedelta(hours=1))

    async def reset_password(self, secret: str, password: object) -> Account:
        """Set a new password from a reset link; every session of the account ends."""
        pw = check_password(password)
        account_id = await self.store.use_secret(secret_hash(secret), PASSWORD_RESET, utcnow())
        if account_id is None:
            raise AuthFailed("this reset link is unknown, used or expired")
        await self.store.delete_sessions(account_id)
        return await self.store.update_account(account_id, password_hash=await self._hash(pw))

    async def link_customer(self, account: Account) -> Account:
        """Link a (now verified) account to the customer registry.

        The customer holding the exact address wins; else the company holding the mail
        domain (its people then vote as that one customer); else the registry learns a
        new person customer for this address.
        """
        if account.customer_id:
            return await self.store.update_account(account.id, email_verified=True)
        by_email, by_domain = await self.store.customers_for_email(account.email)
        matches = by_email or by_domain
        if matches:
            customer_id = matches[0]
        else:
            customer_id = f"acct-{account.id}"
            await self.store.upsert_customers([Customer(
                id=customer_id, name=account.name, kind="person", emails=(account.email,))])
        return await self.store.update_account(account.id, customer_id=customer_id, email_verified=True)

    # -- roles (admin) ----------------------------------------------------------
    async def set_role(self, viewer: Viewer, account_id: int, role: str) -> Account:
        """An admin gives an account a role."""
        require_at_least(viewer, "admin", "change roles")
        if role not in ROLES:
            raise BadInput(f"role must be one of {', '.join(ROLES)}", {"field": "role"})
        return await self.store.update_account(account_id, role=role)

    async def set_blocked(self, viewer: Viewer, account_id: int, blocked: bool) -> Account:
        """Staff block (or unblock) an account; a blocked account's sessions end."""
        require_at_least(viewer, "manager", "block accounts")
        target = await self.store.get_account(account_id)
        if role_rank(target.role) >= role_rank(viewer.role or "customer") and target.id != viewer.account_id:
            raise Forbidden("you may block only accounts of a lower role")
        if blocked:
            await self.store.delete_sessions(account_id)
        return await self.store.update_account(account_id, blocked=blocked)

    # -- API tokens -------------------------------------------------------------
    async def create_token(self, viewer: Viewer, name: object, role: object = None) -> tuple[str, ApiToken]:
        """A new API token (the plain value is returned once) with at most the viewer's role."""
        account = require_signed_in(viewer)
        label = check_name(name, "name", 100)
        wanted = account.role if role is None else role
        if wanted not in ROLES:
            raise BadInput(f"role must be one of {', '.join(ROLES)}", {"field": "role"})
        if role_rank(wanted) > role_rank(account.role):
            raise Forbidden(f"a token cannot carry more than your own role ({account.role})")
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = await self.store.create_api_token(account.id, label, secret_hash(plain), wanted)
        return plain, token

    async def token_viewer(self, plain: str) -> Viewer | None:
        """The viewer an ``Authorization: Bearer`` value stands for, or ``None`` if unknown/revoked."""
        token_hash = token_hash_of(plain)
        if token_hash is None:
            return None
        return token_viewer_of(await self.store.get_api_token(token_hash, utcnow()))

    async def revoke_token(self, viewer: Viewer, token_id: int) -> None:
        """Revoke one of the viewer's tokens (admins: anyone's); ``NotFound`` if there is none."""
        account = require_signed_in(viewer)
        owner = None if viewer.at_least("admin") else account.id
        if not await self.store.revoke_api_token(token_id, owner, utcnow()):
            raise NotFound(f"no active token {token_id}")


DEFAULT_HASHER = PasswordHasher()


@functools.cache
def password_hasher(costs: PasswordHashingSettings) -> PasswordHasher:
    """The argon2id hasher with the configured ``[forum.password_hashing]`` costs (one per
    distinct setting: ``Accounts`` is built per request)."""
    return PasswordHasher(time_cost=costs.time_cost, memory_cost=costs.memory_kib,
                          parallelism=costs.parallelism)


@functools.cache
def dummy_hash(hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """A hash by ``hasher`` to verify against when the e-mail is unknown, made once when first
    needed."""
    return hasher.hash("not a real password, only for equal timing")
