"""What the linking tests read of one analysed post."""

from __future__ import annotations

from nlp.pipeline import analyse_posts
from tests.conftest import post


def links(nlp, text: str, handle: str = "somebody") -> dict[str, object]:
    """Customer id → strongest link (accepted or awaiting review) of a post with ``text``
    written by ``handle``."""
    (analysis,) = analyse_posts(nlp, [post(text=text, handle=handle)])
    out: dict[str, object] = {}
    for link in analysis.links:
        out.setdefault(link.customer_id, link)
    return out
