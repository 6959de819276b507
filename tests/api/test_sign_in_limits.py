"""Sign-in, sign-up and mailed links are limited per account and per client address (429 with
Retry-After, before any password is hashed), and sign-up never tells whether an address is
registered."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from tests.helpers import PASSWORD, csrf_of, json_of, start_app

#: Passwords from the top of every breached-password list, as a guessing script sends them.
GUESSES = ["123456", "password", "12345678", "qwerty", "123456789", "12345", "1234", "111111",
           "1234567", "dragon", "123123", "baseball", "abc123", "football", "monkey",
           "letmein", "696969", "shadow", "master", "666666", "qwertyuiop", "123321",
           "mustang", "1234567890", "michael", "654321", "superman", "1qaz2wsx", "7777777",
           "121212", "000000", "qazwsx", "123qwe", "killer", "trustno1", "jordan", "jennifer",
           "zxcvbnm", "asdfgh", "hunter"]


#: The default limits' counts over one long window (a week, the longest allowed): a fixed
#: window that closed half-way through a slow test would start counting afresh.  The ladders'
#: growing waits are shown with a moving clock in tests/community/test_sign_in_backoff.py.
WEEK = 7 * 86400
LIMITS = {f"forum.rate_limits.{scope}": {"limit": limit, "window_seconds": WEEK} for scope, limit in [
    ("sign_in_per_account", 5), ("sign_in_per_ip", 20), ("signups_per_ip", 10),
    ("mail_links_per_email", 5), ("mail_links_per_ip", 30)]}


async def _sign_up(client: TestClient, email: str) -> None:
    await json_of(await client.post("/api/auth/signup", json={
        "email": email, "password": PASSWORD, "name": email.split("@")[0]}), 202)


def _assert_limited(resp_status: int, headers, body: dict, says: str) -> None:
    assert resp_status == 429
    retry = int(headers["Retry-After"])
    assert 1 <= retry <= WEEK and body["error"]["details"]["retry_after"] == retry
    assert body["error"]["code"] == "rate_limited" and says in body["error"]["message"]


async def test_forty_wrong_passwords_in_a_burst_are_cut_off(app_client) -> None:
    client = await app_client(customers=True, overrides=LIMITS)
    await _sign_up(client, "jo@acmeanvils.example")
    await _sign_up(client, "sam@acmeanvils.example")
    answers = await asyncio.gather(*[client.post("/api/auth/login", json={
        "email": "jo@acmeanvils.example", "password": guess}) for guess in GUESSES])
    statuses = [r.status for r in answers]
    assert statuses.count(401) == 5 and statuses.count(429) == 35, statuses
    limited = next(r for r in answers if r.status == 429)
    _assert_limited(limited.status, limited.headers, await limited.json(), "for this account")
    # The account itself is held: the right password waits too (the ladder's first step).
    resp = await client.post("/api/auth/login", json={"email": "JO@acmeanvils.example ",
                                                      "password": PASSWORD})
    _assert_limited(resp.status, resp.headers, await resp.json(), "for this account")
    # Another account from the same address is not: the refused guesses were not counted there.
    await json_of(await client.post("/api/auth/login", json={"email": "sam@acmeanvils.example",
                                                             "password": PASSWORD}))


async def test_guessing_across_many_accounts_from_one_address_is_cut_off(app_client) -> None:
    client = await app_client(customers=True, overrides=LIMITS)
    statuses = []
    for n in range(25):  # password spraying: one common password, many addresses
        resp = await client.post("/api/auth/login", json={"email": f"user{n}@acmeanvils.example",
                                                          "password": "Winter2026!"})
        statuses.append(resp.status)
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 5
    _assert_limited(resp.status, resp.headers, await resp.json(), "from your network address")


async def test_unknown_and_known_addresses_are_limited_alike(app_client) -> None:
    client = await app_client(customers=True, overrides=LIMITS)
    await _sign_up(client, "jo@acmeanvils.example")
    for email in ("jo@acmeanvils.example", "nobody@acmeanvils.example"):
        statuses = [(await client.post("/api/auth/login", json={
            "email": email, "password": "not the password"})).status for _ in range(6)]
        assert statuses == [401] * 5 + [429], (email, statuses)


async def test_the_sign_in_form_answers_429_with_retry_after(app_client) -> None:
    client = await app_client(customers=True, overrides=LIMITS)
    await _sign_up(client, "jo@acmeanvils.example")
    form = await (await client.get("/forum/signin")).text()
    for attempt in range(6):
        resp = await client.post("/forum/signin", data={
            "csrf": csrf_of(form), "email": "jo@acmeanvils.example", "password": f"guess {attempt}",
            "next": "/forum"}, allow_redirects=False)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    page = await resp.text()
    assert "too many sign-in attempts for this account" in page
    assert "Set-Cookie" not in resp.headers or "crmsphere_session=" not in resp.headers["Set-Cookie"]


async def test_limits_hold_across_processes_on_one_store(aiohttp_client, tmp_path) -> None:
    # Two serving processes on the same store: guesses sent to either count together.
    first = await start_app(aiohttp_client, tmp_path, overrides=LIMITS)
    second = await start_app(aiohttp_client, tmp_path, overrides=LIMITS)
    statuses = []
    for n in range(6):
        client = first if n % 2 == 0 else second
        statuses.append((await client.post("/api/auth/login", json={
            "email": "jo@acmeanvils.example", "password": GUESSES[n]})).status)
    assert statuses == [401] * 5 + [429]


async def test_sign_ups_from_one_address_are_limited(app_client) -> None:
    client = await app_client(customers=True, overrides=LIMITS)
    statuses = [(await client.post("/api/auth/signup", json={
        "email": f"bot{n}@mailinator.example", "password": PASSWORD, "name": f"Bot {n}"})).status
        for n in range(11)]
    assert statuses == [202] * 10 + [429]
    assert len(await client.app[RUNTIME].store.list_accounts(limit=50)) == 10


async def test_sign_up_with_a_registered_address_answers_the_same(app_client, smtp_inbox) -> None:
    from tests.api.notify_helpers import mail_overrides

    inbox, port = smtp_inbox
    client = await app_client(customers=True, overrides=mail_overrides(port, **LIMITS))
    store = client.app[RUNTIME].store
    new = await client.post("/api/auth/signup", json={
        "email": "jo@acmeanvils.example", "password": PASSWORD, "name": "Jo"})
    again = await client.post("/api/auth/signup", json={
        "email": "Jo@AcmeAnvils.example", "password": "an attacker's password", "name": "Eve"})
    assert (new.status, await new.json()) == (again.status, await again.json()) == (
        202, await new.json())
    for resp in (new, again):
        assert "Set-Cookie" not in resp.headers
    (account,) = await store.list_accounts(limit=50)
    assert account.name == "Jo"
    # The new address got its confirmation link; the owner learns of the second attempt.
    await inbox.wait_for(2)
    subjects = sorted(m["Subject"] for m in inbox.to("jo@acmeanvils.example"))
    assert subjects == ["Confirm your e-mail address", "Someone tried to sign up with your address"]
    note = next(m for m in inbox.messages if m["Subject"].startswith("Someone"))
    text = note.get_content()
    assert "/forum/signin" in text and "token=" not in text and "attacker" not in text
    # Through the forms too: the same "check your e-mail" page, whether the address is new or not.
    form = await (await client.get("/forum/signup")).text()
    pages = []
    for email in ("jo@acmeanvils.example", "kim@acmeanvils.example"):
        resp = await client.post("/forum/signup", data={
            "csrf": csrf_of(form), "email": email, "password": PASSWORD, "name": "Kim",
            "next": "/forum/roadmap"}, allow_redirects=False)
        assert "crmsphere_session" not in resp.headers.get("Set-Cookie", "")
        text = await resp.text()
        pages.append((resp.status, text.replace(email, "ADDRESS")))
    assert pages[0] == pages[1] and pages[0][0] == 200
    assert "Check your e-mail" in pages[0][1] and 'href="/forum/roadmap"' in pages[0][1]


@pytest.mark.parametrize("path", ["/api/auth/password-reset", "/api/auth/login-link"])
async def test_mailed_links_for_one_address_are_limited(app_client, path: str) -> None:
    client = await app_client(customers=True, overrides=LIMITS)
    statuses = [(await client.post(path, json={"email": "jo@acmeanvils.example"})).status
                for _ in range(6)]
    assert statuses == [202] * 5 + [429]


def _spray(client: TestClient, visitor: str, n: int):
    return [client.post("/api/auth/login", json={"email": f"user{i}@acmeanvils.example", "password": "Winter2026!"},
                        headers={"X-Forwarded-For": visitor}) for i in range(n)]


async def test_behind_a_trusted_proxy_each_visitor_has_their_own_address_limit(app_client) -> None:
    """Through a reverse proxy every connection comes from the proxy: counting that address
    would lock every visitor out together after one guesser's twenty tries."""
    client = await app_client(customers=True, overrides={
        **LIMITS, "server.trusted_proxies": ["127.0.0.0/8"]})
    guesser = [(await r).status for r in _spray(client, "203.0.113.5", 21)]
    assert guesser[:20] == [401] * 20 and guesser[20] == 429
    # Another visitor through the same proxy is not held by the guesser's count ...
    assert [(await r).status for r in _spray(client, "198.51.100.7", 1)] == [401]
    # ... and the guesser cannot step around the limit by writing another address in front.
    assert [(await r).status for r in _spray(client, "198.51.100.99, 203.0.113.5", 1)] == [429]


async def test_the_forwarded_header_is_ignored_unless_the_proxy_is_trusted(app_client) -> None:
    client = await app_client(customers=True, overrides=LIMITS)
    statuses = [(await r).status for r in _spray(client, "203.0.113.5", 20)]
    assert statuses == [401] * 20
    # A fresh address in the header is not a fresh allowance: the peer is what counts.
    assert [(await r).status for r in _spray(client, "198.51.100.7", 1)] == [429]
