"""Contract of the dashboard store area: analytics, facets, spike alerts, saved views."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from domain import Analysis, Author, CustomerLink, Mention, MentionQuery, RawPost
from domain.dashboard import SpikeAlert
from domain.triage import TriageChange
from domain.errors import NotFound
from storage import Store
from tests.conftest import T0, customer, post

DAY = timedelta(days=1)


def _m(i: int, text: str, *, source: str = "x", hours: float = 0, topics=(), sentiment=0.0,
       label="neutral", intent="other", links=()) -> Mention:
    p = dataclasses.replace(post(str(i), text, source=source, handle=f"h{i % 3}"),
                            created_at=T0 + timedelta(hours=hours))
    return Mention(p, Analysis(links=links, topics=tuple(topics), sentiment=sentiment,
                               sentiment_label=label, intent=intent))


async def _seed(store: Store) -> None:
    await store.upsert_customers([customer("cus_1")])
    link = CustomerLink("cus_1", 0.9, "alias", "alias 'Acme'")
    await store.save_mentions("t", [
        _m(1, "Rival CRM is better than Nimbus", topics=("billing",), sentiment=-0.5,
           label="negative", intent="complaint"),
        _m(2, "nimbus mobile app rocks", source="reddit", hours=1, topics=("mobile", "billing"),
           sentiment=0.8, label="positive", intent="praise", links=(link,)),
        _m(3, "rivalcrm outage again", hours=25, topics=("mobile",)),
        _m(4, "old post", hours=-48),
    ], None)


async def test_topic_volume_share_and_sentiment_by_day(store: Store) -> None:
    await _seed(store)
    rows = await store.topic_volume_by_day(T0, T0 + 2 * DAY)
    day0, day1 = T0.date().isoformat(), (T0 + DAY).date().isoformat()
    assert {(r.day, r.key, r.count) for r in rows} == {
        (day0, "billing", 2), (day0, "mobile", 1), (day1, "mobile", 1)}
    counts = await store.topic_counts(T0, T0 + 2 * DAY)
    assert [(c.key, c.count) for c in counts] == [("billing", 2), ("mobile", 2)]
    trend = await store.sentiment_by_day(T0, T0 + 2 * DAY)
    assert [(t.day, t.count) for t in trend] == [(day0, 2), (day1, 1)]
    assert trend[0].mean == pytest.approx(0.15)


async def test_count_naming_matches_whole_words_and_aliases(store: Store) -> None:
    await _seed(store)
    counts = await store.count_naming(T0 - 3 * DAY, T0 + 2 * DAY, {
        "Nimbus": ("Nimbus",), "Rival": ("Rival CRM", "rivalcrm"), "Nobody": ("zzz",)})
    assert [(c.key, c.count) for c in counts] == [("Nimbus", 2), ("Rival", 2), ("Nobody", 0)]
    # The period bounds the count.
    counts = await store.count_naming(T0 + DAY, T0 + 2 * DAY, {"Rival": ("rivalcrm",)})
    assert counts[0].count == 1


async def test_first_response_is_the_first_triage_or_note(store: Store) -> None:
    await _seed(store)
    ids = sorted(m.id for m in (await store.list_mentions(MentionQuery(limit=10))).items)
    await store.update_triage([ids[0]], TriageChange(status="pending"), "ana")
    await store.add_triage_note(ids[1], "ana", "seen")
    await store.update_triage([ids[0]], TriageChange(status="closed"), "ana")  # not the first
    rows = await store.first_responses(T0 - DAY, T0 + DAY)
    assert len(rows) == 2 and all(r.seconds > 0 for r in rows)
    assert await store.first_responses(T0 + DAY, T0 + 2 * DAY) == []


async def test_facet_counts_follow_the_filters(store: Store) -> None:
    await _seed(store)
    facets = await store.facet_counts(MentionQuery(), None, None, None)
    assert {(c.key, c.count) for c in facets["source"]} == {("x", 3), ("reddit", 1)}
    assert {(c.key, c.count) for c in facets["topic"]} == {("billing", 2), ("mobile", 2)}
    assert facets["status"][0].key == "open" and facets["status"][0].count == 4
    narrowed = await store.facet_counts(MentionQuery(topic="mobile"), None, None, None)
    assert {(c.key, c.count) for c in narrowed["sentiment"]} == {("positive", 1), ("neutral", 1)}
    ids = sorted(m.id for m in (await store.list_mentions(MentionQuery(limit=10))).items)
    await store.update_triage(ids[:1], TriageChange(status="closed"), "ana")
    closed = await store.facet_counts(MentionQuery(), "closed", None, None)
    assert [(c.key, c.count) for c in closed["status"]] == [("closed", 1)]
    assert (await store.facet_counts(MentionQuery(text="!!!"), None, None, None))["source"] == []


async def test_subject_volumes_bucket_by_24_hours(store: Store) -> None:
    await _seed(store)
    now = T0 + 26 * timedelta(hours=1)
    topics = {(v.subject, v.bucket, v.count) for v in await store.subject_volumes("topic", now, 8, pending_links=False)}
    assert topics == {("mobile", 0, 1), ("mobile", 1, 1), ("billing", 1, 2)}
    customers = await store.subject_volumes("customer", now, 8, pending_links=False)
    assert [(v.subject, v.bucket, v.count) for v in customers] == [("cus_1", 1, 1)]


async def test_spike_alerts_are_stored_once_per_subject_and_window(store: Store) -> None:
    alert = SpikeAlert("topic", "billing", T0, T0 + timedelta(hours=3), 40, 5.0, 12.5)
    first = await store.record_spike_alerts([alert])
    assert len(first) == 1 and first[0].id is not None and first[0].count == 40
    again = await store.record_spike_alerts([alert, SpikeAlert("customer", "cus_1", T0, T0, 12, 1, 3)])
    assert [(a.kind, a.subject) for a in again] == [("customer", "cus_1")]
    listed = await store.list_spike_alerts(None, 10)
    assert [a.subject for a in listed] == ["billing", "cus_1"]  # newest detected first
    assert await store.list_spike_alerts(T0 + timedelta(hours=1), 10) == [first[0]]


async def test_saved_views_are_per_owner_and_replace_by_name(store: Store) -> None:
    v = await store.save_view("ana", "Angry billing", {"topic": "billing", "sentiment": "negative"}, T0)
    await store.save_view("ana", "Angry billing", {"topic": "billing"}, T0)
    await store.save_view("bo", "Mine", {"source": "x"}, T0)
    views = await store.list_views("ana")
    assert [(x.name, dict(x.filters)) for x in views] == [("Angry billing", {"topic": "billing"})]
    with pytest.raises(NotFound):
        await store.delete_view("bo", v.id)  # not bo's view
    await store.delete_view("ana", v.id)
    assert await store.list_views("ana") == []
    assert [x.name for x in await store.list_views("bo")] == ["Mine"]


async def test_a_saved_view_is_dated_by_the_callers_clock_not_the_wall_clock(store: Store) -> None:
    # A clock years from the machine's, with microseconds: the store keeps exactly that time.
    saved_at = T0.replace(year=2031, microsecond=123456)
    first = await store.save_view("ana", "Angry billing", {"topic": "billing"}, saved_at)
    assert first.updated_at == saved_at
    later = saved_at + timedelta(days=400, seconds=1)
    again = await store.save_view("ana", "Angry billing", {"topic": "refunds"}, later)
    assert (again.id, again.updated_at) == (first.id, later)
    (listed,) = await store.list_views("ana")
    assert (listed.updated_at, dict(listed.filters)) == (later, {"topic": "refunds"})


async def test_saved_views_keyed_by_account_keep_same_named_staff_apart(store: Store) -> None:
    """Owners are account keys (``account:<id>`` / ``operator``): same view names never mix."""
    first = await store.save_view("account:1", "Sam's view", {"source": "x"}, T0)
    second = await store.save_view("account:2", "Sam's view", {"source": "reddit"}, T0)
    await store.save_view("operator", "Sam's view", {}, T0)
    assert first.id != second.id
    assert [dict(v.filters) for v in await store.list_views("account:1")] == [{"source": "x"}]
    with pytest.raises(NotFound):
        await store.delete_view("account:2", first.id)
    with pytest.raises(NotFound):
        await store.delete_view("operator", first.id)
    await store.delete_view("account:1", first.id)
    assert await store.list_views("account:1") == []
    assert [v.id for v in await store.list_views("account:2")] == [second.id]
    assert len(await store.list_views("operator")) == 1


async def test_whole_day_periods_agree_with_the_mentions(store: Store) -> None:
    """Whole UTC days may be answered from daily summaries: same figures as the mentions."""
    await _seed(store)
    await store.save_mentions("t", [_m(5, "late post", source="reddit", hours=11.5,
                                       topics=("billing",), sentiment=1.0, label="positive")], None)
    midnight = T0.replace(hour=0)
    day0 = midnight.date().isoformat()
    volume = await store.volume_by_day(midnight, midnight + 2 * DAY)
    assert {(r.day, r.key, r.count) for r in volume} == {
        (day0, "x", 1), (day0, "reddit", 2), ((midnight + DAY).date().isoformat(), "x", 1)}
    topics = await store.topic_volume_by_day(midnight, midnight + DAY)
    assert {(r.key, r.count) for r in topics} == {("billing", 3), ("mobile", 1)}
    assert [(c.key, c.count) for c in await store.topic_counts(midnight, midnight + DAY)] == [
        ("billing", 3), ("mobile", 1)]
    trend = await store.sentiment_by_day(midnight, midnight + DAY)
    assert [(t.day, t.count) for t in trend] == [(day0, 3)]
    assert trend[0].mean == pytest.approx((-0.5 + 0.8 + 1.0) / 3, abs=1e-3)
    authors = await store.top_authors(midnight - 3 * DAY, midnight + 2 * DAY, 10)
    assert {(a.source, a.handle, a.mentions) for a in authors} == {
        ("x", "h1", 2), ("reddit", "h2", 2), ("x", "h0", 1)}


async def test_share_of_voice_over_whole_days_stays_exact_as_mentions_arrive(store: Store) -> None:
    await _seed(store)
    midnight = T0.replace(hour=0)
    brands = {"Nimbus": ("Nimbus",), "Rival": ("Rival CRM", "rivalcrm")}
    first = await store.count_naming(midnight - 3 * DAY, midnight + 2 * DAY, brands)
    assert [(c.key, c.count) for c in first] == [("Nimbus", 2), ("Rival", 2)]
    # Asked again (maybe answered from kept counts), then a late post for a counted day.
    assert await store.count_naming(midnight - 3 * DAY, midnight + 2 * DAY, brands) == first
    await store.save_mentions("t", [_m(9, "nimbus again", hours=2)], None)
    later = await store.count_naming(midnight - 3 * DAY, midnight + 2 * DAY, brands)
    assert [(c.key, c.count) for c in later] == [("Nimbus", 3), ("Rival", 2)]


async def test_mention_thread_holds_parent_thread_and_replies_in_order(store: Store) -> None:
    def reply(i: int, hours: float, parent: str | None, thread: str | None, source: str = "reddit"):
        m = _m(i, f"post {i}", source=source, hours=hours)
        return dataclasses.replace(m, post=dataclasses.replace(m.post, parent_id=parent, thread_id=thread))

    # A thread t3_1 (post "1") with replies; a reply arrived before its parent was collected,
    # the same ids on another source, and an unrelated thread.
    await store.save_mentions("t", [
        reply(5, 3, "2", "1"), reply(1, 0, None, None), reply(2, 1, "1", "1"),
        reply(3, 2, "2", "1"), reply(4, 2.5, "9", "9"),
        reply(6, 1, "1", "1", source="x"), reply(7, 4, "3", None)], None)
    stored = {m.post.external_id: m for m in (await store.list_mentions(MentionQuery(limit=50))).items
              if m.post.source == "reddit"}

    def ids(thread):
        return [m.post.external_id for m in thread]

    # From a reply: the first post, every post of the thread and the reply to it, oldest first.
    assert ids(await store.mention_thread(stored["3"])) == ["1", "2", "3", "5", "7"]
    # From the first post (no thread_id of its own): the same conversation.
    assert ids(await store.mention_thread(stored["1"])) == ["1", "2", "3", "5"]
    # A reply whose parent was never stored: itself (and nothing of other threads).
    assert ids(await store.mention_thread(stored["4"])) == ["4"]
    assert ids(await store.mention_thread(stored["3"], limit=2)) == ["1", "2"]


async def test_a_thread_on_a_server_local_platform_stays_on_the_server_that_numbered_it(store: Store) -> None:
    """Two Mastodon instances number their statuses alike: each thread holds only the posts
    its own source read (a thread view never mixes another instance's post 101 in)."""
    def status(key: str, status_id: str, url: str, parent: str | None, minutes: int) -> tuple[str, Mention]:
        return key, Mention(RawPost("mastodon", status_id, Author("target@mastodon.example"), f"status {url}",
                                    T0 + timedelta(minutes=minutes), url=url, parent_id=parent,
                                    thread_id=None if parent else status_id), Analysis())

    for key, mention in (
            status("mastodon-main", "101", "https://mastodon.example/@target/101", None, 0),
            status("mastodon-main", "102", "https://mastodon.example/@ana/102", "101", 1),
            status("mastodon-social", "101", "https://social.example/@lee/101", None, 2),
            status("mastodon-social", "105", "https://social.example/@kim/105", "101", 3)):
        await store.save_mentions(key, [mention], None)
    stored = {(m.source_key, m.post.external_id): m
              for m in (await store.list_mentions(MentionQuery(limit=50))).items}
    assert len(stored) == 4

    def urls(thread: list[Mention]) -> list[str | None]:
        return [m.post.url for m in thread]

    assert urls(await store.mention_thread(stored[("mastodon-main", "102")])) == [
        "https://mastodon.example/@target/101", "https://mastodon.example/@ana/102"]
    assert urls(await store.mention_thread(stored[("mastodon-social", "101")])) == [
        "https://social.example/@lee/101", "https://social.example/@kim/105"]
