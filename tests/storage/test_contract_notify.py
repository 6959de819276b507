"""Contract of the notify store area: notifications with their outbox mail in one write,
de-duplicated by event; mail settings; thresholds once; opt-outs; accounts by customer."""

from __future__ import annotations

from datetime import timedelta

from domain.routing import Delivery
from domain.notify import Notification
from storage import Store
from tests.conftest import T0, customer
from tests.stored import stored_delivery


def _note(account_id: int, key: str, idea_id: int | None = 7) -> Notification:
    return Notification(account_id=account_id, kind="status_changed", title="t", body="b",
                        dedupe_key=key, created_at=T0, idea_id=idea_id, url="/forum/ideas/7")


def _mail(key: str) -> Delivery:
    return Delivery(routed_id=None, team_key="@customers", channel="mail",
                    target={"to": ["a@example.com"]}, payload={"subject": "s", "body": "b"},
                    idempotency_key=key, next_attempt_at=T0)


async def test_notifications_and_their_mail_are_stored_once(store: Store) -> None:
    a = await store.create_account("a@example.com", "A", None)
    stored = await store.enqueue_notifications([(_note(a.id, "k1"), _mail("m1")), (_note(a.id, "k2"), None)])
    assert [n.dedupe_key for n in stored] == ["k1", "k2"] and all(n.id for n in stored)
    again = await store.enqueue_notifications([(_note(a.id, "k1"), _mail("m2"))])
    assert again == []
    deliveries = (await store.list_deliveries("pending")).items
    assert [d.idempotency_key for d in deliveries] == ["m1"] and deliveries[0].routed_id is None
    notes = await store.list_notifications(a.id)
    assert [n.dedupe_key for n in notes] == ["k2", "k1"]
    assert await store.mark_notifications_read(a.id, [notes[1].id], T0) == 1
    assert [n.dedupe_key for n in await store.list_notifications(a.id, unread_only=True)] == ["k2"]
    assert await store.mark_notifications_read(a.id, None, T0) == 1
    b = await store.create_account("b@example.com", "B", None)
    assert await store.mark_notifications_read(b.id, [notes[0].id], T0) == 0  # not b's


async def test_account_mail_settings_thresholds_and_opt_outs(store: Store) -> None:
    a = await store.create_account("a@example.com", "A", None)
    assert await store.mail_enabled([a.id]) == {a.id: True}
    await store.set_mail_enabled(a.id, False, T0)
    assert await store.mail_enabled([a.id]) == {a.id: False}
    assert await store.record_threshold(3, "votes:10", T0)
    assert not await store.record_threshold(3, "votes:10", T0 + timedelta(1))
    assert await store.record_threshold(3, "votes:50", T0)
    await store.set_opted_out(3, a.id, True, T0)
    await store.set_opted_out(3, a.id, True, T0)
    assert await store.opted_out(3) == {a.id} and await store.opted_out(4) == set()
    await store.set_opted_out(3, a.id, False, T0)
    assert await store.opted_out(3) == set()
    ids = await store.enqueue_deliveries([_mail("m9")], T0)
    assert (await stored_delivery(store, ids[0])).team_key == "@customers"


async def test_accounts_for_customers_skips_blocked(store: Store) -> None:
    await store.upsert_customers([customer("cus_1"), customer("cus_2", "Other")])
    a = await store.create_account("a@example.com", "A", None)
    b = await store.create_account("b@example.com", "B", None)
    await store.update_account(a.id, customer_id="cus_1")
    await store.update_account(b.id, customer_id="cus_1", blocked=True)
    assert await store.accounts_for_customers(["cus_1", "cus_2"], blocked=False) == {"cus_1": [a.id]}
    # Leaving blocked accounts out is the caller's rule: asked, the read returns them too.
    assert await store.accounts_for_customers(["cus_1", "cus_2"], blocked=True) == {"cus_1": [a.id, b.id]}
