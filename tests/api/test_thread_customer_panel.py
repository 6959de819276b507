"""Beside a mention's conversation, who is speaking (as a support inbox shows the contact): the
customers the mention is surely linked to, with their CRM facts and the way to their 360; a
link still awaiting review is no fact about a customer yet."""

from __future__ import annotations

from api.keys import RUNTIME
from tests.conftest import post


def _panel(page: str) -> str:
    start = page.index('<aside class="side-col" aria-label="About the customer">')
    return page[start:page.index("</aside>", start)]


async def test_thread_shows_the_linked_customer_beside_the_conversation(app_client) -> None:
    client = await app_client(customers=True, posts=[
        post("1", "Acme Anvils: our invoices fail to export since Monday", handle="acmeanvils")])
    mention = (await client.app[RUNTIME].store.mentions_after(0, 10))[0]
    page = await (await client.get(f"/dashboard/mentions/{mention.id}")).text()
    panel = _panel(page)
    assert '<a href="/dashboard/customers/cus_acme">Acme Anvils</a>' in panel
    assert "<dt>Segment</dt><dd>enterprise</dd>" in panel and "<dd>5,000,000</dd>" in panel
    assert "Every mention, idea and vote of theirs" in panel


async def test_a_mention_of_nobody_known_says_so(app_client) -> None:
    client = await app_client(customers=True, posts=[
        post("2", "<b>anyone</b> else seeing timeouts?", handle="random_dev")])
    mention = (await client.app[RUNTIME].store.mentions_after(0, 10))[0]
    assert not mention.analysis.links
    panel = _panel(await (await client.get(f"/dashboard/mentions/{mention.id}")).text())
    assert "Not linked to a known customer." in panel and "/dashboard/customers/" not in panel
