"""CRM routes: ``POST /api/customers/sync`` (the bridge, inbound) and control of CRM connectors
listed with the sources (``/api/sources/crm:<kind>/run|pause|resume``)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.contract import operation
from api.keys import BACKGROUND, RUNTIME
from api.openapi.common import B, I, S, SIGNATURE_HEADERS, SIGNED_BODY, arr, obj
from api.openapi.listening import REJECTED, SYNC_BODY
from crm.records import apply_crm_batch
from crm.sync import CrmSync
from domain import utcnow
from domain.errors import NotFound
from storage.base import health_to_json


@operation("POST", "/api/customers/sync",
           "Upsert a signed batch of CRM records as customers (the generic bridge)",
           ok=obj(inserted=I, updated=I, deleted=I, merged=I, rejected=REJECTED,
                  aliases=arr(obj(customer_id=S, alias=S, reason=S, refused=B))),
           body_schema=SYNC_BODY, params=tuple(SIGNATURE_HEADERS), errors=("400", "401", "404"),
           security=SIGNED_BODY, tags=("listening",),
           description="Signed with the secret named by crm.bridge.inbound_secret_env; at most "
                       "crm.bridge.max_records records. A malformed record is reported in "
                       "`rejected` by index and the valid rest is kept. `aliases` lists each "
                       "alias refused (shorter than 3 letters: not stored) or kept but flagged (a "
                       "common word: links only with a cue). 404 when CRM sync is not running in "
                       "this process.")
async def sync_customers(request: web.Request) -> web.Response:
    """POST /api/customers/sync — a signed batch of CRM records upserted as customers."""
    rt = request.app[RUNTIME]
    if rt.crm is None:
        raise NotFound("CRM sync is not running in this process")
    bridge = rt.crm.bridge
    body = await request.read()
    bridge.verify(request.headers.get("X-Crmsphere-Timestamp"),
                  request.headers.get("X-Crmsphere-Signature"), body)
    parsed, rejected = bridge.parse(body)
    # Aliases too short to link by are refused, common-word ones flagged (crm.alias_hygiene).
    batches, aliases = [], []
    for batch in parsed:
        batch, notes = rt.crm.alias_check().batch(batch)
        batches.append(batch)
        aliases += notes
    totals = {"inserted": 0, "updated": 0, "deleted": 0, "merged": 0}
    for batch in batches:
        done = await apply_crm_batch(rt.store, batch, utcnow())
        for key in totals:
            totals[key] += getattr(done, key)
    if any(totals.values()):
        await rt.reload_customers()
        await rt.crm.refresh_impact(batches)
    return web.json_response({**totals, "rejected": [
        {"where": r.where, "reason": r.reason} for r in rejected],
        "aliases": [note.as_json() for note in aliases]})


async def control_crm(request: web.Request, crm: CrmSync, name: str, action: str) -> web.Response:
    """Run now, pause or resume the CRM connector ``name`` (``crm:<kind>``)."""
    crm.kind_of(name)  # 404 for an unknown or disabled connector
    if action == "run":
        task = asyncio.create_task(crm.run_once(name, force=True))
        request.app[BACKGROUND].add(task)
        task.add_done_callback(request.app[BACKGROUND].discard)
        return web.json_response({"status": "started", "source": name}, status=202)
    health = await crm.set_paused(name, paused=(action == "pause"))
    return web.json_response(health_to_json(health))
