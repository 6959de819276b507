"""Accounts: sign-up, sign-in, verification and customer linking, sessions, roles, tokens."""

from __future__ import annotations

import pytest

from community.access import ANONYMOUS
from domain.errors import AuthFailed, BadInput, Forbidden
from tests.community.forum_helpers import accounts, make_viewer


async def test_sign_up_sign_in_and_session(forum_store, forum_settings) -> None:
    svc = accounts(forum_store, forum_settings)
    made = await svc.sign_up("Jo@AcmeAnvils.example", "correct horse battery", "Jo")
    assert made.account.email == "jo@acmeanvils.example" and made.account.customer_id is None
    # The same address again makes no second account and changes nothing: the owner is to be
    # told (no verification secret), the caller is answered as for a new address.
    again = await svc.sign_up("JO@acmeanvils.example ", "another password!", "Jo 2")
    assert again.account.id == made.account.id and again.verify_secret is None
    assert (await forum_store.get_account(made.account.id)).name == "Jo"
    with pytest.raises(AuthFailed):
        await svc.sign_in("jo@acmeanvils.example", "wrong password")
    with pytest.raises(AuthFailed):
        await svc.sign_in("nobody@example.com", "correct horse battery")
    started = await svc.sign_in("jo@acmeanvils.example", "correct horse battery")
    session = await svc.session(started.token)
    assert session is not None and session.account.id == made.account.id and session.csrf
    await svc.sign_out(started.token)
    assert await svc.session(started.token) is None


@pytest.mark.parametrize("email, password, name, field", [
    ("not-an-email", "long enough pw", "Jo", "email"),
    ("a@b.example", "short", "Jo", "password"),
    ("a@b.example", "long enough pw", "", "name"),
    (None, "long enough pw", "Jo", "email"),
])
async def test_sign_up_rejects_bad_input(forum_store, forum_settings, email, password, name, field) -> None:
    with pytest.raises(BadInput) as err:
        await accounts(forum_store, forum_settings).sign_up(email, password, name)
    assert err.value.details["field"] == field


async def test_verification_links_by_email_then_domain_then_new_customer(forum_store, forum_settings) -> None:
    svc = accounts(forum_store, forum_settings)
    jo = await svc.sign_up("jo@acmeanvils.example", "correct horse battery", "Jo")
    sam = await svc.sign_up("sam@acmeanvils.example", "correct horse battery", "Sam")
    kim = await svc.sign_up("kim@elsewhere.example", "correct horse battery", "Kim")
    assert (await svc.verify_email(jo.verify_secret)).customer_id == "cus_jo"
    assert (await svc.verify_email(sam.verify_secret)).customer_id == "cus_acme"
    linked = await svc.verify_email(kim.verify_secret)
    assert linked.email_verified and linked.customer_id == f"acct-{kim.account.id}"
    assert (await forum_store.get_customer(linked.customer_id)).emails == ("kim@elsewhere.example",)
    with pytest.raises(AuthFailed):
        await svc.verify_email(jo.verify_secret)  # one-time


async def test_password_reset_ends_sessions(forum_store, forum_settings) -> None:
    svc = accounts(forum_store, forum_settings)
    await svc.sign_up("jo@acmeanvils.example", "correct horse battery", "Jo")
    old = await svc.sign_in("jo@acmeanvils.example", "correct horse battery")
    _, secret = await svc.request_password_reset("jo@acmeanvils.example")
    await svc.reset_password(secret, "a brand new password")
    assert await svc.session(old.token) is None
    await svc.sign_in("jo@acmeanvils.example", "a brand new password")
    with pytest.raises(AuthFailed):
        await svc.reset_password(secret, "yet another password")


async def test_sign_in_link(forum_store, forum_settings) -> None:
    svc = accounts(forum_store, forum_settings)
    await svc.sign_up("jo@acmeanvils.example", "correct horse battery", "Jo")
    _, secret = await svc.request_sign_in_link("jo@acmeanvils.example")
    started = await svc.sign_in_with_link(secret)
    assert started.session.account.customer_id == "cus_jo"
    assert await svc.request_sign_in_link("nobody@example.com") is None


async def test_tokens_carry_at_most_the_owner_role_and_revoke(forum_store, forum_settings) -> None:
    svc = accounts(forum_store, forum_settings)
    team = await make_viewer(forum_store, "t@crm.example", "team")
    with pytest.raises(Forbidden):
        await svc.create_token(team, "ci", "admin")
    plain, token = await svc.create_token(team, "ci", "customer")
    assert token.role == "customer" and plain.startswith("cst_")
    assert "cst_" not in repr(await forum_store.list_api_tokens(team.account.id))
    viewer = await svc.token_viewer(plain)
    assert viewer is not None and viewer.role == "customer" and not viewer.staff
    await svc.revoke_token(team, token.id)
    assert await svc.token_viewer(plain) is None
    with pytest.raises(AuthFailed):
        await svc.create_token(ANONYMOUS, "x")


async def test_only_admins_change_roles(forum_store, forum_settings) -> None:
    svc = accounts(forum_store, forum_settings)
    admin = await make_viewer(forum_store, "a@crm.example", "admin")
    manager = await make_viewer(forum_store, "m@crm.example", "manager")
    with pytest.raises(Forbidden):
        await svc.set_role(manager, manager.account.id, "admin")
    assert (await svc.set_role(admin, manager.account.id, "team")).role == "team"
    with pytest.raises(BadInput):
        await svc.set_role(admin, manager.account.id, "overlord")
