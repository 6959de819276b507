"""A CRM is one connector module plus its line in ``crm/registry.py``: this file adds a
Pipedrive-like connector (organisations over a paged JSON API on a local server, answering as
Pipedrive's ``GET /v1/organizations`` does), configures it as ``[crm.pipedrive]`` with no
settings model edited, and syncs its organisations into the store.  A ``[crm.<kind>]`` table
nobody registered, or a bad common key in one, stops ``crmsphere config check`` naming it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from config.settings import load_settings
from crm.base import CrmConnector, CrmPage, CrmRecord, ObjectType, OwnerTask, OwnerTaskWritten, TimelineEntry
from crm.registry import CONNECTORS
from crm.sync import CrmSync
from crmsphere.cli import main
from domain.errors import NotConfigured, SourceUnavailable
from storage import Store, open_store

#: Two pages of organisations, as Pipedrive pages them (``start``/``limit``, ``more_items``).
ORGANISATIONS = [
    {"id": 1, "name": "Acme Anvils", "update_time": "2026-11-30 10:00:00",
     "4a6c1f0e9b2d": "enterprise", "address": "1 Anvil Way"},
    {"id": 2, "name": "Globex <script>", "update_time": "2026-11-30 11:00:00",
     "4a6c1f0e9b2d": None, "address": None},
    {"id": 3, "name": "Initech", "update_time": "2026-12-01 09:30:00",
     "4a6c1f0e9b2d": "smb", "address": "Suite 300"},
]


class FakePipedrive:
    """``GET /v1/organizations``: the ``api_token`` query parameter, pages of two."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def organizations(self, request: web.Request) -> web.Response:
        self.tokens.append(request.query.get("api_token", ""))
        if request.query.get("api_token") != "pd-token":
            return web.json_response({"success": False, "error": "unauthorized access",
                                      "errorCode": 401}, status=401)
        start, limit = int(request.query.get("start", 0)), int(request.query.get("limit", 2))
        page = ORGANISATIONS[start:start + limit]
        more = start + limit < len(ORGANISATIONS)
        return web.json_response({"success": True, "data": page, "additional_data": {"pagination": {
            "start": start, "limit": limit, "more_items_in_collection": more,
            **({"next_start": start + limit} if more else {})}}})


class PipedriveLike(CrmConnector):
    """Reads organisations page by page; writes nothing back (a read-only connector)."""

    kind = "pipedrive"

    def __init__(self, options: Any, credentials: Any) -> None:
        super().__init__(options, credentials)
        self.token = self.require_credential("api_token")
        if not options.get("base_url"):
            raise NotConfigured("base_url is required")
        self.base_url, self.page_size = str(options["base_url"]).rstrip("/"), int(options["page_size"])

    async def changes(self, object_type: ObjectType, cursor: dict[str, Any] | None) -> AsyncIterator[CrmPage]:
        start = (cursor or {}).get("start", 0)
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(f"{self.base_url}/v1/organizations", params={
                        "api_token": self.token, "start": start, "limit": self.page_size}) as resp:
                    if resp.status != 200:
                        raise SourceUnavailable(f"HTTP {resp.status} from Pipedrive")
                    body = await resp.json()
                records = tuple(CrmRecord("company", str(row["id"]), row, datetime.strptime(
                    row["update_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC))
                    for row in body["data"])
                paging = body["additional_data"]["pagination"]
                start = paging.get("next_start", start + len(records))
                yield CrmPage(records, {"start": start})
                if not paging["more_items_in_collection"]:
                    return

    async def write_timeline(self, entry: TimelineEntry) -> str:
        raise NotConfigured("this connector writes nothing back")

    async def write_owner_task(self, task: OwnerTask) -> OwnerTaskWritten:
        raise NotConfigured("this connector writes nothing back")

    async def write_learned(self, object_type: ObjectType, crm_id: str, values: Any) -> None:
        raise NotConfigured("this connector writes nothing back")


@pytest.fixture
def pipedrive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONNECTORS, "pipedrive", f"{__name__}:PipedriveLike")


def _config(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "crmsphere.toml"
    path.write_text(table)
    return path


TABLE = '''
[crm.pipedrive]
enabled = true
interval = 600
base_url = "{url}"
objects = ["company"]
page_size = 2
api_token_env = "PIPEDRIVE_API_TOKEN"
[crm.pipedrive.mapping.company]
name = ["name"]
segment = "4a6c1f0e9b2d"
'''


async def test_a_connector_registered_in_one_line_is_configured_and_synced(
        pipedrive: None, aiohttp_server: Any, tmp_path: Path) -> None:
    fake = FakePipedrive()
    app = web.Application()
    app.router.add_get("/v1/organizations", fake.organizations)
    server = await aiohttp_server(app)
    settings = load_settings(_config(tmp_path, TABLE.format(url=server.make_url(""))), environ={})
    table = settings.crm.connectors()["pipedrive"]
    assert table.enabled and table.interval == 600 and table.options()["page_size"] == 2
    store: Store = await open_store(f"sqlite:///{tmp_path / 'crm.db'}")
    try:
        sync = CrmSync(store, settings.crm, environ={"PIPEDRIVE_API_TOKEN": "pd-token"})
        await sync.start()
        assert sync.problems == {} and sync.scheduled() == [("crm:pipedrive", 600.0)]
        report = await sync.sync("pipedrive")
        assert report.inserted == 3 and not report.rejected
        acme = await store.get_customer("pipedrive:company:1")
        assert (acme.name, acme.kind, acme.segment) == ("Acme Anvils", "company", "enterprise")
        globex = await store.get_customer("pipedrive:company:2")
        assert globex.name == "Globex <script>" and globex.segment is None
        assert (await store.get_crm_cursor("pipedrive", "company")) == {"start": 3}
        health = await sync.run_once("crm:pipedrive", force=True)
        assert health.state == "ok"
    finally:
        await store.close()
    assert set(fake.tokens) == {"pd-token"}


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--config", str(path), "config", "check"])
    return code, capsys.readouterr().err


def test_config_check_takes_the_table_of_a_registered_connector(
        pipedrive: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(_config(tmp_path, TABLE.format(url="https://api.pipedrive.com")), capsys)
    assert code == 0, err


def test_config_check_refuses_a_table_no_connector_registered(
        pipedrive: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(_config(tmp_path, "[crm.pipedirve]\nenabled = true\n"), capsys)
    assert code == 2
    assert "crm.pipedirve" in err and "a CRM connector among hubspot, pipedrive, salesforce" in err


def test_config_check_names_a_bad_common_key_of_a_connector_table(
        pipedrive: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(_config(tmp_path, "[crm.pipedrive]\ninterval = 0\n"), capsys)
    assert code == 2 and "crm.pipedrive.interval" in err
    code, err = _check(_config(tmp_path, '[crm.pipedrive.mapping.company]\nhandles = { x_id = "myspace" }\n'),
                       capsys)
    assert code == 2 and "crm.pipedrive.mapping.company.handles" in err
