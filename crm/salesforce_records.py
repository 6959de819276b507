"""Salesforce records in, ``CrmRecord``s out: the change query, the cursor and record checks.

Changes are read with one ``queryAll`` ordered by ``(SystemModstamp, Id)``: deleted
records (in the recycle bin) and records merged away (deleted with ``MasterRecordId``
naming the survivor) come in the same ordered stream as updates, so a single cursor
``{"modstamp", "id"}`` — the last record seen — resumes without skipping or repeating
records that share a timestamp.  Salesforce keeps ``SystemModstamp`` to the second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from simple_salesforce.format import format_soql

from crm.base import CrmRecord, ObjectType
from domain import Rejection
from domain.errors import BadInput

#: The Salesforce object behind each crmsphere object type.
SOBJECTS: dict[str, str] = {"company": "Account", "contact": "Contact"}

#: Fields read on every record; options add custom ones for the mapping.
BASE_FIELDS: dict[str, tuple[str, ...]] = {
    "company": ("Id", "Name", "Website", "Industry", "Type", "AnnualRevenue",
                "NumberOfEmployees", "BillingCountry", "OwnerId"),
    "contact": ("Id", "FirstName", "LastName", "Name", "Email", "Title", "AccountId", "OwnerId"),
}
#: Fields the connector itself needs to order, resume and spot deletions and merges.
TRACKING_FIELDS = ("SystemModstamp", "IsDeleted", "MasterRecordId")

#: A 15- or 18-character Salesforce record id.
RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
#: A field API name, optionally through one relationship (``Owner.Email``).
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}(?:\.[A-Za-z][A-Za-z0-9_]{0,79})?$")


def select_fields(object_type: ObjectType, extra: Iterable[str]) -> list[str]:
    """The fields to read for ``object_type``: the base set, ``extra`` and tracking, no repeats."""
    fields: dict[str, str] = {}
    for name in (*BASE_FIELDS[object_type], *extra, *TRACKING_FIELDS):
        # SOQL names are case-insensitive and Salesforce refuses a field named twice.
        fields.setdefault(name.lower(), name)
    return list(fields.values())


def changes_query(object_type: ObjectType, fields: Sequence[str],
                  cursor: tuple[datetime, str] | None) -> str:
    """SOQL for the records of ``object_type`` changed after ``cursor``, oldest change first."""
    soql = f"SELECT {', '.join(fields)} FROM {SOBJECTS[object_type]}"
    if cursor is not None:
        stamp, last_id = cursor
        # A plain ">" would skip records sharing the last timestamp; the Id breaks the tie.
        soql += format_soql(" WHERE SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > {id})",
                            stamp=stamp, id=last_id)
    return soql + " ORDER BY SystemModstamp ASC, Id ASC"


def parse_cursor(cursor: Mapping[str, Any] | None) -> tuple[datetime, str] | None:
    """The ``(SystemModstamp, Id)`` a cursor holds; ``BadInput`` when it is not one of ours."""
    if cursor is None:
        return None
    stamp, last_id = cursor.get("modstamp"), cursor.get("id")
    when = parse_stamp(stamp) if isinstance(stamp, str) else None
    if when is None or not isinstance(last_id, str) or not RECORD_ID.match(last_id):
        raise BadInput("not a Salesforce sync cursor: expected {'modstamp': ISO time, 'id': record id}",
                       {"cursor": dict(cursor)})
    return when, last_id


def make_cursor(stamp: datetime, record_id: str) -> dict[str, str]:
    """The JSON cursor for the last record seen."""
    return {"modstamp": stamp.astimezone(UTC).isoformat(), "id": record_id}


def parse_stamp(value: Any) -> datetime | None:
    """A Salesforce datetime (``2026-11-01T12:00:00.000+0000``) as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def read_records(object_type: ObjectType, raw: Iterable[Any],
                 cursor: tuple[datetime, str] | None, fields: Sequence[str] = ()
                 ) -> tuple[list[CrmRecord], list[Rejection], tuple[datetime, str] | None]:
    """Check one page of query records: kept records, rejections, and the cursor after them.

    A rejected record that still has an Id and a time moves the cursor past it, so it
    is not fetched again until it changes in Salesforce.
    """
    sobject = SOBJECTS[object_type]
    records: list[CrmRecord] = []
    rejected: list[Rejection] = []
    for position, item in enumerate(raw):
        if not isinstance(item, Mapping):
            rejected.append(Rejection(f"salesforce:{sobject}:#{position}", "record is not an object"))
            continue
        record_id, stamp = item.get("Id"), parse_stamp(item.get("SystemModstamp"))
        where = f"salesforce:{sobject}/{record_id if isinstance(record_id, str) else '#' + str(position)}"
        if not isinstance(record_id, str) or not RECORD_ID.match(record_id):
            rejected.append(Rejection(where, "record without a valid Id"))
            continue
        if stamp is None:
            rejected.append(Rejection(where, f"SystemModstamp {item.get('SystemModstamp')!r} is not a date-time"))
            continue
        cursor = (stamp, record_id)
        problem = _problem(object_type, item)
        if problem:
            rejected.append(Rejection(where, problem))
            continue
        records.append(_record(object_type, item, record_id, stamp, fields))
    return records, rejected, cursor


def _problem(object_type: ObjectType, item: Mapping[str, Any]) -> str | None:
    """Why a record cannot be used, or None."""
    if item.get("IsDeleted") is True:
        master = item.get("MasterRecordId")
        if master is not None and not (isinstance(master, str) and RECORD_ID.match(master)):
            return f"MasterRecordId {master!r} is not a record id"
        return None
    if object_type == "company":
        if not _text(item.get("Name")):
            return "Account without a Name"
    else:
        if not (_text(item.get("LastName")) or _text(item.get("Name"))):
            return "Contact without a LastName"
        account = item.get("AccountId")
        if account is not None and not (isinstance(account, str) and RECORD_ID.match(account)):
            return f"AccountId {account!r} is not a record id"
    return None


def _record(object_type: ObjectType, item: Mapping[str, Any], record_id: str,
            stamp: datetime, fields: Sequence[str]) -> CrmRecord:
    # A merge deletes the losing records and points them at the survivor; the sync
    # treats a record as either deleted or merged away, never both.
    merged_into = item.get("MasterRecordId") if item.get("IsDeleted") is True else None
    return CrmRecord(
        object_type=object_type, crm_id=record_id, properties=_properties(item, fields),
        modified_at=stamp, deleted=item.get("IsDeleted") is True and not merged_into,
        merged_into=merged_into or None,
        company_id=item.get("AccountId") if object_type == "contact" else None)


def _properties(item: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """The record's fields, also under the spelling the mapping asked for.

    SOQL names are case-insensitive but answers use the canonical case (``name`` is
    answered as ``Name``), and ``Account.Name`` comes back nested: both are added
    under the asked name so the mapping finds them.
    """
    properties = {k: v for k, v in item.items() if k != "attributes"}
    by_lower = {k.lower(): k for k in properties}
    for name in fields:
        if name in properties:
            continue
        head, _, tail = name.partition(".")
        value = properties.get(by_lower.get(head.lower(), head))
        if tail:
            inner = {k.lower(): v for k, v in value.items()} if isinstance(value, Mapping) else {}
            properties[name] = inner.get(tail.lower())
        elif head.lower() in by_lower:
            properties[name] = value
    return properties


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
