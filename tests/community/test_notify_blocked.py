"""A blocked account is told nothing (both backends): a status change leaves no in-app notice
for it and queues no mail, while the other followers get both."""

from __future__ import annotations

from community.access import Viewer
from community.idea_events import IdeaEvents
from community.ideas import Ideas
from community.notify import Notifier
from config.forum import ForumSettings
from config.notify import NotifySettings
from domain.forum import NewIdea
from storage import Store
from tests.conftest import T0
from tests.forum_rules import create_idea, follow

BASE = "https://ideas.nimbus.example"


async def test_a_blocked_follower_gets_no_notice_and_no_mail_on_a_status_change(store: Store) -> None:
    author = await store.create_account("ana@acme.example", "Ana", None)
    spammer = await store.create_account("cheap-followers-4u@mailinator.com", "Buy followers", None)
    manager = await store.create_account("lena@nimbus.example", "Lena", None, role="manager")
    for account in (author, spammer):
        await store.update_account(account.id, email_verified=True)
    idea = await create_idea(store, NewIdea("Dark mode", "please", author.id, "open"), T0)
    for account in (author, spammer):
        await follow(store, idea.id, account.id, True)
    # Blocked by a moderator after following (it spammed the comments).
    await store.update_account(spammer.id, blocked=True)
    notify = NotifySettings()
    notifier = Notifier(store, notify, ForumSettings(), BASE, b"k" * 32)
    events = IdeaEvents(store, notify, BASE, notifier=notifier)
    await Ideas(store, ForumSettings(), events, clock=lambda: T0).change_status(
        Viewer(account=manager, role="manager", via="session"), idea.id, "planned", "Next quarter.")
    assert [n.idea_id for n in await store.list_notifications(author.id)] == [idea.id]
    assert await store.list_notifications(spammer.id) == []
    mailed = [to for d in (await store.list_deliveries()).items if d.channel == "mail"
              for to in d.target["to"]]
    assert mailed == ["ana@acme.example"]
