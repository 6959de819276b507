"""``/api/dashboard/...``: the dashboard's JSON — mentions with triage, bulk triage, notes, CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from typing import Any

from aiohttp import web

from api.dashboard_access import require_staff, require_staff_key_write
from api.dashboard_query import dashboard_filters, list_dashboard_mentions
from api.dashboard_serialize import (
    analysis_json,
    dashboard_mention_json,
    note_json,
    triage_json,
    triage_keys,
)
from api.dashboard_staff import assignee_key, staff_names
from api.dashboard_staff import list_staff as staff_accounts
from api.edges import request_json
from api.keys import RUNTIME
from crmsphere.domain_triage import TRIAGE_STATUSES, TriageChange
from crmsphere.errors import BadInput

MAX_BULK = 500
MAX_CSV_ROWS = 50_000
_TAG = re.compile(r"^[\w][\w .:/-]{0,39}$", re.UNICODE)


async def list_mentions(request: web.Request) -> web.Response:
    """GET /api/dashboard/mentions — the filtered stream's first (or next) page, with triage."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    page, customers, triage = await list_dashboard_mentions(store, dashboard_filters(request))
    names = await staff_names(store, triage_keys(triage.values()))
    return web.json_response({
        "items": [dashboard_mention_json(m, customers, triage.get(m.id), names) for m in page.items],
        "next_cursor": page.next_cursor,
    })


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or ``BadInput``."""
    body = await request_json(request)
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def _tags(body: dict[str, Any], name: str) -> tuple[str, ...]:
    value = body.get(name, [])
    if not isinstance(value, list) or len(value) > 20:
        raise BadInput(f"'{name}' must be a list of at most 20 tags", {"field": name})
    tags = []
    for tag in value:
        if not isinstance(tag, str) or not _TAG.match(tag.strip()):
            raise BadInput(f"'{name}' holds an invalid tag (letters, digits, space . : / -, "
                           f"at most 40 characters)", {"field": name, "value": str(tag)[:60]})
        tags.append(tag.strip().lower())
    return tuple(tags)


def triage_change(body: dict[str, Any]) -> tuple[list[int], TriageChange]:
    """The mention ids and the change of a triage request body, validated in shape (the
    assignee — an account id, ``"account:<id>"`` or ``""`` — is checked against the
    accounts by ``update_triage``)."""
    ids = body.get("mention_ids")
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BULK
            or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids)):
        raise BadInput(f"'mention_ids' must be a list of 1 to {MAX_BULK} mention ids",
                       {"field": "mention_ids"})
    status = body.get("status")
    if status is not None and status not in TRIAGE_STATUSES:
        raise BadInput(f"'status' must be one of {', '.join(TRIAGE_STATUSES)}",
                       {"field": "status", "value": str(status)[:40]})
    assignee = body.get("assignee")
    if isinstance(assignee, int) and not isinstance(assignee, bool):
        assignee = str(assignee)
    if assignee is not None and (not isinstance(assignee, str) or len(assignee.strip()) > 100):
        raise BadInput("'assignee' must be a staff account id (\"\" unassigns)",
                       {"field": "assignee"})
    change = TriageChange(status=status, assignee=assignee.strip() if assignee is not None else None,
                          add_tags=_tags(body, "add_tags"), remove_tags=_tags(body, "remove_tags"))
    if change == TriageChange():
        raise BadInput("nothing to change: give status, assignee, add_tags or remove_tags")
    return ids, change


async def update_triage(request: web.Request) -> web.Response:
    """POST /api/dashboard/triage — one change to one or many mentions (bulk actions)."""
    by = await require_staff_key_write(request)
    ids, change = triage_change(await json_object(request))
    store = request.app[RUNTIME].store
    if change.assignee is not None:
        change = dataclasses.replace(change, assignee=await assignee_key(store, change.assignee))
    updated = await store.update_triage(ids, change, by)
    names = await staff_names(store, triage_keys(updated))
    return web.json_response({"items": [triage_json(t, names=names) for t in updated]})


async def list_staff(request: web.Request) -> web.Response:
    """GET /api/dashboard/staff — active staff accounts (the assignee picker's choices)."""
    await require_staff(request)
    return web.json_response({"items": await staff_accounts(request.app[RUNTIME].store)})


async def list_notes(request: web.Request) -> web.Response:
    """GET /api/dashboard/mentions/{id}/notes — a mention's private notes."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    mention = await store.get_mention(int(request.match_info["id"]))
    notes = await store.list_triage_notes(mention.id)
    names = await staff_names(store, (n.author for n in notes))
    return web.json_response({"items": [note_json(n, names) for n in notes]})


async def add_note(request: web.Request) -> web.Response:
    """POST /api/dashboard/mentions/{id}/notes — keep a private note."""
    author = await require_staff_key_write(request)
    body = (await json_object(request)).get("body")
    if not isinstance(body, str) or not body.strip() or len(body) > 5000:
        raise BadInput("'body' must be a note of 1 to 5000 characters", {"field": "body"})
    store = request.app[RUNTIME].store
    note = await store.add_triage_note(int(request.match_info["id"]), author, body.strip())
    return web.json_response(note_json(note, await staff_names(store, [author])), status=201)


CSV_COLUMNS = ("id", "created_at", "source", "author_handle", "author_name", "text", "url",
               "customers", "status", "assignee", "tags", "topics", "sentiment", "intent")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet: make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_csv(request: web.Request) -> web.StreamResponse:
    """GET /api/dashboard/mentions.csv — every mention of the filtered list, page by page."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    filters = dashboard_filters(request)
    filters = dataclasses.replace(
        filters, query=dataclasses.replace(filters.query, limit=500, cursor=None))
    # Validate the filters (and fail as JSON) before the CSV response starts.
    page, customers, triage = await list_dashboard_mentions(store, filters)
    resp = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="mentions.csv"'})
    await resp.prepare(request)
    await resp.write(_csv_lines([CSV_COLUMNS]))
    written = 0
    while True:
        rows = []
        names = await staff_names(store, triage_keys(triage.values()))
        for m in page.items:
            a, t = analysis_json(m), triage.get(m.id)
            rows.append([m.id, m.post.created_at.isoformat(), m.post.source, m.post.author.handle,
                         m.post.author.name, m.post.text, m.post.url,
                         ";".join(k.customer_id for k in m.analysis.links),
                         t.status if t else "open",
                         names.get(t.assignee, t.assignee) if t and t.assignee else None,
                         ";".join(t.tags) if t else "", ";".join(a["topics"]), a["sentiment"],
                         a["intent"]])
        await resp.write(_csv_lines(rows))
        written += len(rows)
        if not page.next_cursor or written >= MAX_CSV_ROWS:
            break
        filters = dataclasses.replace(
            filters, query=dataclasses.replace(filters.query, cursor=page.next_cursor))
        page, customers, triage = await list_dashboard_mentions(store, filters)
    await resp.write_eof()
    return resp


def _csv_lines(rows: list) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")
