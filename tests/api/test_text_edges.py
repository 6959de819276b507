"""Every documented JSON body meets the text rules at the edge (``domain/text_edge.py``).

The walk is driven by the OpenAPI document: for each operation with a JSON request body it
builds a body from the documented schema and sends it with a truncated emoji (a lone
surrogate) in every text field, nested 1,000 deep, with a NUL in a text field and with an
integer beyond 64 bits, over real HTTP to an app with real data.  A new route whose body
skips the shared reader fails here.
"""

from __future__ import annotations

import json
from html import unescape
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import post
from tests.helpers import ROUTING_IDLE, csrf_of, json_of, sign_in_staff

#: What a social platform hands on when a client cut a post mid-emoji (U+1F44D is d83d dc4d).
TRUNCATED = "Love the new anvil \\ud83d"
#: Signed with a shared secret, not a session: tests/api/test_sources_api.py and tests/crm test them.
SIGNED = {"/api/ingest/{name}", "/api/customers/sync"}
#: Signing out would end the admin's session in the middle of the walk.
SKIP = SIGNED | {"/api/auth/logout"}
METHODS = {"post", "put", "patch", "delete"}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema


def _merged(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` resolved, with ``allOf`` parts merged and the non-null branch of a union."""
    schema = _resolve(doc, schema)
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_merged(doc, part).get("properties", {}))
        return merged
    for union in ("anyOf", "oneOf"):
        if union in schema:
            branches = [s for s in schema[union] if _resolve(doc, s).get("type") != "null"]
            return _merged(doc, branches[0])
    return schema


def sample(doc: dict[str, Any], schema: dict[str, Any], text: str,
           at: dict[str, str] | None = None, path: str = "",
           leaves: list[tuple[str, str]] | None = None) -> str:
    """A JSON body for ``schema``: every free-text field holds ``text`` (raw JSON string
    content), a field whose path is in ``at`` holds that raw JSON instead; ``leaves`` collects
    (type, path) of each text and integer field."""
    schema = _merged(doc, schema)
    at = at or {}
    leaves = leaves if leaves is not None else []
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind in ("string", "integer") and "enum" not in schema:
        leaves.append((kind, path))
    if path in at:
        return at[path]
    if "enum" in schema:
        return json.dumps(schema["enum"][0])
    if kind == "object" or "properties" in schema:
        fields = [f'"{name}": ' + sample(doc, prop, text, at, f"{path}.{name}" if path else name,
                                         leaves)
                  for name, prop in schema.get("properties", {}).items()]
        return "{" + ", ".join(fields) + "}"
    if kind == "array":
        return "[" + sample(doc, schema.get("items", {}), text, at, f"{path}[0]", leaves) + "]"
    return {"integer": "1", "number": "1.5", "boolean": "true"}.get(kind or "", f'"{text}"')


def _concrete(path: str) -> str:
    return (path.replace("{id}", "1").replace("{key}", "support").replace("{name}", "rss")
            .replace("{action}", "run").replace("{kind}", "ideas"))


async def _seeded(app_client) -> tuple[TestClient, dict[str, str]]:
    """An app with customers, two mentions, two ideas with a comment, a team and an admin."""
    client = await app_client(ROUTING_IDLE, customers=True,
                              posts=[post("p1", "The anvil release broke billing"),
                                     post("p2", "Love the dark mode anvils")])
    csrf = await sign_in_staff(client, role="admin")
    headers = {"X-CSRF-Token": csrf}
    for title in ("Dark mode for anvils", "Export anvils to CSV"):
        await json_of(await client.post("/api/ideas", json={"title": title, "body": "please"},
                                        headers=headers), 201)
    await json_of(await client.post("/api/ideas/1/comments", json={"body": "yes please"},
                                    headers=headers), 201)
    await json_of(await client.put("/api/teams/support", json={"name": "Support"},
                                   headers=headers))
    return client, headers


def _json_operations(doc: dict[str, Any]):
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method in METHODS and body and path not in SKIP:
                yield path, method, body["schema"]


async def _send(client: TestClient, method: str, path: str, body: str,
                headers: dict[str, str]) -> tuple[int, Any, str]:
    resp = await client.request(method.upper(), _concrete(path), data=body.encode(),
                                headers={**headers, "Content-Type": "application/json"},
                                allow_redirects=False)
    text = await resp.text()
    return resp.status, resp.headers.get("Content-Type", ""), text


async def test_every_json_body_refuses_deep_nesting_nul_and_huge_integers_naming_them(
        app_client) -> None:
    client, headers = await _seeded(app_client)
    doc = await (await client.get("/api/openapi.json")).json()
    wrong: list[str] = []
    probed = {"deep": 0, "string": 0, "integer": 0}
    for path, method, schema in _json_operations(doc):
        where = f"{method.upper()} {path}"
        deep = '{"x": ' + "[" * 1000 + "]" * 1000 + "}"
        status, ctype, text = await _send(client, method, path, deep, headers)
        probed["deep"] += 1
        if status != 400 or "application/json" not in ctype or "nested deeper" not in text:
            wrong.append(f"{where} nested 1000 deep -> {status} {text[:120]}")
        leaves: list[tuple[str, str]] = []
        sample(doc, schema, "fine", leaves=leaves)
        for kind in ("string", "integer"):
            leaf = next((p for k, p in leaves if k == kind), None)
            if leaf is None:
                continue
            bad = '"Acme\\u0000 Anvils"' if kind == "string" else str(2**63)
            status, ctype, text = await _send(client, method, path,
                                              sample(doc, schema, "fine", {leaf: bad}), headers)
            probed[kind] += 1
            if status != 400 or "application/json" not in ctype or f"'{leaf}'" not in text:
                wrong.append(f"{where} {kind} {leaf} -> {status} {text[:120]}")
    assert not wrong, "\n".join(wrong)
    assert probed["deep"] > 30 and probed["string"] > 20 and probed["integer"] > 5, probed


async def test_every_json_body_takes_a_truncated_emoji_in_every_text_field(app_client) -> None:
    client, headers = await _seeded(app_client)
    doc = await (await client.get("/api/openapi.json")).json()
    wrong: list[str] = []
    for path, method, schema in _json_operations(doc):
        status, ctype, text = await _send(client, method, path, sample(doc, schema, TRUNCATED),
                                          headers)
        # Whatever the route makes of the body (stored, refused, not found), it answers.
        if status >= 500 or "\\ud83d" in text.lower() or (
                text and "application/json" not in ctype):
            wrong.append(f"{method.upper()} {path} -> {status} {text[:120]}")
    assert not wrong, "\n".join(wrong)


async def _raw(client: TestClient, method: str, path: str, body: str,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    resp = await client.request(method, path, data=body.encode(), headers={
        **(headers or {}), "Content-Type": "application/json"})
    return resp.status, await resp.json()


async def test_a_truncated_emoji_is_stored_as_the_replacement_character(app_client) -> None:
    client, headers = await _seeded(app_client)
    status, idea = await _raw(client, "POST", "/api/ideas",
                              f'{{"title": "Dark mode {TRUNCATED}", "body": "{TRUNCATED}"}}',
                              headers)
    assert status == 201 and idea["title"] == "Dark mode Love the new anvil \ufffd"
    stored = await json_of(await client.get(f"/api/ideas/{idea['id']}"))
    assert stored["body"] == "Love the new anvil \ufffd"
    status, comment = await _raw(client, "POST", f"/api/ideas/{idea['id']}/comments",
                                 f'{{"body": "{TRUNCATED}"}}', headers)
    assert status == 201 and comment["body"] == "Love the new anvil \ufffd"
    status, _ = await _raw(client, "POST", f"/api/comments/{comment['id']}/report",
                           f'{{"reason": "spam {TRUNCATED}"}}', headers)
    assert status == 201
    status, token = await _raw(client, "POST", "/api/tokens",
                               f'{{"name": "zapier {TRUNCATED}"}}', headers)
    assert status == 201 and token["name"] == "zapier Love the new anvil \ufffd"
    # A surrogate pair sent as two escapes is the character it encodes, not two replacements.
    status, idea = await _raw(client, "POST", "/api/ideas",
                              '{"title": "Anvils \\ud83d\\udc4d please", "body": "x"}', headers)
    assert status == 201 and idea["title"] == "Anvils \U0001f44d please"
    # Last: signing in as the new account replaces this client's session.
    status, answer = await _raw(client, "POST", "/api/auth/login",
                                '{"email": "jo\\ud83d@acmeanvils.example", "password": "x"}')
    assert status == 401 and answer["error"]["code"] == "unauthorized"
    status, signed_up = await _raw(client, "POST", "/api/auth/signup",
                                   '{"email": "jo@acmeanvils.example", "password": '
                                   f'"correct horse battery", "name": "Jo {TRUNCATED}"}}')
    assert status == 202, signed_up  # the same answer whether or not the address is registered
    status, signed_in = await _raw(client, "POST", "/api/auth/login",
                                   '{"email": "jo@acmeanvils.example", "password": "correct horse battery"}')
    assert status == 200 and signed_in["account"]["name"] == "Jo Love the new anvil \ufffd"


async def test_integers_beyond_64_bits_in_bodies_are_a_400_naming_the_field(app_client) -> None:
    client, headers = await _seeded(app_client)
    huge = str(2**63)
    for method, path, body, field in [
            ("POST", "/api/ideas/1/merge", f'{{"into": {huge}}}', "into"),
            ("POST", "/api/dashboard/triage", f'{{"mention_ids": [1, {huge}], "status": "done"}}',
             "mention_ids[1]"),
            ("POST", "/api/mentions/1/attach", f'{{"idea_id": {huge}}}', "idea_id"),
            ("POST", "/api/ideas/1/mentions", f'{{"mention_id": {huge}}}', "mention_id"),
            ("POST", "/api/ideas/1/comments", f'{{"body": "yes", "parent_id": -{huge}1}}',
             "parent_id")]:
        status, answer = await _raw(client, method, path, body, headers)
        assert status == 400, (path, answer)
        assert answer["error"]["details"]["field"] == field, (path, answer)
        assert f"'{field}'" in answer["error"]["message"]


async def test_deep_nesting_is_a_400_for_an_anonymous_signup(app_client) -> None:
    client = await app_client()
    status, answer = await _raw(client, "POST", "/api/auth/signup", "[" * 1000 + "]" * 1000)
    assert status == 400 and "nested deeper than 64" in answer["error"]["message"]


async def test_a_nul_in_a_query_parameter_is_a_400_naming_it(app_client) -> None:
    client = await app_client()
    resp = await client.get("/api/ideas?q=anvil%00s")
    answer = await json_of(resp, 400)
    assert answer["error"]["details"] == {"field": "q"} and "NUL" in answer["error"]["message"]


async def test_a_405_says_which_methods_are_allowed_in_the_json_shape(app_client) -> None:
    client = await app_client()
    resp = await client.put("/api/auth/me", json={})
    assert resp.status == 405 and resp.content_type == "application/json"
    assert set(resp.headers["Allow"].split(",")) >= {"GET"}
    assert (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_the_document_lists_the_errors_every_json_body_can_get(app_client) -> None:
    """Each operation with a JSON body documents 400 (malformed, too deep, a NUL, a huge
    integer) and 413 (over the body limit); it documents 415 exactly when sending the body as
    another media type is refused."""
    client, headers = await _seeded(app_client)
    doc = await (await client.get("/api/openapi.json")).json()
    wrong = []
    refused = 0
    for path, method, schema in _json_operations(doc):
        responses = doc["paths"][path][method]["responses"]
        where = f"{method.upper()} {path}"
        missing = {"400", "413"} - set(responses)
        if missing:
            wrong.append(f"{where} does not document {sorted(missing)}")
        resp = await client.request(method.upper(), _concrete(path), headers={
            **headers, "Content-Type": "text/plain"}, data=sample(doc, schema, "fine").encode(),
            allow_redirects=False)
        refused += resp.status == 415
        if (resp.status == 415) != ("415" in responses):
            wrong.append(f"{where} answers {resp.status} to text/plain; documents "
                         f"{sorted(responses)}")
        if resp.status == 415:
            assert (await resp.json())["error"]["code"] == "unsupported_media_type"
    assert not wrong, "\n".join(wrong)
    assert refused > 10


async def test_a_link_decision_is_described_as_it_is_answered(app_client) -> None:
    """``learned`` says what the registry learned: a sentence, or null."""
    client = await app_client(customers=True, posts=[
        post("1", "thinking about acme for our shop", handle="newbie"),
        post("2", "acme again, anyone tried them?", handle="oldie", minutes=1)])
    doc = await (await client.get("/api/openapi.json")).json()
    learned = doc["components"]["schemas"]["LinkDecision"]["properties"]["learned"]
    assert _merged(doc, learned)["type"] == "string"
    assert {"type": "null"} in learned.get("anyOf", []) or "null" in learned.get("type", [])
    reviews = (await json_of(await client.get("/api/links/review")))["items"]
    assert reviews, "the seeded post has a pending link"
    assert len(reviews) == 2
    plain = await json_of(await client.post(f"/api/links/{reviews[0]['id']}/confirm",
                                            json={"teach": "none"}))
    assert plain["learned"] is None
    taught = await json_of(await client.post(f"/api/links/{reviews[1]['id']}/confirm",
                                             json={"teach": "handle"}))
    assert taught["learned"].startswith("handle @")


async def test_a_form_that_is_not_utf8_or_holds_a_nul_is_a_400_naming_it(app_client) -> None:
    client = await app_client()
    csrf = csrf_of(await (await client.get("/forum/signup")).text())
    form = b"csrf=" + csrf.encode() + b"&email=jo%40acmeanvils.example&next=%2Fforum" \
        b"&password=correct+horse+battery&name="
    # A Latin-1 client sends raw bytes; a script sends a NUL a browser never would.
    for name, says in [(b"Jos\xe9", "not UTF-8"), (b"Jo%00", "'name' contains a NUL")]:
        resp = await client.post("/forum/signup", data=form + name, allow_redirects=False,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status == 400 and says in unescape(await resp.text())
    resp = await client.post("/forum/signup", data=form + b"Jos%C3%A9", allow_redirects=False,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 200 and "Check your e-mail" in await resp.text()  # well encoded: signed up
