"""``crmsphere config check`` refuses a misspelt source kind or option, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsphere.cli import main

REDDIT = '''
[[sources]]
kind = "{kind}"
name = "reddit-nimbus"
subreddits = ["nimbuscloud"]
client_id_env = "REDDIT_CLIENT_ID"
client_secret_env = "REDDIT_CLIENT_SECRET"
{extra}
'''


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str = "reddit",
          extra: str = "") -> tuple[int, str]:
    config = tmp_path / "crmsphere.toml"
    config.write_text(REDDIT.format(kind=kind, extra=extra))
    code = main(["--config", str(config), "--store", f"sqlite:///{tmp_path / 'db.sqlite'}",
                 "config", "check"])
    return code, capsys.readouterr().err


def test_a_valid_source_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = check(tmp_path, capsys, extra="max_items = 10\ndaily_request_budget = 500")
    assert (code, err.strip()) == (0, "configuration ok")


def test_a_misspelt_kind_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = check(tmp_path, capsys, kind="redit")
    assert code == 2
    assert "config sources[0].kind: got 'redit', expected one of" in err and "reddit" in err
    assert "configuration ok" not in err


def test_a_misspelt_option_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = check(tmp_path, capsys, extra="max_itmes = 10")
    assert code == 2
    assert "config sources[0].max_itmes: got 10, expected no such option; known options:" in err
    assert "max_items" in err


def test_an_option_of_the_wrong_type_says_what_is_expected(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = check(tmp_path, capsys, extra='max_items = "ten"')
    assert code == 2
    assert "config sources[0].max_items: got 'ten', expected input should be a valid integer" in err


@pytest.mark.parametrize("kind, table", [
    ("x", 'queries = ["nimbus"]\nmax_pages = 0'),
    ("hackernews", 'queries = ["nimbus"]\nhits_per_pages = 5'),
    ("mastodon", 'instance = "https://mastodon.social"\nhashtags = ["nimbus"]\nmax_run_seconds = -1'),
    ("discourse", 'base_url = "https://forum.example"\ndaily_request_budget = "lots"'),
    ("bluesky", 'keywords = ["nimbus"]\nmax_secs = 5'),
    ("rss", 'feeds = ["https://blog.example/feed"]\nmax_itmes = 5'),
    ("rss", 'feeds = ["https://blog.example/feed"]\ntimeout = "slow"'),
    ("push", 'secret_env = "PUSH_SECRET"\nsecret = "in-the-table"'),
    ("x_stream", 'stream_rules = ["nimbus"]\nmax_second = 30'),
    # batch_size = 0 read nothing and reported success; the others were a traceback at start.
    ("jsonl", 'path = "exports"\nbatch_size = 0'),
    ("jsonl", 'path = "exports"\nbatch_size = "many"'),
    ("jsonl", 'path = 5'),
    ("jsonl", 'path = "exports"\nbatch_sise = 100'),
    # TOML spells inf: a timeout of inf made every request raise OverflowError in aiohttp.
    ("rss", 'feeds = ["https://blog.example/feed"]\ntimeout = inf'),
    ("hackernews", 'queries = ["nimbus"]\nmax_run_seconds = inf'),
    ("bluesky", 'keywords = ["nimbus"]\nmax_seconds = nan'),
])
def test_every_kind_checks_its_options(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, table: str) -> None:
    config = tmp_path / "crmsphere.toml"
    config.write_text(f'[[sources]]\nkind = "{kind}"\nname = "s"\n{table}\n')
    code = main(["--config", str(config), "config", "check"])
    err = capsys.readouterr().err
    bad_key = table.rsplit("\n", 1)[-1].split(" = ")[0]
    assert code == 2 and f"config sources[0].{bad_key}:" in err


MASTODON = '''
[[sources]]
kind = "mastodon"
name = "mastodon-social"
instance = "https://mastodon.example"
hashtags = ["nimbus"]

[sources.reply]
{reply}
'''


@pytest.mark.parametrize(("reply", "says"), [
    ('access_token_env = "MASTODON_REPLY_TOKEN"', None),
    ('acces_token_env = "MASTODON_REPLY_TOKEN"', "config sources[0].reply: got"),
    ('access_token = "pasted-secret"', "'access_token' is unknown"),
])
def test_the_reply_table_is_checked_by_its_writer(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  reply: str, says: str | None) -> None:
    config = tmp_path / "crmsphere.toml"
    config.write_text(MASTODON.format(reply=reply))
    code = main(["--config", str(config), "--store", f"sqlite:///{tmp_path / 'db.sqlite'}", "config", "check"])
    err = capsys.readouterr().err
    if says is None:
        # The reply table is not a collector option: the collector still accepts the source.
        assert (code, err.strip()) == (0, "configuration ok")
    else:
        assert code == 2 and says in err and "configuration ok" not in err


def test_a_reply_table_on_a_platform_without_a_writer_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "crmsphere.toml"
    config.write_text('[[sources]]\nkind = "rss"\nname = "blog"\nfeeds = ["https://blog.example/feed"]\n'
                      '[sources.reply]\ntoken_env = "X"\n')
    code = main(["--config", str(config), "--store", f"sqlite:///{tmp_path / 'db.sqlite'}", "config", "check"])
    assert code == 2 and "rss has no reply writer" in capsys.readouterr().err
