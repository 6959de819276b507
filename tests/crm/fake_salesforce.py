"""A fake Salesforce org for simple-salesforce: OAuth token, SOQL query/queryAll, sObject create/update.

Answers in Salesforce's JSON shapes: query results ``{"totalSize","done","nextRecordsUrl",
"records":[{"attributes":{"type","url"},...}]}`` paged by the ``Sforce-Query-Options:
batchSize=N`` header, creates ``{"id","success","errors"}``, error lists
``[{"message","errorCode","fields"}]`` and the ``Sforce-Limit-Info`` header on every
data answer.  The SOQL understood is what the connector sends: a field list, one
object, a WHERE of comparisons joined by AND/OR with parentheses, ORDER BY and LIMIT.
``fail(...)`` queues error answers; ``lose_next_create_answer`` creates the record and
then drops the connection, as a crash between send and acknowledge would.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.crm.fake_salesforce_soql import holds, parse_soql, sort_key

FIXTURES = Path(__file__).parent / "fixtures" / "salesforce"
ERRORS: dict[str, Any] = json.loads((FIXTURES / "errors.json").read_text())
VERSION = "59.0"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ID_PREFIX = {"Account": "001", "Contact": "003", "Task": "00T", "FeedItem": "0D5", "User": "005"}
#: The org's users: the two record owners of the fixtures, and the integration user the
#: connector signs in as (Salesforce makes it the owner of a record created without one).
USERS = {"005Hs00000Ownr1AAA": "Road Runner", "005Hs00000Ownr2AAA": "Marvin Martian",
         "005Hs00000Intg1AAA": "crmsphere integration"}
API_USER = "005Hs00000Intg1AAA"
#: Lookup fields checked on create: the sObjects each may point to, and its label in errors.
REFERENCES = {"WhatId": (("Account",), "Related To ID"), "ParentId": (("Account", "Contact"), "Parent ID"),
              "WhoId": (("Contact",), "Name ID"), "OwnerId": (("User",), "Assigned To ID")}
#: Fields Salesforce itself refuses a duplicate of (the connector's key is External ID + Unique).
UNIQUE_FIELDS = {"Task": "Crmsphere_Key__c"}


def fixture_records(name: str) -> list[dict[str, Any]]:
    """The records of a captured query answer."""
    return json.loads((FIXTURES / name).read_text())["records"]


def stamp(when: datetime) -> str:
    """A datetime as Salesforce writes it: ``2026-11-01T12:00:00.000+0000``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class Failure:
    """A canned error answer for the next requests whose path contains ``path``."""

    path: str
    status: int
    body: Any
    headers: dict[str, str]
    times: int


class FakeSalesforce:
    """In-memory Salesforce org serving the routes simple-salesforce uses."""

    def __init__(self) -> None:
        self.url = ""  # set once the server listens
        self.now = T0
        self.objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in ID_PREFIX}
        for record in fixture_records("accounts.json") + fixture_records("contacts.json"):
            record = {k: v for k, v in record.items() if k != "attributes"}
            self.objects[_object_of(record["Id"])][record["Id"]] = record
        for user_id, name in USERS.items():
            self.objects["User"][user_id] = {"Id": user_id, "Name": name, "IsActive": True}
        self.client_id, self.client_secret = "3MVG9fake.client.id", "fake-client-secret"
        self.refresh_token = "5Aep861fakeRefreshToken"
        self.username, self.password = "integration@acme.example", "s3cret" + "TOKEN123"
        self.tokens: set[str] = {"00DFAKE!initial"}
        self.token_requests: list[dict[str, str]] = []
        self.failures: list[Failure] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lose_next_create_answer = False
        self.api_used, self.api_total = 4200, 15000
        self._ids = itertools.count(1)
        self._results: dict[str, list[dict[str, Any]]] = {}

    # -- test controls -------------------------------------------------------------------

    def add(self, sobject: str, fields: dict[str, Any], at: datetime | None = None) -> str:
        """Create or change a record at ``at`` (default: now); returns its Id."""
        record_id = fields.get("Id") or self._new_id(sobject)
        record = self.objects[sobject].setdefault(record_id, {"IsDeleted": False, "MasterRecordId": None})
        record.update(fields, Id=record_id, SystemModstamp=stamp(at or self.now))
        return record_id

    def delete(self, sobject: str, record_id: str, merged_into: str | None = None) -> None:
        """Move a record to the recycle bin, as a delete or the losing side of a merge."""
        record = self.objects[sobject][record_id]
        record.update(IsDeleted=True, MasterRecordId=merged_into, SystemModstamp=stamp(self.now))

    def fail(self, path: str, status: int, error: str | None = None, times: int = 1,
             text: str | None = None, **headers: str) -> None:
        """Answer the next ``times`` requests whose path contains ``path`` with ``status``.

        The body is the captured error list named ``error``, else ``text`` as it is (HTML).
        """
        body: Any = ERRORS[error] if error else (text or "")
        self.failures.append(Failure(path, status, body, dict(headers), times))

    def expire_sessions(self) -> None:
        """Every access token issued so far stops working."""
        self.tokens.clear()

    def live(self, sobject: str) -> list[dict[str, Any]]:
        """Records of ``sobject`` not in the recycle bin."""
        return [r for r in self.objects[sobject].values() if not r.get("IsDeleted")]

    # -- the app -------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[self._middleware])
        data = f"/services/data/v{VERSION}"
        app.router.add_post("/services/oauth2/token", self._token)
        app.router.add_get(data + "/{kind:query|queryAll}/", self._query)
        app.router.add_get(data + "/{kind:query|queryAll}/{locator}", self._query_more)
        app.router.add_post(data + "/sobjects/{sobject}/", self._create)
        app.router.add_patch(data + "/sobjects/{sobject}/{id}", self._update)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs, dict(request.headers)))
        data_call = request.path.startswith("/services/data/")
        if data_call:
            self.api_used += 1
        limit = {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_total}"} if data_call else {}
        for failure in self.failures:
            if failure.path in request.path:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                if isinstance(failure.body, str):
                    return web.Response(status=failure.status, text=failure.body, content_type="text/html",
                                        headers={**limit, **failure.headers})
                return _json(failure.body, failure.status, {**limit, **failure.headers})
        if data_call and request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return _json(ERRORS["INVALID_SESSION_ID"], 401, limit)
        response = await handler(request)
        response.headers.update(limit)
        return response

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        if form.get("client_id") != self.client_id or form.get("client_secret", self.client_secret) != self.client_secret:
            return _json(ERRORS["invalid_client_id"], 400)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            ok = form.get("refresh_token") == self.refresh_token
        elif grant == "password":
            ok = form.get("username") == self.username and form.get("password") == self.password
        else:
            return _json({"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400)
        if not ok:
            return _json(ERRORS["invalid_grant"], 400)
        token = f"00DFAKE!issued{len(self.token_requests)}"
        self.tokens.add(token)
        answer = json.loads((FIXTURES / "token.json").read_text())
        answer.update(access_token=token, instance_url=self.url)
        return _json(answer)

    async def _query(self, request: web.Request) -> web.Response:
        try:
            query = parse_soql(request.query.get("q", ""))
        except ValueError as exc:
            return _json([{"message": str(exc), "errorCode": "MALFORMED_QUERY"}], 400)
        sobject = query["from"]
        if sobject not in self.objects:
            return _json([{"message": f"sObject type '{sobject}' is not supported.",
                           "errorCode": "INVALID_TYPE"}], 400)
        rows = [r for r in self.objects[sobject].values()
                if (request.match_info["kind"] == "queryAll" or not r.get("IsDeleted"))
                and (query["where"] is None or holds(query["where"], r))]
        for name, descending in reversed(query["order"]):
            rows.sort(key=lambda r: sort_key(r.get(name)), reverse=descending)
        if query["limit"] is not None:
            rows = rows[: query["limit"]]
        shaped = [self._shape(sobject, r, query["fields"]) for r in rows]
        locator = f"01gHs0000{next(self._ids):08d}"
        self._results[locator] = shaped
        return self._page(locator, 0, _batch_size(request))

    async def _query_more(self, request: web.Request) -> web.Response:
        locator, _, offset = request.match_info["locator"].partition("-")
        if locator not in self._results or not offset.isdigit():
            return _json([{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], 400)
        return self._page(locator, int(offset), _batch_size(request))

    def _page(self, locator: str, offset: int, size: int) -> web.Response:
        rows = self._results[locator]
        page = rows[offset: offset + size]
        answer: dict[str, Any] = {"totalSize": len(rows), "done": offset + size >= len(rows), "records": page}
        if not answer["done"]:
            answer["nextRecordsUrl"] = f"/services/data/v{VERSION}/query/{locator}-{offset + size}"
        return _json(answer)

    def _shape(self, sobject: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        shaped: dict[str, Any] = {"attributes": {
            "type": sobject, "url": f"/services/data/v{VERSION}/sobjects/{sobject}/{record['Id']}"}}
        for name in fields:
            head, _, tail = name.partition(".")
            if not tail:
                key = _canonical(record, name)
                shaped[key] = copy.deepcopy(record.get(key))
                continue
            # A relationship (Account.Name) is answered nested, as Salesforce does.
            parent_id = record.get(_canonical(record, head + "Id"))
            parent = self.objects.get(_object_of(str(parent_id)), {}).get(str(parent_id))
            if parent is None:
                shaped[head] = None
                continue
            nested = shaped.get(head) or {"attributes": {"type": _object_of(parent["Id"]), "url": ""}}
            nested[_canonical(parent, tail)] = parent.get(_canonical(parent, tail))
            shaped[head] = nested
        return shaped

    async def _create(self, request: web.Request) -> web.StreamResponse:
        sobject = request.match_info["sobject"]
        body = await request.json()
        if sobject not in self.objects or not isinstance(body, dict):
            return _json(ERRORS["NOT_FOUND"], 404)
        for ref, (targets, label) in REFERENCES.items():
            target = _object_of(str(body.get(ref)))
            if ref in body and (target not in targets or body[ref] not in self.objects[target]):
                return _json([{"message": f"{label}: id value of incorrect type: {body[ref]}",
                               "errorCode": "FIELD_INTEGRITY_EXCEPTION", "fields": [ref]}], 400)
        if body.get("OwnerId") and not self.objects["User"][body["OwnerId"]]["IsActive"]:
            return _json([{"message": f"operation performed with inactive user [{body['OwnerId']}] as owner "
                                      f"of {sobject.lower()}", "errorCode": "INACTIVE_OWNER_OR_USER",
                           "fields": []}], 400)
        if sobject == "Task":
            body.setdefault("OwnerId", API_USER)
        unique = UNIQUE_FIELDS.get(sobject)
        if unique and body.get(unique) and any(r.get(unique) == body[unique] for r in self.live(sobject)):
            return _json(ERRORS["DUPLICATE_VALUE"], 400)
        record_id = self.add(sobject, {**body, "CreatedDate": stamp(self.now)})
        if self.lose_next_create_answer:
            self.lose_next_create_answer = False
            return await _drop_connection(request)
        return _json({"id": record_id, "success": True, "errors": []}, 201)

    async def _update(self, request: web.Request) -> web.Response:
        sobject, record_id = request.match_info["sobject"], request.match_info["id"]
        if record_id not in self.objects.get(sobject, {}):
            return _json(ERRORS["NOT_FOUND"], 404)
        self.add(sobject, {**await request.json(), "Id": record_id})
        return web.Response(status=204)

    def _new_id(self, sobject: str) -> str:
        return f"{ID_PREFIX[sobject]}Hs{next(self._ids):010d}AAA"


def _canonical(record: dict[str, Any], name: str) -> str:
    """The stored spelling of a field named in any case (SOQL is case-insensitive)."""
    return next((k for k in record if k.lower() == name.lower()), name)


def _object_of(record_id: str) -> str:
    return next((k for k, p in ID_PREFIX.items() if record_id.startswith(p)), "?")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), headers=headers,
                        content_type="application/json")


def _batch_size(request: web.Request) -> int:
    found = re.search(r"batchSize=(\d+)", request.headers.get("Sforce-Query-Options", ""))
    return int(found.group(1)) if found else 2000


async def _drop_connection(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=201, headers={"Content-Type": "application/json"})
    response.content_length = 4096
    await response.prepare(request)
    await response.write(b'{"id": ')
    assert request.transport is not None
    request.transport.close()
    return response


def later(minutes: float) -> datetime:
    """An instant ``minutes`` after the fake's start."""
    return T0 + timedelta(minutes=minutes)
