"""The reply box, the thread's replies, the replies queue and the customer 360 panel as plain
form posts (no JavaScript), with a fake Mastodon on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.dashboard.stream import EVENT_CACHE
from api.keys import RUNTIME
from domain.replies import PlatformLimit, Reply
from domain.routing import RoutableItem, RoutedItem
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, MastodonWrites
from tests.community.reply_fixtures import TOKEN_ENV, mastodon_mention, mastodon_source, served_mastodon
from tests.conftest import T0
from tests.helpers import csrf_of, sign_in_staff, start_app
from tests.request_statements import request_statements

TEXT = "Thanks Target — bulk routing <b>shipped</b>: https://ideas.nimbus.example/forum/ideas/3"


def config(base: str, approval: bool) -> str:
    return f"[replies]\nrequire_approval = {'true' if approval else 'false'}\n" + mastodon_source(base)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[MastodonWrites, str]]:
    async with served_mastodon() as served:
        yield served


async def app(aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str],
              monkeypatch: pytest.MonkeyPatch, approval: bool) -> TestClient:
    monkeypatch.setenv(TOKEN_ENV, fake[0].token)
    return await start_app(aiohttp_client, tmp_path, config(fake[1], approval))


async def test_a_manager_replies_from_the_thread_page_without_javascript(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = await app(aiohttp_client, tmp_path, fake, monkeypatch, approval=False)
    mention_id = await mastodon_mention(client.app[RUNTIME].store)
    await sign_in_staff(client, "lead@crm.example", role="manager", name="Lee")
    page = await (await client.get(f"/dashboard/mentions/{mention_id}")).text()
    assert 'action="/dashboard/mentions/%d/replies"' % mention_id in page
    token = csrf_of(page)

    refused = await client.post(f"/dashboard/mentions/{mention_id}/replies",
                                data={"text": TEXT, "action": "send"}, allow_redirects=False)
    assert refused.status == 403  # no CSRF token: a cross-site form cannot reply as the manager
    resp = await client.post(f"/dashboard/mentions/{mention_id}/replies", allow_redirects=False,
                             data={"csrf": token, "text": TEXT, "action": "send",
                                   "back": "https://evil.example/"})
    assert resp.status == 303 and re.fullmatch(rf"/dashboard/mentions/{mention_id}#reply-\d+", resp.headers["Location"])

    await client.app[RUNTIME].replies.sender.settled()  # the round the send woke, off the request
    [posted] = [s for s in fake[0].statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]
    page = await (await client.get(f"/dashboard/mentions/{mention_id}")).text()
    assert "state-sent" in page and f'href="{posted["url"]}"' in page
    assert "&lt;b&gt;shipped&lt;/b&gt;" in page and "<b>shipped</b>" not in page  # text, never markup
    customer = await (await client.get("/dashboard/customers/cus_target")).text()
    assert 'id="c360-replies"' in customer and posted["url"] in customer

    empty = await client.post(f"/dashboard/mentions/{mention_id}/replies", allow_redirects=False,
                              data={"csrf": token, "text": "   ", "action": "send"})
    assert empty.status == 303 and "reply_error=" in empty.headers["Location"]
    shown = await (await client.get(empty.headers["Location"])).text()
    assert 'role="alert">text is empty' in shown


async def test_a_shipped_batch_is_approved_in_one_form_post(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = await app(aiohttp_client, tmp_path, fake, monkeypatch, approval=True)
    store = client.app[RUNTIME].store
    ids = [await mastodon_mention(store, str(115600000000000101 + n), customer_id=f"cus_{n}") for n in range(5)]
    await store.add_replies([Reply(mention_id=m, source="mastodon", text="Thanks for the idea: this shipped.",
                                   drafted_by="system", drafted_at=T0, team_key="product", idea_id=7,
                                   batch_key="idea:7:done") for m in ids], [""] * 5)
    await sign_in_staff(client, "lead@crm.example", role="manager", name="Lee")
    page = await (await client.get("/dashboard/replies")).text()
    assert "Approve all 5" in page and page.count("Thanks for the idea: this shipped.") == 1

    resp = await client.post("/dashboard/replies/approve-batch", allow_redirects=False,
                             data={"csrf": csrf_of(page), "batch": "idea:7:done", "back": "/dashboard/replies"})

    assert resp.status == 303 and resp.headers["Location"] == "/dashboard/replies?approved=5"
    assert {r.state for r in await store.list_replies(batch_key="idea:7:done")} == {"approved"}
    assert "5 replies approved" in await (await client.get(resp.headers["Location"])).text()


async def test_team_members_cannot_approve_from_the_queue(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = await app(aiohttp_client, tmp_path, fake, monkeypatch, approval=True)
    store = client.app[RUNTIME].store
    mention_id = await mastodon_mention(store)
    [reply] = await store.add_replies([Reply(mention_id=mention_id, source="mastodon", text=TEXT,
                                             drafted_by="account:999", drafted_at=T0)], [""])
    await sign_in_staff(client, "member@crm.example", role="team", name="Mo")
    page = await (await client.get("/dashboard/replies")).text()
    resp = await client.post(f"/dashboard/replies/{reply.id}/approve", allow_redirects=False,
                             data={"csrf": csrf_of(page), "back": "/dashboard/replies"})
    assert resp.status == 303 and "reply_error=only+managers" in resp.headers["Location"]
    assert (await store.get_reply(reply.id or 0)).state == "draft" and fake[0].posts == []


async def test_a_team_queue_item_has_a_reply_box_that_drafts_for_the_team(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, fake[0].token)
    client = await start_app(aiohttp_client, tmp_path, config(fake[1], True) + '''
[[routing.teams]]
key = "support"
name = "Support"
''')
    store = client.app[RUNTIME].store
    mention_id = await mastodon_mention(store)
    token = await sign_in_staff(client, "member@crm.example", role="team", name="Mo")
    routed = await client.post("/api/route", json={"mention_id": mention_id, "team": "support"},
                               headers={"X-CSRF-Token": token})
    assert routed.status == 201, await routed.text()
    page = await (await client.get("/teams/support")).text()
    assert f'action="/dashboard/mentions/{mention_id}/replies"' in page and "Reply on mastodon" in page
    resp = await client.post(f"/dashboard/mentions/{mention_id}/replies", allow_redirects=False, data={
        "csrf": csrf_of(page), "text": TEXT, "team": "support", "action": "send",
        "back": f"/teams/support#routed-{(await routed.json())['id']}"})
    # Approval is on: the member's reply waits for a second person, in the team's queue.
    assert resp.status == 303 and resp.headers["Location"].startswith("/teams/support#routed-")
    [draft] = await store.list_replies(team_key="support")
    assert draft.state == "draft" and fake[0].posts == []
    queue = await (await client.get("/dashboard/replies?team=support")).text()
    assert f'id="reply-{draft.id}"' in queue


async def test_a_hacker_news_reply_is_marked_sent_by_hand(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = await app(aiohttp_client, tmp_path, fake, monkeypatch, approval=False)
    store = client.app[RUNTIME].store
    mention_id = await mastodon_mention(store, "41234567", source="hackernews", customer_id="cus_hn")
    await sign_in_staff(client, "lead@crm.example", role="manager", name="Lee")
    page = await (await client.get(f"/dashboard/mentions/{mention_id}")).text()
    resp = await client.post(f"/dashboard/mentions/{mention_id}/replies", allow_redirects=False,
                             data={"csrf": csrf_of(page), "text": TEXT, "action": "send"})
    await client.app[RUNTIME].replies.sender.settled()  # the round the send woke records the failure
    page = await (await client.get(resp.headers["Location"])).text()
    assert page.count("Hacker News has no write API: copy the text and open the thread") == 2  # box + reply
    [reply] = await store.list_replies(mention_ids=[mention_id])
    bad = await client.post(f"/dashboard/replies/{reply.id}/mark-sent", allow_redirects=False, data={
        "csrf": csrf_of(page), "url": "javascript:alert(1)", "back": f"/dashboard/mentions/{mention_id}"})
    assert "reply_error=url+must+be" in bad.headers["Location"]
    done = await client.post(f"/dashboard/replies/{reply.id}/mark-sent", allow_redirects=False, data={
        "csrf": csrf_of(page), "url": "https://news.ycombinator.com/item?id=41234999",
        "back": f"/dashboard/mentions/{mention_id}"})
    assert done.status == 303
    page = await (await client.get(f"/dashboard/mentions/{mention_id}")).text()
    assert "state-sent" in page and 'href="https://news.ycombinator.com/item?id=41234999"' in page


async def test_a_mention_read_by_a_removed_source_says_why_it_cannot_be_sent(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = await app(aiohttp_client, tmp_path, fake, monkeypatch, approval=False)
    # Read by an instance that was in the configuration then; "mastodon-social" is another one.
    mention_id = await mastodon_mention(client.app[RUNTIME].store, key="mastodon-retired")
    await sign_in_staff(client, "lead@crm.example", role="manager", name="Lee")

    page = await (await client.get(f"/dashboard/mentions/{mention_id}")).text()
    assert ("Sending is off: source &#39;mastodon-retired&#39;, which read this mention, is no longer "
            "configured: reply on mastodon itself.") in page
    state = await (await client.get(f"/api/mentions/{mention_id}/replies")).json()
    assert state["can_send"] is False and "'mastodon-retired'" in state["off_reason"]
    resp = await client.post(f"/dashboard/mentions/{mention_id}/replies", allow_redirects=False,
                             data={"csrf": csrf_of(page), "text": "Thanks, it shipped", "action": "send"})
    assert resp.status == 303 and "no+longer+configured" in resp.headers["Location"]
    assert fake[0].posts == []


async def test_the_queue_shows_a_platform_limit_another_process_was_told(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = await app(aiohttp_client, tmp_path, fake, monkeypatch, approval=True)
    store = client.app[RUNTIME].store
    await sign_in_staff(client, "lead@crm.example", role="manager", name="Lee")
    assert "Platforms that asked us to wait" not in await (await client.get("/dashboard/replies")).text()
    until = (datetime.now(timezone.utc) + timedelta(minutes=10)).replace(microsecond=0)
    await store.set_platform_limit(PlatformLimit("mastodon", "mastodon-social", until,
                                                 "mastodon rate limit reached on the reply: try again in 600 s"))

    page = await (await client.get("/dashboard/replies")).text()

    shown = until.isoformat().replace("+00:00", "Z")
    assert "Platforms that asked us to wait" in page
    assert (f'<b>mastodon</b> (source mastodon-social): replies through it go after <time datetime="{shown}">'
            f'{shown}</time>: mastodon rate limit reached on the reply: try again in 600 s') in page
    listed = await (await client.get("/api/replies")).json()
    assert listed["limits"] == [{"platform": "mastodon", "source": "mastodon-social", "until": shown,
                                 "reason": "mastodon rate limit reached on the reply: try again in 600 s"}]


async def test_two_instances_of_one_platform_each_show_their_own_reply_state(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two Mastodon sources, one that may post and one without a reply table: the stream's
    cards and the team queue show, per mention, the source that read it and its own state
    (the platform as a whole can send, which once made both folds look ready)."""
    monkeypatch.setenv(TOKEN_ENV, fake[0].token)
    client = await start_app(aiohttp_client, tmp_path, config(fake[1], False) + f'''
[[sources]]
kind = "mastodon"
name = "mastodon-fosstodon"
instance = "{fake[1]}"
hashtags = ["nimbus"]

[[routing.teams]]
key = "support"
name = "Support"
''')
    store = client.app[RUNTIME].store
    social = await mastodon_mention(store)
    fosstodon = await mastodon_mention(store, "115600000000000777", customer_id="cus_other",
                                       key="mastodon-fosstodon")
    token = await sign_in_staff(client, "lead@crm.example", role="manager", name="Lee")
    for mention_id in (social, fosstodon):
        routed = await client.post("/api/route", json={"mention_id": mention_id, "team": "support"},
                                   headers={"X-CSRF-Token": token})
        assert routed.status == 201, await routed.text()
    why = "source &#39;mastodon-fosstodon&#39; has no [sources.reply] table"

    # The stream's cards are drawn from this JSON (mention_card.js).
    stream = await (await client.get("/api/dashboard/mentions")).json()
    replies = {m["id"]: m["reply"] for m in stream["items"]}
    assert replies[social] == {"source": "mastodon-social", "off": ""}
    assert replies[fosstodon]["source"] == "mastodon-fosstodon"
    assert replies[fosstodon]["off"].startswith("source 'mastodon-fosstodon' has no [sources.reply] table")

    # A card the live feed adds is drawn from its event, which says the same.
    event = client.app[EVENT_CACHE].event(await store.get_mention(fosstodon), {})
    live = json.loads(event.split(b"data: ", 1)[1])
    assert live["reply"] == replies[fosstodon]

    page = await (await client.get("/teams/support")).text()
    # Each queue item's fold: its summary, then the form it opens.
    folds = {int(mention_id): summary + rest for summary, mention_id, rest in re.findall(
        r'<summary class="reply-fold">(.*?)</summary>\s*<form method="post" '
        r'action="/dashboard/mentions/(\d+)/replies">(.*?)</details>', page, re.S)}
    assert sorted(folds) == sorted([social, fosstodon])
    assert "via mastodon-social" in folds[social] and "drafts only" not in folds[social]
    assert "Sending is off" not in folds[social] and "disabled" not in folds[social]
    # Off through fosstodon: said quietly (no warning badge), the disabled Send described.
    assert "via mastodon-fosstodon" in folds[fosstodon] and "drafts only" in folds[fosstodon]
    assert "badge" not in folds[fosstodon]
    assert f"Sending is off: {why}" in folds[fosstodon] and "disabled" in folds[fosstodon]
    assert f'aria-describedby="queue-reply-off-{fosstodon}"' in folds[fosstodon]


async def test_a_team_page_reads_its_routed_mentions_in_one_round_trip(
        aiohttp_client: Any, tmp_path: Path, fake: tuple[MastodonWrites, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The reply folds need each routed mention's source: one store read for the page, not
    one per item (a full page of 50 items once cost 50 round trips)."""
    monkeypatch.setenv(TOKEN_ENV, fake[0].token)
    client = await start_app(aiohttp_client, tmp_path, config(fake[1], False) + '''
[[routing.teams]]
key = "support"
name = "Support"
''')
    store = client.app[RUNTIME].store
    ids = [await mastodon_mention(store, str(115600000000000101 + n), customer_id=f"cus_{n}")
           for n in range(6)]
    token = await sign_in_staff(client, "lead@crm.example", role="manager", name="Lee")
    for mention_id in ids:
        routed = await client.post("/api/route", json={"mention_id": mention_id, "team": "support"},
                                   headers={"X-CSRF-Token": token})
        assert routed.status == 201, await routed.text()
    # Items whose mention is gone or whose id was never a stored one: no fold, no failure.
    # A 30-digit id and 2**63 (one past a store's integers) are numbers no store holds: the
    # store leaves them out rather than overflowing (a 500 for the whole page).
    for odd in ("987654321", "1" * 30, str(2**63), "9" * 19, "\u0663", "\u00b2", "-4", ""):
        await store.route_item(RoutedItem(item=RoutableItem(kind="mention", id=odd, text="gone", source="mastodon"),
                                          rule_id="manual", team_key="support", event="manual",
                                          routed_at=T0), ())
    # The request's reads only: routing's consumer (get_mention), the CRM consumer and the
    # replies job read mentions by id on the same reader at moments of their own.
    async with request_statements(store._reader) as calls:
        resp = await client.get("/teams/support")
        page = await resp.text()
    assert resp.status == 200, page
    assert sorted(int(m) for m in re.findall(r'action="/dashboard/mentions/(\d+)/replies"', page)) == ids
    mention_reads = [s for call in calls for s in call if re.search(r"FROM mentions WHERE id\b", s)]
    assert len(mention_reads) == 1, mention_reads
