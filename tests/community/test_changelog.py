"""Changelog rules on a real SQLite store: the injected clock dates entries and publishing,
a site without a closed status cannot publish, only managers write, and idea ids from forms
and JSON are read strictly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from community.access import Viewer
from community.changelog import Changelog, parse_idea_ids
from community.changelog_publish import ChangelogPublisher
from config.forum import ForumSettings, StatusSettings
from domain.forum import NewIdea
from domain.errors import BadInput, Forbidden
from storage import Store
from tests.forum_rules import create_idea

#: Late on New Year's Eve: a date that would break code reading the wall clock.
AT = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


async def _manager(store: Store) -> Viewer:
    account = await store.create_account("pm@crm.example", "PM", None, "manager")
    return Viewer(account=account, role="manager", via="session")


async def test_the_injected_clock_dates_the_entry_and_its_publication(store: Store,
                                                                      forum_settings: ForumSettings) -> None:
    """On both backends: publishing twice moves the idea once and keeps the first date."""
    pm = await _manager(store)
    idea = await create_idea(store, NewIdea("Dark mode", "", pm.account_id, "open"), AT)
    written = await Changelog(store, forum_settings, clock=lambda: AT).write(
        pm, "Dark mode", "Shipped.", f"#{idea.id}")
    assert written.created_at == AT and written.idea_ids == (idea.id,)
    done = await ChangelogPublisher(store, forum_settings, None, None, clock=lambda: AT).publish(
        pm, written.id)
    assert done.entry.published_at == AT and done.entry.state == "published"
    assert done.moved_idea_ids == (idea.id,)
    assert (await store.get_idea(idea.id)).status == "done"
    again = await ChangelogPublisher(store, forum_settings, None, None).publish(pm, written.id)
    assert again.entry.published_at == AT and again.moved_idea_ids == ()
    assert [h.to_status for h in await store.status_history(idea.id)] == ["done"]


async def test_no_closed_status_means_nothing_can_ship(forum_store: Store) -> None:
    settings = ForumSettings(statuses=(StatusSettings(key="open", label="Open"),))
    pm = await _manager(forum_store)
    entry = await Changelog(forum_store, settings).write(pm, "Faster", "It is faster.")
    with pytest.raises(BadInput) as refused:
        await ChangelogPublisher(forum_store, settings, None, None).publish(pm, entry.id)
    assert refused.value.details == {"field": "status"}
    assert (await forum_store.get_changelog_entry(entry.id)).state == "draft"


async def test_only_managers_and_admins_write(forum_store: Store, forum_settings: ForumSettings) -> None:
    team = await forum_store.create_account("dev@crm.example", "Dev", None, "team")
    with pytest.raises(Forbidden):
        await Changelog(forum_store, forum_settings).write(
            Viewer(account=team, role="team", via="session"), "Faster", "It is faster.")


@pytest.mark.parametrize("value, expected", [
    (None, ()), ("", ()), ([3, 1, 3], (3, 1)), ("12, 15", (12, 15)), ("#12 #15\n#12", (12, 15))])
def test_idea_ids_are_read_in_order_each_once(value: object, expected: tuple[int, ...]) -> None:
    assert parse_idea_ids(value, 50) == expected


@pytest.mark.parametrize("value", ["1 OR 1=1", "12,abc", [1, "2"], [True], [0], [2**63], {"a": 1},
                                   list(range(1, 12)), "9" * 400])
def test_hostile_idea_ids_are_refused_naming_the_field(value: object) -> None:
    with pytest.raises(BadInput) as refused:
        parse_idea_ids(value, 10)
    assert refused.value.details["field"] == "idea_ids"
