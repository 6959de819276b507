"""A mention's thread (JSON and page) and the link to the original post, over real HTTP."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from tests.conftest import post
from tests.helpers import json_of, start_app

# A Reddit conversation as the collector stores it: the submission t3_abc, comments t1_*
# replying to it or to each other; one comment's permalink came back as a script URL.
THREAD = [
    post("t3_abc", "Acme Anvils invoices are broken since Monday", source="reddit", handle="jo_r",
         minutes=1, url="https://www.reddit.com/r/saas/comments/abc/invoices/"),
    post("t1_c1", "Same here, every invoice since the update", source="reddit", handle="sam",
         minutes=2, parent_id="t3_abc", thread_id="t3_abc",
         url="https://www.reddit.com/r/saas/comments/abc/invoices/c1/"),
    post("t1_c2", "Did you try exporting again?", source="reddit", handle="kim", minutes=3,
         parent_id="t1_c1", thread_id="t3_abc", url="javascript:alert(document.cookie)"),
    post("t1_c3", "A reply to a comment we never collected", source="reddit", handle="lee",
         minutes=4, parent_id="t1_gone", thread_id="t3_abc"),
    post("t3_other", "Another thread entirely", source="reddit", handle="zed", minutes=5),
]


async def _client(aiohttp_client, tmp_path) -> tuple[TestClient, dict[str, int]]:
    client = await start_app(aiohttp_client, tmp_path, customers=True, posts=THREAD)
    body = await json_of(await client.get("/api/dashboard/mentions"))
    return client, {m["external_id"]: m["id"] for m in body["items"]}


async def test_thread_json_holds_parent_and_replies_in_order(aiohttp_client, tmp_path) -> None:
    client, ids = await _client(aiohttp_client, tmp_path)
    body = await json_of(await client.get(f"/api/dashboard/mentions/{ids['t1_c2']}/thread"))
    assert body["focus_id"] == ids["t1_c2"] and body["thread_id"] == "t3_abc"
    assert [(m["external_id"], m["depth"], m["parent_stored"]) for m in body["items"]] == [
        ("t3_abc", 0, True), ("t1_c1", 1, True), ("t1_c2", 2, True), ("t1_c3", 0, False)]
    assert body["truncated"] is False
    # The submission itself leads to the same conversation.
    first = await json_of(await client.get(f"/api/dashboard/mentions/{ids['t3_abc']}/thread"))
    assert [m["id"] for m in first["items"]] == [m["id"] for m in body["items"]]
    for missing in ("999999", "9" * 40):
        resp = await client.get(f"/api/dashboard/mentions/{missing}/thread")
        assert resp.status == 404 and "error" in await resp.json()


async def test_thread_page_links_originals_safely_and_marks_the_focus(aiohttp_client, tmp_path) -> None:
    client, ids = await _client(aiohttp_client, tmp_path)
    resp = await client.get(f"/dashboard/mentions/{ids['t1_c2']}")
    assert resp.status == 200
    html = await resp.text()
    focused = re.search(r'<li class="[^"]*\bfocused\b[^"]*"[^>]*>', html).group(0)
    assert f'data-id="{ids["t1_c2"]}"' in focused and 'aria-current="true"' in focused
    assert html.count('aria-current="true"') == 1
    originals = re.findall(r'<a class="original" href="([^"]+)" target="_blank" rel="noopener noreferrer">', html)
    assert originals == ["https://www.reddit.com/r/saas/comments/abc/invoices/",
                         "https://www.reddit.com/r/saas/comments/abc/invoices/c1/"]
    assert "javascript:" not in html
    assert html.count("No link to the original post") == 2  # the script URL and the missing one
    assert "Replies to a post that was not collected" in html
    assert "Another thread entirely" not in html
    assert (await client.get("/dashboard/mentions/424242")).status == 404


# A post as people write them: emoji (outside the BMP: two UTF-16 units each) before the name,
# and markup that must stay text.  The linker's offsets count code points, as Python does.
HOSTILE = "🔥😡 <b onmouseover=alert(1)>Acme Anvils</b> ate my invoices & Target Logistics too"


async def test_thread_page_marks_linked_names_in_the_escaped_text(aiohttp_client, tmp_path) -> None:
    client = await start_app(aiohttp_client, tmp_path, customers=True, posts=[
        post("t3_emoji", HOSTILE, source="reddit", handle="pat", minutes=1)])
    body = await json_of(await client.get("/api/dashboard/mentions"))
    (m,) = body["items"]
    spans = {k["customer_id"]: k["span"] for k in m["links"] if k["span"]}
    assert HOSTILE[slice(*spans["cus_acme"])] == "Acme Anvils"  # code points, not UTF-16 units
    html = await (await client.get(f"/dashboard/mentions/{m['id']}")).text()
    text = re.search(r'<p class="text">(.*?)</p>', html, re.S).group(1)
    assert "<b" not in text and "&lt;b onmouseover=alert(1)&gt;" in text
    marks = re.findall(r'<mark class="customer link-(\w+)" title="([^"]*)">'
                       r'<a href="/dashboard/customers/(\w+)">([^<]*)</a></mark>', text)
    assert [(cid, name) for _, _, cid, name in marks] == [
        ("cus_acme", "Acme Anvils"), ("cus_target", "Target Logistics")]
    assert text.startswith("🔥😡 &lt;b onmouseover=alert(1)&gt;<mark")
    status, title, _, _ = marks[0]
    link = next(k for k in m["links"] if k["customer_id"] == "cus_acme")
    assert title.startswith("Acme Anvils: ") and f"({link['confidence']:.2f})" in title
    assert ("awaiting review" in title) == (status == "pending")
    # Unmarked, the text reads the same: nothing is lost or doubled around the marks.
    assert re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">").replace(
        "&amp;", "&") == HOSTILE
