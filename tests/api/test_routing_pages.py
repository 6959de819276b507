"""The team queue and dead-letter pages over real HTTP, without JavaScript: customer context,
SLA overdue marks, acknowledge / status / comment forms with CSRF, re-sending a dead letter,
staff only, and hostile text escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from community.channels import RoutingChannel, register, unregister
from domain.routing import Delivery, RoutableItem, RoutedItem, Team, TeamChannels
from domain import utcnow
from tests.api.forum_helpers import token_for
from tests.helpers import ROUTING_IDLE, csrf_of, sign_in_staff
from tests.request_statements import request_statements
from tests.stored import stored_delivery

CONFIG = ROUTING_IDLE + """
[[routing.teams]]
key = "care"
name = "Customer care"
mail_to = ["care@example.com"]
ack_sla_minutes = 5
"""

XSS = "<script>alert(1)</script>"


@pytest.fixture
async def client(app_client) -> TestClient:
    client = await app_client(CONFIG, customers=True)
    store = client.app[RUNTIME].store
    now = utcnow()
    late = RoutableItem(kind="mention", id="1", text="Invoices broken " + XSS, source="x",
                        topics=("billing",), sentiment=-0.8, customer_id="cus_acme",
                        customer_name="Acme Anvils", company="Acme Anvils", segment="enterprise",
                        revenue=5_000_000, url="https://x.example/1")
    fresh = RoutableItem(kind="idea", id="7", text="Bulk export", title="Bulk export", votes=3,
                         impact=12.5, source="forum")
    await store.route_item(RoutedItem(item=late, rule_id="r", team_key="care", event="mention.analysed",
                                      priority="high", routed_at=now - timedelta(minutes=10)),
                           [Delivery(None, "care", "mail", {"to": ["care@example.com"]},
                                     {"subject": "s", "body": "b"}, "key-1", next_attempt_at=now)])
    await store.route_item(RoutedItem(item=fresh, rule_id="r", team_key="care", event="idea.created",
                                      routed_at=now), [])
    return client


async def _dead_letter(client: TestClient) -> int:
    store = client.app[RUNTIME].store
    (claimed,) = await store.claim_deliveries("w", utcnow(), utcnow() + timedelta(minutes=1), 5)
    await store.delivery_failed(claimed.id, "w", "attempt 1: SMTP 550: " + XSS, None)
    return claimed.id


async def test_team_queue_page_shows_context_and_overdue(client: TestClient) -> None:
    teams = await (await client.get("/teams")).text()
    assert 'href="/teams/care"' in teams and "1 overdue" in teams
    resp = await client.get("/teams/care")
    assert resp.status == 200
    page = await resp.text()
    assert page.count('class="mention routed') == 2
    # Newest first: the idea, then the overdue mention.
    idea = page[page.index('id="routed-2"'):page.index('id="routed-1"')]
    late = page[page.index('id="routed-1"'):]
    assert "SLA overdue" in late and "Acme Anvils" in late and "enterprise" in late
    assert "5,000,000" in late and "Linked mentions" in late
    assert "SLA overdue" not in idea and "12.5" in idea and "Votes" in idea
    assert XSS not in page and "&lt;script&gt;" in page
    assert 'href="/teams"' in page and 'href="/deliveries?state=dead"' in page  # the nav
    assert (await client.get("/teams/nobody")).status == 404
    assert (await client.get("/teams/care?status=lost")).status == 400


async def test_queue_forms_act_and_redirect(client: TestClient) -> None:
    store = client.app[RUNTIME].store
    page = await (await client.get("/teams/care")).text()
    csrf = csrf_of(page)
    resp = await client.post("/teams/care/routed/1/acknowledge", data={"csrf": csrf},
                             allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/teams/care?done=")
    resp = await client.post("/teams/care/routed/1/status", data={"csrf": csrf, "status": "in_progress"},
                             allow_redirects=False)
    assert resp.status == 303
    resp = await client.post("/teams/care/routed/1/comment", data={"csrf": csrf, "text": "Calling them"})
    assert resp.status == 200 and "Comment added" in await resp.text()
    routed = await store.get_routed(1)
    assert routed.status == "in_progress" and routed.acknowledged_by == "operator"
    assert [e.action for e in await store.routing_log(1)] == ["routed", "acknowledged", "status", "comment"]
    page = await (await client.get("/teams/care")).text()
    assert "SLA overdue" not in page  # acknowledged now
    resp = await client.post("/teams/care/routed/1/status", data={"csrf": csrf, "status": "lost"})
    assert resp.status == 200 and "status must be one of" in await resp.text()
    resp = await client.post("/teams/care/routed/1/comment", data={"csrf": csrf, "text": " "})
    assert "comment text must be" in await resp.text()
    assert (await client.post("/teams/care/routed/99/acknowledge", data={})).status == 404
    assert (await client.post("/teams/other/routed/1/acknowledge", data={})).status == 404


async def test_dead_letters_page_and_resend(client: TestClient) -> None:
    delivery_id = await _dead_letter(client)
    resp = await client.get("/deliveries?state=dead")
    assert resp.status == 200
    page = await resp.text()
    row = page[page.index(f'id="delivery-{delivery_id}"'):]
    assert "SMTP 550" in row and "care@example.com" in row and "Re-send" in row
    assert XSS not in page
    assert (await client.get("/deliveries?state=lost")).status == 400
    resp = await client.post(f"/deliveries/{delivery_id}/resend", data={"csrf": csrf_of(page)})
    assert resp.status == 200 and "queued again" in await resp.text()
    d = await stored_delivery(client.app[RUNTIME].store, delivery_id)
    assert d.state == "pending" and d.idempotency_key == "key-1"
    resp = await client.post(f"/deliveries/{delivery_id}/resend", data={"csrf": ""})
    assert "only dead deliveries" in await resp.text()
    assert (await client.post("/deliveries/999/resend", data={})).status == 404


async def test_pages_are_staff_only_and_forms_need_csrf(client: TestClient) -> None:
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    for path in ("/teams", "/teams/care", "/deliveries?state=dead"):
        assert (await client.get(path, headers=customer)).status == 403
    assert (await client.post("/teams/care/routed/1/acknowledge", headers=customer)).status == 403
    # A team member signed in through the browser: forms without the session's token are refused.
    await sign_in_staff(client, "pm@crm.example", "team", "Pm")
    store = client.app[RUNTIME].store
    page = await (await client.get("/teams/care")).text()
    token = csrf_of(page)
    assert token
    bad = await client.post("/teams/care/routed/1/acknowledge", data={"csrf": "forged"},
                            allow_redirects=False)
    assert bad.status == 403 and (await store.get_routed(1)).acknowledged_at is None
    ok = await client.post("/teams/care/routed/1/acknowledge", data={"csrf": token},
                           allow_redirects=False)
    assert ok.status == 303 and (await store.get_routed(1)).acknowledged_by == "Pm"


async def test_teams_page_counts_every_waiting_item_past_a_page(client: TestClient) -> None:
    # The demo's morning: 1,046 mentions waiting for customer care, more than any page holds.
    store, now = client.app[RUNTIME].store, utcnow()
    for i in range(1044):
        item = RoutableItem(kind="mention", id=f"bulk-{i}", text=f"Invoice {i} failed", source="x")
        # The 700 oldest are past the 5-minute acknowledgement SLA (an hour old and more).
        age = timedelta(minutes=60 + i) if i < 700 else timedelta(seconds=(i - 700) // 2)
        await store.route_item(RoutedItem(item=item, rule_id="r", team_key="care",
                                          event="mention.analysed", routed_at=now - age), [])
    page = await (await client.get("/teams")).text()
    row = page[page.index('href="/teams/care"'):page.index("</tr>", page.index('href="/teams/care"'))]
    # 1,044 new ones plus the fixture's two (one of them overdue).
    assert "<td>1,046</td>" in row and "701 overdue" in row
    queue = await (await client.get("/teams/care")).text()
    assert "1,046 waiting" in queue and "701 overdue" in queue and "50 shown" in queue
    assert "1,046 in “new”" in await (await client.get("/teams/care?status=new")).text()


async def _routed_item_reads(client: TestClient) -> tuple[str, int]:
    """The /teams page and how many statements the request ran on routed items (the
    escalation job, the CRM consumer and the notices consumer read routed items on the same
    reader, at moments of their own: theirs are not counted)."""
    store = client.app[RUNTIME].store
    async with request_statements(store._reader) as calls:
        resp = await client.get("/teams")
        page = await resp.text()
    assert resp.status == 200, page
    return page, len([s for call in calls for s in call if "routed_items" in s])


async def test_teams_page_reads_the_same_for_two_teams_or_forty(client: TestClient) -> None:
    """The overview counted each team with reads of its own (two a team, N+1): the reads are
    now the same however many teams there are, and each team keeps its own figures and SLA."""
    store, now = client.app[RUNTIME].store, utcnow()
    _, reads_for_one = await _routed_item_reads(client)
    for n in range(40):
        key = f"region-{n:02d}"
        await store.save_team(Team(key, f"Region {n}", (), TeamChannels(), ack_sla_minutes=None if n % 2 else 30), now)
        for i in range(n % 3):
            item = RoutableItem(kind="mention", id=f"{key}-{i}", text="Refund please", source="x")
            await store.route_item(RoutedItem(item=item, rule_id="r", team_key=key, event="mention.analysed",
                                              routed_at=now - timedelta(hours=1)), [])
    page, reads_for_forty_one = await _routed_item_reads(client)
    assert reads_for_forty_one == reads_for_one == 1
    row = page[page.index('href="/teams/region-02"'):page.index("</tr>", page.index('href="/teams/region-02"'))]
    assert "<td>2</td>" in row and "2 overdue" in row  # an hour old, past its 30 minutes
    row = page[page.index('href="/teams/region-05"'):page.index("</tr>", page.index('href="/teams/region-05"'))]
    assert "<td>2</td>" in row and "overdue" not in row  # no SLA: nothing is overdue
    assert "1 overdue" in page[page.index('href="/teams/care"'):]


async def test_the_empty_dead_letter_page_names_every_registered_channel(client: TestClient) -> None:
    # The page's explanation follows the channel registry: a channel module added later is named
    # without editing the template.
    class Pager(RoutingChannel):
        @classmethod
        def payload(cls, routed, team, queue_url):
            return {}

        @classmethod
        async def send(cls, ctx, delivery):
            return None

    register("pager")(Pager)
    try:
        page = await (await client.get("/deliveries?state=dead")).text()
    finally:
        unregister("pager")
    assert "No dead letters" in page
    assert "to a team (by discord, mail, pager, slack, webhook)" in page
