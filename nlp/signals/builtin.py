"""The signals the NLP stage has always given: sentiment, intent and language.

Each keeps the ``Analysis`` field, the column and the JSON it had before the registry, so
stored mentions and API clients see no change. (Topics are not a signal: a post has several,
each with its evidence, in a table of their own; a signal is one value per post.)
"""

from __future__ import annotations

from typing import Any

from domain.signals import Signal, nullable, register_signal

SENTIMENT_LABELS = ("positive", "negative", "neutral")
INTENTS = ("complaint", "question", "praise", "idea", "other")
#: The language tag of a post whose language is unknown.
UNKNOWN_LANGUAGE = "und"


def _sentiment_label(data: Any, options: Any) -> str:
    # As ``nlp.sentiment.label_of``, inlined: this module must not import spaCy.
    score = round(float(data.get("sentiment", 0.0)), 4)
    if score > options.positive_above:
        return "positive"
    if score < options.negative_below:
        return "negative"
    return "neutral"


SENTIMENT = register_signal(Signal(
    name="sentiment", label="Sentiment", factory="sentiment_scorer", module="nlp.sentiment",
    default="neutral", values=SENTIMENT_LABELS, read=_sentiment_label,
    stored_field="sentiment_label",
    json_schema={"type": "object", "properties": {"score": nullable("number"),
                                                  "label": nullable("string")}},
    json_value=lambda a: {"score": a.sentiment, "label": a.sentiment_label},
    # The export has the score in its "sentiment" column, not the label.
    exported=False))

INTENT = register_signal(Signal(
    name="intent", label="Intent", factory="intent_classifier", module="nlp.intent",
    default="other", values=INTENTS, stored_field="intent",
    json_schema=nullable("string")))

LANGUAGE = register_signal(Signal(
    name="language", label="Language", factory="language_detector", module="nlp.language",
    default=UNKNOWN_LANGUAGE, max_len=16, stored_field="language", column="detected_language",
    json_field="detected_language", json_schema=nullable("string"),
    config=lambda options: {"analysed": list(options.languages)},
    post_field="language",
    # Counting languages next to the stream's filters, exporting them, or sending them with a
    # routed mention to a team's webhook or a CRM, was never asked for.
    facet=False, exported=False, in_payloads=False))
