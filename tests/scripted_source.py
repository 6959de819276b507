"""A collector kind for tests whose behaviour each test scripts: posts, or an error to raise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from collectors.base import Batch, Collector
from collectors.registry import register
from domain import RawPost
from domain.errors import NotConfigured

#: name -> list of steps; each step is a list of posts (one batch) or an exception to raise.
SCRIPTS: dict[str, list[Any]] = {}
RUNS: dict[str, list[str]] = {}


@register("scripted")
class ScriptedSource(Collector):
    """Yields what ``SCRIPTS[name]`` says, one step per run."""

    def __init__(self, key: str, options: dict[str, Any], http: Any = None) -> None:
        super().__init__(key, options, http)
        if options.get("broken"):
            raise NotConfigured("scripted source told to be broken")

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        RUNS.setdefault(self.key, []).append(self.options.get("holder", ""))
        steps = SCRIPTS.get(self.key) or [[]]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        self.rate_limit_remaining = 99
        if isinstance(step, BaseException):
            raise step
        posts: list[RawPost] = step
        yield Batch(tuple(posts), {"n": (cursor or {}).get("n", 0) + len(posts)})
