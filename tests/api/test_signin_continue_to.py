"""The sign-in page says where a sign-in continues to when a page sent the visitor there with
``?next=`` (the changelog editor and every staff page do), and never shows an outside address
or words a link put in the path: the open-redirect guard still drops such a ``next``."""

from __future__ import annotations

from html import unescape
from urllib.parse import quote

import pytest

from tests.helpers import PASSWORD, csrf_of, sign_in_customer


async def test_a_staff_page_sends_to_sign_in_which_says_where_it_continues_to(app_client) -> None:
    client = await app_client()
    sent = await client.get("/dashboard/changelog/new", allow_redirects=False)
    assert sent.status == 303
    page = await client.get(sent.headers["Location"])
    html = await page.text()
    assert page.status == 200
    assert "Sign in to continue to the changelog editor." in html
    assert 'name="next" value="/dashboard/changelog/new"' in html


@pytest.mark.parametrize(("next_path", "said"), [
    ("/dashboard", "the dashboard"),
    ("/dashboard/customers/cus_jo?tab=ideas", "the customer's page"),
    ("/teams/billing", "the team queues"),
    ("/forum/ideas/12#comments", "the idea"),
    ("/forum/settings", "your settings"),
    ("/dashboardx", "the page you asked for"),  # no name for it: not "the dashboard"
])
async def test_a_local_next_is_named(app_client, next_path: str, said: str) -> None:
    client = await app_client()
    html = unescape(await (await client.get(f"/forum/signin?next={quote(next_path)}")).text())
    assert f"Sign in to continue to {said}." in html


@pytest.mark.parametrize("hostile", [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "javascript:alert(document.cookie)",
    "/\r\nSet-Cookie: session=evil.example",
    " https://evil.example",
])
async def test_an_outside_next_says_nothing_and_is_not_echoed(app_client, hostile: str) -> None:
    client = await app_client()
    html = await (await client.get(f"/forum/signin?next={quote(hostile)}")).text()
    assert "continue to" not in html
    assert "evil.example" not in html


async def test_words_put_in_a_local_path_are_not_echoed(app_client) -> None:
    client = await app_client()
    lure = "/Your-account-is-locked-call-+1-555-0100"
    html = await (await client.get(f"/forum/signin?next={quote(lure)}")).text()
    assert "Sign in to continue to the page you asked for." in html
    assert "555-0100" not in html.split('name="next"')[0]  # only in the hidden field, if at all


async def test_no_next_or_a_sign_in_page_says_nothing(app_client) -> None:
    client = await app_client()
    for path in ("/forum/signin", "/forum/signin?next=/forum/signin", "/forum/signin?next="):
        assert "continue to" not in await (await client.get(path)).text(), path


async def test_a_failed_sign_in_keeps_saying_where_it_continues_to(app_client) -> None:
    client = await app_client()
    await sign_in_customer(client)
    await client.post("/forum/signout", data={"csrf": csrf_of(await (await client.get("/forum")).text())})
    form = await (await client.get("/forum/signin?next=/forum/settings")).text()
    failed = await client.post("/forum/signin", data={
        "csrf": csrf_of(form), "email": "jo@acmeanvils.example", "password": PASSWORD + "x",
        "next": "/forum/settings"})
    assert failed.status == 401
    assert "Sign in to continue to your settings." in await failed.text()


async def test_sign_up_says_it_too(app_client) -> None:
    client = await app_client()
    html = await (await client.get("/forum/signup?next=/forum/submit")).text()
    assert "Sign up to continue to the idea form." in html
