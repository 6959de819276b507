"""``/api/dashboard/...``: the dashboard's JSON — mentions with triage, bulk triage, notes, CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

from aiohttp import web

from api.contract import body_of, operation
from api.dashboard.access import require_staff, require_staff_key_write
from api.dashboard.query import dashboard_filters, list_dashboard_mentions
from api.dashboard.serialize import (
    analysis_json,
    dashboard_mention_json,
    note_json,
    triage_json,
    triage_keys,
)
from api.dashboard.staff import assignee_key, staff_names
from api.dashboard.staff import list_staff as staff_accounts
from api.dashboard.bodies import NoteBody, TriageBody
from api.openapi.common import ID, STAFF, STAFF_WRITE, items_of, page_of, ref
from api.openapi.dashboard import READ_ERRORS
from api.query_models import StreamFilters, StreamPage
from api.keys import RUNTIME
from nlp.signals import Signal, signals

MAX_CSV_ROWS = 50_000


@operation("GET", "/api/dashboard/mentions", "The filtered stream's page of mentions with triage",
           ok=page_of(ref("DashboardMention")), query=StreamPage, errors=READ_ERRORS,
           security=STAFF, tags=("dashboard",))
async def list_mentions(request: web.Request) -> web.Response:
    """GET /api/dashboard/mentions — the filtered stream's first (or next) page, with triage."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    filters = dashboard_filters(request, StreamPage)
    page, customers, triage = await list_dashboard_mentions(store, filters)
    desk = request.app[RUNTIME].replies
    names = await staff_names(store, triage_keys(triage.values()))
    return web.json_response({
        "items": [dashboard_mention_json(m, customers, triage.get(m.id), names, desk)
                  for m in page.items],
        "next_cursor": page.next_cursor,
    })


@operation("POST", "/api/dashboard/triage",
           "One triage change to one or many mentions (bulk actions)", ok=items_of(ref("Triage")),
           body=TriageBody, description="Give at least one of status, assignee, add_tags, "
                                        "remove_tags.", security=STAFF_WRITE, tags=("dashboard",))
async def update_triage(request: web.Request) -> web.Response:
    """POST /api/dashboard/triage — one change to one or many mentions (bulk actions)."""
    by = await require_staff_key_write(request)
    body = await body_of(request, TriageBody)
    ids, change = body.mention_ids, body.change()
    store = request.app[RUNTIME].store
    if change.assignee is not None:
        change = dataclasses.replace(change, assignee=await assignee_key(store, change.assignee))
    updated = await store.update_triage(ids, change, by)
    names = await staff_names(store, triage_keys(updated))
    return web.json_response({"items": [triage_json(t, names=names) for t in updated]})


@operation("GET", "/api/dashboard/staff", "Active staff accounts, to pick an assignee from",
           ok=items_of(ref("Staff")), errors=("401", "403"), security=STAFF, tags=("dashboard",))
async def list_staff(request: web.Request) -> web.Response:
    """GET /api/dashboard/staff — active staff accounts (the assignee picker's choices)."""
    await require_staff(request)
    return web.json_response({"items": await staff_accounts(request.app[RUNTIME].store)})


@operation("GET", r"/api/dashboard/mentions/{id:\d+}/notes", "A mention's private notes",
           ok=items_of(ref("Note")), params=(ID,), errors=("401", "403", "404"), security=STAFF,
           tags=("dashboard",))
async def list_notes(request: web.Request) -> web.Response:
    """GET /api/dashboard/mentions/{id}/notes — a mention's private notes."""
    await require_staff(request)
    store = request.app[RUNTIME].store
    mention = await store.get_mention(int(request.match_info["id"]))
    notes = await store.list_triage_notes(mention.id)
    names = await staff_names(store, (n.author for n in notes))
    return web.json_response({"items": [note_json(n, names) for n in notes]})


@operation("POST", r"/api/dashboard/mentions/{id:\d+}/notes", "Keep a private note on a mention",
           ok="Note", status="201", body=NoteBody, params=(ID,), security=STAFF_WRITE, tags=("dashboard",))
async def add_note(request: web.Request) -> web.Response:
    """POST /api/dashboard/mentions/{id}/notes — keep a private note."""
    author = await require_staff_key_write(request)
    body = await body_of(request, NoteBody)
    store = request.app[RUNTIME].store
    note = await store.add_triage_note(int(request.match_info["id"]), author, body.body)
    return web.json_response(note_json(note, await staff_names(store, [author])), status=201)


#: The export's columns before those of the NLP signals (``csv_columns``).
CSV_COLUMNS = ("id", "created_at", "source", "author_handle", "author_name", "text", "url",
               "customers", "status", "assignee", "tags", "topics", "sentiment")


def csv_columns() -> tuple[tuple[str, ...], tuple[Signal, ...]]:
    """The export's columns: the fixed ones, then one per exported signal (and those signals)."""
    exported = tuple(s for s in signals() if s.exported)
    return (*CSV_COLUMNS, *(s.name for s in exported)), exported


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet: make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@operation("GET", "/api/dashboard/mentions.csv",
           "Every mention of the filtered list as CSV (at most 50,000 rows)",
           ok={"type": "string"}, media_type="text/csv", query=StreamFilters,
           errors=READ_ERRORS, security=STAFF, tags=("dashboard",))
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
    columns, exported = csv_columns()
    await resp.write(_csv_lines([columns]))
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
                         *(a[s.analysis_key] for s in exported)])
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
