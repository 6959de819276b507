"""Signed batches (a partner's push of posts, a CRM's customer records) whose signature is good
but one item carries a hostile value in one field: the batch answers with that item named (or
stored, when the value is only odd), the valid item beside it is kept, and nothing is a 5xx.

A NaN or 1e309 makes the whole body no JSON: that is the sweep's (test_hostile_input_sweep.py)
and answers 400 for the body; here every literal is valid JSON, so one item can be judged alone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from tests.conftest import post_row
from tests.helpers import signed_headers, start_app

PUSH_SECRET = "push-secret-for-the-sweep"
BRIDGE_SECRET = "bridge-secret-for-the-sweep"
SOURCES = """
[[sources]]
kind = "push"
name = "partner"
secret_env = "SWEEP_PUSH_SECRET"

[routing]
worker_enabled = false
"""
#: JSON literals for one field of one item (valid JSON, so the body itself parses).
HOSTILE_ITEM_VALUES = [str(2**63), "1" + "0" * 30, json.dumps("9" * 30), "-1", '"²"', '"١٢"',
                       '"NaN"', '"Infinity"', '"1e309"', '""', json.dumps("x" * 10_000), '"a\\u0000b"',
                       '"\\ud800"', "[]", "{}", "null", "true", '{"$gt": ""}',
                       '"2026-13-45T25:61:00Z"', '"-infinity"', '"0000-00-00"', '"99999-01-01T00:00:00Z"']
HOLE = "\x01hostile\x01"


@pytest.fixture
async def signed_client(aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("SWEEP_PUSH_SECRET", PUSH_SECRET)
    monkeypatch.setenv("CRMSPHERE_CRM_BRIDGE_SECRET", BRIDGE_SECRET)
    return await start_app(aiohttp_client, tmp_path, SOURCES, customers=True)


def _with_hole(item: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """``item`` with the value at ``path`` replaced by ``HOLE``."""
    if len(path) == 1:
        return {**item, path[0]: HOLE}
    return {**item, path[0]: _with_hole(item.get(path[0]) or {}, path[1:])}


async def _send(client: TestClient, url: str, payload: dict[str, Any], literal: str,
                secret: str) -> tuple[int, Any]:
    body = json.dumps(payload).replace(json.dumps(HOLE), literal).encode()
    async with client.post(url, data=body, headers=signed_headers(body, secret)) as resp:
        text = await resp.text()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text


def _rejected_where(answer: Any) -> list[str]:
    return [r.get("where", "") for r in answer.get("rejected", [])] if isinstance(answer, dict) else []


async def test_a_hostile_field_in_one_pushed_post_names_that_post_and_keeps_the_rest(signed_client,
                                                                                    caplog) -> None:
    valid = post_row(1)
    fields = [("source",), ("external_id",), ("text",), ("created_at",), ("url",), ("parent_id",),
              ("thread_id",), ("language",), ("engagement",), ("engagement", "likes"), ("author",),
              ("author", "handle"), ("author", "name"), ("author", "platform_id")]
    wrong, number = [], 1
    for path in fields:
        for literal in HOSTILE_ITEM_VALUES:
            number += 1  # a post of its own each time: a duplicate would be stored no further
            hostile = _with_hole(post_row(number), path)
            status, answer = await _send(signed_client, "/api/ingest/partner",
                                         {"posts": [valid, hostile]}, literal, PUSH_SECRET)
            where = f"posts[1].{'.'.join(path)}={literal[:24]} -> {status}"
            if status != 202:
                wrong.append(f"{where}: the batch was not taken: {str(answer)[:200]}")
            elif "posts[0]" in _rejected_where(answer):
                wrong.append(f"{where}: the valid post was refused: {str(answer)[:200]}")
            elif answer["accepted"] + answer["duplicates"] < 1:
                wrong.append(f"{where}: the valid post was not kept: {str(answer)[:200]}")
            elif "posts[1]" in _rejected_where(answer) and not all(
                    r.get("reason") for r in answer["rejected"]):
                wrong.append(f"{where}: refused without a reason: {str(answer)[:200]}")
    assert not wrong, f"{len(wrong)} answers:\n" + "\n".join(wrong)
    assert (await signed_client.get("/healthz")).status == 200
    # the valid post, and about half of the others (the rest were refused by name)
    assert (await signed_client.app[RUNTIME].store.counts())["mentions"] > 100
    assert await signed_client.app[RUNTIME].store.get_mention(1) is not None
    errors = [r.getMessage()[:300] for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not errors, errors


async def test_a_hostile_field_in_one_crm_record_names_that_record_and_keeps_the_rest(signed_client) -> None:
    valid = {"type": "company", "id": "7", "properties": {"name": "Initech", "segment": "Enterprise",
                                                          "annual_revenue": "12,000,000"}}
    hostile_base = {"type": "contact", "id": "70", "company_id": "7",
                    "properties": {"name": "Peter Gibbons", "emails": "peter@initech.example"}}
    fields = [("type",), ("id",), ("company_id",), ("deleted",), ("merged_into",), ("properties",),
              ("properties", "name"), ("properties", "emails"), ("properties", "annual_revenue"),
              ("properties", "segment"), ("properties", "domains"), ("properties", "x")]
    wrong = []
    for path in fields:
        # One batch a field (each sync reloads the gazetteer: a batch a value took a minute):
        # the valid record, then one record a hostile value, each its own contact.
        records = [valid] + [_with_hole({**hostile_base, "id": f"7{i}"}, path)
                             for i in range(len(HOSTILE_ITEM_VALUES))]
        body = json.dumps({"source": "pipedrive", "records": records})
        for literal in HOSTILE_ITEM_VALUES:
            body = body.replace(json.dumps(HOLE), literal, 1)
        async with signed_client.post("/api/customers/sync", data=body.encode(),
                                      headers=signed_headers(body.encode(), BRIDGE_SECRET)) as resp:
            status, text = resp.status, await resp.text()
        where = f"records[1..].{'.'.join(path)} -> {status}"
        if status != 200:
            wrong.append(f"{where}: the batch was not taken: {text[:300]}")
            continue
        answer = json.loads(text)
        if any(w.startswith("records[0]") for w in _rejected_where(answer)):
            wrong.append(f"{where}: the valid record was refused: {text[:300]}")
        elif any(not r.get("reason") for r in answer.get("rejected", [])):
            wrong.append(f"{where}: refused without a reason: {text[:300]}")
    assert not wrong, f"{len(wrong)} answers:\n" + "\n".join(wrong)
    initech = await (await signed_client.get("/api/customers/pipedrive:company:7")).json()
    assert initech["name"] == "Initech"


async def test_a_crm_record_field_of_the_wrong_type_is_named_not_guessed(signed_client) -> None:
    # "deleted": "true" (or 1) was read as not deleted: the record was upserted, alive in
    # crmsphere while deleted in the CRM.  company_id and merged_into went through str():
    # true became the record "True", a list "[]"; an id with a trailing newline ("7\n", as a
    # CSV export leaves it) matched the id pattern's "$" and was another record than "7".
    valid = {"type": "company", "id": "7", "properties": {"name": "Initech"}}
    contact = {"type": "contact", "id": "70", "properties": {"name": "Peter Gibbons"}}
    cases = [({"deleted": "true"}, "deleted"), ({"deleted": 1}, "deleted"),
             ({"deleted": "yes"}, "deleted"), ({"deleted": 0}, "deleted"), ({"deleted": ""}, "deleted"),
             ({"company_id": True}, "company_id"),
             ({"company_id": []}, "company_id"), ({"company_id": {"$gt": ""}}, "company_id"),
             ({"merged_into": True}, "merged_into"), ({"merged_into": 1.5}, "merged_into"),
             ({"id": "70\n"}, "id"), ({"company_id": "7\n"}, "company_id")]
    records = [valid] + [{**contact, "id": f"7{i}", **change} for i, (change, _) in enumerate(cases)]
    body = json.dumps({"source": "pipedrive", "records": records}).encode()
    resp = await signed_client.post("/api/customers/sync", data=body,
                                    headers=signed_headers(body, BRIDGE_SECRET))
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    refused = {r["where"].split(" ")[0]: r["reason"] for r in answer["rejected"]}
    for index, (change, field) in enumerate(cases, start=1):
        assert refused.get(f"records[{index}]", "").startswith(f"{field}:"), (change, answer)
    assert answer["inserted"] == 1 and answer["deleted"] == 0 and answer["merged"] == 0
    assert (await signed_client.get("/api/customers/pipedrive:company:7")).status == 200
    # and the types the contract names still work: an integer id, a real deletion
    body = json.dumps({"source": "pipedrive", "records": [
        {**contact, "id": 71, "company_id": 7, "deleted": None},
        {"type": "company", "id": "7", "deleted": True}]}).encode()
    answer = await (await signed_client.post("/api/customers/sync", data=body, headers=signed_headers(
        body, BRIDGE_SECRET, time.time() + 1))).json()
    assert (answer["inserted"], answer["deleted"], answer["rejected"]) == (1, 1, []), answer
