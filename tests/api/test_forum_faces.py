"""The forum's faces over real HTTP: the suggest form keeps a title as long as
``forum.title_max`` allows, roadmap cards vote like the board's (a plain POST form with CSRF,
signed-out visitors led to sign in and back), and the operator's welcome message
(``[forum] welcome``, Markdown through the bodies' safe renderer) heads the board."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from config.forum import ForumSettings
from config.settings import ConfigError, load_settings
from tests.api.forum_helpers import token_for
from tests.helpers import csrf_of, sign_in_customer

REPO = Path(__file__).resolve().parents[2]

# What a customer pastes from a support e-mail: longer than 150 characters, with the markup
# characters mail clients leave in.
LONG_TITLE = ("When a quarterly invoice export to CSV runs for a customer with more than 10,000 line items "
              "the download stops at 8,192 rows & the accountant's spreadsheet <silently> misses the rest "
              "of Q3 — please export everything or say where it stopped")


def _title_input(page: str) -> tuple[str, str]:
    """The submit form's title field: its value (unescaped) and its maxlength."""
    field = re.search(r'<input name="title" id="idea-title"[^>]*>', page)
    assert field, "no title field"
    value = re.search(r'value="([^"]*)"', field[0])
    return html.unescape(value[1] if value else ""), re.search(r'maxlength="(\d+)"', field[0])[1]


@pytest.mark.parametrize("title_max", [300, 40])
async def test_the_suggest_form_cuts_a_title_from_the_address_at_the_configured_maximum(app_client, title_max: int) -> None:
    client = await app_client(customers=True, overrides={"forum.trust_signup_email": True,
                                                         "forum.title_max": title_max})
    await sign_in_customer(client)
    assert len(LONG_TITLE) > 150
    value, maxlength = _title_input(await (await client.get("/forum/submit", params={"title": LONG_TITLE})).text())
    assert maxlength == str(title_max)
    assert value == LONG_TITLE[:title_max].strip()
    # The board's box and the empty search's "Suggest it" say the same maximum.
    board = await (await client.get("/forum", params={"q": LONG_TITLE})).text()
    assert f'maxlength="{title_max}"' in re.search(r'<section class="suggest-box.*?</section>', board, re.S)[0]
    suggest_it = re.search(r'href="/forum/submit\?title=([^"]*)"', board)
    assert suggest_it and len(parse_qs(f"t={html.unescape(suggest_it[1])}")["t"][0]) == len(LONG_TITLE[:title_max].strip())


async def _roadmap_ideas(client) -> dict[str, int]:
    """Ideas on the roadmap by title: two planned (open to votes) and one done (closed)."""
    staff = await token_for(client, "mo@nimbus.example", "manager")
    made = {}
    for title, status in (("Export invoices as CSV", "planned"), ("Dark mode", "planned"),
                          ("Single sign-on with Okta", "done")):
        answer = await client.post("/api/ideas", json={"title": title}, headers=staff)
        made[title] = (await answer.json())["id"]
        moved = await client.post(f"/api/ideas/{made[title]}/status", json={"status": status, "response": "Moved."},
                                  headers=staff)
        assert moved.status == 200, await moved.text()
    return made


def _card(page: str, idea_id: int) -> str:
    card = re.search(rf'<li class="lane-card" id="idea-{idea_id}">.*?</li>\s*(?=<li class="lane-card"|</ol>)', page, re.S)
    assert card, f"no roadmap card #idea-{idea_id}"
    return card[0]


async def test_a_customer_votes_from_a_roadmap_card_without_javascript(app_client) -> None:
    client = await app_client(customers=True, overrides={"forum.trust_signup_email": True})
    made = await _roadmap_ideas(client)
    csrf = await sign_in_customer(client)
    page = await (await client.get("/forum/roadmap")).text()
    form = re.search(r'<form method="post" action="/forum/votes" class="votes"[^>]*>', page)
    assert form and "data-live" in form[0]  # a linked customer: forum_votes.js may vote in place
    assert re.search(r'<input type="hidden" name="next" value="/forum/roadmap">', page)
    card = _card(page, made["Export invoices as CSV"])
    assert f'name="vote" value="{made["Export invoices as CSV"]}" aria-pressed="false"' in card
    # Done: voting is closed there; the count is shown, no button.
    done = _card(page, made["Single sign-on with Okta"])
    assert "<button" not in done and 'class="vote-closed"' in done
    answer = await client.post("/forum/votes", allow_redirects=False, data={
        "csrf": csrf, "vote": str(made["Export invoices as CSV"]), "next": "/forum/roadmap"})
    assert answer.status == 303
    assert answer.headers["Location"] == f"/forum/roadmap#idea-{made['Export invoices as CSV']}"
    card = _card(await (await client.get("/forum/roadmap")).text(), made["Export invoices as CSV"])
    assert 'name="unvote"' in card and 'aria-pressed="true"' in card
    assert f'data-vote-count="{made["Export invoices as CSV"]}">1<' in card
    # Without the session's token nothing is counted.
    forged = await client.post("/forum/votes", allow_redirects=False, data={
        "csrf": "forged-token-value-123456", "vote": str(made["Dark mode"]), "next": "/forum/roadmap"})
    assert forged.status == 403
    assert 'aria-pressed="false"' in _card(await (await client.get("/forum/roadmap")).text(), made["Dark mode"])


async def test_a_visitor_voting_from_the_roadmap_is_led_to_sign_in_and_back_to_the_card(app_client) -> None:
    client = await app_client(customers=True, overrides={"forum.trust_signup_email": True})
    made = await _roadmap_ideas(client)
    page = await (await client.get("/forum/roadmap")).text()
    form = re.search(r'<form method="post" action="/forum/votes" class="votes"[^>]*>', page)
    assert form and "data-live" not in form[0]  # signed out: the plain form, which asks to sign in
    idea = made["Dark mode"]
    answer = await client.post("/forum/votes", allow_redirects=False, data={
        "csrf": csrf_of(page), "vote": str(idea), "next": "/forum/roadmap"})
    assert answer.status == 303
    location = urlsplit(answer.headers["Location"])
    assert location.path == "/forum/signin" and parse_qs(location.query)["next"] == [f"/forum/roadmap#idea-{idea}"]


def test_a_welcome_longer_than_a_header_or_with_nul_is_refused_naming_the_key() -> None:
    with pytest.raises(ValidationError, match=r"welcome\n  String should have at most 1000 character"):
        ForumSettings(welcome="We read every idea. " * 51)
    with pytest.raises(ValidationError, match=r"welcome\n  Value error, text without NUL"):
        ForumSettings(welcome="Welcome\x00")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"CRMSPHERE_FORUM__WELCOME": "x" * 1001})
    assert info.value.key == "forum.welcome" and "forum.welcome" in str(info.value)
    assert ForumSettings().welcome == "" and ForumSettings(welcome="  \n\n ").welcome == ""


async def test_the_board_shows_the_welcome_as_safe_markdown_and_nothing_when_empty(app_client) -> None:
    welcome = ("**Welcome to Anvil Ideas!** Tell us what would save you time.\n\n"
               "<script>alert(document.cookie)</script> [our roadmap](/forum/roadmap) "
               "[win a prize](javascript:alert(1)) <img src=x onerror=alert(1)>")
    client = await app_client(customers=True, overrides={"forum.welcome": welcome})
    page = await (await client.get("/forum")).text()
    box = re.search(r'<div class="board-welcome prose" id="welcome">(.*?)</div>', page, re.S)
    assert box, "no welcome on the board"
    assert "<strong>Welcome to Anvil Ideas!</strong>" in box[1]
    assert re.search(r'<a href="/forum/roadmap"[^>]*>our roadmap</a>', box[1])
    assert "<script" not in box[1] and "<img" not in box[1] and 'href="javascript' not in box[1]
    assert "&lt;script&gt;" in box[1]  # shown as typed, never run
    # Above the list, under the board's title.
    assert page.index('id="welcome"') < page.index('<ol class="ideas">')
    empty = await app_client(customers=True)
    assert "board-welcome" not in await (await empty.get("/forum")).text()


def test_the_demo_has_a_welcome_and_the_defaults_document_the_key() -> None:
    demo = load_settings(REPO / "config" / "demo" / "crmsphere.toml", environ={})
    assert demo.forum.welcome.startswith("**Welcome to Nimbus Feedback!**")
    defaults = (REPO / "config" / "defaults.toml").read_text(encoding="utf-8")
    assert re.search(r'^welcome = ""$', defaults, re.M)
    assert "`welcome`" in (REPO / "README.md").read_text(encoding="utf-8")


async def test_the_board_shows_a_closed_idea_s_count_without_a_vote_button(app_client) -> None:
    # A done idea took no votes, yet its card on the board offered "Vote", which answered an
    # error page ("voting is closed"); now it shows its count as the idea page does.
    client = await app_client(customers=True, overrides={"forum.trust_signup_email": True})
    made = await _roadmap_ideas(client)
    await sign_in_customer(client)
    page = await (await client.get("/forum")).text()
    done = re.search(rf'<li class="idea card" id="idea-{made["Single sign-on with Okta"]}">.*?</li>', page, re.S)[0]
    assert "<button" not in done and '<div class="vote-closed" title="Voting is closed">' in done
    assert f'data-vote-count="{made["Single sign-on with Okta"]}">0</span><span class="vote-state">votes<' in done
    planned = re.search(rf'<li class="idea card" id="idea-{made["Dark mode"]}">.*?</li>', page, re.S)[0]
    assert f'<button class="vote" name="vote" value="{made["Dark mode"]}"' in planned
