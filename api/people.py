"""``/api/people``: authors kept as people, for staff to find, attach to customers and merge."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.contract import Body, PositiveId, body_of, operation, text
from api.dashboard.access import require_staff, require_staff_write
from api.ids import store_id
from api.openapi.common import ID, STAFF, STAFF_WRITE, page_of, ref
from api.query_models import SearchPage, query_of
from api.keys import RUNTIME
from crmsphere import people
from domain import Person


def person_json(person: Person) -> dict[str, Any]:
    """A person with handles grouped by platform."""
    handles: dict[str, list[str]] = {}
    for ident in person.handles:
        handles.setdefault(ident.platform, []).append(ident.handle)
    return {"id": person.id, "name": person.name, "handles": handles,
            "customer_id": person.customer_id}


def _attachment_json(done: people.Attachment) -> dict[str, Any]:
    return {"person": person_json(done.person), "attached_mentions": done.attached_mentions,
            "relinked_mentions": done.relinked_mentions}


@operation("GET", "/api/people", "People (authors); q matches part of a name or handle",
           ok=page_of(ref("Person")), query=SearchPage,
           errors=("400", "401", "403"), security=STAFF, tags=("people and links",))
async def list_people(request: web.Request) -> web.Response:
    """GET /api/people — ``q`` matches a part of a name or handle; ``limit``, ``cursor``."""
    await require_staff(request)
    given = query_of(request, SearchPage)
    page = await request.app[RUNTIME].store.list_people(given.q, given.limit, given.cursor)
    return web.json_response({"items": [person_json(p) for p in page.items],
                              "next_cursor": page.next_cursor})


@operation("GET", "/api/people/{id}", "A person", ok="Person", params=(ID,), security=STAFF,
           tags=("people and links",))
async def get_person(request: web.Request) -> web.Response:
    """GET /api/people/{id}."""
    await require_staff(request)
    return web.json_response(person_json(await request.app[RUNTIME].store.get_person(store_id(request, "person"))))


class PersonAttachBody(Body):
    """The customer a person is attached to."""

    customer_id: text(200)


@operation("POST", "/api/people/{id}/attach",
           "Attach a person to a customer: every handle and past mention goes with it",
           ok="PersonAttachment", body=PersonAttachBody, params=(ID,), security=STAFF_WRITE,
           tags=("people and links",))
async def attach_person(request: web.Request) -> web.Response:
    """POST /api/people/{id}/attach ``{"customer_id"}`` — every handle and past mention goes with it."""
    await require_staff_write(request)
    person_id = store_id(request, "person")
    body = await body_of(request, PersonAttachBody)
    done = await people.attach(request.app[RUNTIME], person_id, body.customer_id)
    return web.json_response(_attachment_json(done))


class PersonMergeBody(Body):
    """The person another is merged into."""

    into: PositiveId


@operation("POST", "/api/people/{id}/merge",
           "Merge this person into another: the handles move to person `into`",
           ok="PersonAttachment", body=PersonMergeBody, params=(ID,), security=STAFF_WRITE,
           tags=("people and links",))
async def merge_person(request: web.Request) -> web.Response:
    """POST /api/people/{id}/merge ``{"into"}`` — this person's handles move to person ``into``."""
    await require_staff_write(request)
    person_id = store_id(request, "person")
    body = await body_of(request, PersonMergeBody)
    done = await people.merge(request.app[RUNTIME], person_id, body.into)
    return web.json_response(_attachment_json(done))
