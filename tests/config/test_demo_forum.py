"""The community demo: after ``crmsphere demo load`` the forum, roadmap, team queues and the
staff sign-in work over real HTTP, and a second load adds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from crmsphere.demo_cli import DEMO_FORUM_FILE
from crmsphere.demo_forum_data import read_demo_forum
from crmsphere.demo_timeline import PERIOD_DAYS, DemoTimeline
from domain.forum import IdeaQuery
from domain.errors import ConfigError
from storage import open_store
from tests.demo_template import DemoTemplate
from tests.helpers import app_settings, json_of

DEMO = read_demo_forum(DEMO_FORUM_FILE)
MANAGER = next(s for s in DEMO.staff if s.role == "manager")


def demo_load(db: Path) -> subprocess.CompletedProcess:
    """``crmsphere demo load`` in a subprocess on the SQLite file ``db``."""
    return subprocess.run([sys.executable, "-m", "crmsphere", "--store", f"sqlite:///{db}",
                           "--log-level", "WARNING", "demo", "load"],
                          check=False, capture_output=True, text=True, cwd=db.parent, timeout=300,
                          env={**os.environ, "CRMSPHERE_ADMIN_TOKEN": ""})


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory, demo_template: DemoTemplate) -> tuple[Path, str]:
    """One copy of the session's demo (loaded by ``crmsphere demo load``) for the whole module:
    the folder of its database and what the command printed."""
    folder = tmp_path_factory.mktemp("demo")
    return folder, demo_template.copy_to(folder / "crm.db")


@pytest.fixture
async def client(aiohttp_client: Any, demo_db: tuple[Path, str]) -> TestClient:
    folder, _ = demo_db
    return await aiohttp_client(create_app(app_settings(folder)))


async def sign_in_manager(client: TestClient) -> None:
    body = await json_of(await client.post("/api/auth/login", json={
        "email": MANAGER.email, "password": DEMO.password}))
    assert body["account"]["role"] == "manager"


async def test_load_prints_the_demo_sign_in(demo_db: tuple[Path, str]) -> None:
    _, out = demo_db
    assert "demo posts: 3045 new" in out
    assert "LOCAL DEMO ONLY" in out and MANAGER.email in out and DEMO.password in out
    assert "demo forum: 42 accounts, 41 ideas" in out


async def test_forum_has_ideas_across_topics_with_votes_and_comments(client: TestClient) -> None:
    body = await json_of(await client.get("/api/ideas", params={"sort": "top", "limit": "100"}))
    assert body["total"] >= 30
    ideas = body["items"]
    assert len({i["topic"] for i in ideas if i["topic"]}) >= 8
    votes = sorted((i["vote_count"] for i in ideas), reverse=True)
    assert sum(votes) >= 250 and votes[0] >= 3 * max(votes[len(votes) // 2], 1), "skewed votes"
    top = await json_of(await client.get(f"/api/ideas/{ideas[0]['id']}"))
    assert top["impact"] > 0
    dark = next(i for i in ideas if i["title"] == "Dark mode for the web app")
    detail = await json_of(await client.get(f"/api/ideas/{dark['id']}"))
    comments = detail["comments"]
    assert any(c["parent_id"] is not None for c in comments), "a reply"
    assert not any(c.get("internal") for c in comments), "internal notes are staff-only"
    assert [s["to"] for s in detail["status_history"]] == ["under-review", "planned", "in-progress"]


async def test_staff_see_the_internal_note_and_the_merged_duplicate(client: TestClient) -> None:
    await sign_in_manager(client)
    body = await json_of(await client.get("/api/ideas", params={"q": "dark mode", "limit": "100"}))
    web = next(i for i in body["items"] if i["title"] == "Dark mode for the web app")
    detail = await json_of(await client.get(f"/api/ideas/{web['id']}"))
    assert any(c.get("internal") for c in detail["comments"])
    # A merged idea leaves the listings; it is still there by its id, pointing at the original.
    assert "Dark mode in the Android app" not in {i["title"] for i in body["items"]}
    found = []
    for n in range(1, 50):
        resp = await client.get(f"/api/ideas/{n}")
        if resp.status == 200:
            found.append(await resp.json())
    merged = next(i for i in found if i["title"] == "Dark mode in the Android app")
    assert merged["merged_into"] == web["id"] and merged["vote_count"] == 0


async def test_roadmap_has_planned_in_progress_and_done(client: TestClient) -> None:
    for status in ("planned", "in-progress", "done", "declined", "under-review"):
        body = await json_of(await client.get("/api/ideas", params={"status": status}))
        assert body["total"] >= 2, status
        assert all(i["status_response"] for i in body["items"]), status
    page = await client.get("/forum/roadmap")
    assert page.status == 200
    html = await page.text()
    assert "Faster loading of large dashboards" in html and "Single sign-on with Okta" in html


async def test_staff_sign_in_and_team_queues_are_filled(client: TestClient) -> None:
    await sign_in_manager(client)
    teams = await json_of(await client.get("/api/teams"))
    keys = {t["key"] for t in teams["items"]}
    assert {t.key for t in DEMO.teams} <= keys
    for key in ("support", "billing", "product", "design"):
        queue = await json_of(await client.get(f"/api/teams/{key}/queue"))
        assert queue["items"], key
    product = await json_of(await client.get("/api/teams/product/queue", params={"limit": "500"}))
    assert {"mention", "idea"} <= {e["item"]["kind"] for e in product["items"]}
    page = await client.get("/teams/support")
    assert page.status == 200


async def test_customer_accounts_are_verified_and_linked(client: TestClient) -> None:
    await sign_in_manager(client)
    body = await json_of(await client.get("/api/accounts", params={"limit": "100"}))
    customers = [a for a in body["items"] if a["role"] == "customer"]
    assert len(customers) == DEMO.customer_accounts
    assert all(a["email_verified"] and a["customer_id"] for a in customers)
    signed = await json_of(await client.post("/api/auth/login", json={
        "email": customers[0]["email"], "password": DEMO.password}))
    assert signed["account"]["customer_id"] == customers[0]["customer_id"]


async def test_second_load_adds_nothing(client: TestClient, demo_db: tuple[Path, str]) -> None:
    async def snapshot() -> dict[str, Any]:
        ideas = await json_of(await client.get("/api/ideas", params={"limit": "100"}))
        health = await json_of(await client.get("/healthz"))
        return {"ideas": ideas["total"], "votes": sum(i["vote_count"] for i in ideas["items"]),
                "counts": health["counts"]}

    before = await snapshot()
    again = demo_load(demo_db[0] / "crm.db")
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout and "demo forum" not in again.stdout
    assert await snapshot() == before


def test_a_broken_demo_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "forum.toml"
    bad.write_text(DEMO_FORUM_FILE.read_text(encoding="utf-8").replace(
        'team = "billing"\npriority = "high"', 'team = "nobody"\npriority = "high"', 1))
    with pytest.raises(ConfigError, match="unknown team 'nobody'"):
        read_demo_forum(bad)


async def test_an_interrupted_forum_load_is_left_alone_and_the_next_load_succeeds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from crmsphere import cli, demo_cli
    from storage import open_store

    real = demo_cli.load_demo_forum

    async def interrupted(rt, demo, report):  # a first account made, then Ctrl-C
        await rt.store.create_account(MANAGER.email, MANAGER.name, None)
        raise KeyboardInterrupt("stopped half-way")

    settings = app_settings(tmp_path)
    monkeypatch.setattr(demo_cli, "load_demo_forum", interrupted)
    with pytest.raises(KeyboardInterrupt):
        await cli._load_demo(settings)
    monkeypatch.setattr(demo_cli, "load_demo_forum", real)
    capsys.readouterr()
    assert await cli._load_demo(settings) == 0  # `make run` goes on to serve
    out = capsys.readouterr()
    assert "interrupted half-way" in out.err and "make clean" in out.err
    store = await open_store(settings.store.url)
    try:
        assert await store.get_meta(demo_cli.DEMO_FORUM_STARTED) == "1"
        assert not await store.get_meta(demo_cli.DEMO_FORUM_MARK)
        assert (await store.counts())["mentions"] > 0  # the posts part loaded in full
    finally:
        await store.close()


async def test_the_forum_is_dated_over_the_weeks_before_the_load(demo_db: tuple[Path, str]) -> None:
    """Ideas over the last ~90 days (some this week), votes and comments after their idea,
    votes on a closed idea before it closed, statuses in order, the team queue item of an
    idea received when it was posted; nothing after the load."""
    folder, _ = demo_db
    now = datetime.now(UTC)
    store = await open_store(f"sqlite:///{folder / 'crm.db'}")
    try:
        ideas, _ = await store.list_ideas(IdeaQuery(sort="new", limit=100, include_hidden=True))
        created = sorted(i.created_at for i in ideas)
        assert len(ideas) >= 40 and created[-1] < now
        assert now - created[0] > timedelta(days=60) and now - created[0] <= timedelta(days=PERIOD_DAYS)
        assert 1 <= sum(now - c < timedelta(days=7) for c in created) < len(created) // 2
        closed = {s.key for s in app_settings(folder).forum.statuses if s.closed}
        for idea in ideas:
            votes = await store.list_votes(idea.id)
            assert all(idea.created_at <= v.created_at < now for v in votes), idea.title
            if idea.status in closed:
                assert idea.status_changed_at is not None
                assert all(v.created_at <= idea.status_changed_at for v in votes), idea.title
            comments = {c.id: c for c in await store.list_comments(idea.id, include_internal=True)}
            for c in comments.values():
                assert idea.created_at <= c.created_at < now, idea.title
                if c.parent_id is not None:
                    assert comments[c.parent_id].created_at <= c.created_at
            history = [h.created_at for h in await store.status_history(idea.id)]
            assert history == sorted(history) and all(idea.created_at < h < now for h in history)
            routed = await store.routed_for_item("idea", str(idea.id))
            assert [r.routed_at for r in routed if r.event == "idea.created"] == [idea.created_at]
        # Ideas are not all posted at one instant: "new" and "trending" have something to sort.
        assert len({c.date() for c in created}) > 20
    finally:
        await store.close()


def test_the_dates_are_the_same_at_any_hour_of_the_load() -> None:
    """Seeded and relative to the load: two loads at different times give the same ages."""
    def ages(now: datetime) -> dict[str, tuple[timedelta, ...]]:
        timeline = DemoTimeline(DEMO.ideas, lambda spec: (spec.status,) if spec.status != "open" else (),
                                {"done", "declined"}, DEMO.seed, now)
        return {title: (now - d.created, *(now - s for s in d.steps))
                for title, d in timeline.ideas.items()}

    first = ages(datetime(2026, 3, 1, 7, 0, tzinfo=UTC))
    assert first == ages(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert all(timedelta(0) < age <= timedelta(days=PERIOD_DAYS) for row in first.values() for age in row)


async def test_team_queues_were_worked_as_of_their_dates(demo_db: tuple[Path, str]) -> None:
    """Mentions reached their team minutes after their post (not at the load), and the demo
    staff worked the queues: most older items handled, a few overdue, none after the load."""
    from collections import Counter

    from community.routing import is_overdue

    folder, out = demo_db
    assert "demo team queues worked as of their dates:" in out
    now = datetime.now(UTC)
    store = await open_store(f"sqlite:///{folder / 'crm.db'}")
    try:
        teams = {t.key: t for t in await store.list_teams()}
        items = []
        for key in teams:
            cursor = None
            while True:
                page = await store.team_queue(key, (), 500, cursor)
                items += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
        statuses = Counter(r.status for r in items)
        assert len(items) > 500 and statuses["new"] < 0.1 * len(items) and statuses["done"] > 0.5 * len(items)
        overdue = [r for r in items if is_overdue(r, teams[r.team_key], now)]
        assert 1 <= len(overdue) <= 0.02 * len(items)
        for r in items:
            assert r.routed_at is not None and r.routed_at <= now
            if r.acknowledged_at is not None:
                assert r.routed_at <= r.acknowledged_at <= now
        mentions = [r for r in items if r.item.kind == "mention"][::40]
        for r in mentions:
            posted = (await store.get_mention(int(r.item.id))).post.created_at
            assert posted <= r.routed_at <= posted + timedelta(minutes=15), r.item.id
    finally:
        await store.close()
