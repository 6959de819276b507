"""The Salesforce connector: Accounts and Contacts in, Tasks or Chatter posts out.

Options (``[crm.salesforce]``; every key has a default except the credentials):

- ``login_url`` (``https://login.salesforce.com``; ``https://test.salesforce.com`` for a
  sandbox, or the org's My Domain URL): where OAuth tokens are fetched;
- ``instance_url``: the org's URL when ``access_token`` is given without one;
- ``api_version`` (``"59.0"``), ``page_size`` (500; a hint, Salesforce uses 200-2000),
  ``timeout`` (30 s per request), ``ca_bundle`` (path of extra trusted CAs);
- ``account_fields`` / ``contact_fields``: custom fields to read for the mapping;
- ``timeline``: ``"task"`` (a completed Task, the default) or ``"chatter"`` (a FeedItem);
  a voter's idea shipping is always an open Task for the Account's owner
  (``crm.salesforce_tasks``);
- ``idempotency_field`` (``Crmsphere_Key__c``): Task custom field holding the entry's key
  (make it External ID + Unique so Salesforce itself refuses a second Task);
- ``learned_fields``: ``{name: field}`` for ``write_learned``, e.g.
  ``{handles = "Crmsphere_Handles__c"}`` (names ending in ``__c`` are used as they are);
- ``limit_backoff`` (900 s): wait after the org's API limit is hit without a Retry-After;
- ``max_api_usage`` (0.95): stop early when this share of the org's daily API limit is used,
  leaving the rest to the org's other integrations.

Credentials: ``refresh_token`` + ``client_id`` (+ ``client_secret``); or ``username`` +
``password`` + ``security_token`` + ``client_id`` + ``client_secret``; or ``access_token``
+ ``instance_url`` (renewed only when a refresh token or password is given too).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from config.crm import ObjectMapping
from crm.base import (
    CrmConnector,
    CrmPage,
    ObjectType,
    OwnerTask,
    OwnerTaskWritten,
    TimelineEntry,
)
from crm.salesforce_records import (
    FIELD_NAME,
    RECORD_ID,
    SOBJECTS,
    changes_query,
    make_cursor,
    parse_cursor,
    read_records,
    select_fields,
)
from crm.salesforce_session import (
    ApiSession,
    SalesforceSession,
    error_codes,
    missing_credentials,
)
from crm.salesforce_tasks import (
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    RecordOwners,
    created_id,
    records_of,
    stored_key,
    with_link,
    write_owner_task,
)
from domain.errors import BadItem, ConfigError, NotConfigured, SourceUnavailable

T = TypeVar("T")

DEFAULTS: dict[str, Any] = {
    "login_url": "https://login.salesforce.com", "instance_url": None, "api_version": "59.0",
    "page_size": 500, "timeout": 30.0, "ca_bundle": None, "account_fields": [],
    "contact_fields": [], "timeline": "task", "idempotency_field": "Crmsphere_Key__c",
    "learned_fields": {}, "limit_backoff": 900.0, "max_api_usage": 0.95,
    "task_status": "Completed", "chatter_lookback": 200,
}
#: Marker line closing a Chatter post; FeedItem has no custom fields to hold the key.
CHATTER_REF = "crmsphere-ref: "
CHATTER_MAX = 10000


class SalesforceConnector(CrmConnector):
    """Salesforce through simple-salesforce (blocking, so every call runs in a thread)."""

    kind = "salesforce"

    def __init__(self, options: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        """Check options and credentials; nothing is sent until the first call."""
        super().__init__({**DEFAULTS, **{k: v for k, v in options.items() if v is not None}},
                         credentials)
        opts = self.options
        if opts.get("base_url"):
            # ``base_url`` (the [crm] section's common key) is the org's My Domain URL,
            # which serves both the API and the OAuth token endpoint.
            opts["instance_url"] = opts["instance_url"] or opts["base_url"]
            if not options.get("login_url"):
                opts["login_url"] = opts["base_url"]
        creds = dict(self.credentials)
        if opts["instance_url"] and not creds.get("instance_url"):
            creds["instance_url"] = opts["instance_url"]
        missing = missing_credentials(creds, opts)
        if missing:
            raise NotConfigured(missing)
        _check_options(opts)
        learned = self._learned_targets()
        #: Every field name asked for, in the spelling asked (the mapping's keys).
        self._wanted: dict[str, list[str]] = {
            "company": [*opts["account_fields"], *_mapped("company", opts), *learned],
            "contact": [*opts["contact_fields"], *_mapped("contact", opts), *learned],
        }
        self._fields = {kind: select_fields(kind, wanted)  # type: ignore[arg-type]
                        for kind, wanted in self._wanted.items()}
        self._http = ApiSession(float(opts["timeout"]), opts["ca_bundle"])
        self._session = SalesforceSession(opts, creds, self._http)
        # Owners are read again after one sync interval at most (also where no sync runs).
        self._owners = RecordOwners(float(options.get("interval") or 900.0))

    # -- inbound -------------------------------------------------------------------------

    async def changes(self, object_type: ObjectType, cursor: dict[str, Any] | None
                      ) -> AsyncIterator[CrmPage]:
        """Pages of Accounts/Contacts changed, deleted or merged after ``cursor``, oldest first."""
        if object_type not in SOBJECTS:
            raise BadItem(f"unknown object type {object_type!r}", "salesforce changes")
        position = parse_cursor(cursor)
        soql = changes_query(object_type, self._fields[object_type], position)
        headers = {"Sforce-Query-Options": f"batchSize={int(self.options['page_size'])}"}
        result = await self._run(lambda sf: sf.query(soql, include_deleted=True, headers=headers))
        while True:
            records, rejected, position = read_records(object_type, records_of(result), position,
                                                     self._wanted[object_type])
            if records or rejected:
                page_cursor = make_cursor(*position) if position else dict(cursor or {})
                yield CrmPage(tuple(records), page_cursor, tuple(rejected))
            next_url = result.get("nextRecordsUrl")
            if result.get("done", True) or not next_url:
                return
            if not isinstance(next_url, str) or not next_url.startswith("/services/data/"):
                # The URL is joined to the instance with our token attached: never follow it elsewhere.
                raise SourceUnavailable(f"Salesforce sent an unexpected nextRecordsUrl {next_url!r}")
            result = await self._run(
                lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True, headers=headers))

    # -- outbound ------------------------------------------------------------------------

    async def write_timeline(self, entry: TimelineEntry) -> str:
        """Write ``entry`` as a Task (or Chatter post) once; a repeat returns the first one's id."""
        for crm_id in (entry.company_crm_id, entry.contact_crm_id):
            if crm_id is not None and not RECORD_ID.match(crm_id):
                raise BadItem(f"{crm_id!r} is not a Salesforce record id", "salesforce timeline")
        if not (entry.company_crm_id or entry.contact_crm_id):
            raise BadItem("entry names neither an Account nor a Contact", "salesforce timeline")
        if self.options["timeline"] == "chatter":
            return await self._run(lambda sf: self._write_chatter(sf, entry), writing=True)
        return await self._run(lambda sf: self._write_task(sf, entry), writing=True)

    async def write_owner_task(self, task: OwnerTask) -> OwnerTaskWritten:
        """An open Task on the Account (and Contact) for the Account's owner, written once."""
        entry = task.entry
        for crm_id in (entry.company_crm_id, entry.contact_crm_id):
            if crm_id is not None and not RECORD_ID.match(crm_id):
                raise BadItem(f"{crm_id!r} is not a Salesforce record id", "salesforce task")
        if not (entry.company_crm_id or entry.contact_crm_id):
            raise BadItem("task names neither an Account nor a Contact", "salesforce task")
        key_field = self.options["idempotency_field"]
        return await self._run(lambda sf: write_owner_task(sf, task, key_field, self._owners),
                               writing=True)

    def forget_owners(self) -> None:
        """Owners are read again after this (a sync run may show records changed hands)."""
        self._owners.clear()

    async def write_learned(self, object_type: ObjectType, crm_id: str,
                            values: Mapping[str, str]) -> None:
        """Write learned handles/aliases to the configured custom fields of one record."""
        where = f"salesforce:{SOBJECTS.get(object_type, object_type)}/{crm_id}"
        if object_type not in SOBJECTS:
            raise BadItem(f"unknown object type {object_type!r}", where)
        if not RECORD_ID.match(crm_id):
            raise BadItem(f"{crm_id!r} is not a Salesforce record id", where)
        data: dict[str, str] = {}
        for name, value in values.items():
            field = self._learned_field(name)
            if field is None:
                raise BadItem(f"no Salesforce field configured for learned {name!r} "
                              "(set [crm.salesforce] learned_fields)", where)
            data[field] = value
        if data:
            sobject = SOBJECTS[object_type]
            await self._run(lambda sf: getattr(sf, sobject).update(crm_id, data), writing=True)

    async def close(self) -> None:
        """Close the HTTP connections."""
        await asyncio.to_thread(self._http.close)

    @property
    def rate_limit_remaining(self) -> int | None:
        """API requests left of the org's daily limit (shown on the health panel)."""
        usage = self._session.usage
        return usage.total - usage.used if usage else None

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """``(used, total)`` API requests of the org's daily limit, from the last answer."""
        usage = self._session.usage
        return (usage.used, usage.total) if usage else None

    # -- blocking parts (run in a worker thread) -------------------------------------------

    async def _run(self, operation: Callable[[Salesforce], T], *, writing: bool = False) -> T:
        usage = self._session.usage
        if usage and usage.total and usage.used >= float(self.options["max_api_usage"]) * usage.total:
            raise SourceUnavailable(f"Salesforce API usage at {usage.used}/{usage.total}, above "
                                    f"max_api_usage {self.options['max_api_usage']}",
                                    retry_after=float(self.options["limit_backoff"]))
        return await asyncio.to_thread(self._session.run, operation, writing=writing)

    def _write_task(self, sf: Salesforce, entry: TimelineEntry) -> str:
        key_field, key = self.options["idempotency_field"], stored_key(entry.idempotency_key)
        lookup = format_soql(f"SELECT Id FROM Task WHERE {key_field} = {{}} LIMIT 1", key)
        existing = records_of(sf.query(lookup))
        if existing:
            return str(existing[0]["Id"])
        task = {
            "Subject": entry.subject[:SUBJECT_MAX],
            "Description": with_link(entry, DESCRIPTION_MAX),
            "Status": self.options["task_status"],
            "ActivityDate": entry.occurred_at.date().isoformat(),
            key_field: key,
        }
        if entry.company_crm_id:
            task["WhatId"] = entry.company_crm_id
        if entry.contact_crm_id:
            task["WhoId"] = entry.contact_crm_id
        try:
            created = sf.Task.create(task)
        except SalesforceMalformedRequest as exc:
            # A unique key field turns a concurrent second attempt into DUPLICATE_VALUE.
            if "DUPLICATE_VALUE" in error_codes(exc.content):
                again = records_of(sf.query(lookup))
                if again:
                    return str(again[0]["Id"])
            raise
        return created_id(created, "Task")

    def _write_chatter(self, sf: Salesforce, entry: TimelineEntry) -> str:
        parent = entry.company_crm_id or entry.contact_crm_id
        marker = CHATTER_REF + entry.idempotency_key
        recent = format_soql("SELECT Id, Body FROM FeedItem WHERE ParentId = {} "
                             "ORDER BY CreatedDate DESC, Id DESC LIMIT {:literal}",
                             parent, str(int(self.options["chatter_lookback"])))
        for item in records_of(sf.query(recent)):
            body = item.get("Body")
            if isinstance(body, str) and body.rstrip().endswith(marker):
                return str(item["Id"])
        subject = entry.subject[:SUBJECT_MAX]
        body = with_link(entry, CHATTER_MAX - len(subject) - len(marker) - 4)
        text = f"{subject}\n\n{body}\n{marker}"
        created = sf.FeedItem.create({"ParentId": parent, "Type": "TextPost", "Body": text})
        return created_id(created, "FeedItem")

    def _learned_targets(self) -> list[str]:
        targets = [str(f) for f in self.options["learned_fields"].values()]
        mapping = self.options.get("mapping")
        field = mapping.get("learned_field") if isinstance(mapping, Mapping) else None
        return [*targets, field] if isinstance(field, str) and field else targets

    def _learned_field(self, name: str) -> str | None:
        mapped = self.options["learned_fields"].get(name)
        if mapped:
            return str(mapped)
        if name in self._learned_targets() or name.endswith("__c"):
            return name if FIELD_NAME.match(name) else None
        return None


def _mapped(object_type: ObjectType, opts: Mapping[str, Any]) -> list[str]:
    """The fields the ``[crm.salesforce.mapping]`` of ``object_type`` reads."""
    mapping = opts.get("mapping")
    table = mapping.get(object_type) if isinstance(mapping, Mapping) else None
    if not table:
        return []
    try:
        return ObjectMapping.model_validate(table).properties()
    except ValidationError as exc:
        raise ConfigError(f"crm.salesforce.mapping.{object_type}", table, str(exc)) from exc


def _check_options(opts: Mapping[str, Any]) -> None:
    """``ConfigError`` naming the first malformed ``[crm.salesforce]`` option."""
    def bad(key: str, expected: str) -> ConfigError:
        return ConfigError(f"crm.salesforce.{key}", opts[key], expected)

    for key in ("login_url", "instance_url"):
        if opts[key] is not None and not (isinstance(opts[key], str) and opts[key].startswith("https://")):
            raise bad(key, "an https:// URL")
    if not re.fullmatch(r"\d{2,3}\.\d", str(opts["api_version"])):
        raise bad("api_version", 'a Salesforce API version like "59.0"')
    if opts["timeline"] not in ("task", "chatter"):
        raise bad("timeline", '"task" or "chatter"')
    for key, low, high in (("page_size", 1, 2000), ("chatter_lookback", 1, 2000)):
        if not isinstance(opts[key], int) or isinstance(opts[key], bool) or not low <= opts[key] <= high:
            raise bad(key, f"a whole number from {low} to {high}")
    for key in ("timeout", "limit_backoff"):
        if not isinstance(opts[key], (int, float)) or isinstance(opts[key], bool) or opts[key] <= 0:
            raise bad(key, "a positive number of seconds")
    if not isinstance(opts["max_api_usage"], (int, float)) or not 0 < opts["max_api_usage"] <= 1:
        raise bad("max_api_usage", "a share between 0 and 1")
    if opts["ca_bundle"] is not None and not Path(str(opts["ca_bundle"])).is_file():
        raise bad("ca_bundle", "the path of a PEM file")
    fields = [opts["idempotency_field"]]
    for key in ("account_fields", "contact_fields"):
        if not isinstance(opts[key], (list, tuple)):
            raise bad(key, "a list of field names")
        fields += list(opts[key])
    if not isinstance(opts["learned_fields"], Mapping):
        raise bad("learned_fields", "a table of name = field")
    fields += list(opts["learned_fields"].values())
    for object_type in SOBJECTS:
        fields += _mapped(object_type, opts)  # type: ignore[arg-type]
    for name in fields:
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            raise ConfigError("crm.salesforce", name, "Salesforce field API names like Segment__c")
