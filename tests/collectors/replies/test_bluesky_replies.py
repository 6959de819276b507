"""The Bluesky reply writer against a fake PDS over real HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from collectors.replies import (
    ReplyAuthFailed,
    ReplyFailed,
    ReplyOutcomeUnknown,
    ReplyRateLimited,
    ReplyTarget,
)
from collectors.replies.bluesky import BlueskyReplies
from tests.collectors.replies.conftest import Serve
from tests.collectors.replies.fake_bluesky_writes import CUSTOMER, OUR, BlueskyWrites

TEXT = "Gr\u00fc\u00dfe Jo \U0001F44B it shipped: https://ideas.nimbus.example/forum/ideas/42."


async def writer(serve: Serve, http: aiohttp.ClientSession, fake: BlueskyWrites,
                 password: str | None = None) -> BlueskyReplies:
    base = await serve(fake.app())
    return BlueskyReplies({"identifier": OUR["handle"], "app_password": password or fake.password},
                          {"service": base}, http)


def thread(fake: BlueskyWrites) -> tuple[dict, dict]:
    root = fake.add_post(CUSTOMER, "Anyone tried Nimbus for log search?")
    ref = {"uri": root["uri"], "cid": root["cid"]}
    answer = fake.add_post(CUSTOMER, "Also: bulk routing would be great", {"root": ref, "parent": ref})
    return root, answer


async def test_reply_keeps_the_thread_root_and_links_are_facets(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = BlueskyWrites()
    root, answer = thread(fake)
    bluesky = await writer(serve, http, fake)
    target = ReplyTarget("bluesky", answer["uri"])

    sent = await bluesky.send(target, TEXT)

    record = fake.records[0]["record"]
    assert record["reply"] == {"root": {"uri": root["uri"], "cid": root["cid"]},
                               "parent": {"uri": answer["uri"], "cid": answer["cid"]}}
    assert fake.records[0]["repo"] == OUR["did"] and record["createdAt"].endswith("Z")
    url = "https://ideas.nimbus.example/forum/ideas/42"
    [facet] = record["facets"]
    raw = TEXT.encode()
    assert raw[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode() == url
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": url}]
    assert sent.url == f"https://bsky.app/profile/{OUR['handle']}/post/{sent.platform_id.rsplit('/', 1)[1]}"
    assert await bluesky.find_sent(target, TEXT) == sent
    assert fake.sessions == 1  # one sign-in for the writer


async def test_rate_limit_reads_ratelimit_reset(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = BlueskyWrites(limited_until=1_800_000_600)
    _, answer = thread(fake)
    bluesky = await writer(serve, http, fake)
    bluesky.clock = lambda: 1_800_000_000.0
    with pytest.raises(ReplyRateLimited) as caught:
        await bluesky.send(ReplyTarget("bluesky", answer["uri"]), TEXT)
    assert caught.value.retry_after == 600


async def test_wrong_app_password_is_auth_failed(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = BlueskyWrites()
    _, answer = thread(fake)
    bluesky = await writer(serve, http, fake, password="old-pass-word-0000")
    with pytest.raises(ReplyAuthFailed, match="Invalid identifier or password"):
        await bluesky.send(ReplyTarget("bluesky", answer["uri"]), TEXT)


async def test_lost_answer_then_find_sent_and_refusals(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = BlueskyWrites(crash_after_post=True)
    _, answer = thread(fake)
    bluesky = await writer(serve, http, fake)
    target = ReplyTarget("bluesky", answer["uri"])
    with pytest.raises(ReplyOutcomeUnknown):
        await bluesky.send(target, TEXT)
    found = await bluesky.find_sent(target, TEXT)
    assert found is not None and len(fake.records) == 1
    with pytest.raises(ReplyFailed, match="at most 300 characters"):
        await bluesky.send(target, "x" * 301)
    with pytest.raises(ReplyFailed, match="Post not found"):
        await bluesky.send(ReplyTarget("bluesky", answer["uri"] + "gone"), TEXT)
    assert len(fake.records) == 1


async def test_an_expired_session_signs_in_again_once(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = BlueskyWrites()
    _, answer = thread(fake)
    bluesky = await writer(serve, http, fake)
    target = ReplyTarget("bluesky", answer["uri"])
    assert await bluesky.find_sent(target, TEXT) is None
    fake.valid.clear()  # two hours later: the access token has expired
    sent = await bluesky.send(target, TEXT)
    assert fake.sessions == 2 and len(fake.records) == 1 and sent.platform_id.startswith("at://")


#: Characters a person sees as one, each several code points: a thumb with a skin tone, a ZWJ
#: family, a flag (two regional indicators), an "e" with a combining acute, a rainbow flag.
CLUSTERS = ("\U0001F44D\U0001F3FD", "\U0001F468\u200D\U0001F469\u200D\U0001F467",
            "\U0001F1E9\U0001F1EA", "e\u0301", "\U0001F3F3\uFE0F\u200D\U0001F308")


def emoji_text(graphemes: int) -> str:
    """``graphemes`` user-perceived characters, most of them emoji sequences (the family only
    now and then: Bluesky also bounds a post at 3000 bytes)."""
    parts = ["Gl\u00fcckwunsch "]  # 12 graphemes
    for n in range(graphemes - 12):
        parts.append(CLUSTERS[1] if n % 20 == 0 else CLUSTERS[n % 5 if n % 5 != 1 else 0])
    return "".join(parts)


async def test_the_300_limit_counts_graphemes_not_code_points(serve: Serve, http: aiohttp.ClientSession) -> None:
    fake = BlueskyWrites()
    _, answer = thread(fake)
    bluesky = await writer(serve, http, fake)
    target = ReplyTarget("bluesky", answer["uri"])
    longest = emoji_text(300)
    assert len(longest) >= 600 and len(longest.encode()) <= 3000  # code points far over 300

    sent = await bluesky.send(target, longest)

    assert fake.records[0]["record"]["text"] == longest and sent.platform_id.startswith("at://")
    with pytest.raises(ReplyFailed, match=r"at most 300 characters \(this reply has 301\)"):
        await bluesky.send(target, emoji_text(301))
    with pytest.raises(ReplyFailed, match=r"at most 3000 bytes .*this reply has 3600"):
        await bluesky.send(target, CLUSTERS[1] * 200)  # 200 graphemes, 18 bytes each
    assert len(fake.records) == 1
