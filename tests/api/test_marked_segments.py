"""Which customer names a card marks in a post's text (the rules mention_card.js repeats)."""

from __future__ import annotations

from api.template_filters import marked_segments


def _link(customer_id: str, span: object, confidence: float = 0.9) -> dict:
    return {"customer_id": customer_id, "span": span, "confidence": confidence, "status": "accepted"}


def test_overlapping_spans_keep_the_earlier_then_the_stronger() -> None:
    text = "👋 Acme Anvils Ltd and Target"
    links = [_link("weak", [2, 6], 0.5), _link("strong", [2, 13], 0.95),
             _link("inside", [7, 17], 0.99), _link("target", [22, 28])]
    pieces = [(s["text"], s["link"]["customer_id"] if s["link"] else None)
              for s in marked_segments(text, links)]
    assert pieces == [("👋 ", None), ("Acme Anvils", "strong"), (" Ltd and ", None), ("Target", "target")]


def test_spans_outside_the_text_or_malformed_are_skipped_and_nothing_is_lost() -> None:
    text = "Acme 🙂"
    links = [_link("beyond", [5, 40]), _link("negative", [-3, 2]), _link("empty", [2, 2]),
             _link("handle", None), _link("half", [0, None]), _link("bools", [False, True]),
             _link("strings", ["0", "4"]), _link("three", [0, 1, 2])]
    assert marked_segments(text, links) == [{"text": text, "link": None}]
    assert marked_segments("", [_link("acme", [0, 4])]) == []
