"""Contract of the changelog store area: entries with their shipped ideas in order, edits,
the state moves (``published_at`` set once), and the public and staff listings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.changelog import ChangelogDraft
from domain.errors import NotFound
from storage import Store
from tests.conftest import T0


async def test_entries_keep_their_ideas_in_order_and_edits_apply_only_given_fields(store: Store) -> None:
    author = await store.create_account("pm@crm.example", "PM", None, "manager")
    made = await store.create_changelog_entry(
        ChangelogDraft("Dark mode", "It **shipped**.", (9, 4, 7)), author.id, T0)
    assert (made.title, made.body, made.idea_ids, made.state, made.author_id) == (
        "Dark mode", "It **shipped**.", (9, 4, 7), "draft", author.id)
    assert made.created_at == made.updated_at == T0 and made.published_at is None
    assert await store.get_changelog_entry(made.id) == made

    later = T0 + timedelta(minutes=5, microseconds=123)
    edited = await store.update_changelog_entry(made.id, ChangelogDraft(body="Now in every app."), later)
    assert (edited.title, edited.body, edited.idea_ids, edited.updated_at) == (
        "Dark mode", "Now in every app.", (9, 4, 7), later)
    edited = await store.update_changelog_entry(made.id, ChangelogDraft(idea_ids=(4,)), later)
    assert edited.idea_ids == (4,) and edited.body == "Now in every app."
    with pytest.raises(NotFound):
        await store.get_changelog_entry(made.id + 100)
    with pytest.raises(NotFound):
        await store.update_changelog_entry(made.id + 100, ChangelogDraft(title="x"), later)
    with pytest.raises(NotFound):
        await store.set_changelog_state(made.id + 100, "published", later)


async def test_published_at_is_set_by_the_first_publish_and_kept_by_retries(store: Store) -> None:
    entry = await store.create_changelog_entry(ChangelogDraft("A", "a", ()), None, T0)
    first = T0 + timedelta(hours=1, microseconds=5)
    publishing = await store.set_changelog_state(entry.id, "publishing", first)
    assert (publishing.state, publishing.published_at, publishing.public) == ("publishing", first, True)
    done = await store.set_changelog_state(entry.id, "published", first + timedelta(hours=2))
    assert (done.state, done.published_at) == ("published", first)
    again = await store.set_changelog_state(entry.id, "published", first + timedelta(days=1))
    assert again.published_at == first


async def test_public_list_is_newest_published_first_and_staff_see_drafts_first(store: Store) -> None:
    old = await store.create_changelog_entry(ChangelogDraft("Old", "o", (1,)), None, T0)
    new = await store.create_changelog_entry(ChangelogDraft("New", "n", (2,)), None, T0)
    draft = await store.create_changelog_entry(ChangelogDraft("Draft", "d", ()), None, T0)
    await store.set_changelog_state(old.id, "published", T0 + timedelta(days=1))
    await store.set_changelog_state(new.id, "publishing", T0 + timedelta(days=2))
    public, total = await store.list_changelog_entries(public_only=True)
    assert [e.title for e in public] == ["New", "Old"] and total == 2
    assert public[1].idea_ids == (1,)
    everything, total = await store.list_changelog_entries(public_only=False)
    assert [e.id for e in everything] == [draft.id, new.id, old.id] and total == 3
    page, total = await store.list_changelog_entries(public_only=True, limit=1, offset=1)
    assert [e.title for e in page] == ["Old"] and total == 2
