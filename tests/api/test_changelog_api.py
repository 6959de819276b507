"""The changelog's JSON API against hostile input: who may write, every refusal naming its
field in the JSON error shape, script in titles and bodies rendered inert, bounded bodies,
unknown and merged ideas, drafts hidden, and linked social customers without an account
handed to the owning team once."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from crmsphere.ingest import store_posts
from tests.api.forum_helpers import token_for
from tests.conftest import post
from tests.helpers import json_of
from tests.stored import stored_mention_ids

ROUTED = """
[routing]
public_url = "http://crm.example"

[[routing.teams]]
key = "product"
name = "Product"
mail_to = ["product@crm.example"]

[[routing.rules]]
id = "every-idea"
events = ["idea.created"]
kinds = ["idea"]
team = "product"
notify = []
"""


async def _refused(resp: Any, status: int = 400) -> dict[str, Any]:
    body = await json_of(resp, status)
    assert set(body) == {"error"} and body["error"]["message"], body
    return body["error"]


@pytest.fixture
async def app(app_client) -> TestClient:
    return await app_client(customers=True)


async def test_only_managers_write_and_every_field_is_checked(app: TestClient) -> None:
    client = app
    customer = await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme")
    team = await token_for(client, "dev@crm.example", role="team")
    pm = await token_for(client, "pm@crm.example", role="manager")
    entry = {"title": "Dark mode", "body": "Shipped.", "idea_ids": []}
    assert (await client.post("/api/changelog", json=entry)).status == 401
    await _refused(await client.post("/api/changelog", json=entry, headers=customer), 403)
    await _refused(await client.post("/api/changelog", json=entry, headers=team), 403)

    for bad, field in (({"title": None}, "title"), ({"title": "ab"}, "title"),
                       ({"title": "x" * 151}, "title"), ({"body": ""}, "body"),
                       ({"body": "a\x00b"}, "body"), ({"body": "A" * 50_001}, "body"),
                       ({"idea_ids": "1; DROP TABLE ideas"}, "idea_ids"),
                       ({"idea_ids": [True]}, "idea_ids"), ({"idea_ids": [1.5]}, "idea_ids"),
                       ({"idea_ids": list(range(1, 52))}, "idea_ids"), ({"idea_ids": {"1": 1}}, "idea_ids"),
                       ({"idea_ids": [-3]}, "idea_ids")):
        error = await _refused(await client.post("/api/changelog", json={**entry, **bad}, headers=pm))
        # A bad element is named with its index (``idea_ids[0]``).
        assert error["details"]["field"].split("[")[0] == field, (bad, error)
    unknown = await _refused(await client.post("/api/changelog", json={**entry, "idea_ids": [424242, 7]},
                                               headers=pm))
    assert "#424242" in unknown["message"] and unknown["details"]["unknown"] == [424242, 7]
    # A body far over the request size limit is refused before it is read, in the same shape.
    huge = await client.post("/api/changelog", json={**entry, "body": "A" * 3_000_000}, headers=pm)
    assert huge.status == 413 and "error" in await huge.json()
    assert (await client.get("/api/changelog?limit=0")).status == 400


async def test_script_is_inert_and_drafts_stay_staff_only(app: TestClient) -> None:
    client = app
    pm = await token_for(client, "pm@crm.example", role="manager")
    author = await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme")
    idea = await json_of(await client.post("/api/ideas", json={"title": "<img src=x onerror=alert(1)>",
                                                              "body": ""}, headers=author), 201)
    made = await json_of(await client.post("/api/changelog", json={
        "title": "<script>alert('t')</script> Faster", "idea_ids": f"#{idea['id']}",
        "body": "<script>alert(1)</script>\n\n[click](javascript:alert(2)) **bold**"}, headers=pm), 201)
    assert made["title"] == "<script>alert('t')</script> Faster"  # kept as text, escaped on pages
    assert "<script" not in made["body_html"] and 'href="javascript' not in made["body_html"]
    assert "<strong>bold</strong>" in made["body_html"]
    assert [i["id"] for i in made["ideas"]] == [idea["id"]]

    assert (await json_of(await client.get("/api/changelog")))["items"] == []
    assert (await client.get(f"/api/changelog/{made['id']}")).status == 404
    assert (await client.get("/api/changelog?drafts=true")).status == 401
    drafts = await json_of(await client.get("/api/changelog?drafts=true", headers=pm))
    assert [e["id"] for e in drafts["items"]] == [made["id"]]

    await json_of(await client.post(f"/api/changelog/{made['id']}/publish", headers=pm))
    public = await json_of(await client.get("/api/changelog"))
    assert [e["id"] for e in public["items"]] == [made["id"]] and public["total"] == 1
    assert public["items"][0]["ideas"][0]["status"] == "done"
    # Its ideas were announced: they cannot change, title and body can.
    error = await _refused(await client.patch(f"/api/changelog/{made['id']}", json={"idea_ids": []},
                                              headers=pm))
    assert error["details"]["field"] == "idea_ids"
    await _refused(await client.patch(f"/api/changelog/{made['id']}", json={"state": "draft"}, headers=pm))
    fixed = await json_of(await client.patch(f"/api/changelog/{made['id']}", json={"title": "Faster"},
                                             headers=pm))
    assert fixed["title"] == "Faster" and fixed["state"] == "published"
    assert (await client.post("/api/changelog/999999/publish", headers=pm)).status == 404
    await _refused(await client.get("/api/changelog/99999999999999999999999999"), 404)
    page = await client.get("/forum/changelog/99999999999999999999999999")
    assert page.status == 404 and "<html" in await page.text()


async def test_linked_customers_without_account_go_to_the_team_once(app_client, monkeypatch) -> None:
    client = await app_client(ROUTED, customers=True)
    rt = client.app[RUNTIME]
    await store_posts(rt.store, rt.analyzer, "test", [
        post("2", "bulk export would be lovely", source="mastodon", handle="target@mastodon.example")],
        None)
    author = await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme")
    pm = await token_for(client, "pm@crm.example", role="manager")
    idea = await json_of(await client.post("/api/ideas", json={"title": "Bulk export", "body": ""},
                                           headers=author), 201)
    mention_id = (await stored_mention_ids(rt.store, [("mastodon", "2")]))[("mastodon", "2")]
    await json_of(await client.post(f"/api/ideas/{idea['id']}/mentions", json={"mention_id": mention_id},
                                    headers=pm), 201)
    # Done before the entry: no status change will note Target for the team, the entry does.
    await json_of(await client.post(f"/api/ideas/{idea['id']}/status",
                                    json={"status": "done", "response": "Out now."}, headers=pm))
    (routed,) = await rt.store.routed_for_item("idea", str(idea["id"]))

    async def notes() -> list[str]:
        return [str(e.detail.get("text")) for e in await rt.store.routing_log(routed.id)
                if e.action == "comment" and "Target Logistics" in str(e.detail.get("text"))]

    assert len(await notes()) == 1  # the status change's own note

    entry = await json_of(await client.post("/api/changelog", json={
        "title": "Bulk export", "body": "Export everything.", "idea_ids": [idea["id"]]}, headers=pm), 201)
    real = rt.store.set_changelog_state

    async def dies_before_published(entry_id: int, state: str, at: Any) -> Any:
        if state == "published":
            raise ConnectionResetError("the process died here")
        return await real(entry_id, state, at)

    # The first try dies after telling the team, before the entry is marked published.
    monkeypatch.setattr(rt.store, "set_changelog_state", dies_before_published)
    assert (await client.post(f"/api/changelog/{entry['id']}/publish", headers=pm)).status == 500
    monkeypatch.setattr(rt.store, "set_changelog_state", real)
    for _ in range(2):
        await json_of(await client.post(f"/api/changelog/{entry['id']}/publish", headers=pm))
    found = await notes()
    assert len(found) == 2 and "Suggested public reply" in found[1], found
