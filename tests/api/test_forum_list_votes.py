"""The ideas list's one vote form (POST /forum/votes) without JavaScript: the pressed button
says which idea, the page carries the token and the way back once, and a cross-site post or a
forged button is refused."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from api.csrf_mask import mask
from api.keys import RUNTIME
from tests.helpers import csrf_of, sign_in_customer


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True, overrides={"forum.trust_signup_email": True})


async def _ideas(client, csrf: str, *titles: str) -> list[int]:
    ids = []
    for title in titles:
        resp = await client.post("/forum/submit", data={"csrf": csrf, "title": title, "body": ""},
                                 allow_redirects=False)
        assert resp.status == 303, await resp.text()
        ids.append(int(resp.headers["Location"].rsplit("/", 1)[1]))
    return ids


def _list_form(html: str) -> dict[str, str]:
    """The hidden fields of the list's vote form, as a browser would send them."""
    form = html[html.index('action="/forum/votes"'):html.index("</form>", html.index('action="/forum/votes"'))]
    return {name: unescape(value) for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form)}


async def test_vote_and_unvote_from_the_list_come_back_to_the_card(client) -> None:
    csrf = await sign_in_customer(client)
    first, second = await _ideas(client, csrf, "Export invoices as CSV", "Dark mode")
    page = await (await client.get("/forum", params={"sort": "top", "q": "dark"})).text()
    fields = _list_form(page)
    assert fields["next"] == "/forum?sort=top&q=dark"
    assert f'name="vote" value="{second}" aria-pressed="false"' in page
    resp = await client.post("/forum/votes", data={**fields, "vote": str(second)}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/forum?sort=top&q=dark#idea-{second}"
    store = client.app[RUNTIME].store
    assert (await store.get_idea(second)).vote_count == 1 and (await store.get_idea(first)).vote_count == 0
    # The voted state shows on the list: pressed, "Voted", and the button now takes it back.
    page = await (await client.get("/forum")).text()
    assert (f'<button class="vote" name="unvote" value="{second}" aria-pressed="true" '
            'aria-label="Remove your vote for Dark mode">') in page
    assert '<span class="vote-state" aria-hidden="true">Voted</span>' in page
    resp = await client.post("/forum/votes", data={**_list_form(page), "unvote": str(second)}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/forum#idea-{second}"
    assert (await store.get_idea(second)).vote_count == 0


async def test_cross_site_and_forged_list_votes_are_refused(client) -> None:
    csrf = await sign_in_customer(client)
    (idea,) = await _ideas(client, csrf, "SSO with Okta")
    fields = _list_form(await (await client.get("/forum")).text())
    store = client.app[RUNTIME].store
    # Another site's page posting the form: it cannot read the token (none, or a made-up one).
    for forged in ({"vote": str(idea)}, {"csrf": "R9DvvFCwUbJOhd289T9BgronSusSchhee4zBRmnH51w", "vote": str(idea)}):
        resp = await client.post("/forum/votes", data=forged, allow_redirects=False)
        assert resp.status == 403
    # What a tampered page or a hand-made post sends as the button.
    for button in ({}, {"vote": "abc"}, {"vote": "-1"}, {"vote": "1e3"}, {"vote": str(idea), "unvote": str(idea)},
                   {"vote": "9" * 40}, {"vote": f"{idea}#x"}):
        resp = await client.post("/forum/votes", data={**fields, **button}, allow_redirects=False)
        assert resp.status == 400, button
        assert "vote button" in await resp.text()
    resp = await client.post("/forum/votes", data={**fields, "vote": "424242"}, allow_redirects=False)
    assert resp.status == 404
    # An open redirect through next is refused: back to the list instead.
    resp = await client.post("/forum/votes", data={**fields, "next": "//evil.example/x", "vote": str(idea)},
                             allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/forum#idea-{idea}"
    assert (await store.get_idea(idea)).vote_count == 1


async def test_signed_out_list_vote_signs_in_then_comes_back_to_the_card(client) -> None:
    csrf = await sign_in_customer(client)
    (idea,) = await _ideas(client, csrf, "Webhooks for new ideas")
    await client.post("/forum/signout", data={"csrf": csrf}, allow_redirects=False)
    page = await (await client.get("/forum", params={"sort": "new"})).text()
    assert "Sign in" in page and f'name="vote" value="{idea}"' in page
    resp = await client.post("/forum/votes", data={**_list_form(page), "vote": str(idea)}, allow_redirects=False)
    assert resp.status == 303
    where = urlsplit(resp.headers["Location"])
    assert where.path == "/forum/signin" and parse_qs(where.query)["next"] == [f"/forum?sort=new#idea-{idea}"]
    assert csrf_of(page)  # the signed-out list carries a token too


async def test_cross_site_vote_through_the_api_is_refused(client) -> None:
    """What a script on another site could send with the customer's cookies (were the browser
    to send them): no token, a guessed one, the anonymous cookie's token — all refused; the
    list page's token, as forum_votes.js sends it, is taken."""
    csrf = await sign_in_customer(client)
    (idea,) = await _ideas(client, csrf, "Audit log export")
    store = client.app[RUNTIME].store
    for headers in ({}, {"X-CSRF-Token": mask("guessed-token-value-123456")},
                    {"X-CSRF-Token": "R9DvvFCwUbJOhd289T9BgronSusSchhee4zBRmnH51w"}):
        resp = await client.post(f"/api/ideas/{idea}/vote", headers={"Accept": "application/json", **headers})
        assert resp.status == 403, headers
        assert "error" in await resp.json()
    assert (await store.get_idea(idea)).vote_count == 0
    token = _list_form(await (await client.get("/forum")).text())["csrf"]
    resp = await client.post(f"/api/ideas/{idea}/vote", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert resp.status == 201 and (await store.get_idea(idea)).vote_count == 1
