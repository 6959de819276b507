"""Every staff-only route, found by walking the app's router, refuses a signed-in customer.

A customer who sends their own valid CSRF token must still get 403 from the JSON API (or a
403/redirect from a page), so a new staff route that forgets its role check fails here.
"""

from __future__ import annotations

import re
from typing import Any

from api.keys import RUNTIME
from tests.helpers import ROUTING_IDLE, json_of, sign_in_customer, sign_in_staff

#: Paths (canonical, with their placeholders) that only staff, an admin or the operator may use.
STAFF_PREFIXES = (
    "/api/mentions", "/api/links", "/api/people", "/api/customers", "/api/sources",
    "/api/teams", "/api/routed", "/api/route", "/api/deliveries", "/api/routing",
    "/api/dashboard", "/api/stream/mentions", "/api/accounts", "/api/moderation",
    "/teams", "/deliveries", "/dashboard", "/forum/moderation",
)
#: Staff-only actions under customer-facing prefixes (the final path segment after an id).
STAFF_SUFFIXES = re.compile(
    r"^/(api|forum)/(ideas|comments)/\{id[^}]*\}/(status|merge|unmerge|mentions|moderate)$")
#: Routes a customer may use even though their prefix is staff's (none today).
CUSTOMER_ALLOWED: set[tuple[str, str]] = set()
#: Signed (HMAC) endpoints of push senders and the CRM bridge, not sessions: their own tests
#: cover them.
NOT_SESSION = {"/api/ingest/{name}", "/api/customers/sync"}
#: Well-formed bodies, so a route cannot pass by refusing the shape before checking the caller.
#: Writes a stranger makes before having a session (JSON only, so no cross-site form can send
#: them) and the one-click unsubscribe (RFC 8058), which its mailed token authorises.
NO_SESSION_YET = {"/api/auth/signup", "/api/auth/login", "/api/auth/verify", "/api/auth/login-link",
                  "/api/auth/password-reset", "/api/auth/password-reset/confirm", "/forum/unsubscribe"}
BODY = {"into": 2, "mention_id": 1, "blocked": True, "status": "done", "text": "hi",
        "name": "support", "webhook_url": "http://127.0.0.1:9/hook"}


def _concrete(canonical: str) -> str:
    """A request path for a route: every placeholder filled with a plausible value."""
    action = "acknowledge" if canonical.startswith("/teams/") else "run"

    def fill(match: re.Match[str]) -> str:
        return {"id": "1", "key": "support", "name": "rss", "action": action,
                "kind": "ideas"}.get(match.group(1), "x")
    return re.sub(r"\{([^}]+)\}", fill, canonical)


def staff_routes(app: Any) -> list[tuple[str, str]]:
    """(method, canonical path) of every staff-only route of ``app``."""
    found = []
    for route in app.router.routes():
        if route.resource is None or route.method in ("HEAD", "*"):
            continue
        path = route.resource.canonical
        if path in NOT_SESSION or (route.method, path) in CUSTOMER_ALLOWED:
            continue
        if path == "/" or path.startswith(STAFF_PREFIXES) or STAFF_SUFFIXES.match(path):
            found.append((route.method, path))
    return found


async def test_a_signed_in_customer_gets_403_on_every_staff_route(app_client) -> None:
    client = await app_client(ROUTING_IDLE, customers=True)
    csrf = await sign_in_customer(client)
    for title in ("Dark mode for the anvil app", "Export invoices as CSV files"):
        await json_of(await client.post("/api/ideas", json={"title": title, "body": "please"},
                                        headers={"X-CSRF-Token": csrf}), 201)
    routes = staff_routes(client.app)
    # The walk must find the areas added later too, or it proves nothing about them.
    paths = {path for _, path in routes}
    for expected in ("/api/people/{id}/merge", "/api/routing/rules", "/api/dashboard/views",
                     "/api/moderation", "/forum/moderation/{kind}/{id}", "/api/sources/{name}",
                     "/teams/{key}/routed/{id}/{action}", "/api/mentions/{id}/topics"):
        assert any(p.startswith(expected.split("{")[0]) for p in paths), expected
    wrong = []
    for method, path in routes:
        url = _concrete(path)
        headers = {"X-CSRF-Token": csrf}
        if method == "GET":
            resp = await client.get(url, allow_redirects=False)
        elif path.startswith("/api/"):
            resp = await client.request(method, url, json=BODY if "/accounts/" not in url else {"blocked": True}, headers=headers, allow_redirects=False)
        else:
            resp = await client.request(method, url, data={**BODY, "csrf": csrf}, allow_redirects=False)
        ok = {403} if path.startswith("/api/") else {403, 302, 303}
        where = resp.headers.get("Location", "")
        if resp.status in (302, 303) and "signin" not in where and not (path == "/" and where == "/forum"):
            ok = {403}  # a redirect to anywhere but sign-in may mean the action ran
        if resp.status not in ok:
            wrong.append(f"{method} {url} -> {resp.status}")
        resp.release()
    assert not wrong, "a customer reached staff routes:\n" + "\n".join(wrong)


async def test_every_write_refuses_a_session_without_its_csrf_token(app_client) -> None:
    client = await app_client(ROUTING_IDLE, customers=True)
    csrf = await sign_in_staff(client, role="admin")
    await json_of(await client.post("/api/ideas", json={"title": "Dark mode for the anvil app",
                                                          "body": "please"},
                                    headers={"X-CSRF-Token": csrf}), 201)
    wrong = []
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method not in ("POST", "PUT", "PATCH", "DELETE") or path in NOT_SESSION | NO_SESSION_YET:
            continue
        url = _concrete(path)
        if path.startswith("/api/"):
            resp = await client.request(route.method, url, json=BODY, allow_redirects=False)
        else:
            resp = await client.request(route.method, url, data=BODY, allow_redirects=False)
        if resp.status != 403:
            wrong.append(f"{route.method} {url} -> {resp.status}")
        resp.release()
    assert not wrong, "writes without a CSRF token:\n" + "\n".join(wrong)


async def test_an_admin_session_edits_teams_and_a_customer_cannot(app_client) -> None:
    client = await app_client(ROUTING_IDLE)
    team = {"name": "Support"}
    customer_csrf = await sign_in_customer(client, "cu@x.example", "Cu")
    resp = await client.put("/api/teams/support", json=team, headers={"X-CSRF-Token": customer_csrf})
    assert resp.status == 403
    resp = await client.post("/api/sources/rss/pause", headers={"X-CSRF-Token": customer_csrf})
    assert resp.status == 403
    client.session.cookie_jar.clear()
    csrf = await sign_in_staff(client, "boss@crm.example", role="admin", name="Boss")
    assert (await client.put("/api/teams/support", json=team)).status == 403  # no CSRF token
    saved = await json_of(await client.put("/api/teams/support", json=team,
                                           headers={"X-CSRF-Token": csrf}))
    assert saved["key"] == "support"


async def test_a_cross_site_form_cannot_act_as_the_loopback_operator(app_client) -> None:
    client = await app_client(ROUTING_IDLE, customers=True)
    wrong = []
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method not in ("POST", "PUT", "PATCH", "DELETE") or path in NOT_SESSION | NO_SESSION_YET:
            continue
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Origin": "null"}):
            resp = await client.request(route.method, _concrete(path), data=BODY, headers=headers,
                                        allow_redirects=False)
            if resp.status not in (401, 403, 415):  # 415: JSON only, which no form can send
                wrong.append(f"{route.method} {path} {headers} -> {resp.status}")
            resp.release()
    assert not wrong, "cross-site writes got past the operator check:\n" + "\n".join(wrong)
    # The operator's own tools (no Origin, or this very origin) still work.
    paused = await json_of(await client.post("/api/sources/crm:none/pause"), 404)
    assert paused["error"]["code"] == "not_found"
    same = {"Origin": str(client.make_url("")).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    resp = await client.put("/api/teams/support", json={"name": "Support"}, headers=same)
    assert resp.status == 200, await resp.text()
    # Behind a local proxy that rewrites Host, the browser's Fetch metadata is what counts.
    proxied = {"Origin": "https://crm.example", "Sec-Fetch-Site": "same-origin"}
    resp = await client.put("/api/teams/support", json={"name": "Support"}, headers=proxied)
    assert resp.status == 200, await resp.text()


async def test_a_blocked_or_signed_out_session_is_not_the_loopback_operator(app_client) -> None:
    client = await app_client(ROUTING_IDLE, customers=True)
    await sign_in_customer(client, "bad@x.example", "Bad")
    store = client.app[RUNTIME].store
    account, _ = await store.get_login("bad@x.example")
    await store.update_account(account.id, blocked=True)
    # The session no longer counts, but the browser still sends its cookie: it must not fall
    # back to the anonymous operator that a loopback caller without any session is.
    for url in ("/api/dashboard/mentions", "/api/customers", "/api/people", "/api/routing/rules"):
        resp = await client.get(url)
        assert resp.status == 403, f"{url} -> {resp.status}"
        assert "sign" in (await resp.json())["error"]["message"]
    resp = await client.get("/dashboard", allow_redirects=False)
    assert resp.status in (302, 303, 403)
    client.session.cookie_jar.clear()  # no session at all: the operator on this machine
    assert (await client.get("/api/dashboard/mentions")).status == 200
