"""An idea ships: each voter's account owner gets ONE open task in HubSpot, through the outbox
and the real connector against the fake HubSpot — also after a lost answer, a refusal, a rate
limit or refused credentials, and for a company nobody owns."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea, set_status
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from community.idea_events import IdeaEvents
from domain.forum import Idea, NewIdea, StatusChange, Vote
from tests.conftest import T0, customer
from tests.crm.fake_hubspot import FakeHubSpot
from tests.crm.test_outbound import BASE, Rig, rig  # noqa: F401  (the fixture)

OWNER = "41629779"


async def ship(rig: Rig, voters: tuple[str, ...], response: str = "Shipped in 4.2: Settings > Theme") -> Idea:  # noqa: F811
    """An idea voted for by ``voters``, moved to done; returns it."""
    account = await rig.store.create_account("pm@crm.example", "Pat", None)
    events = IdeaEvents(rig.store, rig.settings.notify, "http://crm.example", crm=rig.outbound)
    idea = await create_idea(rig.store, NewIdea("Dark mode", "Please", account.id, "open"), T0)
    for customer_id in voters:
        assert await add_vote(rig.store, Vote(idea.id, customer_id, None, T0))
    change = StatusChange(idea.id, "open", "done", response, account.id, T0)
    await events.status_changed(await set_status(rig.store, change), change, ())
    await rig.consumer.run_once()  # the leader's crm-events job reads idea.status_changed
    return idea


def owned(hub: FakeHubSpot, owner: str | None = OWNER) -> None:
    """Give the synced company ``1`` an owner (or none), as a HubSpot user would."""
    hub.objects["companies"]["1"]["properties"]["hubspot_owner_id"] = owner


async def test_a_shipped_idea_is_an_open_task_for_each_voters_owner(rig: Rig) -> None:  # noqa: F811
    owned(rig.hub)
    idea = await ship(rig, ("hubspot:company:1", "hubspot:contact:51"))
    assert await rig.worker.run_once() == 2

    on_company = rig.hub.tasks_on("company", "1")
    [for_contact] = rig.hub.tasks_on("contact", "51")
    assert len(on_company) == 2 and for_contact in on_company
    for task in on_company:
        props = task["properties"]
        assert props["hs_task_status"] == "NOT_STARTED" and props["hubspot_owner_id"] == OWNER
        assert props["hs_task_subject"] == "An idea they voted for is now done: Dark mode"
        assert "Shipped in 4.2: Settings &gt; Theme" in props["hs_task_body"]
        assert f"http://crm.example/forum/ideas/{idea.id}" in props["hs_task_body"]
        # Due three days (the default) after the owner got it.
        due = datetime.fromisoformat(props["hs_timestamp"])
        assert due == (T0 + timedelta(days=3)).astimezone(UTC)
        assert props["crmsphere_key"].startswith(f"crm:hubspot:customer.idea.closed:idea:{idea.id}:done:")
    assert rig.hub.objects["notes"] == {}  # a task, not a note
    # The company's owner was asked once for both voters of that company.
    reads = [r for r in rig.hub.requests if r == ("GET", "/crm/v3/objects/companies/1")]
    assert len(reads) == 1


async def test_replayed_and_lost_answers_make_one_task_per_voter(rig: Rig) -> None:  # noqa: F811
    owned(rig.hub)
    idea = await ship(rig, ("hubspot:company:1",))
    rig.hub.lose_next_task_answer = True
    await rig.worker.run_once()
    [pending] = (await rig.store.list_deliveries("pending")).items
    assert "504" in pending.last_error
    await rig.outbound.idea_closed(await rig.store.get_idea(idea.id))  # replayed: nothing new
    rig.later(60)
    assert await rig.worker.run_once() == 1
    assert len(rig.hub.objects["tasks"]) == 1
    assert [d.attempts for d in (await rig.store.list_deliveries("sent")).items] == [2]
    await rig.outbound.idea_closed(await rig.store.get_idea(idea.id))
    assert await rig.worker.run_once() == 0 and len(rig.hub.objects["tasks"]) == 1


async def test_a_company_nobody_owns_gets_the_task_unassigned_and_the_log_says_so(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    owned(rig.hub, None)
    with caplog.at_level(logging.WARNING, logger="crm.outbound"):
        await ship(rig, ("hubspot:company:1",))
        assert await rig.worker.run_once() == 1
    [task] = rig.hub.objects["tasks"].values()
    assert "hubspot_owner_id" not in task["properties"]
    assert any("has no owner" in r.getMessage() and "unassigned" in r.getMessage() for r in caplog.records)


async def test_a_contact_without_company_owner_falls_back_to_the_contacts_owner(rig: Rig) -> None:  # noqa: F811
    owned(rig.hub, "")
    rig.hub.objects["contacts"]["51"]["properties"]["hubspot_owner_id"] = "52783014"
    await ship(rig, ("hubspot:contact:51",))
    assert await rig.worker.run_once() == 1
    [task] = rig.hub.tasks_on("contact", "51")
    assert task["properties"]["hubspot_owner_id"] == "52783014"


async def test_an_owner_hubspot_no_longer_knows_leaves_the_task_unassigned(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    owned(rig.hub, "99999999")  # an owner who was removed from the HubSpot account
    with caplog.at_level(logging.WARNING):
        await ship(rig, ("hubspot:company:1",))
        assert await rig.worker.run_once() == 1
    [task] = rig.hub.objects["tasks"].values()
    assert "hubspot_owner_id" not in task["properties"]
    assert [d.attempts for d in (await rig.store.list_deliveries("sent")).items] == [1]
    assert any("99999999" in r.getMessage() and "unassigned" in r.getMessage() for r in caplog.records)


async def test_a_task_hubspot_refuses_is_dead_lettered_with_its_reason(rig: Rig) -> None:  # noqa: F811
    owned(rig.hub)
    await ship(rig, ("hubspot:company:1", "hubspot:contact:51"))
    rig.hub.add("companies", "1", BASE + 1000, archived_at=BASE + 1000)  # deleted since the sync
    await rig.worker.run_once()
    dead = (await rig.store.list_deliveries("dead")).items
    assert len(dead) == 2 and all("refused the entry" in d.last_error and "404" in d.last_error
                                  for d in dead)
    assert rig.hub.objects["tasks"] == {}


async def test_rate_limit_and_refused_credentials_keep_the_task_for_later(rig: Rig) -> None:  # noqa: F811
    owned(rig.hub)
    await ship(rig, ("hubspot:company:1",))
    rig.hub.failures.append((429, {"Retry-After": "120"}, "RATE_LIMITS"))
    await rig.worker.run_once()
    [waiting] = (await rig.store.list_deliveries("pending")).items
    assert "429" in waiting.last_error and waiting.next_attempt_at >= rig.now[0] + timedelta(seconds=120)
    rig.hub.tokens = {"rotated"}
    rig.later(121)
    await rig.worker.run_once()
    [waiting] = (await rig.store.list_deliveries("pending")).items
    assert "credentials" in waiting.last_error and waiting.attempts == 2
    rig.hub.tokens = {"token-1"}  # the token is fixed before the attempts run out
    rig.later(3600)
    assert await rig.worker.run_once() == 1
    assert len(rig.hub.objects["tasks"]) == 1


async def test_voters_are_read_page_by_page(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Many voters, read a page at a time (never all votes at once); each CRM voter once."""
    owned(rig.hub)
    forum_only = [customer(f"forum-{n:03d}", f"Voter {n}") for n in range(23)]
    await rig.store.upsert_customers(forum_only)

    async def read_every_vote(*args: Any) -> Any:
        raise AssertionError("list_votes reads every vote of the idea")

    monkeypatch.setattr(rig.store, "list_votes", read_every_vote)
    pages: list[int] = []
    paged = rig.store.idea_voter_ids

    async def counted(idea_id: int, after: str | None, limit: int) -> list[str]:
        found = await paged(idea_id, after, limit)
        pages.append(len(found))
        return found

    monkeypatch.setattr(rig.store, "idea_voter_ids", counted)
    rig.outbound.voter_page = 5
    await ship(rig, ("hubspot:company:1", "hubspot:contact:51", *(c.id for c in forum_only)))
    assert pages == [5, 5, 5, 5, 5, 0]
    crm = [d for d in (await rig.store.list_deliveries("pending")).items
           if d.payload["type"] == "customer.idea.closed"]
    assert sorted(d.target["crm_id"] for d in crm) == ["1", "51"]


async def test_task_days_come_from_the_connectors_settings(rig: Rig) -> None:  # noqa: F811
    from config.settings import load_settings
    from domain.errors import ConfigError

    settings = load_settings(environ={}, overrides={"crm.hubspot.idea_closed_task_days": 0})
    assert settings.crm.hubspot.idea_closed_task_days == 0
    rig.outbound.settings = settings.crm
    owned(rig.hub)
    await ship(rig, ("hubspot:company:1",))
    await rig.worker.run_once()
    [task] = rig.hub.objects["tasks"].values()
    assert datetime.fromisoformat(task["properties"]["hs_timestamp"]) == T0.astimezone(UTC)
    with pytest.raises(ConfigError, match="crm.hubspot.idea_closed_task_days: got -1"):
        load_settings(environ={}, overrides={"crm.hubspot.idea_closed_task_days": -1})
