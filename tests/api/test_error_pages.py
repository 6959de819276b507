"""Errors of the pages are pages of the site (the forum's layout, a way back); errors of
``/api/*`` stay JSON.  Over real HTTP against the app."""

from __future__ import annotations

import logging

from api.app import create_app
from tests.api.forum_helpers import token_for
from tests.helpers import app_settings


def _is_site_page(html: str) -> bool:
    return '<nav class="forum-nav"' in html and "/static/forum.css" in html


async def test_unknown_page_is_a_404_page_of_the_site(app_client) -> None:
    client = await app_client()
    for path in ("/forum/nope", "/forum/ideas/999999", "/no/such/page?x=<script>alert(1)</script>"):
        resp = await client.get(path)
        html = await resp.text()
        assert resp.status == 404 and resp.content_type == "text/html", path
        assert _is_site_page(html) and "<script>alert(1)" not in html
    assert "Page not found" in await (await client.get("/forum/nope")).text()


async def test_a_forms_address_opened_directly_is_a_405_page_with_a_way_back(app_client) -> None:
    client = await app_client()
    resp = await client.get("/forum/ideas/7/vote")
    html = await resp.text()
    assert resp.status == 405 and resp.content_type == "text/html"
    assert "POST" in resp.headers["Allow"]
    assert _is_site_page(html) and 'href="/forum/ideas/7"' in html and "Method Not Allowed" not in html


async def test_staff_page_refused_to_a_customer_is_a_403_page(app_client) -> None:
    client = await app_client(customers=True)
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    resp = await client.get("/teams", headers=customer)
    assert resp.status == 403 and resp.content_type == "text/html"
    assert _is_site_page(await resp.text())


async def test_api_errors_stay_json(app_client) -> None:
    client = await app_client()
    for path, status in (("/api/nope", 404), ("/api/ideas/7/vote", 405), ("/api/ideas/999999", 404)):
        resp = await client.get(path)
        assert resp.status == status and resp.content_type == "application/json", path
        assert "error" in await resp.json()


async def test_a_crash_is_a_500_page_and_a_logged_traceback(aiohttp_client, tmp_path, caplog) -> None:
    app = create_app(app_settings(tmp_path, None, None))

    async def crashing_page(request):  # a page with a bug in it
        return {"a": 1}["b"]

    app.router.add_get("/forum/crashing", crashing_page)
    client = await aiohttp_client(app)
    resp = await client.get("/forum/crashing")
    html = await resp.text()
    assert resp.status == 500 and resp.content_type == "text/html"
    assert _is_site_page(html) and "Something went wrong" in html and "KeyError" not in html
    assert "unhandled error on GET /forum/crashing" in caplog.text and "KeyError" in caplog.text


async def test_a_page_asked_with_a_wrong_bearer_token_is_still_a_clean_401(app_client) -> None:
    client = await app_client()
    for path in ("/dashboard", "/teams", "/forum/moderation", "/forum/submit"):
        resp = await client.get(path, headers={"Authorization": "Bearer wrong"})
        assert resp.status == 401, path
        assert "Traceback" not in await resp.text()


#: Form bodies a broken client or proxy really sends: a multipart type without its boundary
#: (a hand-set Content-Type header), and a body that does not start with the boundary it names
#: (a proxy that dropped the first chunk).
BROKEN_FORMS = (("multipart/form-data", b"title=Dark+mode"),
                ("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
                 b'Content-Disposition: form-data; name="title"\r\n\r\nDark mode\r\n'))


async def test_a_form_that_cannot_be_read_is_a_400_page_naming_why(app_client, caplog) -> None:
    # These were a 500 (aiohttp's multipart reader raised ValueError) and a logged crash, on
    # every form of the forum and the dashboard; a person now sees the site's page saying why.
    client = await app_client()
    for path, back in (("/forum/signin", "/forum"), ("/forum/submit", "/forum"),
                       ("/forum/ideas/1/comments", "/forum/ideas/1"), ("/teams/care/routed/1/acknowledge", "/dashboard")):
        for content_type, body in BROKEN_FORMS:
            resp = await client.post(path, data=body, headers={"Content-Type": content_type},
                                     allow_redirects=False)
            html = await resp.text()
            assert (resp.status, resp.content_type) == (400, "text/html"), (path, content_type, html[:300])
            assert _is_site_page(html) and "That request was not understood" in html, path
            assert "the form cannot be read as multipart/form-data" in html and "boundary" in html, html
            assert f'class="http-error-back" href="{back}"' in html, path
    # /api/ keeps its JSON errors, naming the same thing
    resp = await client.post("/api/ideas", data=BROKEN_FORMS[0][1], headers={"Content-Type": BROKEN_FORMS[0][0]})
    assert (resp.status, resp.content_type) == (400, "application/json")
    assert "the form cannot be read as multipart/form-data" in (await resp.json())["error"]["message"]
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert (await client.get("/forum")).status == 200


async def test_a_body_that_lies_about_its_encoding_is_a_400_page_on_the_site(app_client) -> None:
    # Answered "400: the request body is not encoded ..." in plain text on the pages.
    client = await app_client()
    resp = await client.post("/forum/signin", data=b"email=jo%40acme.example&password=x", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"})
    html = await resp.text()
    assert (resp.status, resp.content_type) == (400, "text/html"), html[:300]
    assert _is_site_page(html) and "not encoded as its headers say (Content-Encoding)" in html
    assert 'class="http-error-back" href="/forum"' in html
    assert resp.headers.get("Connection", "").lower() == "close"  # the rest of the body is unreadable
    assert (await client.get("/forum")).status == 200
