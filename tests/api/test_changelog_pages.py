"""The public changelog pages and Atom feed: newest first, rendered bodies, shipped ideas
linked with their votes, drafts invisible, hostile titles and bodies inert in HTML and in
XML (the feed is parsed by feedparser and by an XML parser)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import feedparser
import pytest
from aiohttp.test_utils import TestClient

from tests.api.forum_helpers import token_for
from tests.helpers import json_of

HOSTILE_TITLE = "<script>alert('t')</script> Exports & \u201cthemes\u201d ]]> \U0001F680"
HOSTILE_BODY = ("Now **faster**, see [the idea](/forum/ideas/1).\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
                "]]></content><entry>fake</entry>")


@pytest.fixture
async def published(app_client) -> tuple[TestClient, dict]:
    client = await app_client(customers=True, overrides={"routing.public_url": "https://ideas.example"})
    pm = await token_for(client, "pm@crm.example", role="manager")
    ana = await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme")
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await json_of(await client.post("/api/ideas", json={"title": "CSV <b>export</b>", "body": ""},
                                           headers=ana), 201)
    await json_of(await client.post(f"/api/ideas/{idea['id']}/vote", headers=jo), 201)
    older = await json_of(await client.post("/api/changelog", json={
        "title": "First release", "body": "Hello."}, headers=pm), 201)
    await json_of(await client.post(f"/api/changelog/{older['id']}/publish", headers=pm))
    newer = await json_of(await client.post("/api/changelog", json={
        "title": HOSTILE_TITLE, "body": HOSTILE_BODY, "idea_ids": [idea["id"]]}, headers=pm), 201)
    await json_of(await client.post(f"/api/changelog/{newer['id']}/publish", headers=pm))
    draft = await json_of(await client.post("/api/changelog", json={
        "title": "Secret plans", "body": "Not yet."}, headers=pm), 201)
    return client, {"idea": idea, "older": older, "newer": newer, "draft": draft, "pm": pm}


async def test_pages_list_newest_first_with_ideas_and_hide_drafts(published) -> None:
    client, made = published
    page = await client.get("/forum/changelog")
    html = await page.text()
    assert page.status == 200 and 'href="/forum/changelog" aria-current="page"' in html
    assert html.index("Exports &amp;") < html.index("First release")
    assert "Secret plans" not in html and "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; Exports" in html
    assert f'href="/forum/ideas/{made["idea"]["id"]}">CSV &lt;b&gt;export&lt;/b&gt;</a>' in html
    assert 'aria-label="1 votes"' in html and "<strong>faster</strong>" in html
    entry = await client.get(f"/forum/changelog/{made['newer']['id']}")
    assert entry.status == 200 and "<h1" in await entry.text()
    assert (await client.get(f"/forum/changelog/{made['draft']['id']}")).status == 404
    assert (await client.get("/forum/changelog/99999999")).status == 404
    assert (await client.get("/forum/changelog?page=0")).status == 400


async def test_atom_feed_is_valid_and_escaped(published) -> None:
    client, made = published
    resp = await client.get("/forum/changelog.atom")
    assert resp.status == 200 and resp.content_type == "application/atom+xml"
    raw = await resp.read()
    feed = feedparser.parse(raw)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.id == "https://ideas.example/forum/changelog" and feed.feed.updated
    assert any(link.rel == "alternate" and link.href == "https://ideas.example/forum/changelog"
               for link in feed.feed.links)
    assert [e.title for e in feed.entries] == [HOSTILE_TITLE, "First release"]
    newest = feed.entries[0]
    assert newest.id == f"https://ideas.example/forum/changelog/{made['newer']['id']}"
    assert newest.link == newest.id and newest.updated and newest.published
    assert newest.content[0].type == "text/html"

    # The XML itself: the HTML content is one escaped text (no element smuggled in by the
    # body), with the hostile script neutralised before it was escaped.
    root = ET.fromstring(raw)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(root.findall("a:entry", ns)) == 2
    content = root.find("a:entry/a:content", ns)
    assert content is not None and content.get("type") == "html" and len(content) == 0
    assert "<strong>faster</strong>" in content.text and "<script" not in content.text
    assert f'href="https://ideas.example/forum/ideas/{made["idea"]["id"]}"' in content.text
    assert "CSV &lt;b&gt;export&lt;/b&gt;</a> (1 votes)" in content.text
    assert root.find("a:entry/a:title", ns).text == HOSTILE_TITLE
    assert "Secret plans" not in raw.decode()
    # A relative link of the body resolves against the site (xml:base).
    assert 'href="https://ideas.example/forum/ideas/1"' in newest.content[0].value

    # An idea staff hid leaves the feed, whoever asks for it (readers and caches share it).
    await json_of(await client.patch(f"/api/ideas/{made['idea']['id']}", json={"hidden": True},
                                     headers=made["pm"]))
    as_staff = await (await client.get("/forum/changelog.atom", headers=made["pm"])).text()
    assert "CSV &amp;lt;b&amp;gt;export" in raw.decode() and "CSV &amp;lt;b&amp;gt;export" not in as_staff
    assert "Ideas shipped" not in as_staff


async def test_an_empty_feed_is_still_valid(app_client) -> None:
    client = await app_client()
    feed = feedparser.parse(await (await client.get("/forum/changelog.atom")).read())
    assert not feed.bozo and feed.version == "atom10" and feed.entries == [] and feed.feed.updated


async def test_the_editor_works_without_javascript(app_client) -> None:
    """Search, preview, save and publish with plain form posts; errors name the field."""
    client = await app_client(customers=True)
    pm = await token_for(client, "pm@crm.example", role="manager")
    team = await token_for(client, "dev@crm.example", role="team")
    ana = await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme")
    idea = await json_of(await client.post("/api/ideas", json={"title": "Invoice export", "body": ""},
                                           headers=ana), 201)
    assert (await client.get("/dashboard/changelog/new", headers=team)).status == 403
    assert (await client.get("/dashboard/changelog/new", headers=ana)).status == 403
    form = await client.get("/dashboard/changelog/new", headers=pm)
    assert form.status == 200 and 'id="changelog-form"' in await form.text()

    found = await client.post("/dashboard/changelog/new", headers=pm, data={
        "title": "Exports", "body": "**CSV** now", "find": "invoice", "action": "search"})
    html = await found.text()
    assert found.status == 200 and f'name="idea" value="{idea["id"]}"' in html
    preview = await client.post("/dashboard/changelog/new", headers=pm, data={
        "title": "Exports", "body": "**CSV** <script>x()</script>", "idea": str(idea["id"]),
        "action": "preview"})
    html = await preview.text()
    assert "<strong>CSV</strong>" in html and "<script>x()" not in html
    assert f'value="{idea["id"]}" checked' in html

    refused = await client.post("/dashboard/changelog/new", headers=pm, data={
        "title": "Ex", "body": "b", "action": "save"})
    html = await refused.text()
    assert refused.status == 400 and 'href="#title"' in html and 'aria-invalid="true"' in html
    unknown = await client.post("/dashboard/changelog/new", headers=pm, data={
        "title": "Exports", "body": "b", "idea": "424242", "action": "save"})
    assert unknown.status == 400 and "#424242" in await unknown.text()

    saved = await client.post("/dashboard/changelog/new", headers=pm, allow_redirects=False, data={
        "title": "Exports", "body": "CSV now", "idea": str(idea["id"]), "action": "save"})
    assert saved.status == 303
    where = saved.headers["Location"].split("?")[0]
    published = await client.post(where, headers=pm, allow_redirects=False, data={
        "title": "Exports", "body": "CSV now", "idea": str(idea["id"]), "action": "publish"})
    assert published.status == 303 and "published=1" in published.headers["Location"]
    assert (await json_of(await client.get(f"/api/ideas/{idea['id']}")))["status"] == "done"
    listing = await client.get("/dashboard/changelog", headers=pm)
    assert listing.status == 200 and "Exports" in await listing.text()
