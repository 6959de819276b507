"""The page a follower mail's unsubscribe link opens names the idea by its title, as the mail
did (not by a number the customer never saw), shown as typed; an idea hidden since is named by
number only, since the page must not show what the forum hides."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.api.forum_helpers import token_for
from tests.api.notify_helpers import Inbox, link_in, mail_overrides
from tests.helpers import json_of

TITLE = "Dark mode <b>please</b> & an <img src=x onerror=alert(1)> for nights"


@pytest.fixture
async def mail_app(app_client, smtp_inbox):
    inbox, port = smtp_inbox
    # A mail client opening the link is nobody in particular: not the machine's operator.
    overrides = mail_overrides(port, **{"api.trust_loopback": False})
    return await app_client(customers=True, overrides=overrides), inbox


async def _unsubscribe_link(client: TestClient, inbox: Inbox) -> tuple[str, int, dict[str, str]]:
    voter = await token_for(client, "voter@target.example", customer_id="cus_target")
    staff = await token_for(client, "pm@crm.example", role="team")
    idea = await json_of(await client.post("/api/ideas", json={"title": TITLE, "body": "Eyes hurt."},
                                           headers=voter), 201)
    await json_of(await client.post(f"/api/ideas/{idea['id']}/status", headers=staff,
                                    json={"status": "planned", "response": "In Q3."}))
    await inbox.wait_for(1, timeout=30)
    return link_in(inbox.to("voter@target.example")[0], "/forum/unsubscribe"), idea["id"], staff


async def test_the_page_names_the_idea_by_its_title_as_typed(mail_app) -> None:
    client, inbox = mail_app
    link, idea_id, _staff = await _unsubscribe_link(client, inbox)
    page = await client.get(link)
    html = await page.text()
    assert page.status == 200
    assert ("you no longer follow \u201cDark mode &lt;b&gt;please&lt;/b&gt; &amp; an "
            "&lt;img src=x onerror=alert(1)&gt; for nights\u201d") in html
    assert "<b>please" not in html and "<img src=x" not in html
    # A confirmation, said politely (a status), not shouted as an alert.
    assert '<p class="notice done" role="status">Done: you no longer follow' in html
    assert 'role="alert"' not in html


async def test_an_idea_hidden_since_is_named_by_number_only(mail_app) -> None:
    client, inbox = mail_app
    link, idea_id, staff = await _unsubscribe_link(client, inbox)
    await json_of(await client.patch(f"/api/ideas/{idea_id}", json={"hidden": True}, headers=staff))
    html = await (await client.get(link)).text()
    assert f"you no longer follow idea #{idea_id} and" in html
    assert "Dark mode" not in html
