"""The sign-in back-off ladder over a moving clock, counted in the store (both backends): whoever
keeps guessing gets a few tries at each step, then waits longer and longer."""

from __future__ import annotations

import pytest

from community.accounts import Accounts
from config.forum import ForumSettings, RateLimitSettings
from domain.errors import AuthFailed, RateLimited
from storage import Store
from tests.community.forum_helpers import CHEAP_HASHER

#: A ladder as an operator writes it: 2 a minute, 4 in ten minutes, 6 an hour.
LADDER = [{"limit": 2, "window_seconds": 60}, {"limit": 6, "window_seconds": 3600},
          {"limit": 4, "window_seconds": 600}]  # given out of order on purpose


class Clock:
    """Seconds since the epoch that a test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _guess(svc: Accounts, password: str) -> str:
    try:
        await svc.sign_in("jo@acmeanvils.example", password, client="198.51.100.23")
    except AuthFailed:
        return "wrong"
    except RateLimited as exc:
        return f"wait {exc.retry_after}"
    return "in"


async def test_each_step_of_the_ladder_makes_a_guesser_wait_longer(store: Store) -> None:
    settings = ForumSettings(rate_limits=RateLimitSettings.model_validate(
        {"sign_in_per_account": LADDER, "sign_in_per_ip": []}))
    assert [r.window_seconds for r in settings.rate_limits.sign_in_per_account] == [60, 600, 3600]
    svc = Accounts(store, settings, CHEAP_HASHER)  # the ladder, not the hash, is under test
    await svc.sign_up("jo@acmeanvils.example", "correct horse battery", "Jo")
    start = 1_800_000_000.0  # on an hour's boundary, so every window starts here
    clock = Clock(start)
    svc.limits.clock = clock
    # A script that guesses again the moment it is allowed to, for an hour.
    waits, wrong = [], 0
    while clock.now < start + 3600:
        seen = await _guess(svc, f"guess {wrong}")
        if seen == "wrong":
            wrong += 1
        else:
            waits.append(int(seen.split()[1]))
            clock.now += waits[-1]
    # 2 a minute, until 4 in ten minutes are used (wait the rest of them: 480 s), then until
    # 6 in the hour are (wait the rest of it): 6 guesses an hour, not 120.
    assert wrong == 6 and waits == [60, 60, 480, 60, 2940]
    assert clock.now == start + 3600
    assert await _guess(svc, "correct horse battery") == "in"


async def test_a_single_table_is_a_ladder_of_one_step() -> None:
    limits = RateLimitSettings.model_validate({"mail_links_per_email": {"limit": 3, "window_seconds": 60}})
    assert [(r.limit, r.window_seconds) for r in limits.mail_links_per_email] == [(3, 60)]


@pytest.mark.parametrize("bad", [{"limit": -1, "window_seconds": 60}, [{"limit": 1}], "5 per minute"])
def test_malformed_ladders_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        RateLimitSettings.model_validate({"sign_in_per_ip": bad})
