"""A live event is the same whether encoded from the mention ingest handed over or from the
mention read back, and says the same as the listing for every field it carries."""

from __future__ import annotations

from pathlib import Path

import orjson

from api.dashboard.serialize import dashboard_mention_json
from api.dashboard.stream import _event
from domain import Analysis, CustomerLink, Mention
from storage import open_store
from tests.conftest import acme_customers, post


def _data(event: bytes) -> dict:
    head, data = event.split(b"data: ", 1)
    assert head.startswith(b"id: ") and data.endswith(b"\n\n")
    return orjson.loads(data)


def _same_where_given(event: object, listing: object, where: str = "") -> None:
    """Every field of the event equals the listing's field of the same name."""
    if isinstance(event, dict):
        assert isinstance(listing, dict), where
        for key, value in event.items():
            _same_where_given(value, listing[key], f"{where}.{key}")
    elif isinstance(event, list) and event and isinstance(event[0], dict):
        assert len(event) == len(listing), where
        for n, (e, li) in enumerate(zip(event, listing)):
            _same_where_given(e, li, f"{where}[{n}]")
    else:
        assert event == listing, where


async def test_handed_and_read_back_mentions_make_the_same_event(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'event.db'}")
    try:
        await store.upsert_customers(acme_customers())
        links = (CustomerLink("cus_jo", 0.5, "name", "name 'Jo'", 0, 2, status="pending"),
                 CustomerLink("cus_acme", 0.9, "company_name", "company name 'Acme'", 9, 13))
        result = await store.save_mentions("t", [Mention(
            post("1", "Jo says Acme\nis \"slow\" 🐢", url="https://x.example/1", name="Jo"),
            Analysis(links=links, topics=("performance",), sentiment=-0.61234,
                     sentiment_label="negative", intent="complaint", language="en"))], None)
        (handed,) = result.stored
        (read,) = await store.mentions_after(0, 10)
        customers = await store.get_customers(["cus_acme", "cus_jo"])
        event = _event(handed, customers)
        assert event == _event(read, customers)
        assert b"\n" not in event.split(b"data: ", 1)[1][:-2]  # one data line
        data = _data(event)
        listing = orjson.loads(orjson.dumps(dashboard_mention_json(read, customers)))
        _same_where_given(data, listing)
        assert [k["customer_name"] for k in data["links"]] == ["Acme Anvils", "Jo Rivera"]
        assert all(isinstance(k["id"], int) for k in data["links"])  # confirm/reject need them
        assert data["created_at"].endswith("Z") and data["analysis"]["sentiment"] == -0.612
        assert data["triage"]["status"] == "open"
    finally:
        await store.close()
