"""Staff pages over real HTTP, as the operator of the machine first opens them (anonymous on
loopback, no account): every page the dashboard's navigation links to leads somewhere useful."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from api.keys import RUNTIME
from domain.routing import RoutableItem, RoutedItem

from domain import utcnow
import pytest

from tests.api.forum_helpers import token_for


async def test_operator_opening_the_changelog_is_sent_to_sign_in_and_back(app_client) -> None:
    # The nav's "Changelog" once answered the operator with a 403 page and no way on: an
    # entry is published in a manager's name, so the way on is signing in as one.
    client = await app_client(customers=True)
    for path in ("/dashboard/changelog", "/dashboard/changelog/new", "/dashboard/changelog/7?saved=1"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303, path
        where = urlsplit(resp.headers["Location"])
        assert where.path == "/forum/signin" and parse_qs(where.query)["next"] == [path]
    form = await (await client.get("/forum/signin?next=/dashboard/changelog")).text()
    assert 'value="/dashboard/changelog"' in form  # the sign-in form carries the way back


async def test_changelog_still_refuses_who_may_not_write(app_client) -> None:
    client = await app_client(customers=True)
    team = await token_for(client, "dev@crm.example", role="team")
    assert (await client.get("/dashboard/changelog", headers=team, allow_redirects=False)).status == 403
    # A form post without an account is refused, never redirected (a redirect would drop it).
    assert (await client.post("/dashboard/changelog/new", data={"title": "x"},
                              allow_redirects=False)).status in (401, 403)


async def test_review_queue_explains_what_a_link_is_and_its_rules(app_client) -> None:
    # "136 pending links" over chips reading "fuzzy 77", "alias 35", "person name 23" told a
    # new manager neither what a link is, what confirming does, nor what the rules mean.
    client = await app_client(customers=True)
    page = await (await client.get("/dashboard/links")).text()
    assert "Confirm a right link" in page and "reject a wrong one" in page
    for rule, meaning in (("fuzzy", "spelt nearly like"), ("alias", "alias words"),
                          ("person name", "contacts"), ("company name", "company name appears")):
        assert f"<dt>{rule}</dt><dd>" in page and meaning in page, rule


async def test_team_queue_opens_on_what_needs_work_and_says_so(app_client) -> None:
    # "1 waiting · 2 shown" over a list holding a finished item read as a miscount; and a
    # queue that opened on every status buried the work under what was done.
    client = await app_client('[[routing.teams]]\nkey = "care"\nname = "Customer care"\n', customers=True)
    store = client.app[RUNTIME].store
    for n, text in enumerate(["Invoices broken since Monday", "Refund came through, thanks"], start=1):
        await store.route_item(RoutedItem(item=RoutableItem(kind="mention", id=str(n), text=text, source="x"),
                                          rule_id="r", team_key="care", event="mention.analysed",
                                          routed_at=utcnow() - timedelta(minutes=n)), [])
    done = await client.post("/api/routed/2/status", json={"status": "done", "by": "Morgan"})
    assert done.status == 200, await done.text()
    page = await (await client.get("/teams/care")).text()
    assert "1 shown, newest first, of 1 needing work (new, acknowledged, in progress)" in page
    assert "Invoices broken since Monday" in page and "Refund came through" not in page
    every = await (await client.get("/teams/care?status=all")).text()
    assert "2 shown, newest first, of every status (done and dismissed too)" in every
    assert "Refund came through" in every and '<option value="all" selected>every status</option>' in every
    filtered = await (await client.get("/teams/care?status=done")).text()
    assert "1 shown, newest first, of 1 in “done”" in filtered and "Invoices broken" not in filtered


@pytest.mark.parametrize("path, link", [
    ("/dashboard", "/dashboard"), ("/dashboard/analytics", "/dashboard/analytics"),
    ("/dashboard/links", "/dashboard/links"), ("/dashboard/replies", "/dashboard/replies"),
    ("/dashboard/changelog", "/dashboard/changelog"), ("/dashboard/changelog/new", "/dashboard/changelog"),
    ("/teams", "/teams"), ("/deliveries?state=dead", "/deliveries?state=dead")])
async def test_every_staff_page_marks_its_own_link_in_the_nav(app_client, path: str, link: str) -> None:
    # Replies and the changelog once marked no link: the nav gave no sign of where one was.
    client = await app_client(customers=True)
    manager = await token_for(client, "pm@crm.example", role="manager")
    resp = await client.get(path, headers=manager)
    assert resp.status == 200
    nav = (await resp.text()).split('<nav class="dash-nav"', 1)[1].split("</nav>", 1)[0]
    assert nav.count('aria-current="page"') == 1 and f'href="{link}" aria-current="page"' in nav
