"""Rule conditions, first-match and all-match rule sets, and config validation."""

from __future__ import annotations

import pytest

from community.routing_rules import rule_matches, select_rules
from domain.routing import RoutableItem
from config.routing import RuleSettings
from config.settings import load_settings
from domain.errors import ConfigError

ITEM = RoutableItem(kind="mention", id="1", text="The Billing API keeps failing!", source="x",
                    topics=("billing",), intent="complaint", sentiment=-0.6, votes=3, impact=12.5,
                    customer_id="cus_1", segment="Enterprise", revenue=5_000_000)


def rule(**kw) -> RuleSettings:
    kw.setdefault("id", "r")
    kw.setdefault("team", "product")
    return RuleSettings(**kw)


@pytest.mark.parametrize("conditions, expected", [
    ({}, True),
    ({"kinds": ["mention"]}, True),
    ({"kinds": ["idea"]}, False),
    ({"events": ["mention.analysed"]}, True),
    ({"events": ["idea.created"]}, False),
    ({"topics": ["mobile", "billing"]}, True),
    ({"topics": ["mobile"]}, False),
    ({"intents": ["complaint"]}, True),
    ({"intents": ["praise"]}, False),
    ({"sentiment_at_or_below": -0.6}, True),
    ({"sentiment_at_or_below": -0.7}, False),
    ({"sentiment_above": -0.7}, True),
    ({"sentiment_above": -0.6}, False),
    ({"votes_at_least": 3}, True),
    ({"votes_at_least": 4}, False),
    ({"impact_at_least": 12.5}, True),
    ({"impact_at_least": 13}, False),
    ({"segments": ["enterprise"]}, True),  # case-insensitive
    ({"segments": ["smb"]}, False),
    ({"revenue_at_least": 1_000_000}, True),
    ({"revenue_at_least": 9_000_000}, False),
    ({"sources": ["reddit", "x"]}, True),
    ({"sources": ["reddit"]}, False),
    ({"keywords": ["api"]}, True),
    ({"keywords": ["pi"]}, False),  # whole words only
    ({"keywords": ["billing api"]}, True),
    ({"segments": ["enterprise"], "sources": ["reddit"]}, False),  # all conditions must hold
])
def test_each_condition(conditions: dict, expected: bool) -> None:
    assert rule_matches(rule(**conditions), "mention.analysed", ITEM) is expected


def test_missing_facts_do_not_match() -> None:
    bare = RoutableItem(kind="mention", id="2", text="hello")
    assert not rule_matches(rule(sentiment_at_or_below=0.0), "mention.analysed", bare)
    assert not rule_matches(rule(revenue_at_least=0), "mention.analysed", bare)
    assert not rule_matches(rule(segments=["enterprise"]), "mention.analysed", bare)
    assert rule_matches(rule(keywords=["hello"]), "mention.analysed", bare)


def test_first_match_and_all_match_sets() -> None:
    rules = [rule(id="a", segments=["enterprise"]), rule(id="b", topics=["billing"]),
             rule(id="c", set="notify", team="support"), rule(id="d", set="notify", team="sales"),
             rule(id="e", topics=["nothing"])]
    chosen = select_rules(rules, {"default": "first_match", "notify": "all_match"},
                          "mention.analysed", ITEM)
    assert [r.id for r in chosen] == ["a", "c", "d"]
    chosen = select_rules(rules, {"default": "all_match", "notify": "first_match"},
                          "mention.analysed", ITEM)
    assert [r.id for r in chosen] == ["a", "b", "c"]


def _load(tmp_path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return load_settings(path, environ={})


TEAMS = """
[[routing.teams]]
key = "product"
name = "Product"
webhook_url = "http://127.0.0.1:9/hook"
webhook_secret_env = "PRODUCT_SECRET"
"""


def test_config_loads_teams_and_rules(tmp_path) -> None:
    settings = _load(tmp_path, TEAMS + """
[[routing.rules]]
id = "angry"
sentiment_at_or_below = -0.3
team = "product"
priority = "high"
notify = ["webhook"]
""")
    assert settings.routing.teams[0].to_team().channels.configured() == ("webhook",)
    assert settings.routing.rules[0].priority == "high"


@pytest.mark.parametrize("extra, key, words", [
    ('[[routing.rules]]\nid = "x"\nteam = "nobody"\n', "routing.rules", "nobody"),
    ('[[routing.rules]]\nid = "x"\nteam = "product"\npriority = "asap"\n',
     "routing.rules.0.priority", "low"),
    ('[[routing.rules]]\nid = "x"\nteam = "product"\nevents = ["idea.deleted"]\n',
     "routing.rules.0.events", "idea.created"),
    ('[[routing.rules]]\nid = "x"\nteam = "product"\nset = "other"\n', "routing", "rule_sets"),
    ('[[routing.rules]]\nid = "x"\nteam = "product"\ncolour = "red"\n',
     "routing.rules.0.colour", "no such setting"),
    ('[[routing.teams]]\nkey = "product"\nname = "again"\n', "routing.teams", "appears twice"),
    ('[[routing.teams]]\nkey = "ops"\nname = "Ops"\nwebhook_url = "http://h/"\n',
     "routing.teams.1", "webhook_secret_env"),
    ('[[routing.teams]]\nkey = "ops"\nname = "Ops"\nmail_to = ["not-an-address"]\n',
     "routing.teams.1.mail_to", "mail addresses"),
])
def test_config_errors_name_the_key(tmp_path, extra: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, TEAMS + extra)
    assert err.value.key == key
    assert words in str(err.value)
