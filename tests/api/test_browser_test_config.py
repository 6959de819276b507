"""The configuration browser tests' servers run with (``tests.browser_helpers.browser_test_config``),
loaded as ``crmsphere serve`` loads its file: sign-ins raised for modules that sign in per test,
and a module that sets its own rate limits keeps them."""

from __future__ import annotations

from pathlib import Path

from config.settings import load_settings
from tests.browser_helpers import SIGN_INS_PER_MINUTE, browser_test_config


def _loaded(tmp_path: Path, config: str):
    path = tmp_path / "crmsphere.toml"
    path.write_text(browser_test_config(config))
    return load_settings(path, environ={})


def test_sign_ins_are_raised_beside_the_modules_own_forum_table(tmp_path: Path) -> None:
    settings = _loaded(tmp_path, '[forum]\ntrust_signup_email = true\nbrand_name = "Anvil Ideas"\n')
    limits = settings.forum.rate_limits
    assert [(r.limit, r.window_seconds) for r in limits.sign_in_per_account] == [(SIGN_INS_PER_MINUTE, 60)]
    assert [(r.limit, r.window_seconds) for r in limits.sign_in_per_ip] == [(SIGN_INS_PER_MINUTE, 60)]
    assert settings.forum.trust_signup_email and settings.forum.brand_name == "Anvil Ideas"
    assert settings.forum.password_hashing.time_cost == 1  # the tests' small hashing costs


def test_a_module_that_sets_its_own_rate_limits_keeps_them(tmp_path: Path) -> None:
    settings = _loaded(tmp_path, "[forum.rate_limits]\nsign_in_per_account = { limit = 3, window_seconds = 600 }\n")
    limits = settings.forum.rate_limits
    assert [(r.limit, r.window_seconds) for r in limits.sign_in_per_account] == [(3, 600)]
    assert limits.sign_in_per_ip[0].limit < SIGN_INS_PER_MINUTE  # the default, not raised
