"""The analytics page's CSV export downloads the period the page shows: no second date typed
by hand into a free-text box (it once asked for "since (ISO date)" under a date picker)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import datetime

from tests.conftest import post
from tests.helpers import json_of


async def test_export_form_carries_the_pages_period(app_client) -> None:
    client = await app_client(customers=True)
    page = await (await client.get("/dashboard/analytics?since=2026-11-01&until=2026-11-30")).text()
    form = page[page.index('<form id="export"'):page.index("</form>", page.index('<form id="export"'))]
    assert '<input type="hidden" name="since" value="2026-11-01">' in form
    # The API's until is exclusive: the day after the period's last day keeps all of it.
    assert '<input type="hidden" name="until" value="2026-12-01">' in form
    assert "Mentions of <span id=\"export-period\">1 Nov 2026 – 30 Nov 2026</span>" in form
    assert "ISO date" not in form
    # A bad period in the URL falls back to the last 30 days, as the picker does.
    fallback = await (await client.get("/dashboard/analytics?since=2026-13-01")).text()
    assert re.search(r'name="until" value="\d{4}-\d{2}-\d{2}"', fallback)


def _posted(external_id: str, text: str, at: str):
    return dataclasses.replace(post(external_id, text), created_at=datetime.fromisoformat(at))


async def test_the_exported_period_takes_whole_days(app_client) -> None:
    client = await app_client(customers=True, posts=[
        _posted("1", "Acme Anvils invoices fail on the last day", "2026-11-30T23:59:00+00:00"),
        _posted("2", "Acme Anvils export on the first day", "2026-11-01T00:00:00+00:00"),
        _posted("3", "Acme Anvils one day too late", "2026-12-01T00:00:00+00:00")])
    resp = await client.get("/api/dashboard/mentions.csv", params={"since": "2026-11-01", "until": "2026-12-01"})
    assert resp.status == 200
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert sorted(r["text"] for r in rows) == ["Acme Anvils export on the first day",
                                               "Acme Anvils invoices fail on the last day"]
    assert (await json_of(await client.get("/api/dashboard/mentions.csv", params={"until": "30/11"}), 400))
