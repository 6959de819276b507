"""What a first-time visitor meets on the forum, over real HTTP: the board's "Suggest an idea" box
(a plain form: signed out it leads to sign-in keeping the title, signed in it posts), and the
roadmap saying when each idea moved to its column, read from the status change stored with it."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from urllib.parse import parse_qs, urlsplit

from api.forum.cards import moved_on
from api.keys import RUNTIME
from domain.forum import IdeaQuery
from tests.api.forum_helpers import token_for
from tests.helpers import sign_in_customer


def test_moved_on_names_the_day_and_the_year_only_when_it_is_another() -> None:
    now = datetime(2026, 12, 7, 23, 59, tzinfo=timezone.utc)
    assert moved_on(datetime(2026, 12, 3, 0, 0, tzinfo=timezone.utc), now) == "3 Dec"
    assert moved_on(datetime(2026, 1, 31, 23, 59, tzinfo=timezone.utc), now) == "31 Jan"
    assert moved_on(datetime(2025, 11, 30, 12, 0, tzinfo=timezone.utc), now) == "30 Nov 2025"
    # Early on New Year's day, yesterday's move is last year's.
    assert moved_on(datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc),
                    datetime(2027, 1, 1, 0, 5, tzinfo=timezone.utc)) == "31 Dec 2026"
    assert moved_on(None, now) == ""


async def test_the_roadmap_says_when_each_idea_moved_to_its_column(app_client) -> None:
    client = await app_client(customers=True)
    staff = await token_for(client, "mo@nimbus.example", "manager")
    made = {}
    for title in ("Export invoices as CSV", "Single sign-on with Okta", "Dark mode"):
        answer = await client.post("/api/ideas", json={"title": title}, headers=staff)
        made[title] = (await answer.json())["id"]
    moves = [("Export invoices as CSV", "planned"), ("Single sign-on with Okta", "planned"),
             ("Single sign-on with Okta", "in-progress"), ("Single sign-on with Okta", "done")]
    changed_at = {}
    for title, status in moves:
        answer = await client.post(f"/api/ideas/{made[title]}/status", json={"status": status, "response": "Moved."},
                                   headers=staff)
        assert answer.status == 200, await answer.text()
        changed_at[title] = (await answer.json())["status_changed_at"]
    html = await (await client.get("/forum/roadmap")).text()
    for title, label in (("Export invoices as CSV", "Planned"), ("Single sign-on with Okta", "Done")):
        when = datetime.fromisoformat(changed_at[title].replace("Z", "+00:00"))
        card = re.search(rf'href="/forum/ideas/{made[title]}".*?</li>', html, re.S)
        assert card, title
        moved = re.search(r'<time class="lane-moved" datetime="([^"]+)">([^<]+)</time>', card[0])
        assert moved, card[0]
        assert datetime.fromisoformat(moved[1].replace("Z", "+00:00")) == when.replace(microsecond=0)
        # The day it moved (the year too, when the page is read in another one).
        assert moved[2].startswith(f"{label} {when.day} {when:%b}"), moved[2]
    # "Dark mode" never moved: it is not on the roadmap, and no card shows a date it lacks.
    assert f'/forum/ideas/{made["Dark mode"]}"' not in html
    assert html.count('class="lane-moved"') == 2


def _suggest_box(html: str) -> str:
    box = re.search(r'<section class="suggest-box card" id="suggest".*?</section>', html, re.S)
    assert box, "no suggest box on the board"
    return box[0]


async def test_a_visitor_gets_a_box_that_leads_to_sign_in_and_keeps_the_title(app_client) -> None:
    client = await app_client(customers=True)
    box = _suggest_box(await (await client.get("/forum")).text())
    # Not a dead button: a form that goes somewhere, saying where.
    assert '<form method="get" action="/forum/submit" class="suggest-form">' in box
    assert '<button type="submit" class="primary">Sign in to post</button>' in box
    assert 'name="csrf"' not in box and "disabled" not in box
    typed = 'Export to DATEV & "Lexware" <img src=x onerror=alert(1)>'
    answer = await client.get("/forum/submit", params={"title": typed}, allow_redirects=False)
    assert answer.status == 303
    location = answer.headers["Location"]
    assert location.startswith("/forum/signin?next=")
    back = urlsplit(parse_qs(urlsplit(location).query)["next"][0])
    assert back.path == "/forum/submit" and parse_qs(back.query)["title"] == [typed]


async def test_a_customer_posts_from_the_box_without_javascript(app_client) -> None:
    client = await app_client(customers=True, overrides={"forum.trust_signup_email": True})
    csrf = await sign_in_customer(client)
    store = client.app[RUNTIME].store
    box = _suggest_box(await (await client.get("/forum")).text())
    assert '<form method="post" action="/forum/submit" class="suggest-form">' in box
    assert re.search(r'name="csrf" value="[^"]{20,}"', box) and 'name="title"' in box and 'name="body"' in box
    answer = await client.post("/forum/submit", allow_redirects=False, data={
        "csrf": csrf, "title": "Reminders before an invoice is due", "body": "Three days before, by mail."})
    assert answer.status == 303 and re.fullmatch(r"/forum/ideas/\d+", answer.headers["Location"])
    # A forged token, and a title pasted whole from a spreadsheet: refused, saying why, nothing stored.
    assert (await client.post("/forum/submit", data={"csrf": "forged-token-value-123456",
                                                     "title": "Forged"}, allow_redirects=False)).status == 403
    pasted = await client.post("/forum/submit", data={"csrf": csrf, "title": "Invoice\tnumber\tcustomer\t" * 20})
    assert pasted.status == 400 and "title" in await pasted.text()
    assert [i.title for i in (await store.list_ideas(IdeaQuery()))[0]] == ["Reminders before an invoice is due"]
