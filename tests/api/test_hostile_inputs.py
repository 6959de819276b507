"""Hostile bodies and query parameters on every route: a 4xx naming what is wrong, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_staff_only_routes import NOT_SESSION, _concrete
from tests.helpers import ROUTING_IDLE, json_of, sign_in_staff

#: Bodies of the wrong shape: wrong types, huge strings, negatives, unknown enum values, nesting.
BODIES: list[Any] = [
    [], "text", 7, None,
    {"into": "two", "mention_id": -1, "blocked": "yes", "status": "nonsense", "text": 5,
     "name": ["x"], "role": "emperor", "rules": "all", "idea_id": {"a": 1}},
    {"title": "x" * 200_000, "body": "y" * 200_000, "text": "z" * 200_000, "q": None},
    {"limit": -5, "ids": [1, "a", None], "digest": "hourly-ish", "topics": [1, 2],
     "kind": "<script>", "reason": ["r"], "escalations": 3, "filters": "x"},
    {"topics": ["billing"] * 10_000, "labels": {"x": "y"}, "status": None, "assignee": 12,
     "tags": "x", "view": {"name": None}},
    {"next": "/forum/x\r\nSet-Cookie: a=b", "action": "approve", "csrf_next": "\x00"},
    {"next": "/forum/\\evil.example", "action": "block", "mail": "maybe"},
    {"into": 10**30, "mention_id": 10**30, "idea_id": -10**30, "parent_id": 10**30, "id": 10**30,
     "ids": [10**30]},
]
#: Query strings of the wrong shape.
QUERIES = ["?limit=-1", "?limit=abc&offset=-3", "?limit=99999999999999999999999",
           "?since=notadate&until=2026-13-45", "?status=nonsense&sort=weird&kind=<x>",
           "?ids=1,a,,-2&days=-4&bucket=minute", "?q=" + "x" * 5000, "?cursor=%00%ff!!",
           "?customer=&topic=&source=%00", "?granularity=year&window=0&top=-1",
           "?ids=" + "9" * 30 + "&exclude=" + "9" * 30 + "&title=anvil&limit=" + "9" * 30]

#: The endless event stream, and signing out (which would end the admin's session mid-walk).
SKIP = {"/api/stream/mentions", "/forum/signout", "/api/auth/logout"}


@pytest.mark.parametrize("who", ["operator", "admin"])
async def test_no_route_answers_hostile_input_with_a_500(app_client, who: str) -> None:
    client = await app_client(ROUTING_IDLE, customers=True)
    csrf = ""
    if who == "admin":  # a session with its CSRF token reaches the forum's own validation
        csrf = await sign_in_staff(client, role="admin")
        await json_of(await client.post("/api/ideas", json={"title": "Dark mode for anvils",
                                                              "body": "please"},
                                        headers={"X-CSRF-Token": csrf}), 201)
    broken = []
    for route in client.app.router.routes():
        if route.resource is None or route.method in ("HEAD", "*"):
            continue
        path = route.resource.canonical
        if path.startswith("/static") or path in SKIP or path in NOT_SESSION:
            continue
        url = _concrete(path)
        if route.method == "GET":
            for query in QUERIES:
                resp = await client.get(url + query, allow_redirects=False)
                if resp.status >= 500:
                    broken.append(f"GET {url}{query[:60]} -> {resp.status}")
                resp.release()
            continue
        for body in BODIES:
            if path.startswith("/api/"):
                resp = await client.request(route.method, url, json=body, allow_redirects=False,
                                            headers={"X-CSRF-Token": csrf})
            else:
                form = body if isinstance(body, dict) else {"x": str(body)}
                resp = await client.request(route.method, url, data={
                    **{k: str(v) for k, v in form.items()}, "csrf": csrf}, allow_redirects=False)
            if resp.status >= 500:
                broken.append(f"{route.method} {url} {str(body)[:60]} -> {resp.status}")
            resp.release()
    assert not broken, "500s:\n" + "\n".join(broken)
    if who == "admin":  # the walk ran signed in throughout
        assert (await json_of(await client.get("/api/auth/me")))["role"] == "admin"


async def test_ids_beyond_64_bits_are_not_found_not_a_500(app_client) -> None:
    client = await app_client(ROUTING_IDLE, customers=True)
    huge = "9" * 30
    broken = []
    for route in client.app.router.routes():
        if route.resource is None or route.method in ("HEAD", "*"):
            continue
        path = route.resource.canonical
        if "{id" not in path or path in SKIP:
            continue
        url = _concrete(path).replace("/1", "/" + huge, 1) if "/1" in _concrete(path) else None
        assert url is not None, path
        if route.method == "GET":
            resp = await client.get(url, allow_redirects=False)
        else:
            resp = await client.request(route.method, url, json={"into": 1}, allow_redirects=False)
        if resp.status >= 500:
            broken.append(f"{route.method} {url[:60]}... -> {resp.status}")
        resp.release()
    assert not broken, "500s:\n" + "\n".join(broken)
