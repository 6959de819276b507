"""Security headers on every answer: a content security policy without inline script, no
sniffing, no framing by other sites, no full URLs leaked to other sites."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.api.forum_helpers import token_for

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(customers=True)


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/forum", 200), ("/forum/signin", 200), ("/forum/signup", 200),
    ("/forum/roadmap", 200), ("/dashboard", 200), ("/dashboard/analytics", 200), ("/teams", 200),
    ("/forum/ideas/424242", 404), ("/no/such/page", 404), ("/api/ideas", 200),
    ("/api/customers/nobody", 404), ("/static/forum.js", 200),
])
async def test_every_answer_carries_the_security_headers(client: TestClient, path: str,
                                                         status: int) -> None:
    resp = await client.get(path)
    assert resp.status == status
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


async def test_a_signed_in_page_and_a_refusal_carry_them_too(client: TestClient) -> None:
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    for resp in (await client.get("/forum/settings", headers=customer),
                 await client.get("/dashboard", headers=customer)):
        assert resp.status in (200, 403)
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_needs_inline_script_or_style(template: Path) -> None:
    """What the policy would block: inline scripts (a data block of JSON never runs), event
    handler attributes, javascript: URLs, style attributes and <style> elements."""
    html = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "javascript:" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html
