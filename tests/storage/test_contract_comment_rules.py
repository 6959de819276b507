"""The comment, status and moderation rules (community.comments, community.statuses) over the
unit of work's repositories: every backend runs them the same."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, NotFound
from domain.forum import IdeaQuery, NewIdea, StatusChange
from tests.conftest import T0
from tests.forum_rules import (
    add_comment, create_idea, delete_comment, delete_idea, edit_comment, follow, merge_ideas,
    moderate_comment, moderate_idea, set_status, unmerge_idea,
)


@pytest.fixture
async def forum(store):
    author = await store.create_account("jo@acmeanvils.example", "Jo", None)
    other = await store.create_account("al@acmeanvils.example", "Al", None)
    idea = await create_idea(store, NewIdea("Dark mode", "Please", author.id, "open"), T0)
    return store, author, other, idea


async def test_a_merge_counts_only_the_comments_the_forum_shows(forum) -> None:
    store, author, other, keep = forum
    dup = await create_idea(store, NewIdea("Dark theme", "Same", other.id, "open"), T0)
    await add_comment(store, keep.id, author.id, "+1", None, False, T0)
    await add_comment(store, dup.id, other.id, "Yes please", None, False, T0)
    await add_comment(store, dup.id, other.id, "Buy cheap watches at http://spam.example", None, False, T0,
                      "pending")  # waiting for a moderator
    spam = await add_comment(store, dup.id, other.id, "CLICK HERE >>> http://spam.example", None, False, T0)
    await moderate_comment(store, spam.id, spam=True, hidden=True)
    await add_comment(store, dup.id, author.id, "Customer is on the enterprise plan", None, True, T0)
    assert (await store.get_idea(dup.id)).comment_count == 1

    await merge_ideas(store, dup.id, keep.id, author.id, T0)
    # The kept idea shows its own comment and the duplicate's one public comment: not the one
    # waiting for approval, the hidden spam or the internal note.
    assert (await store.get_idea(keep.id)).comment_count == 2
    await unmerge_idea(store, dup.id, T0)
    assert (await store.get_idea(keep.id)).comment_count == 1
    assert (await store.get_idea(dup.id)).comment_count == 1


async def test_a_deleted_comment_is_gone_for_edits_and_a_second_delete(forum) -> None:
    store, author, _other, idea = forum
    first = await add_comment(store, idea.id, author.id, "Typo'd commnet", None, False, T0)
    await add_comment(store, idea.id, author.id, "Another", None, False, T0)
    edited = await edit_comment(store, first.id, "Typo'd comment", T0)
    assert edited.body == "Typo'd comment" and edited.updated_at == T0
    await delete_comment(store, first.id, T0)
    with pytest.raises(NotFound):
        await edit_comment(store, first.id, "back from the dead", T0)
    with pytest.raises(NotFound):
        await delete_comment(store, first.id, T0)  # a double click: uncounted once only
    gone = await store.get_comment(first.id)
    assert gone.deleted and gone.body == ""
    assert (await store.get_idea(idea.id)).comment_count == 1
    with pytest.raises(NotFound):
        await edit_comment(store, 987_654, "no such comment", T0)


async def test_a_comment_on_a_missing_idea_stores_nothing(forum) -> None:
    store, author, _other, idea = forum
    with pytest.raises(NotFound):
        await add_comment(store, 987_654, author.id, "Lost", None, False, T0)
    assert await store.list_comments(987_654, True) == []
    assert await store.followed_ideas(author.id) == [idea.id]


async def test_a_comment_changed_since_it_was_read_is_not_written(forum) -> None:
    store, author, _other, idea = forum
    comment = await add_comment(store, idea.id, author.id, "Hello", None, False, T0)
    await moderate_comment(store, comment.id, hidden=True)
    # A rule holding the comment as it read it before the moderator hid it writes nothing.
    changed = await store.unit_of_work().run(
        lambda uow: uow.comment_records.mark_deleted(comment, T0))
    assert changed is None
    assert await store.unit_of_work().run(lambda uow: uow.comment_records.set_body(comment, "x", T0)) is None
    kept = await store.get_comment(comment.id)
    assert not kept.deleted and kept.body == "Hello" and kept.hidden


async def test_unknown_moderation_flags_are_refused_before_any_write(forum) -> None:
    store, author, _other, idea = forum
    comment = await add_comment(store, idea.id, author.id, "Hello", None, False, T0)
    with pytest.raises(ValueError):
        await moderate_comment(store, comment.id, approval="approved'; DROP TABLE comments; --")
    with pytest.raises(ValueError):
        await moderate_idea(store, idea.id, T0, approval="maybe")
    with pytest.raises(ValueError):
        await store.unit_of_work().run(lambda uow: uow.comment_records.set_flags(comment.id, {"body": "x"}))
    assert (await store.get_comment(comment.id)).approval == "approved"
    assert (await store.get_idea(idea.id)).approval == "approved"


async def test_lock_and_unlock_are_moderation_flags(forum) -> None:
    store, _author, _other, idea = forum
    assert (await moderate_idea(store, idea.id, T0, locked=True)).locked
    assert not (await moderate_idea(store, idea.id, T0, locked=False)).locked


async def test_deleting_an_idea_lets_the_ideas_merged_into_it_stand_alone(forum) -> None:
    store, author, other, keep = forum
    dup = await create_idea(store, NewIdea("Dark theme", "Same", other.id, "open"), T0)
    await merge_ideas(store, dup.id, keep.id, author.id, T0)
    await set_status(store, StatusChange(keep.id, "open", "planned", "Soon", author.id, T0))
    await delete_idea(store, keep.id)
    with pytest.raises(NotFound):
        await store.get_idea(keep.id)
    assert await store.status_history(keep.id) == []
    assert (await store.get_idea(dup.id)).merged_into is None
    assert [i.id for i in (await store.list_ideas(IdeaQuery(sort="new")))[0]] == [dup.id]
    with pytest.raises(NotFound):
        await delete_idea(store, keep.id)


async def test_a_status_change_of_a_missing_idea_is_not_found(forum) -> None:
    store, author, _other, idea = forum
    with pytest.raises(NotFound):
        await set_status(store, StatusChange(987_654, "open", "planned", "Soon", author.id, T0))
    await set_status(store, StatusChange(idea.id, "open", "planned", "Soon", author.id, T0))
    with pytest.raises(Conflict):  # two staff members moving it at once: the second reloads
        await set_status(store, StatusChange(idea.id, "open", "declined", "No", author.id, T0))
    assert [c.to_status for c in await store.status_history(idea.id)] == ["planned"]


async def test_following_an_idea_and_stopping(forum) -> None:
    store, author, other, idea = forum
    await follow(store, idea.id, other.id)
    await follow(store, idea.id, other.id)  # twice: once
    assert await store.followers(idea.id) == sorted([author.id, other.id])
    await follow(store, idea.id, other.id, False)
    await follow(store, idea.id, other.id, False)
    assert await store.followers(idea.id) == [author.id]
    with pytest.raises(NotFound):
        await follow(store, 987_654, other.id)
    assert await store.followed_ideas(other.id) == []
