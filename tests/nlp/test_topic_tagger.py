"""The topic tagger's results, with and without phrases found (the empty case has a short path)."""

from __future__ import annotations

from nlp.pipeline import StageOptions, build_pipeline
from nlp.topics import Topic

TOPICS = (
    Topic("billing", "Billing", "finance", ("charged twice", "charged", "invoice"), ("invoice template",)),
    Topic("export", "Export", "core", ("export to csv", "csv")),
)


def _tag(text: str):
    nlp = build_pipeline([], options=StageOptions(topics=TOPICS))
    doc = nlp(text)
    return doc.user_data["topics"], doc.user_data["topic_evidence"]


def test_no_phrase_no_topic() -> None:
    assert _tag("the app is slow again") == ((), ())
    # Only an exclusion found: no topic either.
    assert _tag("where is the invoice template?") == ((), ())


def test_topics_in_taxonomy_order_with_first_longest_evidence() -> None:
    topics, evidence = _tag("Export to CSV broke and I was charged twice")
    assert topics == ("billing", "export")
    assert [(e.topic, e.phrase, e.start, e.end) for e in evidence] == [
        ("billing", "charged twice", 30, 43), ("export", "Export to CSV", 0, 13)]
