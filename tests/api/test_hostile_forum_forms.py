"""The forum's HTML forms (sign-in, sign-up, new idea, comment, vote, merge, status, report...)
posted as a browser would (the CSRF token from the page) with one hostile value in one field
at a time: no answer is a 5xx, a refusal is a page saying what is wrong, and the forum still
answers afterwards.

The forms are read from the pages themselves, so a field added to a form is swept too.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.api.hostile_app import NO_RATE_LIMITS
from tests.api.test_staff_only_routes import _concrete
from tests.helpers import json_of, sign_in_staff

#: Field values, percent-encoded as a form body carries them (%ED%A0%80: a lone surrogate in
#: UTF-8, %FF: no UTF-8 at all).
HOSTILE_FORM_VALUES = ["9" * 30, str(2**63), str(-2**63 - 1), "-1", quote("²"), quote("١٢"), "NaN",
                       "Infinity", "1e309", "", "x" * 10_000, "a%00b", "%ED%A0%80", "%FF",
                       quote("#" + "9" * 30), quote("/forum/x\r\nSet-Cookie: a=b")]
#: Forms that would end the walk: signing out, deleting the idea the other forms aim at.
ENDS_THE_WALK = ("/forum/signout", "/delete")


class _Forms(HTMLParser):
    """The POST forms of a page: (action, {field: value})."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form" and found.get("method", "get").lower() == "post":
            self.forms.append((found.get("action", ""), {}))
        elif tag in ("input", "textarea", "select", "button") and self.forms and "name" in found:
            self.forms[-1][1].setdefault(found["name"], found.get("value", ""))


def _forms_of(html: str, page: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return [(action or page, fields) for action, fields in parser.forms
            if not any(end in (action or page) for end in ENDS_THE_WALK)]


class _Reasons(HTMLParser):
    """The text a refusal gives: its alerts, its error messages and the error page's message."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[bool] = []  # for each open element: whether it holds a reason
        self.inside = 0
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        classes = found.get("class", "").split()
        reason = found.get("role") == "alert" or "error" in classes or "http-error" in classes
        if tag in ("input", "br", "img", "meta", "link", "hr"):  # void: no end tag comes
            return
        self.open.append(reason)
        if reason:
            self.inside += 1
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open.pop():
            self.inside -= 1

    def handle_data(self, data: str) -> None:
        if self.inside > 0:
            self.found[-1] += data


def _reason_of(html: str) -> str:
    parser = _Reasons()
    parser.feed(html)
    return " ".join(" ".join(text.split()) for text in parser.found if text.strip())


def _names(reason: str, field: str) -> bool:
    """Whether a refusal's ``reason`` names ``field`` ("tags" by "tag '...'", "parent_id" by
    "parent id", "csrf" by "CSRF token")."""
    said = reason.lower()
    return any(name in said for name in {field.lower(), field.lower().replace("_", " "),
                                         field.lower().removesuffix("s")} if name)


def _body(fields: dict[str, str], hostile: str, value: str) -> bytes:
    parts = [f"{quote(k)}={quote(v)}" for k, v in fields.items() if k != hostile]
    return "&".join([*parts, f"{quote(hostile)}={value}"]).encode()


async def _walk(client: TestClient, pages: list[str]) -> list[str]:
    wrong = []
    for page in pages:
        for action, fields in _forms_of(await (await client.get(page)).text(), page):
            # The form as the page gives it (its required fields often empty): a hostile value
            # refused for the reason this one is refused for, or for a field the page left
            # empty, says nothing about that value; any other refusal must name its field.
            async with client.post(action, data="&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()), headers={
                    "Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False) as resp:
                as_given = _reason_of(await resp.text()) if resp.status >= 400 else None
            for field in fields:
                for value in HOSTILE_FORM_VALUES:
                    # Each post reads the page again: a refused post may have changed nothing,
                    # an accepted one may have changed the idea; the token stays the session's.
                    async with client.post(action, data=_body(fields, field, value), headers={
                            "Content-Type": "application/x-www-form-urlencoded"},
                            allow_redirects=False) as resp:
                        where = f"POST {action} {field}={value[:24]} (from {page}) -> {resp.status}"
                        text = await resp.text()
                        if resp.status >= 500:
                            wrong.append(f"{where}: {text[:200]}")
                        elif resp.status >= 400 and (not text.strip() or "internal error" in text):
                            wrong.append(f"{where}: no reason given: {text[:200]}")
                        elif resp.status >= 400 and (reason := _reason_of(text)) != as_given \
                                and not any(_names(reason, named) for named in fields
                                            if named == field or not fields[named]):
                            wrong.append(f"{where}: the refusal does not name {field!r}: {reason[:200]!r}")
    return wrong


@pytest.fixture
async def forum(app_client) -> TestClient:
    return await app_client(overrides={"api.trust_loopback": False, **NO_RATE_LIMITS})


async def test_sign_in_and_sign_up_forms_refuse_hostile_values_by_name(forum) -> None:
    wrong = await _walk(forum, ["/forum/signin", "/forum/signup"])
    assert not wrong, f"{len(wrong)} answers:\n" + "\n".join(wrong)
    assert (await forum.get("/forum")).status == 200


async def test_idea_comment_vote_and_staff_forms_refuse_hostile_values_by_name(forum) -> None:
    csrf = await sign_in_staff(forum, role="admin")
    for title in ("Dark mode for anvils", "Export invoices as CSV files"):
        idea: dict[str, Any] = await json_of(await forum.post(
            "/api/ideas", json={"title": title, "body": "please"}, headers={"X-CSRF-Token": csrf}), 201)
    await json_of(await forum.post(f"/api/ideas/{idea['id']}/comments", json={"body": "yes"},
                                   headers={"X-CSRF-Token": csrf}), 201)
    wrong = await _walk(forum, [
        "/forum/submit", "/forum", f"/forum/ideas/{idea['id']}", f"/forum/ideas/{idea['id']}/edit",
        "/forum/comments/1/edit", "/forum/settings", "/forum/notifications", "/forum/moderation",
        "/dashboard/changelog/new", "/dashboard/replies", "/dashboard/links"])
    assert not wrong, f"{len(wrong)} answers:\n" + "\n".join(wrong)
    assert (await forum.get(f"/forum/ideas/{idea['id']}")).status in (200, 404)
    assert (await json_of(await forum.get("/api/auth/me")))["role"] == "admin"


async def test_merging_into_an_idea_number_past_64_bits_is_refused_by_name(forum) -> None:
    # The merge form read "into" with int(): a number past 64 bits overflowed in the store (500).
    csrf = await sign_in_staff(forum, role="admin")
    idea = await json_of(await forum.post("/api/ideas", json={"title": "Dark mode for anvils",
                                                              "body": "please"},
                                          headers={"X-CSRF-Token": csrf}), 201)
    for into in ("9" * 30, str(2**63), "#" + "9" * 19, "-9223372036854775809", "١"):
        resp = await forum.post(f"/forum/ideas/{idea['id']}/merge", data={"csrf": csrf, "into": into},
                                allow_redirects=False)
        assert resp.status == 400, (into, resp.status)
        assert "into must be an idea number" in await resp.text()
    other = await json_of(await forum.post("/api/ideas", json={"title": "Export invoices as CSV",
                                                               "body": "please"},
                                           headers={"X-CSRF-Token": csrf}), 201)
    resp = await forum.post(f"/forum/ideas/{idea['id']}/merge",  # as staff type it: "#12"
                            data={"csrf": csrf, "into": f" #{other['id']} "}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/forum/ideas/{other['id']}"


#: Query parameters the pages read (their handlers and query models), all sent at once.
PAGE_PARAMETERS = ("after", "approved", "cursor", "done", "error", "mine", "next", "page", "published",
                   "q", "reply_error", "saved", "since", "sort", "state", "status", "tag", "team",
                   "token", "until", "v", "limit", "customer", "source", "topic", "days", "kind",
                   "sentiment", "intent", "language", "assignee", "batch", "mentions", "drafts")
#: Endless (the event stream) or ending the session (signing out).
NOT_PAGES = ("/api/", "/static", "/forum/signout")


async def test_every_page_answers_hostile_query_values_without_a_500(forum) -> None:
    csrf = await sign_in_staff(forum, role="admin")
    await json_of(await forum.post("/api/ideas", json={"title": "Dark mode for anvils", "body": "please"},
                                   headers={"X-CSRF-Token": csrf}), 201)
    wrong = []
    for route in forum.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "GET" or not path or path.startswith(NOT_PAGES):
            continue
        url = _concrete(path)
        for value in HOSTILE_FORM_VALUES:
            query = "&".join(f"{name}={value}" for name in PAGE_PARAMETERS)
            async with forum.get(URL(f"{url}?{query}"[:8000], encoded=True),
                                 allow_redirects=False) as resp:
                if resp.status >= 500:
                    wrong.append(f"GET {url}?*={value[:24]} -> {resp.status}")
    assert not wrong, f"{len(wrong)} answers:\n" + "\n".join(wrong)
    assert (await json_of(await forum.get("/api/auth/me")))["role"] == "admin"
