"""The Reddit reply writer: PRAW posting as a script app's account against a fake Reddit."""

from __future__ import annotations

from typing import Any

import prawcore.sessions
import pytest

from collectors.replies import (ReplyAuthFailed, ReplyFailed, ReplyRateLimited, ReplyTarget, SentReply,
                                load_writers, writer_for)
from collectors.replies.reddit import RedditReplyWriter
from tests.collectors.replies.fake_reddit_write import COMMENT_IN_POST, POST, FakeRedditWrite

TEXT = ("Sorry about the E-409 sync errors & the lost edits: 4.2.1 fixes them.\r\n\r\n"
        "Steps if it still happens: <Settings> → Sync → Reset.")


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """prawcore sleeps 0-4 s between its retries of a 5xx or dropped connection."""
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@pytest.fixture
async def fake(aiohttp_server: Any) -> FakeRedditWrite:
    fake = FakeRedditWrite()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


def writer(fake: FakeRedditWrite, **credentials: str) -> RedditReplyWriter:
    """A fresh writer, as the workflow builds one (a restart builds a new one)."""
    given = {"client_id": fake.client_id, "client_secret": fake.client_secret,
             "username": fake.username, "password": fake.password, **credentials}
    options = {"kind": "reddit", "name": "nimbus", "base_url": fake.url, "subreddits": ["nimbuscloud"]}
    return RedditReplyWriter(given, options)


def target(external_id: str = POST) -> ReplyTarget:
    return ReplyTarget(source="reddit", external_id=external_id,
                       url="https://www.reddit.com/r/nimbuscloud/comments/1oq7k2m/", author_handle="dana_ops")


def test_registered_for_reddit_with_posting_credentials() -> None:
    assert load_writers()["reddit"] is RedditReplyWriter
    assert writer_for("reddit") is RedditReplyWriter
    partial = RedditReplyWriter({"client_id": "a", "client_secret": "b"}, {})
    assert partial.missing_credentials() == ["username", "password"]


@pytest.mark.parametrize("parent", [POST, COMMENT_IN_POST])
async def test_reply_lands_under_the_post_or_comment(fake: FakeRedditWrite, parent: str) -> None:
    sent = await writer(fake).send(target(parent), TEXT)

    [posted] = fake.replies[parent]
    assert posted["data"]["body"] == TEXT.replace("\r\n", "\n")
    assert sent == SentReply(posted["data"]["name"], "https://www.reddit.com" + posted["data"]["permalink"])
    assert sent.platform_id.startswith("t1_")
    form = [f for method, path, f in fake.requests if path.startswith("/api/comment")][0]
    assert form["thing_id"] == parent and form["api_type"] == "json"
    # The password grant of a script app, not the app-only grant the collector uses.
    token = [f for method, path, f in fake.requests if path == "/api/v1/access_token"][0]
    assert token["grant_type"] == "password" and token["username"] == "nimbus_team"


async def test_find_sent_finds_an_earlier_reply_and_none_when_there_is_none(fake: FakeRedditWrite) -> None:
    assert await writer(fake).find_sent(target(), TEXT) is None

    sent = await writer(fake).send(target(), TEXT)
    fake.add_own_comments(150)  # the account went on commenting elsewhere: two pages deeper

    assert await writer(fake).find_sent(target(), TEXT) == sent
    # Same text under another parent, or other text under this one, is not our reply.
    assert await writer(fake).find_sent(target(COMMENT_IN_POST), TEXT) is None
    assert await writer(fake).find_sent(target(), "A different answer.") is None


async def test_crash_between_send_and_record_is_found_by_a_fresh_writer(fake: FakeRedditWrite) -> None:
    first = writer(fake)
    sent = await first.send(target(COMMENT_IN_POST), TEXT)
    del first  # the process died before storing ``sent``

    again = writer(fake)
    found = await again.find_sent(target(COMMENT_IN_POST), TEXT)
    assert found == sent
    assert len(fake.replies[COMMENT_IN_POST]) == 1


@pytest.mark.parametrize("lost", [500, 503, 0])
async def test_a_post_whose_answer_is_lost_is_not_repeated_and_is_found(fake: FakeRedditWrite, lost: int) -> None:
    """Reddit posts the comment, then answers 5xx or drops the connection: one comment only."""
    fake.answer_lost = lost
    with pytest.raises(ReplyFailed):
        await writer(fake).send(target(), TEXT)
    [posted] = fake.replies[POST]

    found = await writer(fake).find_sent(target(), TEXT)
    assert found is not None and found.platform_id == posted["data"]["name"]
    assert len(fake.replies[POST]) == 1


async def test_reads_are_still_retried_after_a_reply(fake: FakeRedditWrite) -> None:
    """Only the posting request goes without prawcore's retries."""
    w = writer(fake)
    sent = await w.send(target(), TEXT)
    fake.listing_failures = 1  # one 503 on the next read of the account's comments
    assert await w.find_sent(target(), TEXT) == sent
    assert fake.listing_failures == 0


async def test_reply_not_returned_in_a_quarantined_subreddit_is_read_back(fake: FakeRedditWrite) -> None:
    fake.quarantined.add(POST)
    sent = await writer(fake).send(target(), TEXT)
    [posted] = fake.replies[POST]
    assert sent.platform_id == posted["data"]["name"]


@pytest.mark.parametrize(("message", "ratelimit", "wait"), [
    ("Looks like you've been doing that a lot. Take a break for 9 minutes before trying again.", 532.7, 532.7),
    ("you are doing that too much. try again in 5 minutes.", None, 300.0),
    ("je doet dat te veel, probeer het over 3 minuten opnieuw.", 171.0, 171.0),
    ("Looks like you've been doing that a lot. Take a break for 45 seconds before trying again.", None, 45.0),
])
async def test_reddit_posting_limit_is_rate_limited_with_the_wait(
        fake: FakeRedditWrite, message: str, ratelimit: float | None, wait: float) -> None:
    fake.rate_limited(message, ratelimit)
    with pytest.raises(ReplyRateLimited) as caught:
        await writer(fake).send(target(), TEXT)
    assert caught.value.retry_after == pytest.approx(wait)
    assert "Take a break" in caught.value.reason or "try again" in caught.value.reason or "opnieuw" in caught.value.reason
    assert POST not in fake.replies


async def test_http_429_is_rate_limited_with_reddits_reset(fake: FakeRedditWrite) -> None:
    fake.refuse(429, {"x-ratelimit-remaining": "0", "x-ratelimit-used": "600", "x-ratelimit-reset": "212"})
    with pytest.raises(ReplyRateLimited) as caught:
        await writer(fake).send(target(), TEXT)
    assert caught.value.retry_after == 212.0


async def test_a_spent_request_window_is_rate_limited_without_waiting_in_a_thread(fake: FakeRedditWrite) -> None:
    """prawcore would sleep until the window resets (340 s); the writer says so instead."""
    w = writer(fake)
    fake.window_remaining = 0.0
    await w.send(target(), TEXT)
    asked = len(fake.requests)
    with pytest.raises(ReplyRateLimited) as caught:
        await w.send(target(COMMENT_IN_POST), TEXT)
    assert caught.value.retry_after is not None and 300 < caught.value.retry_after <= 340
    assert len(fake.requests) == asked


@pytest.mark.parametrize("credentials", [{"password": "hunter2"}, {"client_secret": "wrong"}])
async def test_refused_login_is_an_auth_failure(fake: FakeRedditWrite, credentials: dict[str, str]) -> None:
    with pytest.raises(ReplyAuthFailed) as caught:
        await writer(fake, **credentials).send(target(), TEXT)
    assert "check" in caught.value.reason
    with pytest.raises(ReplyAuthFailed):
        await writer(fake, **credentials).find_sent(target(), TEXT)
    assert fake.replies == {}


async def test_forbidden_is_an_auth_failure(fake: FakeRedditWrite) -> None:
    fake.refuse(403)
    with pytest.raises(ReplyAuthFailed) as caught:
        await writer(fake).send(target(), TEXT)
    assert "403" in caught.value.reason


async def test_missing_credentials_fail_before_any_request(fake: FakeRedditWrite) -> None:
    with pytest.raises(ReplyAuthFailed) as caught:
        await writer(fake, password="").send(target(), TEXT)
    assert "password" in caught.value.reason
    assert fake.requests == []


@pytest.mark.parametrize(("state", "parent", "words"), [
    ("locked", POST, "locked"),
    ("deleted", COMMENT_IN_POST, "deleted"),
    ("deleted", POST, "deleted"),
    ("archived", POST, "archived"),
])
async def test_a_target_that_cannot_be_answered_fails_with_the_reason(
        fake: FakeRedditWrite, state: str, parent: str, words: str) -> None:
    getattr(fake, state).add(parent)
    with pytest.raises(ReplyFailed) as caught:
        await writer(fake).send(target(parent), TEXT)
    assert type(caught.value) is ReplyFailed
    assert words in caught.value.reason
    assert parent not in fake.replies


@pytest.mark.parametrize("external_id", ["1oq7k2m", "t2_5r0w7c", "t3_../../api/v1/me", "", "t3_"])
async def test_a_target_that_is_not_a_post_or_comment_fails_without_a_request(
        fake: FakeRedditWrite, external_id: str) -> None:
    with pytest.raises(ReplyFailed) as caught:
        await writer(fake).send(target(external_id), TEXT)
    assert "t3_" in caught.value.reason
    assert fake.requests == []


async def test_server_error_and_unreachable_reddit_are_plain_failures(fake: FakeRedditWrite) -> None:
    fake.refuse(503)
    with pytest.raises(ReplyFailed) as caught:
        await writer(fake).send(target(), TEXT)
    assert type(caught.value) is ReplyFailed and "503" in caught.value.reason
    assert POST not in fake.replies

    with pytest.raises(ReplyFailed) as caught:
        await RedditReplyWriter({"client_id": "a", "client_secret": "b", "username": "nimbus_team",
                                 "password": "d"},
                                {"base_url": "http://127.0.0.1:9"}).send(target(), TEXT)
    assert "unreachable" in caught.value.reason


@pytest.mark.parametrize("answer", [
    {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": {"body": "no id"}}]}}},
    {"json": {"errors": [], "data": {"things": [{"kind": "t1"}]}}},
    {"json": {"errors": [], "data": {"things": "t1_m3a0001"}}},
    {"json": {"errors": [], "data": {}}},
    "<html><body><h1>we took too long to make this page for you</h1></body></html>",
])
async def test_a_posted_reply_with_an_unreadable_answer_is_read_back(fake: FakeRedditWrite, answer: Any) -> None:
    """Reddit posted the comment but its answer does not name it: the account's history does."""
    fake.garbled_answer = answer
    sent = await writer(fake).send(target(), TEXT)
    [posted] = fake.replies[POST]
    assert sent.platform_id == posted["data"]["name"]


async def test_an_unreadable_answer_without_a_posted_reply_fails(fake: FakeRedditWrite) -> None:
    fake.limited = {"json": {"errors": [["RATELIMIT"]]}}  # not a triple: PRAW's parser breaks
    with pytest.raises(ReplyFailed) as caught:
        await writer(fake).send(target(), TEXT)
    assert type(caught.value) is ReplyFailed
    assert "could not read" in caught.value.reason and "do not show it" in caught.value.reason


@pytest.mark.parametrize("written", ["u/nimbus_team", "/u/nimbus_team", " nimbus_team "])
async def test_the_account_may_be_written_as_reddit_shows_it(fake: FakeRedditWrite, written: str) -> None:
    sent = await writer(fake, username=written).send(target(), TEXT)
    assert await writer(fake, username=written).find_sent(target(), TEXT) == sent


@pytest.mark.parametrize("username", ["nimbus_team/../../api/v1/me", "nimbus team", "n"])
async def test_a_username_that_is_no_reddit_account_fails_before_any_request(
        fake: FakeRedditWrite, username: str) -> None:
    with pytest.raises(ReplyAuthFailed) as caught:
        await writer(fake, username=username).find_sent(target(), TEXT)
    assert "not a Reddit account name" in caught.value.reason
    assert fake.requests == []


@pytest.mark.parametrize("text", ["Sorry about that \ud83d, fixed in 4.2.1", "Fixed\x00 in 4.2.1", " \n\t "])
async def test_a_reply_that_cannot_be_sent_fails_without_a_request(fake: FakeRedditWrite, text: str) -> None:
    with pytest.raises(ReplyFailed):
        await writer(fake).send(target(), text)
    assert fake.requests == []
