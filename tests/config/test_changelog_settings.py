"""``[forum.changelog]``: the shipped status must be a closed status of the site's list; left
empty it is the first closed status on the roadmap."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.forum import ForumSettings, StatusSettings

CUSTOM = (StatusSettings(key="new", label="New"),
          StatusSettings(key="wontfix", label="Won't fix", closed=True),
          StatusSettings(key="shipped", label="Shipped", closed=True, roadmap=True))


def test_shipped_status_defaults_to_the_closed_roadmap_status() -> None:
    assert ForumSettings().shipped_status().key == "done"
    assert ForumSettings(statuses=CUSTOM).shipped_status().key == "shipped"
    only_closed = (CUSTOM[0], CUSTOM[1])
    assert ForumSettings(statuses=only_closed).shipped_status().key == "wontfix"
    assert ForumSettings(statuses=(CUSTOM[0],)).shipped_status() is None
    chosen = ForumSettings(statuses=CUSTOM, changelog={"shipped_status": "wontfix"})
    assert chosen.shipped_status().key == "wontfix"


@pytest.mark.parametrize("key", ["open", "nonexistent"])
def test_an_open_or_unknown_shipped_status_is_refused_naming_the_key(key: str) -> None:
    with pytest.raises(ValidationError, match="changelog.shipped_status must be a closed status"):
        ForumSettings(changelog={"shipped_status": key})


def test_bounds_are_validated() -> None:
    with pytest.raises(ValidationError):
        ForumSettings(changelog={"body_max": 10_000_000})
    with pytest.raises(ValidationError):
        ForumSettings(changelog={"unknown_key": 1})
