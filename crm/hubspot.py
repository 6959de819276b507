"""HubSpot through ``hubspot-api-client``: companies and contacts in, notes and owner tasks out.

The client is synchronous (urllib3), so every call runs in a thread.  Calls ask
for the raw response (``_preload_content=False``) and read HubSpot's JSON
themselves: the shapes are HubSpot's documented ones, and rate-limit headers
stay visible.  ``base_url`` sets the client's ``host`` (tests point it at a
fake HubSpot on 127.0.0.1).

Changes come from CRM v3 search sorted by last-modified time.  Search answers at
most 10,000 results per query, so a long drain starts a new query from the last
modified time reached; the cursor remembers the ids already handed on at that
exact instant, so nothing repeats and nothing is skipped.  Deleted (archived)
records come from the archived listing; a merge shows as ``hs_merged_object_ids``
on the surviving record.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import hubspot
import urllib3
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.objects.notes.exceptions import ApiException as NotesApiException
from hubspot.crm.objects.tasks.exceptions import ApiException as TasksApiException
from hubspot.oauth.exceptions import ApiException as OauthApiException

from config.crm import ObjectMapping
from crm.base import (
    CrmConnector,
    CrmPage,
    CrmRecord,
    ObjectType,
    OwnerTask,
    OwnerTaskWritten,
    TimelineEntry,
)
from crm.hubspot_tasks import RecordOwners, create_owner_task, hubspot_time
from domain import Rejection
from domain.errors import AuthFailed, BadItem, NotConfigured, SourceUnavailable

log = logging.getLogger(__name__)

_API_ERRORS = (CompaniesApiException, ContactsApiException, NotesApiException,
               TasksApiException, OauthApiException)
#: HubSpot search never pages beyond this many results of one query.
SEARCH_CAP = 10_000
#: The last-modified property HubSpot sorts and filters each object type by.
MODIFIED = {"company": "hs_lastmodifieddate", "contact": "lastmodifieddate"}
_PLURAL = {"company": "companies", "contact": "contacts"}
#: HubSpot-defined association types of a note.
NOTE_TO_COMPANY, NOTE_TO_CONTACT = 190, 202


def _millis(value: Any) -> int | None:
    """Epoch milliseconds of an ISO time or a millisecond number, ``None`` if unreadable."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)  # 3.11 reads a trailing Z
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _moment(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` or HubSpot's ``X-HubSpot-RateLimit-*`` headers."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        if lower.get("retry-after"):
            return max(0.0, float(lower["retry-after"]))
        if lower.get("x-hubspot-ratelimit-remaining") == "0" and \
                lower.get("x-hubspot-ratelimit-interval-milliseconds"):
            return float(lower["x-hubspot-ratelimit-interval-milliseconds"]) / 1000
        if lower.get("x-hubspot-ratelimit-daily-remaining") == "0":
            return 3600.0
    except ValueError:
        return None
    return None


def _message(exc: Any) -> str:
    try:
        body = json.loads(exc.body or b"{}")
    except (TypeError, ValueError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return f"HubSpot {exc.status}: {message or exc.reason or 'no reason given'}"


class HubSpotConnector(CrmConnector):
    """Companies and contacts from HubSpot; notes on them."""

    kind = "hubspot"

    def __init__(self, options: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        super().__init__(options, credentials)
        self._refreshable = all(credentials.get(k) for k in
                                ("refresh_token", "client_id", "client_secret"))
        if not credentials.get("access_token") and not self._refreshable:
            self.require_credential("access_token")
        self.page_size = int(self.options.get("page_size") or 100)
        if not 1 <= self.page_size <= 200:
            raise NotConfigured("crm.hubspot.page_size must be 1..200")
        self.timeout = float(self.options.get("timeout") or 30)
        # Without the key on the note or task, an entry whose answer was lost cannot be found
        # again, and its retry writes a second one: HubSpot takes no idempotency key on
        # create, and a task has no built-in property that could carry ours.
        self.note_key_property = self._key_property("note_key_property", "notes")
        self.task_key_property = self._key_property("task_key_property", "tasks")
        # Owners are read again after one sync interval at most (also where no sync runs).
        self._owners = RecordOwners(float(self.options.get("interval") or 900.0))
        config: dict[str, Any] = {"access_token": credentials.get("access_token") or "pending"}
        if self.options.get("base_url"):
            config["host"] = str(self.options["base_url"]).rstrip("/")
        self._client = hubspot.Client.create(**config)
        self._apis: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.rate_limit_remaining: int | None = None
        #: OAuth without a current access token: refresh before the first call
        self._token_expired = not credentials.get("access_token")

    def _key_property(self, option: str, objects: str) -> str:
        """The property holding crmsphere's idempotency key on ``objects``; ``NotConfigured``
        when it is empty (a lost answer would duplicate the entry)."""
        name = str(self.options.get(option) or "").strip()
        if not name:
            raise NotConfigured(
                f"crm.hubspot.{option} is empty: set it to a text property on {objects} "
                f"(default crmsphere_key), or a {objects[:-1]} whose answer was lost would be "
                f"written twice")
        return name

    # -- calls --------------------------------------------------------------------------------
    def _api(self, name: str) -> Any:
        """A cached generated API object (``companies.search``, ``notes.basic``...)."""
        with self._lock:
            if name not in self._apis:
                area, kind = name.split(".")
                # Notes and tasks are engagement objects, generated under ``crm.objects``.
                discovery = (getattr(self._client.crm.objects, area) if area in ("notes", "tasks")
                             else getattr(self._client.crm, area))
                self._apis[name] = getattr(discovery, f"{kind}_api")
            return self._apis[name]

    def _refresh_token(self) -> None:
        """Trade the refresh token for a new access token (``POST /oauth/v1/token``)."""
        try:
            resp = self._client.oauth.tokens_api.create(
                grant_type="refresh_token", client_id=self.credentials["client_id"],
                client_secret=self.credentials["client_secret"],
                refresh_token=self.credentials["refresh_token"],
                _preload_content=False, _request_timeout=self.timeout)
        except _API_ERRORS as exc:
            if exc.status in (400, 401, 403):
                raise AuthFailed(f"token refresh refused: {_message(exc)}") from None
            raise SourceUnavailable(f"token refresh failed: {_message(exc)}",
                                    retry_after(dict(exc.headers or {}))) from None
        except urllib3.exceptions.HTTPError as exc:
            raise SourceUnavailable(f"HubSpot unreachable: {exc}") from None
        token = json.loads(resp.data or b"{}").get("access_token")
        if not token:
            raise AuthFailed("token refresh answered without an access token")
        with self._lock:
            self._client.access_token = token
            self._apis.clear()  # the generated APIs copied the old token
        self._token_expired = False
        log.info("hubspot: access token refreshed")

    def _call(self, api: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """One API call in this thread: JSON body back, or the error named for what to do."""
        if self._token_expired:
            self._refresh_token()
        for attempt in (1, 2):
            try:
                resp = getattr(self._api(api), method)(
                    *args, **kwargs, _preload_content=False, _request_timeout=self.timeout)
            except _API_ERRORS as exc:
                if exc.status == 401 and attempt == 1 and self._refreshable:
                    self._refresh_token()
                    continue
                raise self._error(exc) from None
            except urllib3.exceptions.HTTPError as exc:
                raise SourceUnavailable(f"HubSpot unreachable: {exc}") from None
            remaining = resp.headers.get("X-HubSpot-RateLimit-Remaining")
            if remaining is not None and remaining.isdigit():
                self.rate_limit_remaining = int(remaining)
            try:
                return json.loads(resp.data or b"{}")
            except ValueError:
                raise SourceUnavailable(f"HubSpot answered {api} with invalid JSON") from None
        raise AssertionError("unreachable")

    def _error(self, exc: Any) -> Exception:
        headers = dict(exc.headers or {})
        if exc.status == 401:
            return AuthFailed(_message(exc))
        if exc.status == 403:
            return AuthFailed(f"{_message(exc)} (does the app have the CRM scopes?)")
        if exc.status == 429:
            return SourceUnavailable(_message(exc), retry_after(headers) or 10.0)
        if exc.status == 0 or exc.status >= 500:
            return SourceUnavailable(_message(exc), retry_after(headers))
        return BadItem(_message(exc), "hubspot")

    async def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- inbound --------------------------------------------------------------------------------
    def _properties(self, object_type: ObjectType) -> list[str]:
        mapping = ObjectMapping(**dict(self.options.get("mapping", {}).get(object_type) or {}))
        extra = [MODIFIED[object_type], "hs_merged_object_ids"]
        if object_type == "contact":
            extra.append("associatedcompanyid")
        return sorted(set(mapping.properties() + extra))

    def _search(self, object_type: ObjectType, since: int | None, after: str | None) -> Any:
        filters = [{"propertyName": MODIFIED[object_type], "operator": "GTE", "value": str(since)}]
        body = {"filterGroups": [{"filters": filters}] if since is not None else [],
                "sorts": [{"propertyName": MODIFIED[object_type], "direction": "ASCENDING"}],
                "properties": self._properties(object_type), "limit": self.page_size}
        if after:
            body["after"] = after
        try:
            return self._call(f"{_PLURAL[object_type]}.search", "do_search", body)
        except BadItem as exc:  # a refused query is not about one item
            raise SourceUnavailable(f"search refused: {exc.reason}") from None

    def _record(self, object_type: ObjectType, raw: Any) -> tuple[list[CrmRecord], int]:
        if not isinstance(raw, dict) or not raw.get("id"):
            raise BadItem("a result without an id", f"hubspot {object_type}")
        crm_id = str(raw["id"])
        props = raw.get("properties") if isinstance(raw.get("properties"), dict) else {}
        modified = _millis(props.get(MODIFIED[object_type])) or _millis(raw.get("updatedAt"))
        if modified is None:
            raise BadItem("no last-modified time", f"hubspot {object_type} {crm_id}")
        company = props.get("associatedcompanyid") if object_type == "contact" else None
        at = _moment(modified)
        records = [CrmRecord(object_type, crm_id, props, at, deleted=bool(raw.get("archived")),
                             company_id=str(company) if company else None)]
        for merged in str(props.get("hs_merged_object_ids") or "").split(";"):
            if merged.strip() and merged.strip() != crm_id:
                records.append(CrmRecord(object_type, merged.strip(), {}, at,
                                         merged_into=crm_id))
        return records, modified

    async def changes(self, object_type: ObjectType,
                      cursor: dict[str, Any] | None) -> AsyncIterator[CrmPage]:
        """Pages of changed records, oldest change first, then newly archived ones."""
        state = dict(cursor or {})
        since: int | None = state.get("since")
        seen = set(state.get("seen") or ())
        after: str | None = None
        query_since = since  # fixed for one query; ``since`` moves with the pages
        while True:
            data = await self._run(self._search, object_type, query_since, after)
            records: list[CrmRecord] = []
            rejected: list[Rejection] = []
            for raw in data.get("results") or []:
                try:
                    found, modified = self._record(object_type, raw)
                except BadItem as exc:
                    rejected.append(Rejection(exc.where, exc.reason))
                    continue
                if since is not None and modified == since and found[0].crm_id in seen:
                    continue  # handed on by the run that stopped at this instant
                if since is None or modified > since:
                    since, seen = modified, set()
                seen.add(found[0].crm_id)
                records += found
            state.update(since=since, seen=sorted(seen))
            yield CrmPage(tuple(records), dict(state), tuple(rejected))
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
            if int(after) + self.page_size > SEARCH_CAP:
                if since == query_since:
                    raise SourceUnavailable(
                        f"more than {SEARCH_CAP} HubSpot {object_type} records changed at one instant")
                after, query_since = None, since  # a new query from the newest time reached
        async for page in self._archived(object_type, state):
            yield page

    async def _archived(self, object_type: ObjectType,
                        state: dict[str, Any]) -> AsyncIterator[CrmPage]:
        newest = state.get("archived_since")
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": self.page_size, "archived": True}
            if after:
                kwargs["after"] = after
            data = await self._run(self._call, f"{_PLURAL[object_type]}.basic", "get_page",
                                   **kwargs)
            records = []
            for raw in data.get("results") or []:
                at = _millis(raw.get("archivedAt")) or _millis(raw.get("updatedAt")) or 0
                if raw.get("id") and (state.get("archived_since") is None
                                      or at > state["archived_since"]):
                    records.append(CrmRecord(object_type, str(raw["id"]), {}, _moment(at),
                                             deleted=True))
                    newest = max(newest or 0, at)
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                state["archived_since"] = newest if newest is not None else 0
            yield CrmPage(tuple(records), dict(state))
            if not after:
                return

    # -- outbound --------------------------------------------------------------------------------
    def _find_note(self, key: str) -> str | None:
        body = {"filterGroups": [{"filters": [{"propertyName": self.note_key_property,
                                               "operator": "EQ", "value": key}]}],
                "properties": [self.note_key_property], "limit": 1}
        found = self._call("notes.search", "do_search", body).get("results") or []
        return str(found[0]["id"]) if found else None

    def _create_note(self, entry: TimelineEntry) -> str:
        existing = self._find_note(entry.idempotency_key)
        if existing:
            return existing
        body = (f"<p><strong>{html.escape(entry.subject)}</strong></p>"
                f"<p>{html.escape(entry.body)}</p>"
                f'<p><a href="{html.escape(entry.url, quote=True)}">View in crmsphere</a></p>')
        properties = {"hs_note_body": body, "hs_timestamp": hubspot_time(entry.occurred_at),
                      self.note_key_property: entry.idempotency_key}
        associations = []
        for target, type_id in ((entry.company_crm_id, NOTE_TO_COMPANY),
                                (entry.contact_crm_id, NOTE_TO_CONTACT)):
            if target:
                associations.append({"to": {"id": target}, "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]})
        if not associations:
            raise BadItem("a note needs a company or a contact", entry.idempotency_key)
        created = self._call("notes.basic", "create",
                             {"properties": properties, "associations": associations})
        if not created.get("id"):
            raise SourceUnavailable("HubSpot created a note without answering its id")
        return str(created["id"])

    async def write_timeline(self, entry: TimelineEntry) -> str:
        """A note on the company and/or contact; an existing note with the same key is reused."""
        return await self._run(self._create_note, entry)

    async def write_owner_task(self, task: OwnerTask) -> OwnerTaskWritten:
        """A task for the company's (else the contact's) owner; a task with the same key is reused."""
        return await self._run(create_owner_task, self._call, task, self.task_key_property,
                               self._owners)

    def forget_owners(self) -> None:
        """Owners are read again after this (a sync run may show records changed hands)."""
        self._owners.clear()

    async def write_learned(self, object_type: ObjectType, crm_id: str,
                            values: Mapping[str, str]) -> None:
        """Update the record's custom field(s) with what crmsphere learned."""
        await self._run(self._call, f"{_PLURAL[object_type]}.basic", "update", crm_id,
                        {"properties": dict(values)})
