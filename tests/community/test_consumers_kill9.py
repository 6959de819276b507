"""kill -9 right after the commit, for the consumers that used to hang on after-commit hooks:
a manager's process commits an idea's status change (with its ``idea.status_changed`` event)
and is killed (SIGKILL) in the hook that would have left the owning team its note about the
linked social customer and written the change to the CRM bridge.  A running ``crmsphere
serve`` does both from the recorded event, once each, and a replay of the events (a crash
before a cursor moved) adds nothing."""

from __future__ import annotations

from pathlib import Path

from community.notify import Notifier, unsubscribe_key
from community.notify_consumer import CONSUMER as NOTIFICATIONS
from community.notify_consumer import notifications_consumer
from config.settings import load_settings
from crm.outbound import CrmOutbound
from crm.outbound_consumer import CONSUMER as CRM
from crm.outbound_consumer import KINDS, crm_consumer
from domain.events import IDEA_STATUS_CHANGED
from domain.forum import NewIdea
from crmsphere.ingest import store_posts
from storage import Store
from tests.community.test_routing_events import NoNlp
from tests.conftest import post
from tests.forum_rules import create_idea
from tests.serve_helpers import free_port, stop_serve, wait_for
from tests.serving import serve
from tests.stored import stored_mention_ids

#: The manager's process: the status change commits, then SIGKILL in its after-commit hook.
CHANGE_AND_DIE = """
import asyncio, os, signal, sys
from community.access import Viewer
from community.ideas import Ideas
from config.forum import ForumSettings
from storage import open_store

class DieAfterCommit:
    async def status_notifications(self, idea, change, followers):
        return []

    async def status_changed(self, idea, change, followers):
        os.kill(os.getpid(), signal.SIGKILL)

async def main():
    store = await open_store(sys.argv[1])
    manager = await store.get_account(int(sys.argv[2]))
    await Ideas(store, ForumSettings(), DieAfterCommit()).change_status(
        Viewer(account=manager, role="manager", via="session"), int(sys.argv[3]), "done",
        "Refund tracking shipped in 4.2: every refund shows its state on the order page.")

asyncio.run(main())
"""

#: Ideas go to care too (the note lands on the idea's routed item); the CRM bridge listens
#: on a closed port (deliveries wait in the outbox, which is what is counted).
EXTRA = """
[[routing.rules]]
id = "ideas"
kinds = ["idea"]
team = "care"
[[crm.bridge.subscribers]]
url = "http://127.0.0.1:{port}/crm-events"
secret_env = "BRIDGE_SECRET"
events = ["idea.status_changed"]
"""

NOTE = "Tell the linked social customers (Acme Anvils)"


async def test_a_status_change_committed_before_kill_9_is_told_to_team_and_crm_once(tmp_path: Path) -> None:
    served = await serve(tmp_path, EXTRA.format(port=free_port()), env={"BRIDGE_SECRET": "s" * 32})
    try:
        async def prepare(store: Store) -> tuple[int, int, int]:
            manager = await store.create_account("lena@nimbus.example", "Lena", None, role="manager")
            report = await store_posts(store, NoNlp(), "x:acme", [post(
                "1864921530", "@AcmeAnvils where is my REFUND, 3 weeks and counting", handle="acmeanvils")],
                None, None)
            assert report.accepted == 1
            (mention_id,) = (await stored_mention_ids(store, [("x", "1864921530")])).values()
            idea = await create_idea(store, NewIdea("Refund tracking", "Show where a refund is", None, "open"),
                                           (await store.get_mention(mention_id)).post.created_at)
            await store.link_mention(idea.id, mention_id)

            async def idea_routed():
                return [r for r in await store.routed_for_item("idea", str(idea.id)) if r.id is not None]

            (routed,) = await wait_for(idea_routed)
            assert routed.id is not None
            return manager.id, idea.id, routed.id

        manager_id, idea_id, routed_id = await served.with_store(prepare)
        served.commit_and_die(CHANGE_AND_DIE, str(manager_id), str(idea_id))

        async def told(store: Store) -> int:
            (event,) = await store.read_events(0, [IDEA_STATUS_CHANGED])
            assert (await store.get_idea(idea_id)).status == "done"  # committed before the kill

            async def consumed():
                return (await store.get_event_cursor(NOTIFICATIONS) >= event.id
                        and await store.get_event_cursor(CRM) >= event.id)

            await wait_for(consumed)
            return event.id

        await served.with_store(told)
    finally:
        stop_serve(served.proc)

    def notes() -> int:
        return served.count("SELECT count(*) FROM routing_log WHERE routed_id = ? AND action = 'comment' "
                            "AND detail LIKE ?", routed_id, f"%{NOTE}%")

    def bridged() -> int:
        return served.count("SELECT count(*) FROM deliveries WHERE idempotency_key LIKE ?",
                            f"bridge:%:idea.status_changed:idea:{idea_id}:done:%")

    assert (notes(), bridged()) == (1, 1)

    # A replay of every event (a consumer dying before its cursor moved) adds nothing.
    settings = load_settings(served.config, environ={})

    async def replay(store: Store) -> None:
        notifier = Notifier(store, settings.notify, settings.forum, settings.routing.public_url,
                            await unsubscribe_key(store, settings.notify, {}))
        outbound = CrmOutbound(store, settings.crm, settings.routing.public_url, {})
        await notifications_consumer(store, notifier).handle(await store.read_events(0, [IDEA_STATUS_CHANGED]))
        await crm_consumer(store, outbound).handle(await store.read_events(0, KINDS))

    await served.with_store(replay)
    assert (notes(), bridged()) == (1, 1)
