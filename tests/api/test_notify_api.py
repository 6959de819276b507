"""Follow-and-notify mail over real HTTP and a real SMTP server on 127.0.0.1: status changes
reach every follower through the outbox, unsubscribe links work, account mails carry working
links, and a refusing SMTP server ends in a visible dead letter."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient

from tests.api.forum_helpers import token_for
from api.keys import RUNTIME
from tests.api.notify_helpers import BASE, Inbox, link_in, mail_overrides, settled, smtp_server
from tests.helpers import json_of, outbox_settled


@pytest.fixture
async def mail_app(app_client, smtp_inbox):
    inbox, port = smtp_inbox
    return await app_client(customers=True, overrides=mail_overrides(port)), inbox


async def _idea_with_followers(client: TestClient) -> tuple[int, dict[str, dict[str, str]]]:
    who = {
        "author": await token_for(client, "author@acmeanvils.example", customer_id="cus_acme"),
        "voter": await token_for(client, "voter@target.example", customer_id="cus_target"),
        "commenter": await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo"),
        "staff": await token_for(client, "pm@crm.example", role="team"),
    }
    idea = await json_of(await client.post("/api/ideas", json={"title": "Dark mode <b>please</b>",
                                                              "body": "Eyes hurt."},
                                           headers=who["author"]), 201)
    await json_of(await client.post(f"/api/ideas/{idea['id']}/vote", headers=who["voter"]), 201)
    await json_of(await client.post(f"/api/ideas/{idea['id']}/comments", json={"body": "+1"},
                                    headers=who["commenter"]), 201)
    return idea["id"], who


async def _set_status(client: TestClient, idea_id: int, staff: dict[str, str], status: str,
                      response: str) -> dict[str, Any]:
    return await json_of(await client.post(f"/api/ideas/{idea_id}/status",
                                           json={"status": status, "response": response},
                                           headers=staff))


async def test_status_change_mails_every_follower_and_unsubscribe_stops_it(mail_app) -> None:
    client, inbox = mail_app
    idea_id, who = await _idea_with_followers(client)
    out = await _set_status(client, idea_id, who["staff"], "planned", "Shipping in Q3, promise.")
    assert out["notified_followers"] == 3
    await inbox.wait_for(3)
    followers = ["author@acmeanvils.example", "voter@target.example", "jo@acmeanvils.example"]
    assert sorted(m["To"] for m in inbox.messages) == sorted(followers)
    mail = inbox.to("voter@target.example")[0]
    text = mail.get_content()
    assert mail["Subject"] == "\u201cDark mode <b>please</b>\u201d is now Planned"
    assert "Shipping in Q3, promise." in text and f"{BASE}/forum/ideas/{idea_id}" in text
    unsubscribe = link_in(mail, "/forum/unsubscribe")
    assert mail["List-Unsubscribe"].strip() == f"<{BASE}{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The in-app notification is there too, and can be marked read.
    notes = await json_of(await client.get("/api/notifications", headers=who["voter"]))
    assert [n["kind"] for n in notes["items"]] == ["status_changed"] and not notes["items"][0]["read"]
    assert (await json_of(await client.post("/api/notifications/read", json={},
                                            headers=who["voter"])))["marked"] == 1

    # The voter clicks the link (GET); the commenter's client uses RFC 8058 one-click (POST).
    page = await client.get(unsubscribe)
    assert page.status == 200 and "no longer follow" in await page.text()
    one_click = link_in(inbox.to("jo@acmeanvils.example")[0], "/forum/unsubscribe")
    await json_of(await client.post(one_click, data={"List-Unsubscribe": "One-Click"}))
    forged = unsubscribe[:-3] + ("AAA" if not unsubscribe.endswith("AAA") else "BBB")
    assert (await client.post(forged)).status == 400

    await _set_status(client, idea_id, who["staff"], "in-progress", "Started today.")
    runtime = client.app[RUNTIME]
    # The events consumed and the outbox empty: nothing else may arrive.
    assert (await settled(runtime, inbox, 4))[3:] == ["author@acmeanvils.example"]
    assert "Started today." in inbox.messages[3].get_content()
    pending = await json_of(await client.get("/api/deliveries", params={"state": "pending"}))
    assert pending["items"] == []


async def test_mail_setting_off_keeps_in_app_notification_only(mail_app) -> None:
    client, inbox = mail_app
    idea_id, who = await _idea_with_followers(client)
    assert (await json_of(await client.put("/api/notifications/settings", json={"mail": False},
                                           headers=who["author"]))) == {"mail": False, "digest": False}
    assert (await client.put("/api/notifications/settings", json={"mail": "no"},
                             headers=who["author"])).status == 400
    await _set_status(client, idea_id, who["staff"], "under-review", "Looking at it.")
    assert "author@acmeanvils.example" not in await settled(client.app[RUNTIME], inbox, 2)
    notes = await json_of(await client.get("/api/notifications", headers=who["author"]))
    assert len(notes["items"]) == 1


async def _signup(client: TestClient, email: str) -> dict[str, Any]:
    """Sign up, then sign in (sign-up alone starts no session); the login answer."""
    await json_of(await client.post("/api/auth/signup", json={
        "email": email, "password": "correct horse battery", "name": "Sam"}), 202)
    return await json_of(await client.post("/api/auth/login", json={
        "email": email, "password": "correct horse battery"}))


async def test_signup_mail_verifies_and_link_and_reset_mails_work(mail_app) -> None:
    client, inbox = mail_app
    made = await _signup(client, "sam@acmeanvils.example")
    assert made["account"]["email_verified"] is False
    await inbox.wait_for(1)
    (mail,) = inbox.to("sam@acmeanvils.example")
    assert mail["Subject"] == "Confirm your e-mail address"
    resp = await client.get(link_in(mail, "/forum/verify"))
    assert resp.status == 200 and "verified" in await resp.text()
    me = await json_of(await client.get("/api/auth/me"))
    assert me["account"]["email_verified"] is True and me["account"]["customer_id"] == "cus_acme"

    # Unknown and known addresses get the same answer; only the known one gets mail.
    unknown = await json_of(await client.post("/api/auth/password-reset",
                                              json={"email": "nobody@example.com"}), 202)
    known = await json_of(await client.post("/api/auth/password-reset",
                                            json={"email": "sam@acmeanvils.example"}), 202)
    assert unknown == known
    assert (await client.post("/api/auth/password-reset", json={"email": "not-an-address"})).status == 400
    await inbox.wait_for(2)
    reset = link_in(inbox.messages[1], "/forum/password-reset/confirm")
    token = reset.split("token=", 1)[1]
    await json_of(await client.post("/api/auth/password-reset/confirm",
                                    json={"token": unquote(token), "password": "a brand new secret"}))
    assert (await client.post("/api/auth/password-reset/confirm",
                              json={"token": unquote(token), "password": "another new one"})).status == 401
    await json_of(await client.post("/api/auth/login", json={"email": "sam@acmeanvils.example",
                                                            "password": "a brand new secret"}))

    await json_of(await client.post("/api/auth/login-link", json={"email": "sam@acmeanvils.example"}), 202)
    await inbox.wait_for(3)
    use = link_in(inbox.messages[2], "/forum/signin-link/use")
    page = await client.get(use)  # a button, not a sign-in: scanners opening links use nothing
    assert page.status == 200 and 'name="token"' in await page.text()


async def test_refusing_smtp_server_retries_then_dead_letters(app_client) -> None:
    inbox = Inbox(refuse="451 4.3.0 try again later")
    with smtp_server(inbox) as port:
        client = await app_client(customers=True, overrides=mail_overrides(port))
        await _signup(client, "sam@acmeanvils.example")
        staff = await token_for(client, "ops@crm.example", role="manager")  # dead letters are staff-only
        await outbox_settled(client.app[RUNTIME])  # every attempt made: nothing waits to be sent
        body = await json_of(await client.get("/api/deliveries", params={"state": "dead"},
                                              headers=staff))
        (letter,) = body["items"]
    assert inbox.attempts == 2 and letter["attempts"] == 2
    assert letter["channel"] == "mail" and letter["team"] == "@customers"
    assert "451" in letter["last_error"] and letter["target"] == {"to": ["sam@acmeanvils.example"]}
