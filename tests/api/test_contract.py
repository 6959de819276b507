"""Each JSON route is declared once (``api/contract.py``): the declaration registers it, its
pydantic model validates the body after the caller is checked, and the OpenAPI document is
generated from the same declarations (no route is described by hand any more)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from pydantic import BaseModel

from api.openapi import document as openapi
from api.contract import Body, PositiveId, add_operations, body_of, operation
from api.openapi.common import ID, STAFF_WRITE, obj
from tests.api.forum_helpers import token_for
from tests.api.test_text_edges import _concrete, _json_operations, _seeded, _send, sample

#: The error answers each operation documented before the document was generated.
ERROR_ANSWERS = json.loads(Path(__file__).with_name("openapi_error_answers.json").read_text())
METHODS = {"get", "put", "post", "delete", "patch"}


async def test_every_json_body_refuses_a_field_it_does_not_take_naming_it(app_client) -> None:
    """A misspelt field (``"colour"`` for ``"color"``, ``"titel"``) was ignored in silence by
    most routes; every body now refuses it with a 400 naming the field."""
    client, headers = await _seeded(app_client)
    doc = await (await client.get("/api/openapi.json")).json()
    wrong, probed = [], 0
    for path, method, schema in _json_operations(doc):
        body = json.loads(sample(doc, schema, "fine"))
        if not isinstance(body, dict):
            continue
        status, _, text = await _send(client, method, path,
                                      json.dumps({**body, "colour": "red"}), headers)
        probed += 1
        answer = json.loads(text) if text else {}
        details = answer.get("error", {}).get("details", {})
        if status != 400 or details.get("field") != "colour" or \
                "'colour'" not in answer["error"]["message"]:
            wrong.append(f"{method.upper()} {_concrete(path)} -> {status} {text[:160]}")
    assert not wrong, "\n".join(wrong)
    assert probed >= 40


async def test_a_nested_unknown_field_names_the_fields_its_object_takes(app_client) -> None:
    client, headers = await _seeded(app_client)
    resp = await client.post("/api/links/review/bulk", headers=headers, json={
        "action": "confirm", "groups": [{"customer_id": "cus_acme", "rule": "alias",
                                         "phrase": "acme", "phrasse": "acme"}]})
    error = (await resp.json())["error"]
    assert resp.status == 400 and error["details"] == {"field": "groups[0].phrasse"}
    assert "(known: customer_id, rule, phrase)" in error["message"]


async def test_values_are_not_coerced_and_the_error_names_the_field(app_client) -> None:
    """A script sending ``"5"`` for an id or ``"yes"`` for a flag gets a 400 naming it, rather
    than a guess."""
    client, headers = await _seeded(app_client)
    for method, path, body, field in [
            ("POST", "/api/ideas/1/comments", {"body": "yes", "internal": "yes"}, "internal"),
            ("POST", "/api/ideas/1/merge", {"into": "2"}, "into"),
            ("POST", "/api/dashboard/triage", {"mention_ids": [1], "assignee": True}, "assignee"),
            ("PUT", "/api/notifications/settings", {"mail": 1}, "mail"),
            ("POST", "/api/route", {"mention_id": 1, "team": "support", "note": ["a", "b"]},
             "note")]:
        resp = await client.request(method, path, json=body, headers=headers)
        error = (await resp.json())["error"]
        assert resp.status == 400 and error["details"] == {"field": field}, (path, error)
        assert error["message"].startswith(f"field '{field}': "), error


async def test_the_caller_is_checked_before_the_body(app_client) -> None:
    """A customer learns nothing of a staff route's body rules: 403, whatever the body."""
    client, _ = await _seeded(app_client)
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    for method, path, body in [
            ("POST", "/api/dashboard/triage", {"mention_ids": "all", "colour": 1}),
            ("POST", "/api/route", ["not", "an", "object"]),
            ("POST", "/api/links/review/bulk", {"action": "burn"}),
            ("POST", "/api/ideas/1/status", {"status": 5, "colour": 1}),
            ("POST", "/api/ideas/1/merge", {"into": "two"}),
            ("POST", "/api/ideas/1/mentions", {}),
            ("POST", "/api/comments/1/moderate", {"action": "burn"}),
            ("PATCH", "/api/accounts/1", {"role": "emperor"})]:
        resp = await client.request(method, path, json=body, headers=customer)
        assert resp.status == 403, (path, await resp.text())


async def test_every_error_answer_documented_before_is_still_documented(app_client) -> None:
    client, _ = await _seeded(app_client)
    doc = await (await client.get("/api/openapi.json")).json()
    lost = []
    for where, codes in ERROR_ANSWERS.items():
        method, path = where.split(" ", 1)
        responses = doc["paths"].get(path, {}).get(method.lower(), {}).get("responses", {})
        lost += [f"{where} {code}" for code in codes if code not in responses]
    assert not lost, lost
    # No JSON Schema "$defs" is left inside an operation: every nested model is a component.
    assert "$defs" not in json.dumps(doc["paths"])
    body = doc["paths"]["/api/dashboard/triage"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/TriageBody"}
    triage = doc["components"]["schemas"]["TriageBody"]
    assert triage["additionalProperties"] is False
    assert triage["properties"]["mention_ids"]["maxItems"] == 500


class _Line(BaseModel):
    text: str


class _ChangeBody(Body):
    """A change with lines (a nested model, which goes to the components)."""

    lines: list[_Line]
    parent: PositiveId | None = None


@operation("POST", r"/api/changes/{id:\d+}", "Add a change", ok=obj(), body=_ChangeBody,
           params=(ID,), security=STAFF_WRITE, tags=("changes",))
async def _add_change(request: web.Request) -> web.Response:
    body = await body_of(request, _ChangeBody)
    return web.json_response({"lines": len(body.lines)})


async def _changelog(request: web.Request) -> web.Response:
    return web.json_response({"items": []})


def _router() -> web.UrlDispatcher:
    app = web.Application()
    add_operations(app.router, _add_change)
    app.router.add_get("/forum/changelog", _changelog)  # a page: not in the document
    return app.router


def test_the_document_is_built_from_the_declarations_alone() -> None:
    doc = openapi.build_document(_router())
    validate(doc)
    assert set(doc["paths"]) == {"/api/changes/{id}"}
    change = doc["paths"]["/api/changes/{id}"]["post"]
    assert change["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/_ChangeBody"}
    schemas = doc["components"]["schemas"]
    assert schemas["_ChangeBody"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/_Line"}
    assert "_Line" in schemas
    assert {"400", "413", "421"} <= set(change["responses"])


def test_no_route_is_described_by_hand_any_more() -> None:
    assert not hasattr(openapi, "HAND_WRITTEN")


def test_two_models_of_one_name_are_refused() -> None:
    class Note(Body):
        text: str

    @operation("POST", "/api/notes", "A note", body=Note)
    async def add_note(request: web.Request) -> web.Response:
        raise AssertionError("not called")

    class Other(Body):
        id: int

    Other.__name__ = "Note"

    @operation("POST", "/api/other-notes", "Another note", body=Other)
    async def add_other(request: web.Request) -> web.Response:
        raise AssertionError("not called")

    app = web.Application()
    add_operations(app.router, add_note, add_other)
    with pytest.raises(ValueError, match="two different schemas are named Note"):
        openapi.build_document(app.router)


def test_a_handler_without_a_declaration_cannot_be_added() -> None:
    with pytest.raises(ValueError, match="no @operation declaration"):
        add_operations(web.Application().router, _changelog)
