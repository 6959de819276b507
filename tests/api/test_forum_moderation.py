"""Moderation over real HTTP: the approval queue, hide, lock, spam, reports, blocking, and
per-account and per-address rate limits (429 with Retry-After)."""

from __future__ import annotations

from api.keys import RUNTIME
from tests.api.forum_helpers import token_for
from tests.helpers import json_of


async def _people(client) -> dict[str, dict[str, str]]:
    return {
        "jo": await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo"),
        "al": await token_for(client, "al@target.example", customer_id="cus_target"),
        "team": await token_for(client, "pm@crm.example", role="team"),
        "manager": await token_for(client, "boss@crm.example", role="manager"),
    }


async def test_approval_queue_for_ideas_and_comments(app_client) -> None:
    client = await app_client(customers=True, overrides={
        "forum.moderation.approve_ideas": True, "forum.moderation.approve_comments": True})
    who = await _people(client)
    idea = await json_of(await client.post("/api/ideas", json={"title": "Offline mode", "body": "x"},
                                           headers=who["jo"]), 201)
    assert idea["approval"] == "pending"
    # Invisible to others, visible to its author and staff.
    assert (await client.get(f"/api/ideas/{idea['id']}", headers=who["al"])).status == 404
    assert (await client.get(f"/api/ideas/{idea['id']}")).status == 404
    assert (await json_of(await client.get("/api/ideas", headers=who["al"])))["total"] == 0
    assert (await json_of(await client.get("/api/ideas", headers=who["jo"])))["total"] == 1
    assert (await json_of(await client.get(f"/api/ideas/{idea['id']}", headers=who["jo"])))["approval"] == "pending"
    # Nobody votes on it before approval.
    assert (await client.post(f"/api/ideas/{idea['id']}/vote", headers=who["jo"])).status == 409
    assert (await client.get("/api/moderation")).status == 401
    assert (await client.get("/api/moderation", headers=who["jo"])).status == 403
    queue = await json_of(await client.get("/api/moderation", headers=who["team"]))
    assert [i["id"] for i in queue["ideas"]] == [idea["id"]]
    bad = await client.post(f"/api/ideas/{idea['id']}/moderate", json={"action": "bless"}, headers=who["team"])
    assert bad.status == 400 and "approve" in (await bad.json())["error"]["message"]
    assert (await client.post(f"/api/ideas/{idea['id']}/moderate", json={"action": "approve"},
                              headers=who["jo"])).status == 403
    approved = await json_of(await client.post(f"/api/ideas/{idea['id']}/moderate",
                                               json={"action": "approve"}, headers=who["team"]))
    assert approved["approval"] == "approved"
    assert (await json_of(await client.get("/api/ideas", headers=who["al"])))["total"] == 1

    # A customer's comment waits; staff comments do not.
    pending = await json_of(await client.post(f"/api/ideas/{idea['id']}/comments", json={"body": "me too"},
                                              headers=who["al"]), 201)
    assert pending["approval"] == "pending"
    await json_of(await client.post(f"/api/ideas/{idea['id']}/comments", json={"body": "noted"},
                                    headers=who["team"]), 201)

    async def bodies(headers: dict[str, str] | None) -> list[str]:
        got = await json_of(await client.get(f"/api/ideas/{idea['id']}/comments", headers=headers or {}))
        return [c["body"] for c in got["items"]]

    assert await bodies(who["jo"]) == ["noted"] and await bodies(None) == ["noted"]
    assert await bodies(who["al"]) == ["me too", "noted"]
    assert await bodies(who["team"]) == ["me too", "noted"]
    assert (await json_of(await client.get(f"/api/ideas/{idea['id']}")))["comment_count"] == 1
    queue = await json_of(await client.get("/api/moderation", headers=who["team"]))
    assert [c["id"] for c in queue["comments"]] == [pending["id"]] and queue["ideas"] == []
    await json_of(await client.post(f"/api/comments/{pending['id']}/moderate", json={"action": "approve"},
                                    headers=who["team"]))
    assert await bodies(None) == ["me too", "noted"]
    assert (await json_of(await client.get(f"/api/ideas/{idea['id']}")))["comment_count"] == 2


async def test_hide_lock_spam_report_and_block(app_client) -> None:
    client = await app_client(customers=True)
    who = await _people(client)
    idea = await json_of(await client.post("/api/ideas", json={"title": "Cheap pills", "body": "buy"},
                                           headers=who["jo"]), 201)
    url = f"/api/ideas/{idea['id']}"
    # Lock: no new votes or comments (staff still may comment).
    await json_of(await client.post(f"{url}/moderate", json={"action": "lock"}, headers=who["team"]))
    assert (await client.post(f"{url}/vote", headers=who["al"])).status == 409
    assert (await client.post(f"{url}/comments", json={"body": "hm"}, headers=who["al"])).status == 409
    await json_of(await client.post(f"{url}/moderate", json={"action": "unlock"}, headers=who["team"]))
    await json_of(await client.post(f"{url}/vote", headers=who["al"]), 201)
    comment = await json_of(await client.post(f"{url}/comments", json={"body": "spammy link"},
                                              headers=who["jo"]), 201)

    # Reports: once per person, shown in the queue, resolved by any action.
    assert (await json_of(await client.post(f"{url}/report", json={"reason": "spam"},
                                            headers=who["al"]), 201))["new"]
    assert not (await json_of(await client.post(f"{url}/report", json={"reason": "spam"},
                                                headers=who["al"])))["new"]
    await json_of(await client.post(f"/api/comments/{comment['id']}/report", json={}, headers=who["al"]), 201)
    assert (await client.post(f"{url}/report", json={"reason": 5}, headers=who["al"])).status == 400
    assert (await client.post(f"{url}/report", json={})).status == 401
    queue = await json_of(await client.get("/api/moderation", headers=who["team"]))
    assert sorted((r["kind"], r["item_id"]) for r in queue["reports"]) == [
        ("comment", comment["id"]), ("idea", idea["id"])]

    # Spam hides the idea from everyone but staff; the comment can be hidden on its own.
    spam = await json_of(await client.post(f"{url}/moderate", json={"action": "spam"}, headers=who["team"]))
    assert spam["spam"] and spam["hidden"]
    assert (await client.get(url, headers=who["al"])).status == 404
    assert (await client.get(url, headers=who["jo"])).status == 404  # not even its author
    await json_of(await client.post(f"/api/comments/{comment['id']}/moderate", json={"action": "hide"},
                                    headers=who["team"]))
    queue = await json_of(await client.get("/api/moderation", headers=who["team"]))
    assert queue["reports"] == [] and [i["id"] for i in queue["spam"]] == [idea["id"]]
    await json_of(await client.post(f"{url}/moderate", json={"action": "not-spam"}, headers=who["team"]))
    assert [c["body"] for c in (await json_of(await client.get(f"{url}/comments", headers=who["al"])))["items"]] == []

    # Block: a manager blocks Jo, whose token stops working at once.
    accounts = await json_of(await client.get("/api/accounts", headers=who["manager"]))
    jo_id = next(a["id"] for a in accounts["items"] if a["email"] == "jo@acmeanvils.example")
    assert (await client.patch(f"/api/accounts/{jo_id}", json={"blocked": True},
                               headers=who["team"])).status == 403
    await json_of(await client.patch(f"/api/accounts/{jo_id}", json={"blocked": True}, headers=who["manager"]))
    assert (await client.post("/api/ideas", json={"title": "Again", "body": ""}, headers=who["jo"])).status == 401
    assert (await client.post(f"{url}/vote", headers=who["jo"])).status == 401


async def test_blocked_account_cannot_sign_in(app_client) -> None:
    client = await app_client(customers=True)
    await json_of(await client.post("/api/auth/signup", json={
        "email": "jo@acmeanvils.example", "password": "correct horse battery", "name": "Jo"}), 202)
    account, _ = await client.app[RUNTIME].store.get_login("jo@acmeanvils.example")
    await client.app[RUNTIME].store.update_account(account.id, blocked=True)
    resp = await client.post("/api/auth/login", json={"email": "jo@acmeanvils.example",
                                                      "password": "correct horse battery"})
    assert resp.status == 403 and "blocked" in (await resp.json())["error"]["message"]


async def test_rate_limits_per_account_answer_429_with_retry_after(app_client) -> None:
    client = await app_client(customers=True, overrides={
        "forum.rate_limits.ideas": {"limit": 2, "window_seconds": 3600},
        "forum.rate_limits.votes": {"limit": 3, "window_seconds": 600},
        "forum.rate_limits.comments": {"limit": 1, "window_seconds": 60}})
    who = await _people(client)
    for n in range(2):
        await json_of(await client.post("/api/ideas", json={"title": f"Idea {n}", "body": ""},
                                        headers=who["jo"]), 201)
    resp = await client.post("/api/ideas", json={"title": "Idea 3", "body": ""}, headers=who["jo"])
    assert resp.status == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 3600
    error = (await resp.json())["error"]
    assert error["code"] == "rate_limited" and "at most 2 per hour" in error["message"]
    assert error["details"]["retry_after"] == int(resp.headers["Retry-After"])
    # Limits are per account, and staff are not limited.
    await json_of(await client.post("/api/ideas", json={"title": "Al's idea", "body": ""}, headers=who["al"]), 201)
    for n in range(3):
        await json_of(await client.post("/api/ideas", json={"title": f"Staff {n}", "body": ""},
                                        headers=who["team"]), 201)
    ideas = (await json_of(await client.get("/api/ideas?sort=new&limit=50")))["items"]
    target = ideas[-1]["id"]
    statuses = []
    for _ in range(4):  # vote, unvote, vote, then the fourth toggle is one too many
        method = client.post if len(statuses) % 2 == 0 else client.delete
        statuses.append((await method(f"/api/ideas/{target}/vote", headers=who["al"])).status)
    assert statuses[:3] == [201, 200, 201] and statuses[3] == 429
    await json_of(await client.post(f"/api/ideas/{target}/comments", json={"body": "one"}, headers=who["al"]), 201)
    resp = await client.post(f"/api/ideas/{target}/comments", json={"body": "two"}, headers=who["al"])
    assert resp.status == 429 and "per minute" in (await resp.json())["error"]["message"]


async def test_mailed_links_are_limited_per_address_and_per_ip(app_client) -> None:
    client = await app_client(customers=True, overrides={
        "forum.rate_limits.mail_links_per_email": {"limit": 2, "window_seconds": 3600},
        "forum.rate_limits.mail_links_per_ip": {"limit": 4, "window_seconds": 3600}})
    for _ in range(2):
        await json_of(await client.post("/api/auth/login-link", json={"email": "a@x.example"}), 202)
    resp = await client.post("/api/auth/password-reset", json={"email": "A@x.example"})
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0
    assert "this address" in (await resp.json())["error"]["message"]
    await json_of(await client.post("/api/auth/password-reset", json={"email": "b@x.example"}), 202)
    resp = await client.post("/api/auth/login-link", json={"email": "c@x.example"})
    assert resp.status == 429 and "network address" in (await resp.json())["error"]["message"]
    # A malformed address is a 400, not counted as a hit.
    assert (await client.post("/api/auth/login-link", json={"email": "nope"})).status == 400


async def test_openapi_documents_moderation_notification_and_live_vote_routes(app_client) -> None:
    client = await app_client(customers=True)
    doc = await (await client.get("/api/openapi.json")).json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        path = path.replace("{id:\\d+}", "{id}")
        if route.method in ("HEAD", "*") or not path.startswith(
                ("/api/ideas", "/api/comments", "/api/moderation", "/api/notifications")):
            continue
        assert (path, route.method.lower()) in documented, f"{route.method} {path} is not in the OpenAPI document"
    vote = doc["paths"]["/api/ideas/{id}/vote"]["post"]["responses"]["429"]
    assert "Retry-After" in vote["headers"]
