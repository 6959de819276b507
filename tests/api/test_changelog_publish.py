"""Publishing a changelog entry over real HTTP with a real SMTP server on 127.0.0.1: the
shipped ideas move to done through the status-change service, everyone who voted, followed,
commented or was linked hears once (one mail, one in-app notice), and publishing again — a
double click, or a retry after a crash between the steps — tells nobody twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from tests.api.forum_helpers import token_for
from tests.api.notify_helpers import Inbox, mail_overrides, settled
from tests.conftest import customer
from tests.helpers import json_of


@pytest.fixture
async def mail_app(app_client, smtp_inbox) -> tuple[TestClient, Inbox]:
    inbox, port = smtp_inbox
    return await app_client(customers=True, overrides=mail_overrides(port)), inbox


async def _askers(client: TestClient) -> dict[str, Any]:
    """Two ideas and the people who asked for them:

    - ``author`` wrote idea A (follows it); ``fan`` only follows A;
    - ``jo`` voted for A and commented on it, then stopped following it;
    - ``voter`` voted for A and for B; ``b_voter`` voted for B only;
    - B was marked done before the entry; C, a duplicate of A, was merged into A.
    """
    await client.app[RUNTIME].store.upsert_customers([customer("cus_globex", "Globex")])
    who = {
        "author": await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme"),
        "jo": await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo"),
        "voter": await token_for(client, "voter@target.example", customer_id="cus_target"),
        "b_voter": await token_for(client, "b@globex.example", customer_id="cus_globex"),
        "fan": await token_for(client, "fan@example.org"),
        "pm": await token_for(client, "pm@crm.example", role="manager"),
    }

    store = client.app[RUNTIME].store
    fan = (await store.get_login("fan@example.org"))[0]
    await store.update_account(fan.id, email_verified=True)  # mail goes to verified addresses

    async def idea(title: str) -> int:
        made = await json_of(await client.post("/api/ideas", json={"title": title, "body": "please"},
                                               headers=who["author"]), 201)
        return made["id"]

    a, b, c = await idea("Dark mode"), await idea("CSV export"), await idea("Night theme")
    for name, idea_id in (("jo", a), ("voter", a), ("voter", b), ("b_voter", b)):
        await json_of(await client.post(f"/api/ideas/{idea_id}/vote", headers=who[name]), 201)
    await json_of(await client.post(f"/api/ideas/{a}/comments", json={"body": "Yes, at night!"},
                                    headers=who["jo"]), 201)
    assert (await client.delete(f"/api/ideas/{a}/follow", headers=who["jo"])).status == 200
    assert (await client.post(f"/api/ideas/{a}/follow", headers=who["fan"])).status == 200
    await json_of(await client.post(f"/api/ideas/{c}/merge", json={"into": a}, headers=who["pm"]), 201)
    await json_of(await client.post(f"/api/ideas/{b}/status", json={"status": "done", "response": "Done."},
                                    headers=who["pm"]))
    return {"who": who, "a": a, "b": b, "c": c}


async def _entry(client: TestClient, pm: dict[str, str], idea_ids: list[int]) -> dict[str, Any]:
    return await json_of(await client.post("/api/changelog", json={
        "title": "Dark mode and CSV export", "body": "Both **shipped** today.", "idea_ids": idea_ids},
        headers=pm), 201)


ASKERS = ["ana@acmeanvils.example", "jo@acmeanvils.example", "voter@target.example",
          "b@globex.example", "fan@example.org"]


async def _settled(client: TestClient, inbox: Inbox, count: int) -> list[str]:
    """The addresses of all mail once ``count`` arrived and nothing more can follow (the event
    consumers drained, the outbox empty: see ``notify_helpers.settled``)."""
    try:
        return await settled(client.app[RUNTIME], inbox, count)
    except TimeoutError:
        raise AssertionError(f"{count} mails expected, got {[m['To'] for m in inbox.messages]}") from None


async def _mail_sent_so_far(client: TestClient, inbox: Inbox) -> int:
    """How many mails arrived once nothing is waiting to be sent (the set-up's status mails are
    in, however slow the machine: counting earlier would mix them with the entry's)."""
    return len(await settled(client.app[RUNTIME], inbox, 0))


async def _changelog_notices(client: TestClient, entry_id: int) -> Counter:
    store = client.app[RUNTIME].store
    found: Counter = Counter()
    for account in await store.list_accounts(limit=50):
        for note in await store.list_notifications(account.id):
            if note.dedupe_key.startswith(f"changelog:{entry_id}:"):
                found[account.email] += 1
    return found


async def test_publishing_ships_the_ideas_and_tells_everyone_who_asked_once(mail_app) -> None:
    client, inbox = mail_app
    s = await _askers(client)
    who, a, b, c = s["who"], s["a"], s["b"], s["c"]
    before = await _mail_sent_so_far(client, inbox)  # B's status mail went to its followers
    entry = await _entry(client, who["pm"], [c, b, a])
    # The merged duplicate ships the idea it was merged into, once.
    assert [i["id"] for i in entry["ideas"]] == [a, b] and entry["state"] == "draft"
    assert (await client.get(f"/api/changelog/{entry['id']}")).status == 404  # a draft

    out = await json_of(await client.post(f"/api/changelog/{entry['id']}/publish", headers=who["pm"]))
    assert out["state"] == "published" and out["moved_idea_ids"] == [a] and out["published_at"]
    sent = await _settled(client, inbox, before + len(ASKERS))
    assert sorted(sent[before:]) == sorted(ASKERS)  # one mail each, the voter of A and B too
    assert await _changelog_notices(client, entry["id"]) == Counter({e: 1 for e in ASKERS})

    idea_a = await json_of(await client.get(f"/api/ideas/{a}"))
    assert idea_a["status"] == "done" and f"/forum/changelog/{entry['id']}" in idea_a["status_response"]
    history = await client.app[RUNTIME].store.status_history(a)
    assert [h.to_status for h in history] == ["done"]
    jo_mail = next(m for m in inbox.messages[before:] if m["To"] == "jo@acmeanvils.example")
    assert jo_mail["Subject"] == "Shipped: Dark mode and CSV export"
    assert "you voted for it" in jo_mail.get_content() and jo_mail["List-Unsubscribe"]
    notes = await json_of(await client.get("/api/notifications", headers=who["b_voter"]))
    assert notes["items"][0]["kind"] == "changelog"
    assert notes["items"][0]["url"] == f"/forum/changelog/{entry['id']}"

    # Publishing again (a retry, a second click) tells nobody anything.
    again = await json_of(await client.post(f"/api/changelog/{entry['id']}/publish", headers=who["pm"]))
    assert again["notified"] == 0 and again["moved_idea_ids"] == []
    assert again["published_at"] == out["published_at"]
    assert len(await _settled(client, inbox, before + len(ASKERS))) == before + len(ASKERS)
    assert await _changelog_notices(client, entry["id"]) == Counter({e: 1 for e in ASKERS})


async def test_a_double_click_publishes_once(mail_app) -> None:
    client, inbox = mail_app
    s = await _askers(client)
    before = await _mail_sent_so_far(client, inbox)
    entry = await _entry(client, s["who"]["pm"], [s["a"], s["b"]])
    url = f"/api/changelog/{entry['id']}/publish"
    first, second = await asyncio.gather(client.post(url, headers=s["who"]["pm"]),
                                         client.post(url, headers=s["who"]["pm"]))
    assert (first.status, second.status) == (200, 200), (await first.text(), await second.text())
    sent = await _settled(client, inbox, before + len(ASKERS))
    assert sorted(sent[before:]) == sorted(ASKERS)
    assert [h.to_status for h in await client.app[RUNTIME].store.status_history(s["a"])] == ["done"]


@pytest.mark.parametrize("crash_in", ["enqueue_notifications", "set_changelog_state"])
async def test_a_retry_after_a_crash_between_steps_tells_nobody_twice(mail_app, monkeypatch,
                                                                     crash_in: str) -> None:
    """The process dies after the ideas moved (their status notices stored) but before the
    askers' notices, or after those but before the entry was marked published."""
    client, inbox = mail_app
    s = await _askers(client)
    before = await _mail_sent_so_far(client, inbox)
    entry = await _entry(client, s["who"]["pm"], [s["a"], s["b"]])
    store = client.app[RUNTIME].store
    real = getattr(store, crash_in)

    async def crash(*args: Any, **kwargs: Any) -> Any:
        if crash_in == "set_changelog_state" and args[1] != "published":
            return await real(*args, **kwargs)
        raise ConnectionResetError("the process died here")

    monkeypatch.setattr(store, crash_in, crash)
    failed = await client.post(f"/api/changelog/{entry['id']}/publish", headers=s["who"]["pm"])
    assert failed.status == 500 and "error" in await failed.json()
    half = await json_of(await client.get(f"/api/changelog/{entry['id']}"))
    assert half["state"] == "publishing"  # public already; the retry finishes it
    assert (await json_of(await client.get(f"/api/ideas/{s['a']}")))["status"] == "done"

    monkeypatch.setattr(store, crash_in, real)
    done = await json_of(await client.post(f"/api/changelog/{entry['id']}/publish", headers=s["who"]["pm"]))
    assert done["state"] == "published" and done["moved_idea_ids"] == []
    sent = await _settled(client, inbox, before + len(ASKERS))
    assert sorted(sent[before:]) == sorted(ASKERS)
    assert await _changelog_notices(client, entry["id"]) == Counter({e: 1 for e in ASKERS})
    assert [h.to_status for h in await store.status_history(s["a"])] == ["done"]


async def test_proxy_votes_opt_outs_and_blocked_accounts(mail_app) -> None:
    """A customer whose vote staff recorded from a call hears of it; an account that left the
    idea's mail (one-click unsubscribe) gets the in-app notice only; a blocked account is
    mailed nothing; an internal note's author and the manager who publishes are not told."""
    client, inbox = mail_app
    store = client.app[RUNTIME].store
    await store.upsert_customers([customer("cus_globex", "Globex")])
    pm = await token_for(client, "pm@crm.example", role="manager")
    dev = await token_for(client, "dev@crm.example", role="team")
    called = await token_for(client, "buyer@target.example", customer_id="cus_target")
    quiet = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    blocked = await token_for(client, "b@globex.example", customer_id="cus_globex")
    idea = await json_of(await client.post("/api/ideas", json={"title": "SSO", "body": ""}, headers=pm), 201)
    url = f"/api/ideas/{idea['id']}"
    await json_of(await client.post(f"{url}/vote", json={"customer_id": "cus_target", "note": "asked on a call", "source": "call"},
                                    headers=pm), 201)
    await json_of(await client.post(f"{url}/vote", headers=quiet), 201)
    await json_of(await client.post(f"{url}/vote", headers=blocked), 201)
    await json_of(await client.post(f"{url}/comments", json={"body": "Okta first", "internal": True},
                                    headers=dev), 201)
    jo = (await store.get_login("jo@acmeanvils.example"))[0]
    notifier = client.app[RUNTIME].notifier
    assert (await client.get("/forum/unsubscribe", params={
        "token": notifier.tokens.make(jo.id, idea["id"])})).status == 200
    globex = (await store.get_login("b@globex.example"))[0]
    await json_of(await client.patch(f"/api/accounts/{globex.id}", json={"blocked": True}, headers=pm))

    entry = await _entry(client, pm, [idea["id"]])
    await json_of(await client.post(f"/api/changelog/{entry['id']}/publish", headers=pm))
    assert await _settled(client, inbox, 1) == ["buyer@target.example"]
    mail = inbox.messages[0].get_content()
    assert "you voted for it" in mail and f"/forum/changelog/{entry['id']}" in mail
    notices = await _changelog_notices(client, entry["id"])
    assert notices["buyer@target.example"] == notices["jo@acmeanvils.example"] == 1
    assert notices["dev@crm.example"] == notices["pm@crm.example"] == 0
    assert called  # the customer never voted in person: staff recorded it


async def test_a_follower_of_two_shipped_ideas_is_told_once(mail_app) -> None:
    """Both ideas move in one publish: the second status change's notice to the same person
    is skipped with its mail."""
    client, inbox = mail_app
    pm = await token_for(client, "pm@crm.example", role="manager")
    voter = await token_for(client, "voter@target.example", customer_id="cus_target")
    ids = []
    for title in ("Bulk edit", "Bulk delete"):
        made = await json_of(await client.post("/api/ideas", json={"title": title, "body": ""}, headers=pm), 201)
        await json_of(await client.post(f"/api/ideas/{made['id']}/vote", headers=voter), 201)
        ids.append(made["id"])
    entry = await _entry(client, pm, ids)
    out = await json_of(await client.post(f"/api/changelog/{entry['id']}/publish", headers=pm))
    assert out["moved_idea_ids"] == ids
    assert await _settled(client, inbox, 1) == ["voter@target.example"]
    assert await _changelog_notices(client, entry["id"]) == Counter({"voter@target.example": 1})
