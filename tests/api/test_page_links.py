"""Links to collected posts on the staff pages are http(s) only: a feed's ``javascript:`` link
must never become an ``href`` a staff member can click."""

from __future__ import annotations

from datetime import UTC, datetime

from api.keys import RUNTIME
from api.template_filters import web_url
from domain.routing import RoutableItem, RoutedItem
from domain import Author, MentionQuery, RawPost, utcnow
from tests.helpers import ROUTING_IDLE

CONFIG = ROUTING_IDLE + """
[[routing.teams]]
key = "care"
name = "Customer care"
mail_to = ["care@example.com"]
"""
HOSTILE = "JavaScript:alert(document.cookie)"


def test_web_url_keeps_only_absolute_http_links() -> None:
    assert web_url("https://x.example/p?q=1") == "https://x.example/p?q=1"
    for bad in (HOSTILE, " javascript:alert(1)", "data:text/html,<b>", "//x.example/p",
                "/relative", "http:///nohost", None, "http://[::1"):
        assert web_url(bad) == "", bad


async def test_team_queue_and_thread_pages_drop_script_links(app_client) -> None:
    post = RawPost(source="rss", external_id="e1", text="Acme Anvils invoices are broken",
                   author=Author("a"), created_at=datetime(2026, 1, 2, tzinfo=UTC), url=HOSTILE)
    client = await app_client(CONFIG, customers=True, posts=[post])
    store = client.app[RUNTIME].store
    item = RoutableItem(kind="mention", id="1", text="Invoices broken", source="rss", url=HOSTILE)
    await store.route_item(RoutedItem(item=item, rule_id="r", team_key="care",
                                      event="mention.analysed", routed_at=utcnow()), [])
    team = await (await client.get("/teams/care")).text()
    assert "Invoices broken" in team and "alert(" not in team
    (mention,) = (await store.list_mentions(MentionQuery())).items
    thread = await (await client.get(f"/dashboard/mentions/{mention.id}")).text()
    assert "invoices are broken" in thread and "alert(" not in thread
