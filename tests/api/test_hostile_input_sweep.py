"""Every operation of the OpenAPI document, every parameter and body field of it, sent the values
the world really sends (numbers past 64 bits, superscript and Arabic-Indic digits, NaN, 1e309,
NUL bytes, lone surrogates, 10,000 characters, wrong JSON types, 1,000 levels of nesting, bodies
that are not JSON), anonymously and with an admin's API token: no answer is a 5xx, every 4xx is
the JSON error shape with a message, and the service still answers its health check after.

The walk is driven by the document, so a route added later is swept without editing this file.
The values are a fixed list, each sent once per parameter (no randomness: a failure repeats).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from api.keys import RUNTIME
from tests.api.forum_helpers import token_for
from tests.api.hostile_app import drop_if_mongodb, start_seeded_app
from tests.helpers import json_of

#: Text values for a path segment or a query parameter, percent-encoded as sent (``%ED%A0%80``
#: is a lone surrogate written as UTF-8, which no valid text contains).
HOSTILE_TEXT = ["9" * 30, str(2**63), str(2**63 - 1), str(-2**63 - 1), "-1", "²", "١٢", "NaN",
                "Infinity", "1e309", "999999999",
                "", "x" * 10_000, "%00", "a%00b", "%ED%A0%80", "%FF%FE"]
#: JSON literals put in place of one body field, written as raw text since Python's encoder
#: writes neither 1e309 nor a lone surrogate.
HOSTILE_JSON = [str(2**63), str(2**63 - 1), "999999999", "1" + "0" * 30, json.dumps("9" * 30), "-1",
                "-9223372036854775809", "1.5", "-0",
                '"²"', '"١٢"', "NaN", "Infinity", "-Infinity", "1e309", '""', json.dumps("x" * 10_000),
                '"a\\u0000b"', '"\\ud800"', "[]", "{}", "null", "true", '{"$gt": ""}']
#: Whole bodies of the wrong kind: (content type, raw bytes).
HOSTILE_BODIES = [
    ("application/json", b"[]"), ("application/json", b"null"), ("application/json", b'"text"'),
    ("application/json", b"7"), ("application/json", b"not json{"), ("application/json", b""),
    ("application/json", b"[" * 1000 + b"]" * 1000),
    ("application/json", b'{"a":' * 1000 + b"1" + b"}" * 1000),
    ("application/json", b'{"a": "\xed\xa0\x80"}'), ("application/json", b"\xff\xfe{}"),
    ("application/json", b'{"a": 1, "a": 2}'), ("application/json", b"NaN"),
    ("text/plain", b'{"title": "Dark mode"}'), ("application/x-www-form-urlencoded", b"title=x&body=y"),
    ("application/xml", b"<idea/>"), ("multipart/form-data; boundary=zz", b"--zz--"),
    # multipart without its boundary, and a body not starting with the boundary it names
    ("multipart/form-data", b"title=x"), ("multipart/form-data; boundary=zz", b"title=x\r\n--zz--"),
]

#: Values of a header parameter (a signature's timestamp, an event stream's Last-Event-ID).
HOSTILE_HEADERS = ["9" * 30, str(2**63), "-1", "²", "١٢", "NaN", "Infinity", "1e309", "", "x" * 10_000]


class Values(NamedTuple):
    """The hostile values of one sweep."""

    text: list[str]
    json: list[str]
    headers: list[str]
    bodies: list[tuple[str, bytes]]


#: Every value.
EVERY_VALUE = Values(HOSTILE_TEXT, HOSTILE_JSON, HOSTILE_HEADERS, HOSTILE_BODIES)
#: The values a store sees (the others are refused by the same parsing whatever the backend):
#: the run on MongoDB, whose driver has its own 64-bit limit and its own operators.
STORE_VALUES = Values(["9" * 30, str(2**63), str(2**63 - 1), str(-2**63 - 1), "-1", "١٢"],
                      [str(2**63), str(2**63 - 1), "-9223372036854775809", "-1", '"١٢"',
                       '{"$gt": ""}', '"$where"'], [], [])
#: A plausible value of a path parameter, so a body field is checked past the route's lookup.
PATH_VALUES = {"id": "1", "key": "support", "name": "rss", "action": "run"}
#: Fields whose empty value stands for another field's: the error names that one.
FALLS_BACK = {("/api/mentions/{id}/replies", "text")}  # no text: the saved reply named
METHODS = ("get", "put", "post", "delete", "patch")
#: Signing out, which would end the token mid-walk.
SKIP = {("post", "/api/auth/logout")}


@pytest.fixture
async def swept(aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                request: pytest.FixtureRequest) -> AsyncIterator[TestClient]:
    """The seeded app of ``tests/api/hostile_app.py``; on MongoDB when parametrized so."""
    mongodb = None
    if getattr(request, "param", "sqlite") == "mongodb":
        mongodb = request.getfixturevalue("mongodb_server_uri")
    client = await start_seeded_app(aiohttp_client, tmp_path, monkeypatch, mongodb)
    yield client
    await drop_if_mongodb(client)


async def _seed_forum(client: TestClient, headers: dict[str, str]) -> None:
    idea = await json_of(await client.post("/api/ideas", json={
        "title": "Dark mode for anvils", "body": "please"}, headers=headers), 201)
    await json_of(await client.post(f"/api/ideas/{idea['id']}/comments", json={"body": "yes"},
                                    headers=headers), 201)


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [_resolve(doc, s) for s in schema[key] if s.get("type") != "null"]
            return options[0] if options else schema
    return schema


def _plausible(doc: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A value ``schema`` accepts, so that a body is refused for the hostile field alone."""
    schema = _resolve(doc, schema)
    if "email" in name:
        return "pm@crm.example"
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "string":
        if "url" in name or schema.get("pattern", "").startswith("^https?"):
            return "http://127.0.0.1:9/hook"
        if "pattern" in schema or name == "topic":  # keys and labels: a topic key fits
            return "billing"
        fmt = schema.get("format", "")
        return {"email": "pm@crm.example", "uri": "http://127.0.0.1:9/hook",
                "date-time": "2026-05-01T09:30:00Z", "date": "2026-05-01"}.get(
                    fmt, "Dark mode for anvils"[:schema.get("maxLength", 100)].ljust(
                        schema.get("minLength", 0), "x"))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return [_plausible(doc, schema.get("items", {}))] * schema.get("minItems", 0)
    return {}


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, operation in ops.items():
            if method in METHODS and (method, path) not in SKIP:
                yield method, path, operation


def _path_of(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _parameters(doc: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    return [_resolve(doc, p) for p in op.get("parameters", [])]


def _base_path(doc: dict[str, Any], path: str, op: dict[str, Any]) -> str:
    in_path = {p["name"]: quote(PATH_VALUES.get(p["name"], "x"))
               for p in _parameters(doc, op) if p["in"] == "path"}
    return _path_of(path, in_path)


JSON = {"Content-Type": "application/json"}
#: Where a hostile literal goes in a body, replaced after encoding (it may be no valid JSON).
HOLE = "\x01hostile\x01"


def _field_schemas(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    body = op.get("requestBody")
    if body is None:
        return {}
    schema = _resolve(doc, body["content"].get("application/json", {}).get("schema", {}))
    return {name: _resolve(doc, field) for name, field in schema.get("properties", {}).items()}


def _placements(doc: dict[str, Any], field: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """Where in one body field a hostile value goes: (how it reads, what the error must name
    past the field's own name, the field's value with ``HOLE`` in it): the field itself, an item
    of a list, a field of an object (or of a list's object).  An object's other fields are only
    plausible (a rule's team may not exist), so its error need only name the object."""
    yield "", "", HOLE
    inner, shape = field, "."
    if field.get("type") == "array":
        yield "[0]", "", [HOLE]
        inner, shape = _resolve(doc, field.get("items", {})), "[0]."
    for name in inner.get("properties", {}):
        holder = {k: _plausible(doc, v, k) for k, v in inner["properties"].items()
                  if k in inner.get("required", []) and k != name}
        holder[name] = HOLE
        yield shape + name, shape[:-1], [holder] if shape == "[0]." else holder


def _candidate_bodies(doc: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    """Plausible bodies of ``op``: every field filled, then only the required ones."""
    body = op.get("requestBody")
    if body is None:
        return []
    schema = _resolve(doc, body["content"].get("application/json", {}).get("schema", {}))
    properties = schema.get("properties", {})
    every = {name: _plausible(doc, field, name) for name, field in properties.items()}
    return [every, {k: v for k, v in every.items() if k in schema.get("required", [])}]


async def _base_body(client: TestClient, headers: dict[str, str], doc: dict[str, Any],
                     method: str, path: str, op: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """A body the route does not refuse as malformed (so a 400 for one hostile field must name
    that field), and whether one was found; the second candidate when neither fits."""
    candidates = _candidate_bodies(doc, op)
    for candidate in candidates:
        async with client.request(method.upper(), URL(_base_path(doc, path, op), encoded=True),
                                  json=candidate, headers=headers, allow_redirects=False) as resp:
            if resp.status != 400:
                return candidate, True
    return (candidates[-1] if candidates else None), False


def _requests(doc: dict[str, Any], path: str, op: dict[str, Any], base_body: dict[str, Any] | None,
              body_fits: bool, values: Values) -> Iterator[tuple[str, str, dict[str, str], bytes | None, str]]:
    """(what is hostile, encoded URL, headers, body, the name the error should give)."""
    params = _parameters(doc, op)
    in_path = {p["name"]: PATH_VALUES.get(p["name"], "x") for p in params if p["in"] == "path"}
    base_path = _base_path(doc, path, op)
    required = [p["name"] for p in params if p["in"] == "query" and p.get("required")]
    base_query = "".join(f"&{n}=anvil" for n in required)
    body = op.get("requestBody")
    raw_body = json.dumps(base_body).encode() if base_body is not None else None
    # With a body the route refuses, a 400 may name the body's field instead of the parameter.
    named = (lambda name: name) if body_fits or base_body is None else (lambda name: "")
    kind = {"Content-Type": "application/json"} if body is not None else {}
    for name in in_path:
        for value in values.text:
            if value:  # an empty segment is another route
                url = _path_of(path, {**{k: quote(v) for k, v in in_path.items()},
                                      name: quote(value, safe="%")})
                yield f"path {name}={value[:20]!r}", url, kind, raw_body, named(name)
    for param in (p for p in params if p["in"] == "query"):
        name = param["name"]
        for value in values.text:
            yield (f"query {name}={value[:20]!r}",
                   f"{base_path}?{name}={quote(value, safe='%')}{base_query}", kind, raw_body, named(name))
    for param in (p for p in params if p["in"] == "header"):
        name = param["name"]
        for value in values.headers:
            yield (f"header {name}={value[:20]!r}", base_path, {**kind, name: value}, raw_body,
                   named(name))
    query_names = [p["name"] for p in params if p["in"] == "query"]
    if query_names:
        dup = "&".join(f"{n}=1&{n}=%C2%B2" for n in query_names)
        yield "duplicate query keys", f"{base_path}?{dup}", kind, raw_body, ""
    if body is None:
        return
    for name, field in _field_schemas(doc, op).items():
        for shape, nested, placed in _placements(doc, field):
            for literal in values.json:
                sent = json.dumps({**(base_body or {}), name: placed}).replace(
                    json.dumps(HOLE), literal).encode()
                yield (f"body {name}{shape}={literal[:20]}", base_path, JSON, sent,
                       name + nested if body_fits and (path, name) not in FALLS_BACK else "")
    for content_type, raw in values.bodies:
        yield f"body {content_type} {raw[:20]!r}", base_path, {"Content-Type": content_type}, raw, ""


def _named(answer: Any) -> str:
    """The error message of a JSON error answer, or ``""`` when it is not one."""
    if not isinstance(answer, dict) or "error" not in answer:
        return ""
    error = answer["error"]
    if isinstance(error, str):
        return error
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"] + json.dumps(error.get("details") or {})
    return ""


def _names(message: str, name: str) -> bool:
    """Whether a 400 names the parameter, or what made the whole request unreadable before
    any parameter was read (a body that is not JSON, a request line over the limit)."""
    return name in message or message.startswith(("the body", "the request line"))


async def _sweep(client: TestClient, headers: dict[str, str], values: Values) -> list[str]:
    doc = await json_of(await client.get("/api/openapi.json"))
    wrong = []
    for method, path, op in _operations(doc):
        base_body, body_fits = await _base_body(client, headers, doc, method, path, op)
        for what, url, extra, body, name in _requests(doc, path, op, base_body, body_fits, values):
            sent = {**headers, **extra}
            async with client.request(method.upper(), URL(url, encoded=True), data=body,
                                      headers=sent, allow_redirects=False) as resp:
                where = f"{method.upper()} {path} {what} -> {resp.status}"
                if resp.status >= 500:
                    wrong.append(f"{where}: {(await resp.text())[:200]}")
                    continue
                if resp.status < 400:
                    if resp.content_type == "text/event-stream":
                        resp.close()  # an event stream never ends: hang up
                    continue
                try:
                    answer = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    answer = None
                message = _named(answer)
                if not message or message.startswith("internal error"):
                    wrong.append(f"{where}: not a named JSON error: {(await resp.text())[:200]}")
                elif resp.status == 400 and name and not _names(message, name):
                    wrong.append(f"{where}: the error does not name {name!r}: {message[:200]}")
    return wrong


@pytest.mark.parametrize("who, swept", [("anonymous", "sqlite"), ("admin token", "sqlite"),
                                         ("admin token", "mongodb")], indirect=["swept"])
async def test_every_api_operation_answers_hostile_input_with_a_named_4xx(swept, caplog, who: str) -> None:
    headers = {}
    if who == "admin token":
        headers = await token_for(swept, "admin@crm.example", role="admin")
        await _seed_forum(swept, headers)
    on_mongodb = "mongodb" in swept.app[RUNTIME].settings.store.url
    wrong = await _sweep(swept, headers, STORE_VALUES if on_mongodb else EVERY_VALUE)
    assert not wrong, f"{len(wrong)} answers:\n" + "\n".join(wrong)
    # A crash after the answer began (an event stream's) shows only in the log.
    crashes = [r.getMessage() for r in caplog.records if r.name == "api.errors"]
    assert not crashes, crashes
    await json_of(await swept.get("/healthz"))
    if who == "admin token":  # the walk ran as the admin throughout
        me = await json_of(await swept.get("/api/auth/me", headers=headers))
        assert me["role"] == "admin", me
