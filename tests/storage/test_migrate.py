"""``crmsphere migrate``: a SQLite store copied into MongoDB reads back the same, resumably."""

from __future__ import annotations

from crm.people import record_people
from crm.link_decisions import reject_link
from crm.records import apply_crm_batch
from tests.forum_rules import add_comment, add_report, add_vote, create_idea, merge_ideas, set_status
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.routing import (
    Delivery,
    RoutableItem,
    RoutedItem,
    Team,
    TeamChannels,
)
from domain.changelog import ChangelogDraft
from domain.replies import Reply, ReplyAudit
from domain import (
    Analysis,
    Author,
    CustomerLink,
    Mention,
    MentionQuery,
    utcnow,
)
from domain.crm import CrmBatch, CrmCustomer
from domain.dashboard import SpikeAlert
from domain.forum import NewIdea, StatusChange, Tag, Vote
from domain.notify import Notification
from domain.triage import TriageChange
from crmsphere.migrate import migrate_sqlite_to_mongo
from storage import Store, open_store
from tests.conftest import T0, acme_customers, customer, post
from tests.storage.mongo_harness import database_url


@pytest.fixture
async def mongo_url(mongodb_server_uri: str) -> AsyncIterator[str]:
    """A URL naming a fresh database, dropped afterwards."""
    from pymongo import AsyncMongoClient

    from storage.mongo.store import _take_option

    url = database_url(mongodb_server_uri)
    yield url
    client: AsyncMongoClient = AsyncMongoClient(_take_option(url, "crmsphere_transactions")[0])
    await client.drop_database(client.get_default_database().name)
    await client.close()


async def _fill(store: Store) -> dict:
    """One or more records in every area; what the test reads back."""
    await store.upsert_customers(acme_customers())
    sure = CustomerLink("cus_acme", 0.9, "alias", "alias 'Acme'", 0, 4)
    unsure = CustomerLink("cus_jo", 0.4, "name", "name 'Jo'", status="pending")
    batch = [Mention(post(str(i), f"Acme post {i} #billing", minutes=i, engagement={"likes": i}),
                     Analysis(links=(sure, unsure) if i % 2 else (), topics=("billing", "mobile"),
                              sentiment=-0.3, sentiment_label="negative", intent="complaint",
                              language="en", flags=("truncated",)),
                     backfill=i == 3)  # one stored by a backfill: it stays one once copied
             for i in range(7)]
    await store.save_mentions("x:acme", batch, {"since": "7"})
    ids = [m.id for m in (await store.list_mentions(MentionQuery(limit=50))).items]
    await store.update_triage(ids[:2], TriageChange(status="pending", assignee="ana", add_tags=("vip",)), "ana")
    await store.add_triage_note(ids[0], "ana", "called them")
    review = (await store.list_link_reviews()).items[0]
    await reject_link(store, review.link.id, "jo")
    author = await store.create_account("Jo@AcmeAnvils.example", "Jo", "hash")
    await store.create_session("sess", author.id, "csrf", utcnow() + timedelta(days=1))
    await store.create_api_token(author.id, "ci", "tok", "customer")
    first = await create_idea(store, NewIdea("Dark mode", "please", author.id, "open", "ui",
                                            (Tag("ui"), Tag("vip", False))), utcnow())
    second = await create_idea(store, NewIdea("Night theme", "same", author.id, "open"), utcnow())
    await add_vote(store, Vote(first.id, "cus_jo", author.id, utcnow()), 2.0)
    await add_vote(store, Vote(second.id, "cus_acme", None, utcnow(), proxy=True, proxy_source="call"))
    await add_comment(store, first.id, author.id, "yes!", None, False, utcnow())
    await set_status(store, StatusChange(first.id, "open", "planned", "soon", author.id, utcnow()))
    await merge_ideas(store, second.id, first.id, author.id, utcnow())
    await store.seed_teams([(Team("product", "Product", ("ana@example.com",),
                                  TeamChannels.from_flat(mail_to=("p@example.com",))), "h1")], T0)
    routed = await store.route_item(
        RoutedItem(RoutableItem("mention", str(ids[0]), "Acme post", topics=("billing",)), "r1",
                   "product", "mention.analysed", routed_at=T0),
        [Delivery(None, "product", "mail", {"to": "p@example.com"}, {"n": 1}, "k1")])
    await store.enqueue_notifications([(Notification(author.id, "status", "Planned", "soon", "e1", T0,
                                                     first.id), None)])
    await store.record_threshold(first.id, "10", T0)
    await store.set_opted_out(first.id, author.id, True, T0)
    await store.set_mail_enabled(author.id, False, T0)
    await record_people(store, [("x", Author("@SomeOne", "Some One")), ("reddit", Author("jo_r"))])
    await store.save_view("ana", "Angry", {"sentiment": "negative"}, T0)
    await store.record_spike_alerts([SpikeAlert("topic", "billing", T0, T0, 9, 1.0, 3.0)])
    await add_report(store, "idea", first.id, author.id, "spam", T0)
    await apply_crm_batch(store, CrmBatch("hubspot", "company", (CrmCustomer(
        "hubspot", "company", "9", customer("hubspot:company:9", "Globex")),), cursor={"since": 3}), T0)
    await store.save_outbound("hubspot", "note-1", "n-77", T0)
    await store.seed_routing_rules({"rules": []}, "fp1", T0)
    await store.set_topic_label(ids[1], ["billing"], "ana")
    shipped = await store.create_changelog_entry(ChangelogDraft("Dark mode", "**done**", (first.id, 77)),
                                                 author.id, T0)
    await store.set_changelog_state(shipped.id, "published", T0)
    replies = await store.add_replies([
        Reply(mention_id=ids[0], source="x", text="Thanks, on it", drafted_by="account:1", drafted_at=T0),
        Reply(mention_id=ids[1], source="x", text="It shipped", drafted_by="system", drafted_at=T0,
              idea_id=first.id, batch_key=f"idea:{first.id}:done", team_key="product")], ["", "shipped"])
    await store.move_reply(replies[0].id or 0, ["draft"], {"state": "sent", "sent_at": T0, "platform_id": "99",
                                                           "platform_url": "https://x.example/99"},
                           ReplyAudit(replies[0].id or 0, "sent", "account:2", T0, "99"))
    return {"mentions": ids, "account": author.id, "ideas": (first.id, second.id), "routed": routed.id,
            "replies": [r.id for r in replies], "changelog": shipped.id}


async def _read(store: Store, known: dict) -> dict:
    """Everything ``_fill`` wrote, read through the Store interface."""
    first, second = known["ideas"]
    mentions = [await store.get_mention(i) for i in known["mentions"]]
    return {
        "mentions": [dataclasses.replace(m, ingested_at=None) for m in mentions],
        "cursor": await store.get_cursor("x:acme"),
        "customers": await store.all_customers(),
        "triage": await store.get_triage(known["mentions"]),
        "notes": [(n.id, n.body) for n in await store.list_triage_notes(known["mentions"][0])],
        "negatives": await store.link_negatives(),
        "reviews": [r.link for r in (await store.list_link_reviews()).items],
        "login": await store.get_login("jo@acmeanvils.example"),
        "session": await store.get_session("sess", utcnow()),
        "ideas": [await store.get_idea(first), await store.get_idea(second)],
        "votes": await store.list_votes(first),
        "comments": await store.list_comments(first, True),
        "history": await store.status_history(first),
        "merges": await store.merges_of(first),
        "followers": await store.followers(first),
        "teams": await store.list_teams(),
        "routed": await store.get_routed(known["routed"]),
        "log": await store.routing_log(known["routed"]),
        "deliveries": (await store.list_deliveries()).items,
        "notifications": await store.list_notifications(known["account"]),
        "mail": await store.mail_enabled([known["account"]]),
        "opted_out": await store.opted_out(first),
        "people": (await store.list_people()).items,
        "person": await store.person_by_handle("x", "someone"),
        "views": await store.list_views("ana"),
        "alerts": await store.list_spike_alerts(),
        "reports": await store.open_reports(),
        "crm_link": await store.get_crm_link("hubspot", "company", "9"),
        "crm_status": await store.crm_status("hubspot"),
        "outbound": await store.get_outbound("hubspot", "note-1"),
        "rules": await store.get_routing_rules(),
        "topic_label": await store.get_topic_label(known["mentions"][1]),
        "label_examples": await store.topic_label_examples(),
        "changelog": await store.get_changelog_entry(known["changelog"]),
        "replies": [await store.get_reply(i) for i in known["replies"]],
        "reply_audit": [await store.reply_audit(i) for i in known["replies"]],
    }


async def test_migration_copies_everything_and_resumes(tmp_path: Path, mongo_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.mongo import migrate as mongo_migrate

    sqlite_url = f"sqlite:///{tmp_path / 'old.db'}"
    source = await open_store(sqlite_url)
    try:
        known = await _fill(source)
        expected = await _read(source, known)
    finally:
        await source.close()
    # Names kept from before account keys (migration 0037) travel too.
    raw = sqlite3.connect(tmp_path / "old.db")
    raw.execute("UPDATE mention_triage SET legacy_assignee = 'Ana (old)' WHERE mention_id = ?",
                (known["mentions"][0],))
    raw.execute("UPDATE mention_notes SET legacy_author = 'Ana (old)'")
    raw.commit()
    raw.close()

    # A first run that dies after a few chunks of two rows each...
    monkeypatch.setattr(mongo_migrate, "CHUNK", 2)
    real_read, calls = mongo_migrate.read_chunk, []

    def failing_read(conn, copy, after):
        calls.append(copy.table)
        if len(calls) == 7:  # meta, customers, then the second chunk of mentions
            raise ConnectionError("the network went away")
        return real_read(conn, copy, after)

    monkeypatch.setattr(mongo_migrate, "read_chunk", failing_read)
    with pytest.raises(ConnectionError):
        await migrate_sqlite_to_mongo(sqlite_url, mongo_url, progress=lambda line: None)
    monkeypatch.setattr(mongo_migrate, "read_chunk", real_read)

    # ...and a second run that continues from the checkpoints and verifies every count.
    lines: list[str] = []
    report = await migrate_sqlite_to_mongo(sqlite_url, mongo_url, progress=lines.append)
    assert report.ok, lines
    assert any(line.startswith("mentions: resuming after row") for line in lines), lines
    assert any(line.startswith("votes -> votes: sqlite 2, mongodb 2 ok") for line in lines), lines
    assert any("mention_links -> mentions.links" in line and line.endswith("ok") for line in lines)

    # Running it again copies nothing twice.
    again = await migrate_sqlite_to_mongo(sqlite_url, mongo_url, progress=lambda line: None)
    assert again.ok and sum(again.copied.values()) == 0

    from pymongo import AsyncMongoClient

    from storage.mongo.store import _take_option

    client: AsyncMongoClient = AsyncMongoClient(_take_option(mongo_url, "crmsphere_transactions")[0])
    try:
        db = client.get_default_database()
        mention = await db.mentions.find_one({"_id": known["mentions"][0]})
        assert mention["triage"]["legacy_assignee"] == "Ana (old)"
        assert {n["legacy_author"] async for n in db.mention_notes.find()} == {"Ana (old)"}
    finally:
        await client.close()

    target = await open_store(mongo_url)
    try:
        assert await _read(target, known) == expected
        # New ids continue after the copied ones.
        await target.save_mentions("x:acme", [Mention(post("new"))], None)
        assert await target.latest_mention_id() > max(known["mentions"])
        account = await target.create_account("new@example.com", "New", None)
        assert account.id > known["account"]
        # The shipped reply stays once per (idea, mention); new replies get new ids.
        first_idea = known["ideas"][0]
        assert await target.add_replies([Reply(
            mention_id=known["mentions"][1], source="x", text="again", drafted_by="system", drafted_at=T0,
            idea_id=first_idea)], [""]) == []
        [fresh] = await target.add_replies([Reply(mention_id=known["mentions"][0], source="x", text="new",
                                                  drafted_by="account:1", drafted_at=T0)], [""])
        assert (fresh.id or 0) > max(known["replies"])
    finally:
        await target.close()


def test_the_command_prints_counts_and_fails_on_a_bad_target(tmp_path: Path, mongodb_server_uri: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from crmsphere.cli import main

    sqlite_url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def fill() -> None:
        store = await open_store(sqlite_url)
        try:
            await store.upsert_customers(acme_customers())
        finally:
            await store.close()

    asyncio.run(fill())
    target = database_url(mongodb_server_uri)
    try:
        assert main(["migrate", "--from", sqlite_url, "--to", target]) == 0
        out = capsys.readouterr().out
        assert "customers -> customers: sqlite 3, mongodb 3 ok" in out
        assert "customer_identities -> customers.identities: sqlite 4, mongodb 4 ok" in out
    finally:
        async def drop() -> None:
            from pymongo import AsyncMongoClient

            from storage.mongo.store import _take_option

            client: AsyncMongoClient = AsyncMongoClient(_take_option(target, "crmsphere_transactions")[0])
            await client.drop_database(client.get_default_database().name)
            await client.close()

        asyncio.run(drop())
    assert main(["migrate", "--from", sqlite_url, "--to", "postgres://nope"]) == 2
    assert "a mongodb:// or mongodb+srv:// URL" in capsys.readouterr().err
