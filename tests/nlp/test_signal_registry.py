"""A new NLP signal is one declaration: a toy ``urgency`` signal, declared in this module only,
is analysed, stored, filtered in the JSON API and the stream, counted as a facet, exported,
a routing-rule condition, carried by team webhooks, mails and CRM activities, and described in
the OpenAPI document, on SQLite and on MongoDB."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from spacy.language import Language
from spacy.tokens import Doc

from api.app import create_app
from api.keys import RUNTIME
from community.deliveries import DeliveryWorker
from crmsphere.ingest import store_posts
from crmsphere.live import MentionFilter
from domain import Analysis, Author, Mention, MentionQuery, RawPost, utcnow
from nlp.signals import Signal, register_signal, signals, unregister_signal
from tests.conftest import acme_customers, post
from tests.helpers import app_settings, json_of
from tests.storage.old_schema import database_before

URGENT_WORDS = ("asap", "urgent", "urgently", "immediately", "emergency")


class UrgencyDetector:
    """``urgent`` when the post asks for haste in so many words, else ``normal``."""

    def __call__(self, doc: Doc) -> Doc:
        words = set((doc.user_data.get("low") or doc.text.lower()).replace("!", " ").split())
        doc.user_data["urgency"] = "urgent" if words & set(URGENT_WORDS) else "normal"
        return doc


@Language.factory("urgency_detector")
def make_urgency_detector(nlp: Language, name: str) -> UrgencyDetector:
    """The toy component."""
    return UrgencyDetector()


URGENCY = Signal(name="urgency", label="Urgency", factory="urgency_detector", module=__name__,
                 default="normal", values=("urgent", "normal"))


@pytest.fixture
def urgency() -> Iterator[Signal]:
    """The toy signal, registered for one test."""
    register_signal(URGENCY)
    yield URGENCY
    unregister_signal(URGENCY.name)


@pytest.fixture(params=["sqlite", "mongodb"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh store URL of each backend (the MongoDB one dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    from pymongo import AsyncMongoClient

    from storage.mongo.store import _take_option
    from tests.storage.mongo_harness import database_url

    url = database_url(request.getfixturevalue("mongodb_server_uri"))
    yield url
    client: AsyncMongoClient = AsyncMongoClient(_take_option(url, "crmsphere_transactions")[0])
    await client.drop_database(client.get_default_database().name)
    await client.close()


def _post(external_id: str, text: str, hours_ago: float) -> RawPost:
    # Within the dashboard's facet window (the last 7 days) whatever the hour the test runs.
    return RawPost(source="reddit", external_id=external_id, author=Author(f"user{external_id}"),
                   text=text, created_at=utcnow() - timedelta(hours=hours_ago))


POSTS = [
    _post("1", "The app keeps crashing at checkout, we need a fix ASAP!!", 3),
    _post("2", "Loving the new dark mode, nice work", 2),
    _post("3", "Does the export run at night? Our auditor needs it immediately", 1),
]


async def test_a_signal_declared_in_one_module_goes_end_to_end(
        urgency: Signal, store_url: str, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(app_settings(tmp_path, overrides={"store.url": store_url})))
    runtime = client.app[RUNTIME]
    await runtime.reload_customers()

    # Analysed: the component runs after the built-in ones and its value lands in the analysis.
    analyses = await runtime.analyzer.analyse(POSTS)
    assert [dict(a.signals)["urgency"] for a in analyses] == ["urgent", "normal", "urgent"]
    assert analyses[0].intent == "complaint"  # the built-in signals are untouched
    report = await store_posts(runtime.store, runtime.analyzer, "test", POSTS, None)
    assert report.accepted == 3

    # Stored, and filtered in the JSON API.
    page = await json_of(await client.get("/api/mentions", params={"urgency": "urgent"}))
    assert sorted(m["external_id"] for m in page["items"]) == ["1", "3"]
    assert {m["urgency"] for m in page["items"]} == {"urgent"}
    calm = await json_of(await client.get("/api/mentions", params={"urgency": "normal",
                                                                   "sentiment": "positive"}))
    assert [m["external_id"] for m in calm["items"]] == ["2"]
    one = await json_of(await client.get(f"/api/mentions/{page['items'][0]['id']}"))
    assert one["urgency"] == "urgent"
    # A value the signal does not take is a 400 naming the parameter, as for intent.
    bad = await json_of(await client.get("/api/mentions", params={"urgency": "'; DROP TABLE--"}), 400)
    assert "urgency" in bad["error"]["message"]

    # The dashboard stream filters on it, counts it as a facet and exports it.
    stream = await json_of(await client.get("/api/dashboard/mentions", params={"urgency": "urgent"}))
    assert sorted(m["external_id"] for m in stream["items"]) == ["1", "3"]
    assert {m["analysis"]["urgency"] for m in stream["items"]} == {"urgent"}
    facets = await json_of(await client.get("/api/dashboard/facets"))
    assert facets["urgency"] == [{"value": "urgent", "count": 2}, {"value": "normal", "count": 1}]
    narrowed = await json_of(await client.get("/api/dashboard/facets", params={"intent": "complaint"}))
    assert narrowed["urgency"] == [{"value": "urgent", "count": 1}]
    exported = await client.get("/api/dashboard/mentions.csv", params={"urgency": "normal"})
    assert exported.status == 200
    rows = list(csv.DictReader(io.StringIO(await exported.text())))
    assert [(r["id"], r["urgency"]) for r in rows] == [(str(calm["items"][0]["id"]), "normal")]

    # The stream page offers its filter control and labels its counts.
    page_html = await (await client.get("/dashboard", params={"urgency": "urgent"})).text()
    assert '<select name="urgency" aria-label="Urgency">' in page_html
    assert "<option selected>urgent</option>" in page_html
    assert "&#34;urgency&#34;: &#34;Urgency&#34;" in page_html

    # Described in the generated OpenAPI document: the filter and the mention's field.
    doc = await json_of(await client.get("/api/openapi.json"))
    for path in ("/api/mentions", "/api/dashboard/mentions", "/api/dashboard/facets"):
        (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == "urgency"]
        assert param["schema"] == {"enum": ["urgent", "normal"], "type": "string"}
    mention = doc["components"]["schemas"]["Mention"]["properties"]
    assert mention["urgency"] == {"anyOf": [{"type": "string", "enum": ["urgent", "normal"]},
                                            {"type": "null"}]}
    dashboard = doc["components"]["schemas"]["DashboardMention"]["allOf"][1]
    assert "urgency" in dashboard["properties"]["analysis"]["properties"]


async def test_the_live_feed_filters_on_any_signal(urgency: Signal) -> None:
    m = Mention(POSTS[0], Analysis(intent="complaint", language="de", signals=(("urgency", "urgent"),)))
    assert MentionFilter(signals=(("urgency", "urgent"), ("intent", "complaint"))).matches(m)
    assert not MentionFilter(signals=(("urgency", "normal"),)).matches(m)
    # The language filter of the stream holds for live mentions too (it was left out once).
    assert not MentionFilter(signals=(("language", "en"),)).matches(m)


def test_a_signal_cannot_take_a_name_in_use() -> None:
    with pytest.raises(ValueError, match="two NLP signals"):
        register_signal(Signal(name="intent", label="Intent again", factory="other_intent",
                               module=__name__, default="other"))
    with pytest.raises(ValueError, match="cannot name"):
        register_signal(Signal(name="topic", label="Topic", factory="x", module=__name__, default=""))
    assert [s.name for s in signals()][:3] == ["sentiment", "intent", "language"]


def test_evaluation_scores_a_declared_signal(urgency: Signal) -> None:
    from nlp.evaluation import evaluate

    cases = [{"urgency": "urgent", "intent": "complaint"}, {"urgency": "normal"}, {"urgency": "urgent"}]
    analyses = [Analysis(intent="complaint", signals=(("urgency", "urgent"),)),
                Analysis(signals=(("urgency", "urgent"),)),
                Analysis()]  # analysed before the signal existed: its default
    scores = evaluate(cases, analyses)
    assert scores["urgency"].cases == 3
    assert scores["urgency"].micro.tp == 1 and scores["urgency"].micro.fp == 2
    assert scores["intent"].cases == 1


async def test_mentions_stored_before_a_signal_read_and_filter_as_before(
        urgency: Signal, store: Any) -> None:
    """A mention stored before a signal existed (no value, no ``signals`` field on MongoDB)
    is read with none and left out of that signal's filter, and stays in the others."""
    from domain import MentionQuery

    old = Mention(POSTS[0], Analysis(intent="complaint", sentiment_label="negative", language="en"))
    new = Mention(POSTS[2], Analysis(intent="question", signals=(("urgency", "urgent"),)))
    await store.save_mentions("test", [old, new], None)
    if hasattr(store, "database"):  # as a document written before the field was
        await store.database.mentions.update_many({"external_id": "1"}, {"$unset": {"signals": ""}})
    page = await store.list_mentions(MentionQuery())
    by_id = {m.post.external_id: m for m in page.items}
    assert by_id["1"].analysis.signals == () and by_id["1"].analysis.intent == "complaint"
    assert by_id["3"].analysis.signals == (("urgency", "urgent"),)
    urgent = await store.list_mentions(MentionQuery(signals=(("urgency", "urgent"),)))
    assert [m.post.external_id for m in urgent.items] == ["3"]
    assert [m.post.external_id for m in (await store.list_mentions(
        MentionQuery(intent="complaint", language="en"))).items] == ["1"]


async def test_migration_0074_keeps_the_mentions_stored_before_it(urgency: Signal, tmp_path: Path) -> None:
    from domain import MentionQuery
    from storage import open_store

    path = tmp_path / "old.db"
    conn = database_before(path, 74)
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn.execute(
        "INSERT INTO mentions (source, external_id, author_handle, text, created_at, ingested_at, "
        "sentiment_label, intent, detected_language) VALUES ('x', '1', 'someone', "
        "'refund please, the app double charged me', ?, ?, 'negative', 'complaint', 'en')", (now, now))
    conn.close()

    store = await open_store(f"sqlite:///{path}")  # applies 0074
    try:
        (mention,) = (await store.list_mentions(MentionQuery(intent="complaint"))).items
        assert mention.post.text == "refund please, the app double charged me"
        assert mention.analysis.signals == ()
        await store.save_mentions("test", [Mention(POSTS[2], Analysis(
            signals=(("urgency", "urgent"),)))], None)
        (urgent,) = (await store.list_mentions(MentionQuery(signals=(("urgency", "urgent"),)))).items
        assert urgent.post.external_id == "3"
    finally:
        await store.close()


class Receiver:
    """A team's webhook and a CRM bridge subscriber on 127.0.0.1: the JSON bodies they got."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[dict[str, Any]]] = {"/hook": [], "/events": []}

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies[request.path].append(json.loads(await request.read()))
        return web.Response(status=204)


async def test_a_routing_rule_and_the_team_and_crm_payloads_read_any_signal(
        urgency: Signal, store_url: str, aiohttp_client: Any, aiohttp_server: Any,
        tmp_path: Path) -> None:
    """A rule on the toy signal routes the urgent posts; the team's webhook body and the CRM
    bridge's event carry its value, with no routing, webhook or CRM module naming it."""
    receiver = Receiver()
    hooks = web.Application()
    hooks.router.add_post("/hook", receiver.handle)
    hooks.router.add_post("/events", receiver.handle)
    server = await aiohttp_server(hooks)
    client = await aiohttp_client(create_app(app_settings(tmp_path, overrides={
        "store.url": store_url, "routing.worker_enabled": False,
        "routing.teams": [{"key": "oncall", "name": "On call", "webhook_secret_env": "ONCALL_SECRET",
                           "webhook_url": str(server.make_url("/hook"))}],
        "routing.rules": [{"id": "urgent-posts", "signals": {"urgency": ["urgent"]},
                           "team": "oncall", "priority": "urgent"}],
        "crm.bridge.subscribers": [{"url": str(server.make_url("/events")), "secret_env": "SUB_SECRET",
                                    "events": ["customer.mention.linked"]}]})))
    runtime = client.app[RUNTIME]
    await runtime.store.upsert_customers(acme_customers())
    await runtime.reload_customers()
    posts = [post("1", "The app keeps crashing at checkout, we need a fix ASAP!!", handle="acmeanvils"),
             post("2", "Loving the new dark mode, nice work", handle="acmeanvils", minutes=1),
             post("3", "Does the export run at night? We need it urgently", minutes=2)]
    assert runtime.routing_events is not None
    await store_posts(runtime.store, runtime.analyzer, "test", posts, None, runtime.routing_events.wake)

    # Routed by the rule on the signal: the two urgent posts, not the calm one.
    queue = (await runtime.store.team_queue("oncall")).items
    assert sorted(r.item.text[:8] for r in queue) == ["Does the", "The app "]
    assert {dict(r.item.signals)["urgency"] for r in queue} == {"urgent"}
    # ... and the team queue's JSON shows it, as the webhook will.
    listed = await json_of(await client.get("/api/teams/oncall/queue"))
    assert {entry["item"]["urgency"] for entry in listed["items"]} == {"urgent"}

    # The CRM activity of the linked customer's post carries every payload signal.
    stored = (await runtime.store.list_mentions(MentionQuery(customer_id="cus_acme"))).items
    assert runtime.crm_outbound is not None
    await runtime.crm_outbound.mentions_linked(stored)

    async with aiohttp.ClientSession() as http:
        worker = DeliveryWorker(runtime.store, http, runtime.settings.routing,
                                environ={"ONCALL_SECRET": "s", "SUB_SECRET": "t"})
        assert await worker.run_once() == 4
    hooked = sorted(receiver.bodies["/hook"], key=lambda b: b["item"]["id"])
    assert [b["item"]["urgency"] for b in hooked] == ["urgent", "urgent"]
    # The historic fields keep their keys; the new signal comes beside them, and the language
    # (never sent to teams) stays out.
    assert set(hooked[0]["item"]) == {
        "kind", "id", "text", "source", "title", "topics", "intent", "sentiment", "votes",
        "impact", "customer_id", "customer_name", "company", "segment", "revenue", "author",
        "url", "spike", "urgency"}
    assert hooked[0]["item"]["intent"] == "complaint" and hooked[0]["rule"] == "urgent-posts"
    events = sorted(receiver.bodies["/events"], key=lambda b: b["data"]["mention_id"])
    assert [(e["data"]["urgency"], e["data"]["intent"]) for e in events] == [
        ("urgent", "complaint"), ("normal", "praise")]
    assert set(events[0]["data"]) == {"mention_id", "source", "url", "author", "text", "confidence",
                                      "evidence", "sentiment", "intent", "urgency"}
    assert events[0]["data"]["sentiment"] == "negative"  # the label, as before

    # Described in the OpenAPI document beside the routed item's fields.
    doc = await json_of(await client.get("/api/openapi.json"))
    item = doc["components"]["schemas"]["RoutableItem"]["properties"]
    assert item["urgency"] == {"anyOf": [{"type": "string", "enum": ["urgent", "normal"]},
                                         {"type": "null"}]}


@pytest.mark.parametrize(("condition", "named"), [
    ({"urgncy": ["urgent"]}, "urgncy"),          # a misspelt signal would never match
    ({"urgency": ["URGENT!!"]}, "'urgent' or 'normal'"),  # nor a value it never takes
    ({"urgency": []}, "at least one value"),
    ({"urgency": "urgent"}, "signals"),          # a string, not a list of values
])
async def test_a_rule_on_a_signal_it_cannot_match_is_refused_naming_it(
        urgency: Signal, condition: Any, named: str, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(app_settings(tmp_path, overrides={
        "routing.teams": [{"key": "oncall", "name": "On call"}]})))
    bad = await json_of(await client.put("/api/routing/rules", json={"rules": [
        {"id": "urgent-posts", "signals": condition, "team": "oncall"}]}), 400)
    assert named in bad["error"]["message"]
    assert (await json_of(await client.get("/api/routing/rules")))["rules"] == []
    good = await client.put("/api/routing/rules", json={"rules": [
        {"id": "urgent-posts", "signals": {"urgency": ["urgent"], "intent": ["complaint"]},
         "team": "oncall"}]})
    assert good.status == 200, await good.text()


def test_a_teams_mail_names_a_declared_signal_by_its_label(urgency: Signal) -> None:
    from community.routing_items import mail_payload
    from domain.routing import RoutableItem, RoutedItem, Team, routable_item_from_dict

    item = RoutableItem(kind="mention", id="7", text="Need the invoice fixed ASAP", intent="complaint",
                        signals=(("sentiment", "negative"), ("intent", "complaint"),
                                 ("language", "en"), ("urgency", "urgent")))
    body = mail_payload(RoutedItem(item, "urgent-posts", "oncall", "mention.analysed"),
                        Team("oncall", "On call"), "http://crm.example/queue")["body"]
    assert "Intent: complaint\nUrgency: urgent\n" in body
    assert "Language" not in body and "Sentiment: negative" not in body
    # The stored snapshot (JSON of the dataclass) reads back with its signals.
    assert routable_item_from_dict(json.loads(json.dumps(dataclasses.asdict(item)))) == item


def test_the_command_registers_the_signals_and_an_empty_registry_is_an_error() -> None:
    """The registry lives in the leaf and the NLP layer fills it: a process that reads it before
    ``nlp.signals`` is imported gets an error, not "no signals" (which would drop a filter on
    intent silently); the ``crmsphere`` command (the root) imports it before anything else."""
    import subprocess
    import sys

    script = ("import domain.signals as registry\n"
              "try:\n    registry.signals()\nexcept LookupError as exc:\n    print('empty:', exc)\n"
              "import storage.sqlite.signals, config.routing\n"  # the store and settings add none
              "print('after storage:', len(registry._SIGNALS))\n"
              "import crmsphere.cli\n"
              "print('registered:', ' '.join(s.name for s in registry.signals()))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("empty: no NLP signal is registered: import nlp.signals")
    assert lines[1:] == ["after storage: 0", "registered: sentiment intent language"]
