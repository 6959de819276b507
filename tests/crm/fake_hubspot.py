"""A fake HubSpot on 127.0.0.1 answering CRM v3 search, read by id, archived listing, notes,
tasks and OAuth in HubSpot's JSON shapes (captured examples in fixtures/hubspot/)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).with_name("fixtures") / "hubspot"
MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "notes": "hs_lastmodifieddate",
            "tasks": "hs_lastmodifieddate"}
#: HubSpot-defined association types a task may have, and the object each points to.
TASK_ASSOCIATIONS = {192: "companies", 204: "contacts"}
TASK_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")


def fixture(name: str) -> Any:
    """A captured HubSpot payload."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def iso(millis: int) -> str:
    """HubSpot's time format: ISO 8601 in UTC with milliseconds."""
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error(status: int, message: str, category: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"status": "error", "message": message, "correlationId": "aeb3f3c1-0b1f-4f7b-9a3e-1",
            "category": category}
    return web.json_response(body, status=status, headers=headers)


class FakeHubSpot:
    """State and handlers; ``app()`` is served by the test's ``aiohttp_server``."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            "companies": {}, "contacts": {}, "notes": {}, "tasks": {}}
        #: the account's users who can own records (``hubspot_owner_id``)
        self.owners = {"41629779", "52783014"}
        self.tokens = {"token-1"}
        self.refresh_token = "refresh-1"
        self.client = ("client-id", "client-secret")
        self.refreshed = 0
        #: responses to give before answering normally: (status, headers, category)
        self.failures: list[tuple[int, dict[str, str], str]] = []
        #: create the next note, then answer 504 as if the answer was lost
        self.lose_next_note_answer = False
        #: create the next task, then answer 504 as if the answer was lost
        self.lose_next_task_answer = False
        self.requests: list[tuple[str, str]] = []
        self._ids = itertools.count(9000)

    def add(self, kind: str, crm_id: str, modified: int, archived_at: int | None = None,
            **properties: Any) -> None:
        """Create or change a record in ``kind`` (``companies``/``contacts``) at ``modified`` ms."""
        properties[MODIFIED[kind]] = iso(modified)
        properties["hs_object_id"] = crm_id
        old = self.objects[kind].get(crm_id, {})
        self.objects[kind][crm_id] = {
            "id": crm_id, "properties": {**old.get("properties", {}), **properties},
            "createdAt": old.get("createdAt", iso(modified)), "updatedAt": iso(modified),
            "archived": archived_at is not None,
            **({"archivedAt": iso(archived_at)} if archived_at is not None else {})}

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/crm/v3/objects/{kind}/search", self.search)
        app.router.add_get("/crm/v3/objects/{kind}", self.list_page)
        app.router.add_get("/crm/v3/objects/{kind}/{id}", self.read_one)
        app.router.add_post("/crm/v3/objects/notes", self.create_note)
        app.router.add_post("/crm/v3/objects/tasks", self.create_task)
        app.router.add_patch("/crm/v3/objects/{kind}/{id}", self.update)
        app.router.add_post("/oauth/v1/token", self.token)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.path == "/oauth/v1/token":
            return await handler(request)
        if self.failures:
            status, headers, category = self.failures.pop(0)
            return _error(status, "You have reached your secondly limit." if status == 429
                          else "failure", category, headers)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return _error(401, "The OAuth token used to make this call expired 2 minute(s) ago.",
                          "EXPIRED_AUTHENTICATION")
        response = await handler(request)
        response.headers["X-HubSpot-RateLimit-Max"] = "190"
        response.headers["X-HubSpot-RateLimit-Remaining"] = "189"
        return response

    async def search(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        body = await request.json()
        rows = [o for o in self.objects[kind].values() if not o["archived"]]
        for group in body.get("filterGroups") or []:
            for f in group["filters"]:
                prop, op, value = f["propertyName"], f["operator"], f["value"]
                if op == "GTE":
                    rows = [o for o in rows if _ms(o["properties"].get(prop)) >= int(value)]
                elif op == "EQ":
                    rows = [o for o in rows if str(o["properties"].get(prop)) == value]
                else:
                    return _error(400, f"unsupported operator {op}", "VALIDATION_ERROR")
        for sort in body.get("sorts") or []:
            rows.sort(key=lambda o: (_ms(o["properties"].get(sort["propertyName"])), int(o["id"])),
                      reverse=sort.get("direction") == "DESCENDING")
        start, limit = int(body.get("after") or 0), int(body.get("limit") or 10)
        if start >= 10_000:
            return _error(400, "paging beyond 10000 results is not allowed", "VALIDATION_ERROR")
        page = rows[start:start + limit]
        wanted = set(body.get("properties") or ())
        out: dict[str, Any] = {"total": len(rows), "results": [_shape(o, wanted) for o in page]}
        if start + limit < len(rows):
            out["paging"] = {"next": {"after": str(start + limit),
                                      "link": f"?after={start + limit}"}}
        return web.json_response(out)

    async def list_page(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        archived = request.query.get("archived", "").lower() == "true"
        rows = sorted((o for o in self.objects[kind].values() if o["archived"] == archived),
                      key=lambda o: int(o["id"]))
        start, limit = int(request.query.get("after") or 0), int(request.query.get("limit") or 10)
        out: dict[str, Any] = {"results": [_shape(o, set()) for o in rows[start:start + limit]]}
        if start + limit < len(rows):
            out["paging"] = {"next": {"after": str(start + limit), "link": "..."}}
        return web.json_response(out)

    async def create_note(self, request: web.Request) -> web.Response:
        body = await request.json()
        props = body.get("properties") or {}
        if not props.get("hs_timestamp"):
            return _error(400, "Property values were not valid: hs_timestamp is required",
                          "VALIDATION_ERROR")
        note_id = str(next(self._ids))
        now = iso(int(datetime.now(UTC).timestamp() * 1000))
        self.objects["notes"][note_id] = {
            "id": note_id, "properties": {**props, "hs_lastmodifieddate": now},
            "associations": body.get("associations") or [], "createdAt": now, "updatedAt": now,
            "archived": False}
        if self.lose_next_note_answer:
            self.lose_next_note_answer = False
            return _error(504, "Gateway timeout", "GATEWAY_TIMEOUT")
        return web.json_response(_shape(self.objects["notes"][note_id], set(props)), status=201)

    async def read_one(self, request: web.Request) -> web.Response:
        """``GET /crm/v3/objects/{kind}/{id}?properties=...``: archived records are not found."""
        kind, crm_id = request.match_info["kind"], request.match_info["id"]
        row = self.objects.get(kind, {}).get(crm_id)
        if row is None or row["archived"]:
            return _error(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
        wanted = {p for value in request.query.getall("properties", []) for p in value.split(",")}
        return web.json_response(_shape(row, wanted))

    async def create_task(self, request: web.Request) -> web.Response:
        """``POST /crm/v3/objects/tasks`` with properties and associations, checked as HubSpot does."""
        body = await request.json()
        props = body.get("properties") or {}
        problems = []
        if not props.get("hs_timestamp"):
            problems.append({"isValid": False, "message": "hs_timestamp is required",
                             "error": "REQUIRED_FIELD", "name": "hs_timestamp"})
        if props.get("hs_task_status") not in (None, *TASK_STATUSES):
            problems.append({"isValid": False, "error": "INVALID_OPTION", "name": "hs_task_status",
                             "message": f"{props['hs_task_status']} was not one of the allowed options"})
        owner = props.get("hubspot_owner_id")
        if owner is not None and str(owner) not in self.owners:
            problems.append({"isValid": False, "message": f"{owner} is not a valid owner id",
                             "error": "INVALID_OWNER_ID", "name": "hubspot_owner_id"})
        if problems:
            return _error(400, f"Property values were not valid: {json.dumps(problems)}", "VALIDATION_ERROR")
        for association in body.get("associations") or []:
            target = TASK_ASSOCIATIONS.get(association["types"][0]["associationTypeId"])
            if target is None or association["to"]["id"] not in self.objects[target]:
                return _error(400, f"One or more associations are invalid: {association['to']['id']}",
                              "VALIDATION_ERROR")
        task_id = str(next(self._ids))
        now = iso(int(datetime.now(UTC).timestamp() * 1000))
        self.objects["tasks"][task_id] = {
            "id": task_id, "properties": {**props, "hs_lastmodifieddate": now},
            "associations": body.get("associations") or [], "createdAt": now, "updatedAt": now,
            "archived": False}
        if self.lose_next_task_answer:
            self.lose_next_task_answer = False
            return _error(504, "Gateway timeout", "GATEWAY_TIMEOUT")
        return web.json_response(_shape(self.objects["tasks"][task_id], set(props)), status=201)

    def tasks_on(self, kind: str, crm_id: str) -> list[dict[str, Any]]:
        """Tasks associated with one company (``kind`` 192) or contact (204)."""
        type_id = {"company": 192, "contact": 204}[kind]
        return [t for t in self.objects["tasks"].values()
                if any(a["to"]["id"] == crm_id and a["types"][0]["associationTypeId"] == type_id
                       for a in t["associations"])]

    async def update(self, request: web.Request) -> web.Response:
        kind, crm_id = request.match_info["kind"], request.match_info["id"]
        row = self.objects.get(kind, {}).get(crm_id)
        if row is None:
            return _error(404, "resource not found", "OBJECT_NOT_FOUND")
        row["properties"].update((await request.json()).get("properties") or {})
        return web.json_response(_shape(row, set(row["properties"])))

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token
                or (form.get("client_id"), form.get("client_secret")) != self.client):
            return web.json_response({"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"},
                                     status=400)
        self.refreshed += 1
        token = f"token-r{self.refreshed}"
        self.tokens = {token}
        return web.json_response({"token_type": "bearer", "refresh_token": self.refresh_token,
                                  "access_token": token, "expires_in": 1800})

    def notes_on(self, kind: str, crm_id: str) -> list[dict[str, Any]]:
        """Notes associated with one company (``kind`` 190) or contact (202)."""
        type_id = {"company": 190, "contact": 202}[kind]
        return [n for n in self.objects["notes"].values()
                if any(a["to"]["id"] == crm_id and a["types"][0]["associationTypeId"] == type_id
                       for a in n["associations"])]


def _ms(value: Any) -> int:
    if value is None:
        return 0
    return int(datetime.fromisoformat(str(value)).timestamp() * 1000)


def _shape(row: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    props = row["properties"]
    keep = {k: v for k, v in props.items() if k in wanted or k in (
        "hs_object_id", "createdate", "hs_lastmodifieddate", "lastmodifieddate")}
    shaped = {"id": row["id"], "properties": keep, "createdAt": row["createdAt"],
              "updatedAt": row["updatedAt"], "archived": row["archived"]}
    if row.get("archivedAt"):
        shaped["archivedAt"] = row["archivedAt"]
    return shaped
