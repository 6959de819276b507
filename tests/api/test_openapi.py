"""``GET /api/openapi.json`` describes every JSON route the app serves, is a valid OpenAPI
document, and its parameter limits are the ones the handlers enforce (probed over real HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from tests.api.forum_helpers import token_for

#: /api routes that are not JSON operations and need not be documented (they are, as extras).
NOT_JSON = {("GET", "/api/stream/mentions"), ("GET", "/api/openapi.json")}
METHODS = {"get", "put", "post", "delete", "patch"}
#: Where a probe must not stream: an event stream never ends.
NO_PROBE = {"/api/stream/mentions"}


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(customers=True)


async def _document(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    return await resp.json()


def _operations(doc: dict[str, Any]):
    for path, ops in doc["paths"].items():
        for method, operation in ops.items():
            if method in METHODS:
                yield path, method, operation


def _resolve(doc: dict[str, Any], pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = doc
    for part in pointer[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"$ref {pointer} does not resolve"
        node = node[part]
    return node


def _refs(node: Any):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


async def test_every_api_route_is_documented_and_every_documented_route_is_served(client) -> None:
    doc = await _document(client)
    documented = {(method.upper(), path) for path, method, _ in _operations(doc)}
    served = set()
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or not path.startswith("/api/"):
            continue
        served.add((route.method, path))
    missing = sorted(served - NOT_JSON - documented)
    assert not missing, f"routes missing from the OpenAPI document: {missing}"
    ghosts = sorted(documented - served)
    assert not ghosts, f"documented but not served: {ghosts}"
    # the areas the document must cover, spot-checked by name
    for method, path in [("POST", "/api/customers/sync"), ("POST", "/api/ingest/{name}"),
                         ("PUT", "/api/routing/rules"), ("POST", "/api/dashboard/triage"),
                         ("GET", "/api/dashboard/analytics/share-of-voice"), ("GET", "/api/people"),
                         ("POST", "/api/links/{id}/confirm"), ("GET", "/api/accounts")]:
        assert (method, path) in documented, (method, path)


async def test_the_document_is_valid_openapi_and_every_ref_resolves(client) -> None:
    doc = await _document(client)
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on any structural error or unresolvable $ref
    for pointer in set(_refs(doc)):
        _resolve(doc, pointer)
    error = doc["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["required"]) == {"code", "message", "details"}
    for path, method, operation in _operations(doc):
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), (method, path)
        for code, answer in responses.items():
            if code.startswith(("4", "5")):
                answer = _resolve(doc, answer["$ref"]) if "$ref" in answer else answer
                assert answer["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}, (method, path, code)


async def test_security_says_who_may_call(client) -> None:
    doc = await _document(client)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["csrf"] == {**schemes["csrf"], "in": "header", "name": "X-CSRF-Token"}
    assert schemes["session"]["in"] == "cookie" and schemes["bearer"]["scheme"] == "bearer"
    for path, method, operation in _operations(doc):
        security = operation.get("security", doc["security"])
        for requirement in security:
            assert set(requirement) <= set(schemes), (method, path, requirement)
            # A browser session never writes without its CSRF token.
            if method != "get" and "session" in requirement:
                assert "csrf" in requirement, (method, path)
    ops = doc["paths"]
    assert ops["/api/sources/{name}/{action}"]["post"]["security"] == [{"admin": []}]
    sync = ops["/api/customers/sync"]["post"]
    assert {p["name"] for p in sync["parameters"] if p["in"] == "header"} == {
        "X-Crmsphere-Timestamp", "X-Crmsphere-Signature"}
    assert {"admin": []} in ops["/api/mentions"]["get"]["security"]
    assert {} in ops["/api/ideas"]["get"]["security"]  # anonymous browsing


def _edge_values(param: dict[str, Any]) -> list[str]:
    """The documented bounds of an integer ``param``, which must be accepted."""
    schema = param["schema"]
    return [str(schema[k]) for k in ("minimum", "maximum") if k in schema and schema.get("type") == "integer"]


def _bad_values(param: dict[str, Any]) -> list[str]:
    """Values the document says are out of range for ``param``."""
    schema = param["schema"]
    bad = []
    if schema.get("type") == "integer":
        bad.append("seven")
        if "maximum" in schema:
            bad.append(str(schema["maximum"] + 1))
        if "minimum" in schema:
            bad.append(str(schema["minimum"] - 1))
    if "enum" in schema:
        bad.append("not-one-of-them")
    if "maxLength" in schema:
        bad.append("x" * (schema["maxLength"] + 1))
    if schema.get("format") == "date-time":
        bad.append("last tuesday")
    return bad


async def test_query_limits_in_the_document_are_the_ones_the_handlers_enforce(client) -> None:
    """Every documented GET without path parameters answers the defaults and the bounds of its
    integer parameters with 200 and each out-of-range query value with 400 (as an admin's API token, which may call them all)."""
    doc = await _document(client)
    admin = await token_for(client, "root@x.example", "admin")
    probed = 0
    for path, method, operation in _operations(doc):
        params = operation.get("parameters", [])
        if method != "get" or "{" in path or path in NO_PROBE:
            continue
        required = {p["name"]: "1" for p in params if p.get("required") and p["in"] == "query"}
        if not required:
            resp = await client.get(path, headers=admin)
            assert resp.status == 200, (path, resp.status, await resp.text())
        for param in params:
            if param["in"] != "query":
                continue
            for value in _edge_values(param):
                resp = await client.get(path, params={**required, param["name"]: value},
                                        headers=admin)
                assert resp.status == 200, (path, param["name"], value, resp.status)
            for value in _bad_values(param):
                resp = await client.get(path, params={**required, param["name"]: value},
                                        headers=admin)
                assert resp.status == 400, (path, param["name"], value[:20], resp.status)
                body = await resp.json()
                assert body["error"]["code"] == "bad_request", (path, param["name"])
                probed += 1
    assert probed > 50
