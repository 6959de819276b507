"""The forum's brand from ``[forum]``: name, logo and accent colour; the colour reaches the CSS
as /static/brand.css (no inline style under the Content-Security-Policy); customers see the
brand, idea cards show author and company and tags as separate chips, an idea page its
voters.  Over real HTTP against the app."""

from __future__ import annotations

from tests.forum_rules import add_vote
import re
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.forum.cards import excerpt, voters_phrase
from api.template_filters import monogram
from config.forum import ForumSettings, StatusSettings
from config.logo_file import image_type
from api.keys import RUNTIME
from domain.forum import Vote
from tests.api.forum_helpers import token_for
from tests.conftest import T0
from tests.conftest import customer as registry_customer

BRAND = '[forum]\nbrand_name = "Anvil Ideas"\naccent_color = "#0E7C66"\nbrand_logo_url = "/static/logo.svg"\n'


@pytest.mark.parametrize("colour", [
    "red", "#12345g", "#1234", "#0e7c66;}body{display:none", "#0e7c66}\n*{background:url(//evil.example/x)",
    "expression(alert(1))", "", "#0e7c66 !important"])
def test_an_accent_that_is_not_a_hex_colour_is_refused(colour: str) -> None:
    with pytest.raises(ValidationError, match=r"accent_color\n  String should match pattern"):
        ForumSettings(accent_color=colour)
    with pytest.raises(ValidationError, match=r"color\n  String should match pattern"):
        StatusSettings(key="shipped", label="Shipped", color=colour)


@pytest.mark.parametrize("url", [
    "//evil.example/logo.png", "http://cdn.example/logo.png", "javascript:alert(1)",
    'data:image/svg+xml,<svg onload="alert(1)">', "/static/logo.svg\" onerror=\"alert(1)", "logo.png",
    # What would break out of the CSP header or the src attribute, or hide another host.
    "https://cdn.example; script-src *", "https://cdn.example/logo.png;img-src *",
    "https://user:pass@cdn.example/logo.png", "https://cdn.example/logo.png?x=\"><script>",
    "https://cdn.example/logo.png#x", "https:///logo.png", "https://-cdn.example/logo.png",
    "https://cdn..example/logo.png", "https://cdn.example:99999999/logo.png",
    "HTTPS://cdn.example/logo.png", "https://cdn.example\n/logo.png"])
def test_a_logo_that_is_not_a_path_on_this_server_nor_https_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match=r"brand_logo_url\n  (String should match pattern|Value error, a)"):
        ForumSettings(brand_logo_url=url)


@pytest.mark.parametrize(("url", "origin"), [
    ("https://cdn.anvil.example/brand/logo.svg", "https://cdn.anvil.example"),
    ("https://CDN.Anvil.example:8443/logo.png", "https://cdn.anvil.example:8443"),
    ("https://anvil.example", "https://anvil.example"),
    ("/static/logo.svg", ""), ("", "")])
def test_an_https_logo_is_accepted_and_its_origin_known(url: str, origin: str) -> None:
    assert ForumSettings(brand_logo_url=url).logo_origin() == origin


async def test_an_https_logo_is_allowed_by_the_pages_csp_and_nothing_else_is(app_client) -> None:
    """The CSP of every answer lets images come from the logo's origin, and only images."""
    client = await app_client('[forum]\nbrand_name = "Anvil Ideas"\n'
                              'brand_logo_url = "https://cdn.anvil.example/brand/logo.svg"\n')
    for path in ("/forum", "/api/ideas", "/static/design.css"):
        csp = (await client.get(path)).headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["img-src"] == "'self' data: https://cdn.anvil.example", path
        assert directives["script-src"] == directives["style-src"] == directives["connect-src"] == "'self'"
        assert directives["default-src"] == "'self'"
    html = await (await client.get("/forum")).text()
    assert '<img class="brand-logo" src="https://cdn.anvil.example/brand/logo.svg"' in html


async def test_without_a_logo_the_header_shows_the_names_initials(app_client) -> None:
    client = await app_client('[forum]\nbrand_name = "Anvil Ideas"\n')
    html = await (await client.get("/forum")).text()
    assert re.search(r'<a class="brand" href="/forum"><span class="brand-mark" aria-hidden="true">AI</span>'
                     r'<span class="brand-name">Anvil Ideas</span></a>', html)
    assert "<img" not in html
    # The default CSP is unchanged: images from this origin (and the data: favicon) only.
    assert "img-src 'self' data:;" in (await client.get("/forum")).headers["Content-Security-Policy"]


@pytest.mark.parametrize(("name", "initials"), [
    ("Anvil Ideas", "AI"), ("acme", "A"), ("🚀 Rocket launch board", "RL"), ("Ünited wörks", "ÜW"),
    ("<b>x</b>", "B"), ("---", "·"), ("Nimbus", "N")])
def test_monogram(name: str, initials: str) -> None:
    assert monogram(name) == initials


def test_brand_defaults_and_a_good_brand() -> None:
    assert ForumSettings().brand_name == "Feedback" and ForumSettings().brand_logo_url == ""
    good = ForumSettings(brand_name="Anvil Ideas", brand_logo_url="/static/logo.svg", accent_color="#35d")
    assert good.accent_color == "#35d"


@pytest.mark.parametrize("intro", ["", "Tell us what to build. " * 14])
def test_a_board_intro_that_is_empty_or_longer_than_a_header_is_refused(intro: str) -> None:
    with pytest.raises(ValidationError, match=r"board_intro\n  String should have at (least 1|most 300) character"):
        ForumSettings(board_intro=intro)
    assert "vote" in ForumSettings().board_intro


async def test_brand_css_carries_the_accent_and_status_colours(app_client) -> None:
    client = await app_client(BRAND)
    answer = await client.get("/static/brand.css")
    assert answer.status == 200 and answer.content_type == "text/css"
    css = await answer.text()
    assert ":root{--accent:#0E7C66}" in css and ".status-planned{--status:#1570ef}" in css
    assert "max-age" in answer.headers["Cache-Control"] and answer.headers["X-Content-Type-Options"] == "nosniff"
    again = await client.get("/static/brand.css", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status == 304
    # The ordinary static files are still served next to it.
    assert (await client.get("/static/design.css")).status == 200


async def test_customers_see_the_brand_not_crmsphere(app_client) -> None:
    client = await app_client(BRAND, customers=True)
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    for who in ({}, jo):
        for path in ("/forum", "/forum/roadmap", "/forum/signin", "/forum/no-such-page"):
            html = await (await client.get(path, headers=who)).text()
            assert "crmsphere" not in html.lower(), path
            assert re.search(r'<a class="brand" href="/forum"><img class="brand-logo" src="/static/logo.svg"'
                             r'[^>]*><span class="brand-name">Anvil Ideas</span></a>', html), path
            assert '<link rel="stylesheet" href="/static/brand.css">' in html
            assert " style=" not in html and "<style" not in html


async def test_cards_show_author_company_and_tags_apart_and_the_idea_its_voters(app_client) -> None:
    client = await app_client(customers=True)
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    staff = await token_for(client, "mo@nimbus.example", "manager")
    made = await client.post("/api/ideas", json={"title": "Export invoices", "tags": "billing, export",
                                                 "body": "A **CSV** export of every invoice " * 20}, headers=jo)
    idea = (await made.json())["id"]
    assert (await client.post(f"/api/ideas/{idea}/vote", headers=jo)).status == 201
    for customer in ("cus_acme", "cus_target"):
        voted = await client.post(f"/api/ideas/{idea}/vote", headers=staff,
                                  json={"customer_id": customer, "note": "on a call", "source": "call"})
        assert voted.status in (200, 201)
    html = await (await client.get("/forum")).text()
    # Each tag a chip of its own: text nodes never touch ("billingexport" in the old list).
    assert re.search(r'<li><a class="tag" href="/forum\?tag=billing">billing</a></li>\s*'
                     r'<li><a class="tag" href="/forum\?tag=export">export</a></li>', html)
    assert '<span class="byline">jo · <span class="company">Acme Anvils</span></span>' in html
    assert "A CSV export of every invoice A CSV" in html and "**" not in html
    page = await (await client.get(f"/forum/ideas/{idea}")).text()
    # Jo Rivera voted first: a person, shown by the company they stand for.
    assert "Voted for by <strong>Acme Anvils and 2 others</strong>" in page


def test_voters_phrase_and_excerpt() -> None:
    assert voters_phrase("Acme Anvils", 28) == "Acme Anvils and 27 others"
    assert voters_phrase("Acme Anvils", 2) == "Acme Anvils and 1 other"
    assert voters_phrase("Acme Anvils", 1) == "Acme Anvils"
    assert voters_phrase(None, 3) == "3 customers" and voters_phrase("Acme", 0) == ""
    text = excerpt("# Title\n\n**bold** [a link](https://example.com) " + "word " * 100, limit=60)
    assert text.startswith("Title bold a link word") and len(text) <= 61 and text.endswith("…")


async def test_an_idea_with_thousands_of_votes_names_one_voter_and_counts_the_rest(app_client) -> None:
    """The voters line reads one voter and a count through the store, and the impact breakdown
    votes counted per segment: the page never reads every vote of the idea."""
    client = await app_client(customers=True)
    store = client.app[RUNTIME].store
    await store.upsert_customers([registry_customer(f"cus_{n:04d}", f"Customer {n}") for n in range(3000)])
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    made = await client.post("/api/ideas", json={"title": "Bulk invoice export"}, headers=jo)
    idea = (await made.json())["id"]
    assert (await client.post(f"/api/ideas/{idea}/vote", headers=jo)).status == 201
    for n in range(3000):
        await add_vote(store, Vote(idea, f"cus_{n:04d}", None, T0 + timedelta(seconds=n)))
    asked: list[int] = []
    read_voters = store.idea_voters

    async def counted_read(idea_id: int, limit: int):  # the real read, its limit noted
        asked.append(limit)
        return await read_voters(idea_id, limit)

    every_vote: list[int] = []
    read_every_vote = store.list_votes

    async def noted_every_vote(idea_id: int):  # what the page must not need
        every_vote.append(idea_id)
        return await read_every_vote(idea_id)

    store.idea_voters, store.list_votes = counted_read, noted_every_vote
    page = await (await client.get(f"/forum/ideas/{idea}")).text()
    assert "Voted for by <strong>Acme Anvils and 3000 others</strong>" in page
    assert asked and max(asked) <= 5
    # The impact breakdown counts the votes per segment in the store, too.
    assert every_vote == [] and "3001 votes" in page


def png_image(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (solid teal), built by hand: signature, IHDR, IDAT, IEND."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x0e\x7c\x66" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _toml_path(path: Path) -> str:
    return str(path).replace("\\", "/")


@pytest.mark.parametrize(("content", "said"), [
    (b"<!doctype html><script>alert(1)</script>", "not a PNG, JPEG, GIF, WebP or SVG image"),
    (b"", "not a PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (512 * 1024), "at most 524288"),
    (None, "no such file")])
def test_a_logo_file_that_is_not_an_image_is_refused_naming_it(tmp_path: Path, content: bytes | None,
                                                               said: str) -> None:
    logo = tmp_path / "logo.png"  # a page renamed .png is still a page
    if content is not None:
        logo.write_bytes(content)
    with pytest.raises(ValidationError, match=re.escape(said)):
        ForumSettings(brand_logo_file=str(logo))


def test_a_logo_file_and_a_logo_url_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(png_image())
    with pytest.raises(ValidationError, match="brand_logo_url or brand_logo_file, not both"):
        ForumSettings(brand_logo_file=str(tmp_path / "logo.png"), brand_logo_url="/static/logo.svg")


@pytest.mark.parametrize(("head", "content_type"), [
    (png_image(), "image/png"), (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"), (b"GIF89a\x01\x00", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    (b"<html><svg/></html>", None), (b"RIFF\x24\x00\x00\x00WAVEfmt ", None)])
def test_image_type_is_known_from_the_first_bytes(head: bytes, content_type: str | None) -> None:
    assert image_type(head) == content_type


async def test_a_logo_file_is_served_and_shown_in_the_header(app_client, tmp_path: Path) -> None:
    png = png_image()
    (tmp_path / "logo.png").write_bytes(png)
    client = await app_client(f'[forum]\nbrand_name = "Anvil Ideas"\nbrand_logo_file = "{_toml_path(tmp_path / "logo.png")}"\n')
    html = await (await client.get("/forum")).text()
    assert '<img class="brand-logo" src="/forum/brand-logo" alt="" width="32" height="32">' in html
    assert "brand-mark" not in html
    answer = await client.get("/forum/brand-logo")
    assert answer.status == 200 and answer.content_type == "image/png" and await answer.read() == png
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    again = await client.get("/forum/brand-logo", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status == 304
    # Replaced by a page while the service runs: not served, and the path is not told.
    (tmp_path / "logo.png").write_bytes(b"<!doctype html><script>alert(1)</script>")
    gone = await client.get("/forum/brand-logo")
    assert gone.status == 404 and str(tmp_path) not in await gone.text()


async def test_an_svg_logo_opened_on_its_own_runs_nothing(app_client, tmp_path: Path) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    (tmp_path / "logo.svg").write_bytes(svg)
    client = await app_client(f'[forum]\nbrand_logo_file = "{_toml_path(tmp_path / "logo.svg")}"\n')
    answer = await client.get("/forum/brand-logo")
    assert answer.status == 200 and answer.content_type == "image/svg+xml"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy


async def test_without_a_logo_file_there_is_no_logo_to_fetch(app_client) -> None:
    client = await app_client()
    assert (await client.get("/forum/brand-logo")).status == 404
