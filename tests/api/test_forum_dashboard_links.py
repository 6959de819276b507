"""A manager who signs in lands on the dashboard; the dashboard and the forum link to each
other; customers see no staff links.  Over real HTTP against the app."""

from __future__ import annotations

from api.keys import RUNTIME
from community.accounts import Accounts
from tests.api.forum_helpers import token_for
from tests.helpers import PASSWORD, csrf_of


async def _person(client, email: str, role: str) -> None:
    store = client.app[RUNTIME].store
    accounts = Accounts(store, client.app[RUNTIME].settings.forum)
    made = await store.create_account(email, email.split("@")[0], await accounts._hash(PASSWORD), role)
    await store.update_account(made.id, email_verified=True, customer_id="cus_jo" if role == "customer" else None)


async def _sign_in(client, email: str, next_path: str | None):
    html = await (await client.get("/forum/signin" + (f"?next={next_path}" if next_path else ""))).text()
    data = {"csrf": csrf_of(html), "email": email, "password": PASSWORD}
    if next_path:
        data["next"] = next_path
    return await client.post("/forum/signin", data=data, allow_redirects=False)


async def test_manager_signing_in_lands_on_the_dashboard(app_client) -> None:
    client = await app_client(customers=True)
    await _person(client, "mo@nimbus.example", "manager")
    done = await _sign_in(client, "mo@nimbus.example", None)
    assert done.status == 303 and done.headers["Location"] == "/dashboard"
    dashboard = await client.get("/dashboard")
    assert dashboard.status == 200
    html = await dashboard.text()
    assert '<a href="/forum">Public forum</a>' in html and "Public feed" not in html


async def test_manager_asked_for_a_page_returns_to_it_and_a_customer_to_the_forum(app_client) -> None:
    client = await app_client(customers=True)
    await _person(client, "mo@nimbus.example", "manager")
    done = await _sign_in(client, "mo@nimbus.example", "/forum/roadmap")
    assert done.headers["Location"] == "/forum/roadmap"
    other = await app_client(customers=True)
    await _person(other, "jo@acmeanvils.example", "customer")
    done = await _sign_in(other, "jo@acmeanvils.example", None)
    assert done.headers["Location"] == "/forum"


async def test_forum_shows_staff_the_dashboard_and_customers_no_staff_links(app_client) -> None:
    client = await app_client(customers=True)
    for who in ({}, await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")):
        html = await (await client.get("/forum", headers=who)).text()
        assert 'href="/dashboard"' not in html and 'href="/api/customers"' not in html
    staff = await token_for(client, "mo@nimbus.example", "manager")
    html = await (await client.get("/forum", headers=staff)).text()
    assert '<a href="/dashboard">Dashboard</a>' in html
