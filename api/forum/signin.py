"""The forum's sign-in pages: sign in, sign up ("check your e-mail"), sign out, verify.

Every way in ends where the visitor was, with the vote they asked for while signed out cast
(``api.pending_vote``).  With ``[forum] demo_mode`` on — a local demo without a mail server,
never a reachable server — the link a mail would carry is also shown on the page and logged.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from aiohttp import web

from api import pending_vote
from api.forum.pages import forum_page, render
from api.identity import (
    accounts_of,
    adopt_session,
    check_csrf,
    clear_session_cookie,
    client_address,
    forum_settings,
    set_session_cookie,
    store_of,
    viewer,
)
from api.notify_access import notifier, queue_verification
from community.accounts import VERIFY
from community.ideas import Ideas
from community.notify_mail import ACCOUNT_MAILS
from domain.forum import Account, is_staff
from domain.errors import AuthFailed, BadInput, Conflict, NotFound

log = logging.getLogger(__name__)


def demo_link(request: web.Request, kind: str, secret: str) -> str | None:
    """The path a mailed link of ``kind`` points to, in demo mode only (also logged, in full,
    for whoever runs the demo); ``None`` otherwise."""
    if not forum_settings(request).demo_mode:
        return None
    path = f"{ACCOUNT_MAILS[kind][1]}{quote(secret)}"
    log.warning("demo mode: the %s mail's link (shown on the page, no mail server): %s%s",
                kind, notifier(request).base_url, path)
    return path


async def _waiting_title(request: web.Request) -> str | None:
    # The title of the idea whose vote waits for this sign-in, to say so on the page.
    vote = pending_vote.pending(request)
    if vote is None:
        return None
    try:
        idea = await Ideas(store_of(request), forum_settings(request)).get(await viewer(request), vote.idea_id)
    except NotFound:
        return None
    return idea.title


#: What a page a sign-in returns to is called on the sign-in page, by the start of its path
#: (the first match wins: longer paths first).
PAGE_NAMES = (
    ("/dashboard/changelog", "the changelog editor"),
    ("/dashboard/analytics", "the analytics"),
    ("/dashboard/customers", "the customer's page"),
    ("/dashboard/links", "the review queue"),
    ("/dashboard/replies", "the replies queue"),
    ("/dashboard/mentions", "the conversation"),
    ("/dashboard", "the dashboard"),
    ("/teams", "the team queues"),
    ("/deliveries", "the deliveries"),
    ("/forum/moderation", "moderation"),
    ("/forum/notifications", "your notifications"),
    ("/forum/settings", "your settings"),
    ("/forum/submit", "the idea form"),
    ("/forum/ideas", "the idea"),
    ("/forum/comments", "the comment"),
    ("/forum/roadmap", "the roadmap"),
    ("/forum/changelog", "the changelog"),
    ("/forum", "the ideas"),
)


def continue_to(next_path: str) -> str | None:
    """What the sign-in page says it continues to for ``next_path`` (already a local path, see
    ``pending_vote.local_path``): the page's name, else "the page you asked for" (a path is
    never echoed: a link could put any words in it); ``None`` without one or when it is a
    sign-in page itself."""
    path = next_path.split("?", 1)[0].split("#", 1)[0]
    if not path or path.startswith(("/forum/signin", "/forum/signup")):
        return None
    for start, name in PAGE_NAMES:
        if path == start or path.startswith(start + "/"):
            return name
    return "the page you asked for"


async def _signin_context(request: web.Request, next_path: str) -> dict:
    # What every rendering of the sign-in and sign-up forms shows besides the form.
    return {"next": next_path, "continue_to": continue_to(next_path),
            "waiting_vote": await _waiting_title(request)}


@forum_page
async def signin_form(request: web.Request) -> web.Response:
    """GET /forum/signin and /forum/signup — saying which page a sign-in continues to when
    ``next`` is a path on this site (an outside address is dropped, never shown)."""
    template = "signup.html" if request.path.endswith("signup") else "signin.html"
    nxt = pending_vote.local_path(request.query.get("next"), "")
    return await render(request, template, {"error": None, **await _signin_context(request, nxt)})


def landing(account: Account, next_path: str) -> str:
    """Where a sign-in ends: the page asked for; with none, staff land on the dashboard and
    customers on the forum."""
    return next_path or ("/dashboard" if is_staff(account.role) else "/forum")


async def _back_with_vote(request: web.Request, response: web.HTTPSeeOther, account: Account,
                          csrf: str) -> None:
    # Cast the vote that waited for this sign-in and return to the page it was asked on.
    vote = await pending_vote.cast(request, response, adopt_session(request, account, csrf))
    if vote is not None:
        response.headers["Location"] = vote.next_path


@forum_page
async def signin(request: web.Request) -> web.StreamResponse:
    """POST /forum/signin and /forum/signup — then back to where the person was."""
    form = await request.post()
    await check_csrf(request, form)
    svc, nxt = accounts_of(request), pending_vote.local_path(form.get("next"), "")
    signing_up = request.path.endswith("signup")
    client = client_address(request)
    try:
        if signing_up:
            made = await svc.sign_up(form.get("email"), form.get("password"), form.get("name"), client)
            await queue_verification(request, made)
        else:
            started = await svc.sign_in(form.get("email"), form.get("password"), client)
    except (AuthFailed, BadInput, Conflict) as exc:
        return await render(request, "signup.html" if signing_up else "signin.html",
                            {"error": str(exc), "email": form.get("email", ""),
                             **await _signin_context(request, nxt)},
                            401 if isinstance(exc, AuthFailed) else 400)
    if signing_up:
        # The same page whether or not the address had an account (the mail says which), and no
        # session: the mailed link signs the person in, casting a vote that waits for it.
        return await render(request, "check_email.html", {
            "email": made.account.email, "next": nxt or "/forum",
            "waiting_vote": await _waiting_title(request),
            "demo_link": demo_link(request, VERIFY, made.verify_secret) if made.verify_secret else None})
    account = started.session.account
    response = web.HTTPSeeOther(landing(account, nxt))
    await _back_with_vote(request, response, account, started.session.csrf)
    set_session_cookie(request, response, started.token, started.session.expires_at)
    raise response


@forum_page
async def signout(request: web.Request) -> web.StreamResponse:
    """POST /forum/signout"""
    form = await request.post()
    await check_csrf(request, form)
    cookie = request.cookies.get("crmsphere_session")
    if cookie:
        await accounts_of(request).sign_out(cookie)
    response = web.HTTPSeeOther("/forum")
    clear_session_cookie(response)
    pending_vote.forget(response)
    raise response


@forum_page
async def verify(request: web.Request) -> web.StreamResponse:
    """GET /forum/verify?token= — the link in the verification mail; a vote that waited for it
    in this browser, signed in as this account, is cast and the visitor returns to its page."""
    svc = accounts_of(request)
    account = await svc.verify_email(request.query.get("token", "")[:200])
    who = await viewer(request)
    if pending_vote.pending(request) is not None:
        response = web.HTTPSeeOther("/forum")
        if who.via == "session" and who.account_id == account.id and who.csrf:
            await _back_with_vote(request, response, account, who.csrf)
            raise response
        if who.via != "session":
            # The mailed secret and this browser's waiting-vote marker together sign the new
            # account in here, as the mailed sign-in link does, and cast the vote it asked for.
            started = await svc.start_session(account)
            await _back_with_vote(request, response, account, started.session.csrf)
            set_session_cookie(request, response, started.token, started.session.expires_at)
            raise response
    return await render(request, "error.html", {
        "title": "E-mail verified", "done": True,
        "message": f"Thanks, {account.name}: your e-mail is verified and your votes now count."}, 200)
