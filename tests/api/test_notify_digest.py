"""The daily digest over a real SMTP server (aiosmtpd) on 127.0.0.1, with a fake clock: one
mail per account and day that summarises the status changes on followed ideas, queued once
however often the job runs, and only for accounts that asked for it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

import crmsphere.jobs
from api.keys import RUNTIME, SCHEDULER
from community.digest import DailyDigest, digest_day
from domain import utcnow
from tests.api.forum_helpers import token_for
from tests.api.notify_helpers import BASE, link_in, mail_overrides, settled
from tests.helpers import paused_jobs


@pytest.fixture
async def mail_app(app_client, smtp_inbox):
    inbox, port = smtp_inbox
    overrides = mail_overrides(port, **{"notify.digest_check_seconds": 0})
    return await app_client(customers=True, overrides=overrides), inbox


def test_digest_day_is_yesterday_from_the_configured_hour() -> None:
    at = datetime(2026, 11, 2, 6, 59, tzinfo=UTC)
    assert digest_day(at, 7) is None
    assert digest_day(at + timedelta(minutes=1), 7) == "2026-11-01"
    assert digest_day(datetime(2026, 11, 2, 0, 0, tzinfo=UTC), 0) == "2026-11-01"


async def test_daily_digest_mails_once_per_account_and_day(mail_app) -> None:
    client, inbox = mail_app
    runtime = client.app[RUNTIME]
    store = runtime.store
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    al = await token_for(client, "al@target.example", customer_id="cus_target")
    staff = await token_for(client, "pm@crm.example", role="team")
    # Jo wants only the digest; Al keeps the default (a mail on each change, no digest).
    resp = await client.put("/api/notifications/settings", json={"mail": False, "digest": True}, headers=jo)
    assert await resp.json() == {"mail": False, "digest": True}
    assert (await client.put("/api/notifications/settings", json={"digest": "yes"}, headers=jo)).status == 400
    ideas = []
    for title in ("Dark mode", "Offline <b>sync</b>"):
        made = await client.post("/api/ideas", json={"title": title, "body": ""}, headers=jo)
        ideas.append((await made.json())["id"])
    await client.post(f"/api/ideas/{ideas[0]}/vote", headers=al)
    for idea_id, status in ((ideas[0], "planned"), (ideas[1], "under-review")):
        resp = await client.post(f"/api/ideas/{idea_id}/status",
                                 json={"status": status, "response": f"Looked at #{idea_id}."}, headers=staff)
        assert resp.status == 200
    await inbox.wait_for(1, timeout=15)
    # Al's immediate mail; Jo gets none (mail off)
    assert [m["To"] for m in inbox.messages] == ["al@target.example"]

    today = utcnow().date()
    tomorrow = datetime.combine(today + timedelta(days=1), time(8), tzinfo=UTC)
    early = DailyDigest(store, runtime.settings.notify, BASE, clock=lambda: tomorrow.replace(hour=6))
    assert await early.run() == 0  # before digest_hour
    digest = DailyDigest(store, runtime.settings.notify, BASE, clock=lambda: tomorrow)
    assert await digest.run() == 1
    assert await digest.run() == 0  # idempotent per account and day
    await inbox.wait_for(2, timeout=15)
    mail = inbox.to("jo@acmeanvils.example")[0]
    text = mail.get_content()
    assert mail["Subject"] == "Your daily digest: 2 updates on ideas you follow"
    assert f"What happened on {today.isoformat()}" in text
    assert "Looked at #" in text and f"{BASE}/forum/ideas/{ideas[1]}" in text and "Offline <b>sync</b>" in text
    assert f"{BASE}/forum/settings" in text and mail["List-Unsubscribe"] == f"<{BASE}/forum/settings>"
    # The day after has no news: nothing more is sent.
    later = DailyDigest(store, runtime.settings.notify, BASE, clock=lambda: tomorrow + timedelta(days=1))
    assert await later.run() == 0
    assert len(inbox.to("jo@acmeanvils.example")) == 1


async def test_digest_job_runs_only_where_the_lease_is_held(app_client, smtp_inbox) -> None:
    _, port = smtp_inbox
    client = await app_client(overrides=mail_overrides(port, **{"notify.digest_check_seconds": 3600}))
    store, coordinator = client.app[RUNTIME].store, client.app[SCHEDULER]
    assert coordinator.jobs["daily-digest"][0].leader_only
    assert coordinator.jobs["daily-digest"][1] == 3600  # notify.digest_check_seconds
    assert coordinator.is_leader  # no other process: this one holds the one lease
    assert not await store.acquire_lease("scheduler", "another process", 30.0, utcnow().timestamp())


async def test_digest_job_of_the_server_mails_once_per_day_across_the_hour(
        app_client, smtp_inbox, monkeypatch) -> None:
    """The serving app's own digest job (its declaration, the lease, its period), run round by
    round on a paused coordinator with a fake clock crossing ``notify.digest_hour``, and the
    routing outbox worker delivering to the SMTP server."""
    inbox, port = smtp_inbox
    today = utcnow().date()
    tomorrow = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
    clock = {"now": tomorrow.replace(hour=6, minute=56)}
    real_digest = crmsphere.jobs.DailyDigest
    # The job builds its DailyDigest with the wall clock; give it the fake one instead.
    monkeypatch.setattr(crmsphere.jobs, "DailyDigest",
                        lambda *args: real_digest(*args, clock=lambda: clock["now"]))
    overrides = mail_overrides(port, **{"notify.digest_check_seconds": 60, "notify.digest_hour": 7})
    client = await app_client(customers=True, overrides=overrides)
    runtime = client.app[RUNTIME]
    store = runtime.store
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    kim = await token_for(client, "kim@acmeanvils.example", customer_id="cus_jo")
    al = await token_for(client, "al@target.example", customer_id="cus_target")
    staff = await token_for(client, "pm@crm.example", role="team")
    for who, wants in ((jo, {"mail": False, "digest": True}), (kim, {"mail": False, "digest": True}),
                       (al, {"mail": False, "digest": False})):
        resp = await client.put("/api/notifications/settings", json=wants, headers=who)
        assert await resp.json() == wants
    made = await client.post("/api/ideas", json={"title": "Dark mode", "body": ""}, headers=jo)
    idea_id = (await made.json())["id"]
    for who in (kim, al):
        assert (await client.post(f"/api/ideas/{idea_id}/vote", headers=who)).status == 201
    for status in ("under-review", "planned"):
        resp = await client.post(f"/api/ideas/{idea_id}/status",
                                 json={"status": status, "response": f"Now {status}."}, headers=staff)
        assert resp.status == 200

    async def rounds(*minutes_after_midnight: int) -> None:
        """One round of the jobs due at each time (tomorrow, UTC): the digest ran in each."""
        for minutes in minutes_after_midnight:
            clock["now"] = tomorrow + timedelta(minutes=minutes)
            assert "daily-digest" in await jobs.run_due()

    async with paused_jobs(client, lambda: clock["now"]) as jobs:
        await rounds(6 * 60 + 56, 6 * 60 + 57, 6 * 60 + 58, 6 * 60 + 59)  # before the hour
        assert await settled(runtime, inbox, 0) == [] and inbox.attempts == 0
        assert not (await store.list_deliveries()).items  # nothing was queued
        await rounds(7 * 60 + 1)
        assert len(await settled(runtime, inbox, 2)) == 2
        await rounds(7 * 60 + 2, 7 * 60 + 3, 23 * 60 + 30)  # more periods the same day: nothing more
        assert sorted(await settled(runtime, inbox, 2)) == ["jo@acmeanvils.example", "kim@acmeanvils.example"]
    assert len((await store.list_deliveries()).items) == 2
    assert inbox.to("al@target.example") == []  # opted out of the digest
    for mail in inbox.messages:
        assert mail["Subject"] == "Your daily digest: 2 updates on ideas you follow"
        text = mail.get_content()
        assert f"What happened on {today.isoformat()}" in text
        assert "Now under-review." in text and "Now planned." in text
        assert f"{BASE}/forum/ideas/{idea_id}" in text

    # The "turn off" link opens the settings page, whose form turns the digest off.
    settings_path = link_in(inbox.to("jo@acmeanvils.example")[0], "/forum/settings").rstrip("?")
    page = await client.get(settings_path, headers=jo)
    assert page.status == 200
    assert 'name="digest" value="1" checked' in await page.text()
    turned = await client.post(settings_path, data={"mail": ""}, headers=jo, allow_redirects=False)
    assert turned.status == 303
    resp = await client.get("/api/notifications/settings", headers=jo)
    assert await resp.json() == {"mail": False, "digest": False}
    jo_account = (await store.get_login("jo@acmeanvils.example"))[0]
    kim_account = (await store.get_login("kim@acmeanvils.example"))[0]
    wanting = await store.digest_accounts(blocked=False)
    assert jo_account.id not in wanting and kim_account.id in wanting
