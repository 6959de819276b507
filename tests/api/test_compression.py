"""gzip of text answers (api/compression.py), the static files' content-hash URLs, and the
CSRF token masked on every answer so that compression cannot leak it (BREACH)."""

from __future__ import annotations

import gzip
import re

import pytest

from api.csrf_mask import mask, unmask
from tests.helpers import csrf_of, sign_in_customer

# What browsers send.
CHROME = "gzip, deflate, br, zstd"


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True, overrides={"forum.trust_signup_email": True})


async def _raw(client, path: str, accept: str | None = CHROME, **headers: str):
    """The answer to a GET as it crossed the wire (not decompressed)."""
    sent = {"Accept-Encoding": accept} if accept is not None else {"Accept-Encoding": ""}
    resp = await client.get(path, headers={**sent, **headers}, auto_decompress=False)
    return resp, await resp.read()


async def test_pages_scripts_and_json_are_gzipped_when_the_client_accepts_it(client) -> None:
    await sign_in_customer(client)
    for path in ("/forum", "/static/forum.css", "/static/dashboard/stream.js", "/api/openapi.json"):
        resp, body = await _raw(client, path)
        assert resp.status == 200, path
        assert resp.headers.get("Content-Encoding") == "gzip", path
        assert "Accept-Encoding" in resp.headers.get("Vary", ""), path
        plain = gzip.decompress(body)
        assert len(body) < len(plain) and len(plain) > 1024, path
        # The same answer uncompressed for a client that does not accept gzip.
        resp, unzipped = await _raw(client, path, accept="identity")
        assert "Content-Encoding" not in resp.headers and len(unzipped) > 1024, path


async def test_what_is_not_compressed(client) -> None:
    # gzip refused with q=0 (RFC 9110), small answers, and the live stream.
    resp, body = await _raw(client, "/forum", accept="gzip;q=0, identity")
    assert "Content-Encoding" not in resp.headers and b"<html" in body
    resp, body = await _raw(client, "/healthz")
    assert len(body) < 1024 and "Content-Encoding" not in resp.headers


async def test_live_stream_is_not_gzipped(client) -> None:
    # Its first event must reach the browser at once: no gzip frame holding it back (the stream
    # deflates its own blocks when asked, see tests/api/test_dashboard_stream_encoding.py).
    resp = await client.get("/api/stream/mentions", headers={"Accept-Encoding": "gzip",
                                                              "Accept": "text/event-stream"},
                            auto_decompress=False)
    try:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        assert "Content-Encoding" not in resp.headers
        assert await resp.content.readuntil(b"\n\n") == b"retry: 1000\nevent: ready\ndata: {}\n\n"
    finally:
        resp.close()


async def test_static_files_have_content_hash_urls_cached_a_year(client) -> None:
    html = (await _raw(client, "/forum"))[1]
    links = re.findall(r'(/static/forum\.css)\?v=([0-9a-f]{12})', gzip.decompress(html).decode())
    assert links, "the forum's stylesheet is linked by its content hash"
    path, digest = links[0]
    resp, _ = await _raw(client, f"{path}?v={digest}")
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # An old hash (a page from before a deploy) or none: revalidate, never keep a stale file.
    for stale in (f"{path}?v=000000000000", path):
        resp, _ = await _raw(client, stale)
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-cache", stale
    # The brand's stylesheet (drawn by the app) keeps its own short cache.
    resp, _ = await _raw(client, "/static/brand.css")
    assert resp.headers["Cache-Control"] == "public, max-age=300"


def test_masked_token_differs_every_time_and_unmasks() -> None:
    token = "R9DvvFCwUbJOhd289T9BgronSusSchhee4zBRmnH51w"
    masked = {mask(token) for _ in range(50)}
    assert len(masked) == 50 and token not in "".join(masked)
    assert all(unmask(m) == token for m in masked)
    # Hostile values never unmask to anything usable and never raise.
    for forged in ("", "%%%%", "a", "A" * 271, "AAA=", "////", "\u00e9\u00e9\u00e9\u00e9", mask(token)[:-1]):
        assert unmask(forged) != token


async def test_csrf_token_differs_per_answer_and_every_masked_form_validates(client) -> None:
    await sign_in_customer(client)
    resp = await client.post("/forum/submit", data={"csrf": csrf_of(await (await client.get("/forum/submit")).text()),
                                                    "title": "Bulk export of invoices", "body": "CSV please"},
                             allow_redirects=False)
    assert resp.status == 303
    idea = resp.headers["Location"]
    # A search reflects what was typed: the page a BREACH attacker would have compressed.
    pages = [await (await client.get("/forum", params={"q": "csrf=R9Dv"})).text() for _ in range(5)]
    # One masked value per answer (its forms share it, as with Django): never twice across answers.
    per_answer = [set(re.findall(r'name="csrf" value="([^"]*)"', page)) for page in pages]
    assert all(len(found) == 1 for found in per_answer)
    tokens = [t for found in per_answer for t in found]
    assert len(set(tokens)) == len(pages), "a token string was sent in two answers"
    for token in tokens:  # each one still validates (vote, then take it back)
        resp = await client.post(f"{idea}/vote", data={"csrf": token}, allow_redirects=False)
        assert resp.status == 303, await resp.text()
    # Forged: another session's token masked, a masked token with one character changed, none.
    genuine = tokens[0]
    flipped = genuine[:5] + ("A" if genuine[5] != "A" else "B") + genuine[6:]
    for forged in (mask("x" * 22), flipped, "", genuine + "AA"):
        resp = await client.post(f"{idea}/vote", data={"csrf": forged}, allow_redirects=False)
        assert resp.status == 403, forged


async def test_api_csrf_header_takes_the_masked_token(client) -> None:
    await sign_in_customer(client)
    me = await (await client.get("/api/auth/me")).json()
    first, second = me["csrf_token"], (await (await client.get("/api/auth/me")).json())["csrf_token"]
    assert first and first != second
    resp = await client.post("/api/ideas", json={"title": "Slack alerts for spikes", "body": ""},
                             headers={"X-CSRF-Token": second})
    assert resp.status == 201, await resp.text()
    resp = await client.post("/api/ideas", json={"title": "Another idea", "body": ""},
                             headers={"X-CSRF-Token": mask("not-the-token-at-all!!")})
    assert resp.status == 403


async def test_static_text_is_answered_gzipped_from_memory_and_revalidates(client) -> None:
    resp, body = await _raw(client, "/static/dashboard/dashboard.css")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/css")
    assert resp.headers["Content-Encoding"] == "gzip" and b".stream-tools" in gzip.decompress(body)
    etag = resp.headers["ETag"]
    resp, body = await _raw(client, "/static/dashboard/dashboard.css", **{"If-None-Match": etag})
    assert resp.status == 304 and body == b""
    # What is not a file of the folder is no file at all, packed or not.
    for hostile in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/dashboard/../../app.py",
                    "/static/nothing.css"):
        resp, _ = await _raw(client, hostile)
        assert resp.status in (403, 404), hostile
