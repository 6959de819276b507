"""Similar ideas while typing: full-text candidates plus fuzzy title matching (rapidfuzz)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from config.forum import ForumSettings
from domain.forum import IdeaShown
from storage import Store

#: how many of the most voted titles are matched fuzzily (catches typos full text misses)
FUZZY_POOL = 5000
#: only ideas a customer can find and vote on are suggested: a merged idea sends its votes to
#: its target, a hidden one is gone from the forum, an unapproved one is not public yet
SUGGESTED = IdeaShown(merged=False, hidden=False, unapproved=False)


@dataclass(frozen=True, slots=True)
class SimilarIdea:
    """A possibly duplicate idea and how close it is (0-100)."""

    id: int
    title: str
    score: float


def rank_similar(text: str, fts_hits: list[tuple[int, str, float]], pool: list[tuple[int, str]],
                 limit: int, min_score: float, exclude: int | None = None) -> list[SimilarIdea]:
    """Score every candidate by fuzzy title likeness, nudged up when full text also found it."""
    titles = {i: t for i, t in pool}
    titles.update({i: t for i, t, _ in fts_hits})
    titles.pop(exclude, None)  # type: ignore[arg-type]
    if not titles:
        return []
    found = process.extract(text, titles, scorer=fuzz.WRatio, processor=utils.default_process,
                            limit=None, score_cutoff=0)
    text_bonus = {i: 10.0 for i, _, _ in fts_hits}
    scored = [SimilarIdea(key, title, min(100.0, round(score + text_bonus.get(key, 0.0), 1)))
              for title, score, key in found]
    scored = [s for s in scored if s.score >= min_score]
    scored.sort(key=lambda s: (-s.score, s.id))
    return scored[:limit]


async def similar_ideas(store: Store, settings: ForumSettings, text: str,
                        exclude: int | None = None, limit: int | None = None) -> list[SimilarIdea]:
    """Ideas that look like ``text`` (a title being typed), best first."""
    text = text.strip()[:300]
    if len(text) < 3:
        return []
    hits = await store.idea_titles_matching(text, 50, SUGGESTED)
    pool = await store.most_voted_idea_titles(FUZZY_POOL, SUGGESTED)
    # Scoring thousands of titles is CPU work: off the event loop.
    return await asyncio.to_thread(rank_similar, text, hits, pool, limit or settings.similar_limit,
                                   settings.similar_min_score, exclude)
