"""The X reply writer: Tweepy's async client signing OAuth 1.0a requests to a fake X API."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from collectors.replies import (ReplyAuthFailed, ReplyFailed, ReplyRateLimited, ReplyTarget, SentReply,
                                load_writers)
from collectors.replies.x import XReplyWriter, comparable
from collectors.x import redirect_to
from tests.collectors.replies.fake_x_write import (ACCOUNT, CUSTOMER_POST, EARLIER_REPLY, OTHER_POST,
                                                   REFUSALS, FakeXWrite)

TEXT = ("Sorry about E-409 & the lost edits, Jo: 4.2.1 fixes it. "
        "Steps if it comes back: https://help.nimbus.example/sync?code=E-409&os=mac")
NOW = 1796659000.0  # the clock the tests give the writer: X's reset times are after it


@pytest.fixture
async def fake(aiohttp_server: Any) -> FakeXWrite:
    fake = FakeXWrite()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


def writer(fake: FakeXWrite, http: Any = None, **credentials: str) -> XReplyWriter:
    """A fresh writer, as the workflow builds one (a restart builds a new one)."""
    given = {"consumer_key": fake.consumer_key, "consumer_secret": fake.consumer_secret,
             "access_token": fake.access_token, "access_token_secret": fake.access_token_secret,
             **credentials}
    options = {"kind": "x", "name": "nimbus", "base_url": None if http else fake.url, "queries": ["nimbus"]}
    return XReplyWriter(given, options, http, clock=lambda: NOW)


def target(tweet_id: str = OTHER_POST) -> ReplyTarget:
    return ReplyTarget(source="x", external_id=tweet_id, url=f"https://x.com/jorivera/status/{tweet_id}",
                       author_handle="jorivera")


def test_registered_for_x_with_oauth1_user_credentials() -> None:
    assert load_writers()["x"] is XReplyWriter
    assert XReplyWriter({"consumer_key": "k"}, {}).missing_credentials() == [
        "consumer_key", "consumer_secret", "access_token", "access_token_secret"][1:]


async def test_reply_lands_under_the_post(fake: FakeXWrite) -> None:
    sent = await writer(fake).send(target(), TEXT)

    [posted] = fake.posted
    assert posted["referenced_tweets"] == [{"type": "replied_to", "id": OTHER_POST}]
    assert posted["sent_text"] == TEXT
    assert sent == SentReply(posted["id"], f"https://x.com/i/web/status/{posted['id']}")


async def test_shared_session_is_used_and_left_open(fake: FakeXWrite) -> None:
    async with aiohttp.ClientSession(middlewares=(redirect_to(fake.url),)) as shared:
        sent = await writer(fake, http=shared).send(target(), TEXT)
        assert not shared.closed
    assert sent.platform_id == fake.posted[0]["id"]


async def test_find_sent_finds_an_earlier_reply_and_none_when_there_is_none(fake: FakeXWrite) -> None:
    # The account answered the customer before: X shows that reply with "@dana_ops " in front.
    earlier = "A fix for the Nimbus sync E-409 error ships today, sorry for the trouble."
    assert await writer(fake).find_sent(target(CUSTOMER_POST), earlier) == SentReply(
        EARLIER_REPLY, f"https://x.com/i/web/status/{EARLIER_REPLY}")
    assert await writer(fake).find_sent(target(OTHER_POST), TEXT) is None
    assert await writer(fake).find_sent(target(CUSTOMER_POST), TEXT) is None

    sent = await writer(fake).send(target(), TEXT)
    fake.add_own_posts(230)  # the account kept posting: the reply is on the third page
    assert await writer(fake).find_sent(target(), TEXT) == sent
    # The same text under another post is not our reply to this one.
    assert await writer(fake).find_sent(target(CUSTOMER_POST), TEXT) is None
    timeline = [q for method, path, q in fake.requests if path == f"/2/users/{ACCOUNT}/tweets"]
    assert all(q["since_id"] in (OTHER_POST, CUSTOMER_POST) for q in timeline)


async def test_a_long_reply_is_found_by_its_whole_text(fake: FakeXWrite) -> None:
    long_text = TEXT + " " + "If the sync still fails after that, write to us with the log file attached. " * 4
    sent = await writer(fake).send(target(), long_text)
    assert "note_tweet" in fake.posted[0]
    assert await writer(fake).find_sent(target(), long_text) == sent


async def test_crash_between_send_and_record_is_found_by_a_fresh_writer(fake: FakeXWrite) -> None:
    fake.drop_post_answer = True  # X posts, then the connection dies before the answer
    with pytest.raises(ReplyFailed):
        await writer(fake).send(target(), TEXT)
    [posted] = fake.posted

    found = await writer(fake).find_sent(target(), TEXT)
    assert found == SentReply(posted["id"], f"https://x.com/i/web/status/{posted['id']}")


async def test_a_resend_refused_as_duplicate_returns_the_reply_already_there(fake: FakeXWrite) -> None:
    sent = await writer(fake).send(target(), TEXT)
    assert await writer(fake).send(target(), TEXT) == sent
    assert len(fake.posted) == 1


async def test_duplicate_text_posted_elsewhere_is_a_plain_failure(fake: FakeXWrite) -> None:
    await writer(fake).send(target(CUSTOMER_POST), TEXT)
    with pytest.raises(ReplyFailed) as caught:
        await writer(fake).send(target(), TEXT)
    assert type(caught.value) is not ReplyAuthFailed
    assert "duplicate" in caught.value.reason


async def test_rate_limit_window_gives_the_wait_until_reset(fake: FakeXWrite) -> None:
    fake.fail(429, x_rate_limit_limit="100", x_rate_limit_remaining="0", x_rate_limit_reset=str(int(NOW) + 840))
    with pytest.raises(ReplyRateLimited) as caught:
        await writer(fake).send(target(), TEXT)
    assert caught.value.retry_after == 840.0
    assert fake.posted == []


async def test_spent_24_hour_posting_cap_gives_its_own_reset(fake: FakeXWrite) -> None:
    fake.fail(429, x_rate_limit_limit="100", x_rate_limit_remaining="93",
              x_rate_limit_reset=str(int(NOW) + 600), x_user_limit_24hour_limit="17",
              x_user_limit_24hour_remaining="0", x_user_limit_24hour_reset=str(int(NOW) + 30000))
    with pytest.raises(ReplyRateLimited) as caught:
        await writer(fake).send(target(), TEXT)
    assert caught.value.retry_after == 30000.0
    assert "24-hour" in caught.value.reason


async def test_spent_app_cap_gives_its_reset(fake: FakeXWrite) -> None:
    fake.fail(429, x_app_limit_24hour_limit="1667", x_app_limit_24hour_remaining="0",
              x_app_limit_24hour_reset=str(int(NOW) + 7200))
    with pytest.raises(ReplyRateLimited) as caught:
        await writer(fake).send(target(), TEXT)
    assert caught.value.retry_after == 7200.0 and "app's 24-hour" in caught.value.reason


@pytest.mark.parametrize("answer", [{"data": {}}, {"data": {"id": None, "text": "x"}}, {"errors": []},
                                    ["2116862315257606999"], "<html><body>Over capacity</body></html>"])
async def test_a_posted_reply_with_an_unreadable_answer_is_read_back(fake: FakeXWrite, answer: Any) -> None:
    """X posted the reply but its 201 does not name it: the account's timeline does."""
    fake.garbled_answer = answer
    sent = await writer(fake).send(target(), TEXT)
    [posted] = fake.posted
    assert sent.platform_id == posted["id"]


async def test_an_html_429_from_the_edge_is_rate_limited(fake: FakeXWrite) -> None:
    fake.fail(429, edge_page=True, x_rate_limit_reset=str(int(NOW) + 60))
    with pytest.raises(ReplyRateLimited) as caught:
        await writer(fake).send(target(), TEXT)
    assert caught.value.retry_after == 60.0


@pytest.mark.parametrize("credentials", [{"access_token_secret": "revoked"}, {"consumer_key": "other-app"},
                                         {"consumer_secret": "x" * 40}])
async def test_wrong_credentials_are_an_auth_failure(fake: FakeXWrite, credentials: dict[str, str]) -> None:
    with pytest.raises(ReplyAuthFailed) as caught:
        await writer(fake, **credentials).send(target(), TEXT)
    assert "401" in caught.value.reason and "access_token" in caught.value.reason
    with pytest.raises(ReplyAuthFailed):
        await writer(fake, **credentials).find_sent(target(), TEXT)
    assert fake.posted == []


async def test_an_app_without_write_permission_is_an_auth_failure(fake: FakeXWrite) -> None:
    fake.read_only = True
    with pytest.raises(ReplyAuthFailed) as caught:
        await writer(fake).send(target(), TEXT)
    assert "Read and Write" in caught.value.reason


@pytest.mark.parametrize(("state", "words"), [("restricted", "limits who may reply"),
                                              ("deleted", "deleted")])
async def test_a_post_that_cannot_be_answered_fails_with_the_reason(
        fake: FakeXWrite, state: str, words: str) -> None:
    getattr(fake, state).add(OTHER_POST)
    with pytest.raises(ReplyFailed) as caught:
        await writer(fake).send(target(), TEXT)
    assert type(caught.value) is ReplyFailed
    assert words in caught.value.reason and REFUSALS[state] in caught.value.reason


@pytest.mark.parametrize("status", [503, 502])
async def test_server_errors_are_plain_failures(fake: FakeXWrite, status: int) -> None:
    fake.fail(status)
    with pytest.raises(ReplyFailed) as caught:
        await writer(fake).send(target(), TEXT)
    assert type(caught.value) is ReplyFailed and str(status) in caught.value.reason


@pytest.mark.parametrize("tweet_id", ["", "x123", "0", "2116860553679286275/../../users/me", "-5"])
async def test_a_target_that_is_not_a_post_id_fails_without_a_request(fake: FakeXWrite, tweet_id: str) -> None:
    with pytest.raises(ReplyFailed):
        await writer(fake).send(target(tweet_id), TEXT)
    assert fake.requests == []


def test_texts_compare_without_what_x_changes() -> None:
    shown = "@jorivera @dana_ops Sorry about E-409 &amp; the lost edits, Jo: 4.2.1 fixes it. " \
            "Steps if it comes back: https://t.co/a1B2c3D4e5"
    assert comparable(shown) == comparable(TEXT)
    assert comparable("Sorry about E-409") != comparable(TEXT)


@pytest.mark.parametrize("text", ["Sorry about that \ud83d, fixed in 4.2.1", "Fixed\x00 in 4.2.1", " \n\t "])
async def test_a_reply_that_cannot_be_sent_fails_without_a_request(fake: FakeXWrite, text: str) -> None:
    with pytest.raises(ReplyFailed):
        await writer(fake).send(target(), text)
    assert fake.requests == []
