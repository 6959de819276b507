"""A vote pressed while signed out is cast after sign-in, by every way in, and nothing else
casts it: over real HTTP against the app, without JavaScript (plain forms, cookies kept)."""

from __future__ import annotations

import logging
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from api.keys import RUNTIME
from api.pending_vote import COOKIE, PendingVote, decode, encode, local_path
from tests.helpers import PASSWORD, csrf_of


async def _idea(client, title: str = "Export invoices as CSV") -> int:
    store = client.app[RUNTIME].store
    author = await store.create_account("pm@crm.example", "Pm", None, "team")
    from community.access import Viewer
    from community.ideas import Ideas

    idea = await Ideas(store, client.app[RUNTIME].settings.forum).submit(
        Viewer(account=author, role="team", via="session"), title, "", None, None)
    return idea.id


def _signin_next(resp) -> str:
    """The ``next`` of a redirect to the sign-in page (whatever its percent-encoding)."""
    where = urlsplit(resp.headers["Location"])
    assert where.path == "/forum/signin" and not where.netloc
    return parse_qs(where.query)["next"][0]


async def _votes(client, idea_id: int) -> int:
    return (await client.app[RUNTIME].store.get_idea(idea_id)).vote_count


async def _press_vote_signed_out(client, idea_id: int, next_path: str | None = "/forum?sort=top"):
    """Open the list as a visitor and press the idea's vote button (its form, its CSRF token)."""
    page = await (await client.get("/forum")).text()
    data = {"csrf": csrf_of(page)}
    if next_path is not None:
        data["next"] = next_path
    return await client.post(f"/forum/ideas/{idea_id}/vote", data=data, allow_redirects=False)


async def _account(client, email: str, verified_customer: str | None) -> None:
    store, accounts = client.app[RUNTIME].store, None
    from community.accounts import Accounts

    accounts = Accounts(store, client.app[RUNTIME].settings.forum)
    made = await store.create_account(email, email.split("@")[0], await accounts._hash(PASSWORD))
    if verified_customer:
        await store.update_account(made.id, customer_id=verified_customer, email_verified=True)


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True)


async def test_vote_pressed_signed_out_is_cast_after_password_sign_in(client) -> None:
    idea_id = await _idea(client)
    await _account(client, "jo@acmeanvils.example", "cus_jo")
    pressed = await _press_vote_signed_out(client, idea_id)
    assert pressed.status == 303
    assert _signin_next(pressed) == "/forum?sort=top"
    cookie = pressed.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/forum"
    assert await _votes(client, idea_id) == 0  # nobody to vote as yet
    signin = await client.get(pressed.headers["Location"])
    assert signin.status == 200
    html = await signin.text()
    assert "Sign in to vote for “Export invoices as CSV”" in html
    assert 'name="next" value="/forum?sort=top"' in html
    assert await _votes(client, idea_id) == 0  # a GET never votes
    done = await client.post("/forum/signin", allow_redirects=False, data={
        "csrf": csrf_of(html), "email": "jo@acmeanvils.example", "password": PASSWORD,
        "next": "/forum?sort=top"})
    assert done.status == 303 and done.headers["Location"] == "/forum?sort=top"
    assert await _votes(client, idea_id) == 1
    landed = await (await client.get(f"/forum/ideas/{idea_id}")).text()
    assert 'aria-pressed="true"' in landed
    # The marker is used once: signing in again votes nothing more, and nothing breaks.
    assert COOKIE not in client.session.cookie_jar.filter_cookies(client.make_url("/forum"))


async def test_vote_button_without_next_returns_to_the_idea_page_not_the_post_address(client) -> None:
    idea_id = await _idea(client)
    await _account(client, "jo@acmeanvils.example", "cus_jo")
    pressed = await _press_vote_signed_out(client, idea_id, next_path=None)
    assert _signin_next(pressed) == f"/forum/ideas/{idea_id}"
    html = await (await client.get(pressed.headers["Location"])).text()
    done = await client.post("/forum/signin", allow_redirects=True, data={
        "csrf": csrf_of(html), "email": "jo@acmeanvils.example", "password": PASSWORD,
        "next": f"/forum/ideas/{idea_id}"})
    assert done.status == 200 and str(done.url.path) == f"/forum/ideas/{idea_id}"  # not a 405
    assert await _votes(client, idea_id) == 1


async def test_a_comment_posted_signed_out_returns_to_the_idea_page_after_sign_in(client) -> None:
    idea_id = await _idea(client)
    page = await (await client.get(f"/forum/ideas/{idea_id}")).text()
    resp = await client.post(f"/forum/ideas/{idea_id}/comments", data={"csrf": csrf_of(page), "body": "hi"},
                             allow_redirects=False)
    assert resp.status == 303 and _signin_next(resp) == f"/forum/ideas/{idea_id}"


@pytest.mark.parametrize("hostile", [
    "//evil.example/phish", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "/forum\r\nSet-Cookie: x=1", " /forum", "/" + "a" * 600,
])
async def test_next_of_a_vote_never_leaves_the_site(client, hostile: str) -> None:
    idea_id = await _idea(client)
    await _account(client, "jo@acmeanvils.example", "cus_jo")
    pressed = await _press_vote_signed_out(client, idea_id, next_path=hostile)
    assert _signin_next(pressed) == f"/forum/ideas/{idea_id}"
    html = await (await client.get("/forum/signin", params={"next": hostile})).text()
    done = await client.post("/forum/signin", allow_redirects=False, data={
        "csrf": csrf_of(html), "email": "jo@acmeanvils.example", "password": PASSWORD, "next": hostile})
    assert done.headers["Location"] == f"/forum/ideas/{idea_id}"
    assert await _votes(client, idea_id) == 1


def test_marker_refuses_forged_tampered_and_expired_values() -> None:
    key, other = b"k" * 32, b"o" * 32
    good = encode(key, PendingVote(7, "/forum/ideas/7"), now=1_000_000)
    assert decode(key, good, now=1_000_000) == PendingVote(7, "/forum/ideas/7")
    assert decode(other, good, now=1_000_000) is None  # signed with another key
    assert decode(key, good.replace("7.", "8.", 1), now=1_000_000) is None  # another idea
    assert decode(key, good, now=1_000_000 + 3601) is None  # expired
    for junk in ("", "7", "7.1.x.y", "7.99999999999.Lw." + "A" * 43, "😀" * 20, None):
        assert decode(key, junk, now=1_000_000) is None
    # A genuine marker whose path is not local still returns only to this site.
    assert decode(key, encode(key, PendingVote(7, "//evil.example"), 0), 0).next_path == "/forum"
    assert local_path("/forum?sort=top&q=a") == "/forum?sort=top&q=a"


async def test_planted_or_forged_marker_casts_nothing(client) -> None:
    idea_id = await _idea(client)
    await _account(client, "jo@acmeanvils.example", "cus_jo")
    # What a sibling host or a plain-HTTP attacker could plant: well-formed, wrongly signed.
    forged = encode(b"not the store key at all!!", PendingVote(idea_id, "/forum"), 10**10 - 4000)
    client.session.cookie_jar.update_cookies({COOKIE: forged})
    html = await (await client.get("/forum/signin")).text()
    assert "Sign in to vote" not in html
    done = await client.post("/forum/signin", allow_redirects=False, data={
        "csrf": csrf_of(html), "email": "jo@acmeanvils.example", "password": PASSWORD, "next": "/forum"})
    assert done.status == 303 and done.headers["Location"] == "/forum"
    assert await _votes(client, idea_id) == 0


async def test_vote_pressed_without_csrf_token_is_refused_and_remembers_nothing(client) -> None:
    idea_id = await _idea(client)
    await client.get("/forum")
    resp = await client.post(f"/forum/ideas/{idea_id}/vote", data={"next": "/forum"}, allow_redirects=False)
    assert resp.status == 403 and COOKIE not in resp.cookies


async def test_sign_up_says_check_your_email_and_the_verification_link_casts_the_vote(app_client, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="api.forum.signin")
    client = await app_client(customers=True, overrides={"forum.demo_mode": True})
    idea_id = await _idea(client)
    pressed = await _press_vote_signed_out(client, idea_id)
    html = await (await client.get(pressed.headers["Location"].replace("signin", "signup"))).text()
    assert "Sign up to vote for “Export invoices as CSV”" in html
    made = await client.post("/forum/signup", allow_redirects=False, data={
        "csrf": csrf_of(html), "email": "sam@acmeanvils.example", "password": PASSWORD,
        "name": "Sam", "next": "/forum?sort=top"})
    assert made.status == 200
    page = await made.text()
    assert "Check your e-mail" in page and "sam@acmeanvils.example" in page
    # Not signed in: the page is the same for an address that had an account already.
    assert "Sign out" not in page and "crmsphere_session" not in made.headers.get("Set-Cookie", "")
    assert await _votes(client, idea_id) == 0  # votes count once the address is verified
    link = unescape(re.search(r'href="(/forum/verify\?token=[^"]+)"', page)[1])
    assert link in caplog.text  # the server log has it too, for whoever runs the demo
    verified = await client.get(link, allow_redirects=False)
    assert verified.status == 303 and verified.headers["Location"] == "/forum?sort=top"
    assert await _votes(client, idea_id) == 1
    listing = await (await client.get("/forum?sort=top")).text()
    assert 'aria-pressed="true"' in listing


async def test_sign_up_without_demo_mode_never_shows_the_link(client) -> None:
    html = await (await client.get("/forum/signup")).text()
    made = await client.post("/forum/signup", allow_redirects=False, data={
        "csrf": csrf_of(html), "email": "sam@acmeanvils.example", "password": PASSWORD, "name": "Sam",
        "next": "/forum"})
    page = await made.text()
    assert made.status == 200 and "Check your e-mail" in page
    assert "/forum/verify?token=" not in page and "Demo mode" not in page


async def test_mailed_sign_in_link_casts_the_waiting_vote(app_client) -> None:
    client = await app_client(customers=True, overrides={"forum.demo_mode": True})
    idea_id = await _idea(client)
    await _account(client, "jo@acmeanvils.example", "cus_jo")
    pressed = await _press_vote_signed_out(client, idea_id)
    signin = await (await client.get(pressed.headers["Location"])).text()
    assert 'href="/forum/signin-link"' in signin and 'href="/forum/password-reset"' in signin
    form = await (await client.get("/forum/signin-link")).text()
    sent = await (await client.post("/forum/signin-link", data={
        "csrf": csrf_of(form), "email": "jo@acmeanvils.example"})).text()
    link = unescape(re.search(r'href="(/forum/signin-link/use\?token=[^"]+)"', sent)[1])
    use = await (await client.get(link)).text()
    assert await _votes(client, idea_id) == 0  # opening the mailed link (GET) casts nothing
    token = re.search(r'name="token" value="([^"]+)"', use)[1]
    done = await client.post("/forum/signin-link/use", allow_redirects=False,
                             data={"csrf": csrf_of(use), "token": token})
    assert done.status == 303 and done.headers["Location"] == "/forum?sort=top"
    assert await _votes(client, idea_id) == 1
