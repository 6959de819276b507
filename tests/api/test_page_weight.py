"""Markup repeated on every card is written without waste: the forum index's idea cards (20 to
a page) carry no blank lines and no indentation, and still everything a card shows."""

from __future__ import annotations

import re

import pytest

from tests.helpers import sign_in_customer

# Ideas as customers type them: quotes, an ampersand, an emoji, markdown, a long word.
IDEAS = [
    ('Export "all" invoices & credit notes to CSV', "Our **accountants** import them monthly 📊", "billing"),
    ("Dark mode", "", "ui"),
    ("SSO with Okta/Azure AD (SAML 2.0)", "We manage 200 seats — " + "x" * 300, ""),
]


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True, overrides={"forum.trust_signup_email": True})


async def test_forum_index_cards_have_no_blank_lines_or_indents(client) -> None:
    csrf = await sign_in_customer(client)
    for title, body, tags in IDEAS:
        resp = await client.post("/forum/submit", data={"csrf": csrf, "title": title, "body": body, "tags": tags},
                                 allow_redirects=False)
        assert resp.status == 303, await resp.text()
    html = await (await client.get("/forum")).text()
    cards = html[html.index('<ol class="ideas">'):html.index("</ol>", html.index('<ol class="ideas">'))]
    assert cards.count('<li class="idea card"') == len(IDEAS)
    assert "\n\n" not in cards  # no blank line (a blank line of spaces is an indent, below)
    assert [line for line in cards.split("\n") if line[:1] in (" ", "\t")] == []
    # Nothing a card shows was lost with the whitespace.
    for title in ("Dark mode", "SSO with Okta/Azure AD (SAML 2.0)"):
        assert re.search(rf'<a href="/forum/ideas/\d+" class="title">{re.escape(title)}</a>', cards)
    assert 'aria-label="Vote for Export &#34;all&#34; invoices &amp; credit notes to CSV"' in cards
    # One vote form for the list: the token and the way back are written once, each card's
    # button says which idea it votes for.
    assert html.count('<form method="post" action="/forum/votes"') == 1
    assert cards.count('name="csrf"') == 0 and cards.count('name="next"') == 0
    assert len(re.findall(r'<button class="vote" name="vote" value="\d+" aria-pressed="false"', cards)) == len(IDEAS)
    assert cards.count('<span class="count" data-vote-count=') == len(IDEAS)
    assert cards.count('class="comment-count"') == 0  # shown only once there is a comment
    assert '<a class="tag" href="/forum?tag=billing">billing</a>' in cards
    assert '<span class="byline">Jo' in cards


async def test_dashboard_pages_without_line_charts_do_not_load_uplot(client) -> None:
    """The chart library (50 KB of script and its stylesheet) is linked only by the pages that
    draw line charts; the review queue, team pages and dead letters draw none."""
    html = await (await client.get("/dashboard/analytics")).text()
    assert '<script src="/static/vendor/uplot/uPlot.iife.min.js?v=' in html
    assert '<link rel="stylesheet" href="/static/vendor/uplot/uPlot.min.css?v=' in html
    # The stream's chart is a side panel: charts.js fetches uPlot when it draws it (named by the
    # page, with its content hash), so the stream's first paint waits for neither file.
    html = await (await client.get("/dashboard")).text()
    head = html[:html.index("</head>")]
    assert "uplot" not in head.lower()
    assert 'data-uplot-js="/static/vendor/uplot/uPlot.iife.min.js?v=' in html
    assert 'data-uplot-css="/static/vendor/uplot/uPlot.min.css?v=' in html
    for path in ("/dashboard/links", "/teams", "/deliveries?state=dead"):
        resp = await client.get(path)
        html = await resp.text()
        assert resp.status == 200 and "<h1" in html, path  # the page itself, drawn by the operator
        assert "uplot" not in html.lower(), path
        assert "/static/dashboard/charts.js" in html, path  # fetchJson, which the page's scripts share
