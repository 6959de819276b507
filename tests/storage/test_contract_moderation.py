"""Store contract for forum moderation (approval, hide, spam, reports, rate-limit counters),
the status change stored with its notifications in one transaction, and the daily digest's
storage: every backend."""

from __future__ import annotations

from community.similar import SUGGESTED
from datetime import timedelta

import pytest

from domain.routing import Delivery
from domain.forum import IdeaQuery, NewIdea, StatusChange
from domain.notify import Notification
from domain.errors import Conflict, NotFound
from storage import Store
from tests.conftest import T0
from tests.forum_rules import (
    add_comment, add_report, count_rate_hit, create_idea, delete_comment, moderate_comment, moderate_idea, resolve_reports, set_status,
)


def _note(account_id: int, key: str, at=T0) -> Notification:
    return Notification(account_id=account_id, kind="status_changed", title="t", body="b",
                        dedupe_key=key, created_at=at, idea_id=1, url="/forum/ideas/1")


def _mail(key: str) -> Delivery:
    return Delivery(routed_id=None, team_key="@customers", channel="mail",
                    target={"to": ["a@example.com"]}, payload={"subject": "s", "body": "b"},
                    idempotency_key=key, next_attempt_at=T0)


@pytest.fixture
async def forum(store: Store):
    author = await store.create_account("jo@example.com", "Jo", None)
    other = await store.create_account("al@example.com", "Al", None)
    return store, author, other


async def test_pending_ideas_are_listed_for_staff_and_their_author_only(forum) -> None:
    store, author, other = forum
    shown = await create_idea(store, NewIdea("Public", "", other.id, "open"), T0)
    waiting = await create_idea(store, NewIdea("Waiting", "", author.id, "open", approval="pending"), T0)
    assert waiting.approval == "pending" and shown.approval == "approved"

    async def titles(**kw) -> set[str]:
        return {i.title for i in (await store.list_ideas(IdeaQuery(sort="new", **kw)))[0]}

    assert await titles() == {"Public"}
    assert await titles(unapproved_of=other.id) == {"Public"}
    assert await titles(unapproved_of=author.id) == {"Public", "Waiting"}
    assert await titles(include_unapproved=True) == {"Public", "Waiting"}
    assert [i.id for i in await store.unapproved_ideas()] == [waiting.id]
    assert await store.idea_titles_matching("Waiting", 5, SUGGESTED) == []

    approved = await moderate_idea(store, waiting.id, T0, approval="approved")
    assert approved.approval == "approved" and await store.unapproved_ideas() == []
    assert await titles() == {"Public", "Waiting"}
    spam = await moderate_idea(store, shown.id, T0, spam=True, hidden=True)
    assert spam.spam and spam.hidden and [i.id for i in await store.flagged_ideas()] == [shown.id]
    assert await titles() == {"Waiting"}
    with pytest.raises(NotFound):
        await moderate_idea(store, 999, T0, hidden=True)


async def test_comment_moderation_recounts_visible_comments(forum) -> None:
    store, author, other = forum
    idea = await create_idea(store, NewIdea("Idea", "", author.id, "open"), T0)
    first = await add_comment(store, idea.id, other.id, "hi", None, False, T0)
    waiting = await add_comment(store, idea.id, other.id, "later", None, False, T0, "pending")
    assert waiting.approval == "pending"
    assert (await store.get_idea(idea.id)).comment_count == 1
    assert [c.id for c in await store.unapproved_comments(deleted=False)] == [waiting.id]
    await moderate_comment(store, waiting.id, approval="approved")
    assert (await store.get_idea(idea.id)).comment_count == 2
    hidden = await moderate_comment(store, first.id, hidden=True, spam=True)
    assert hidden.hidden and hidden.spam and (await store.get_idea(idea.id)).comment_count == 1
    await delete_comment(store, first.id, T0)  # hidden already: not counted twice
    assert (await store.get_idea(idea.id)).comment_count == 1
    with pytest.raises(NotFound):
        await moderate_comment(store, 999, hidden=True)


async def test_reports_once_per_person_until_resolved(forum) -> None:
    store, author, other = forum
    assert await add_report(store, "idea", 5, other.id, "spam", T0)
    assert not await add_report(store, "idea", 5, other.id, "spam again", T0)
    assert await add_report(store, "idea", 5, author.id, "rude", T0)
    assert [(r.account_id, r.reason) for r in await store.open_reports()] == [
        (other.id, "spam"), (author.id, "rude")]
    assert await resolve_reports(store, "idea", 5, T0) == 2
    assert await store.open_reports() == []
    assert await add_report(store, "idea", 5, other.id, "back again", T0)


async def test_rate_hits_count_per_window_and_forget_old_windows(store: Store) -> None:
    assert [await count_rate_hit(store, "votes", "account:1", 600, 0) for _ in range(3)] == [1, 2, 3]
    assert await count_rate_hit(store, "votes", "account:2", 600, 0) == 1
    assert await count_rate_hit(store, "ideas", "account:1", 600, 0) == 1
    assert await count_rate_hit(store, "votes", "account:1", 1200, 600) == 1
    # The window at 600 was dropped when 1200 began (forget_before=1200 drops it).
    assert await count_rate_hit(store, "votes", "account:1", 1200, 1200) == 2
    assert await count_rate_hit(store, "votes", "account:1", 600, 600) == 1


async def test_status_change_and_its_notifications_are_one_write(forum) -> None:
    store, author, other = forum
    idea = await create_idea(store, NewIdea("Idea", "", author.id, "open"), T0)
    change = StatusChange(idea.id, "open", "planned", "Soon", None, T0)
    updated = await set_status(store, change, [(_note(author.id, "s1"), _mail("m1")),
                                              (_note(other.id, "s2"), None)])
    assert updated.status == "planned"
    assert [n.dedupe_key for n in await store.list_notifications(author.id)] == ["s1"]
    assert [d.idempotency_key for d in (await store.list_deliveries("pending")).items] == ["m1"]

    # A notification that cannot be stored (no such account) undoes the status change too.
    bad = StatusChange(idea.id, "planned", "done", "Shipped", None, T0 + timedelta(1))
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own integrity error
        await set_status(store, bad, [(_note(author.id, "s3"), _mail("m3")), (_note(9999, "s4"), _mail("m4"))])
    assert (await store.get_idea(idea.id)).status == "planned"
    assert len(await store.status_history(idea.id)) == 1
    assert [n.dedupe_key for n in await store.list_notifications(author.id)] == ["s1"]
    assert [d.idempotency_key for d in (await store.list_deliveries("pending")).items] == ["m1"]

    # A stale change (someone moved it meanwhile) writes no notification either.
    with pytest.raises(Conflict):
        await set_status(store, StatusChange(idea.id, "open", "done", "x", None, T0),
                               [(_note(author.id, "s5"), _mail("m5"))])
    assert [n.dedupe_key for n in await store.list_notifications(author.id)] == ["s1"]


async def test_digest_settings_window_and_once_per_day(forum) -> None:
    store, author, other = forum
    assert await store.digest_enabled([author.id]) == {author.id: False}
    await store.set_digest_enabled(author.id, True, T0)
    await store.set_mail_enabled(other.id, False, T0)
    assert await store.digest_enabled([author.id, other.id]) == {author.id: True, other.id: False}
    assert await store.mail_enabled([author.id]) == {author.id: True}  # digest leaves mail alone
    assert await store.digest_accounts(blocked=False) == [author.id]
    await store.update_account(author.id, blocked=True)
    assert await store.digest_accounts(blocked=False) == []
    assert await store.digest_accounts(blocked=True) == [author.id]
    await store.update_account(author.id, blocked=False)

    await store.enqueue_notifications([(_note(author.id, "a", T0 - timedelta(hours=1)), None),
                                       (_note(author.id, "b", T0), None),
                                       (_note(author.id, "c", T0 + timedelta(days=1)), None)])
    found = await store.notifications_between(author.id, T0 - timedelta(minutes=1), T0 + timedelta(days=1))
    assert [n.dedupe_key for n in found] == ["b"]
    assert await store.unread_count(author.id) == 3
    assert await store.queue_digest(author.id, "2026-11-01", 1, _mail("d1"), T0)
    assert not await store.queue_digest(author.id, "2026-11-01", 1, _mail("d2"), T0)
    assert [d.idempotency_key for d in (await store.list_deliveries("pending")).items] == ["d1"]
    assert await store.followed_ideas(author.id) == []
