"""Topics from a taxonomy in TOML, and the ``topic_tagger`` component (multi-label).

``config/topics.toml``::

    [[topics]]
    key = "billing"              # stable id, stored on mentions
    name = "Billing & invoices"  # shown to people
    team = "finance"             # owning team (routing uses it)
    phrases = ["invoice", "charged twice", "refund"]
    exclusions = ["billing address"]   # a post with one of these is not this topic
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from domain import TopicEvidence
from domain.errors import BadInput, ConfigError
from nlp.phrases import PhraseIndex, lower_same_length

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Topic:
    """One entry of the taxonomy."""

    key: str
    name: str
    team: str | None = None
    phrases: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()


def parse_taxonomy(data: dict, where: str = "topics") -> tuple[Topic, ...]:
    """Topics from parsed TOML; ``ConfigError`` names the bad entry."""
    entries = data.get("topics", [])
    if not isinstance(entries, list):
        raise ConfigError(where, type(entries).__name__, "a list of [[topics]] tables")
    topics: list[Topic] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        at = f"{where}[{n}]"
        if not isinstance(entry, dict):
            raise ConfigError(at, entry, "a table")
        key = entry.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise ConfigError(f"{at}.key", key, "a lower-case key of letters, digits, _ . -")
        if key in seen:
            raise ConfigError(f"{at}.key", key, "a key not used by another topic")
        seen.add(key)
        phrases = entry.get("phrases", [])
        exclusions = entry.get("exclusions", [])
        for field, value in (("phrases", phrases), ("exclusions", exclusions)):
            if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
                raise ConfigError(f"{at}.{field}", value, "a list of non-empty strings")
        if not phrases:
            raise ConfigError(f"{at}.phrases", phrases, "at least one phrase")
        name, team = entry.get("name", key), entry.get("team")
        if not isinstance(name, str) or (team is not None and not isinstance(team, str)):
            raise ConfigError(at, entry, "name and team as strings")
        topics.append(Topic(key, name, team, tuple(phrases), tuple(exclusions)))
    return tuple(topics)


def load_taxonomy(path: str | Path) -> tuple[Topic, ...]:
    """The taxonomy in a TOML file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError("nlp.topics_file", str(path), "an existing TOML file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("nlp.topics_file", str(path), f"valid TOML ({exc})") from exc
    return parse_taxonomy(data, str(path))


def topic_keys(value: object, taxonomy: tuple[Topic, ...]) -> tuple[str, ...]:
    """A person's topic set checked against the taxonomy, in the taxonomy's order (as tagged).

    ``BadInput`` (details ``field`` and, for unknown keys, ``unknown``) when ``value`` is not
    a list of strings or names a key the taxonomy lacks.
    """
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise BadInput("'topics' must be a list of topic keys", {"field": "topics"})
    known = {t.key for t in taxonomy}
    # Clipped: the keys come from outside and go back into the error message.
    unknown = sorted({k[:64] for k in value if k not in known})[:20]
    if unknown:
        raise BadInput(f"topics not in the taxonomy: {', '.join(unknown)}",
                       {"field": "topics", "unknown": unknown})
    chosen = set(value)
    return tuple(t.key for t in taxonomy if t.key in chosen)


if not Doc.has_extension("topics"):
    Doc.set_extension("topics", getter=lambda doc: doc.user_data.get("topics", ()))


class TopicTagger:
    """Sets ``doc._.topics``: the keys of every topic with a phrase in the post and no exclusion."""

    def __init__(self, nlp: Language, name: str = "topic_tagger") -> None:
        self.name = name
        self.topics: tuple[Topic, ...] = ()
        self.order: dict[str, int] = {}
        self.model_threshold: float | None = None
        self.index: PhraseIndex[tuple[bool, str]] = PhraseIndex()

    def set_taxonomy(self, topics: tuple[Topic, ...], model_threshold: float | None = None) -> None:
        """Replace the taxonomy; with ``model_threshold``, also take topics from ``doc.cats``."""
        self.topics = topics
        self.model_threshold = model_threshold
        self.order = {t.key: n for n, t in enumerate(topics)}
        self.index = PhraseIndex()
        for t in topics:
            for phrase in t.phrases:
                self.index.add(phrase, (True, t.key))
            for phrase in t.exclusions:
                self.index.add(phrase, (False, t.key))
        self.index.finalise()

    def __call__(self, doc: Doc) -> Doc:
        if not doc.user_data.get("full", True):
            doc.user_data["topics"] = ()
            return doc
        hits: dict[str, bool] = {}
        # The first (longest there) phrase of each topic is its evidence (offsets in the normalised text).
        first: dict[str, tuple[int, int]] = {}
        for start, end, values in self.index.find(doc.user_data.get("low") or lower_same_length(doc.text)):
            for positive, key in values:
                if not positive:
                    hits[key] = False
                elif key not in hits:
                    hits[key] = True
                    first[key] = (start, end)
                elif first.get(key, (-1,))[0] == start:
                    # Matches come by end position: "charged twice" after "charged".
                    first[key] = (start, end)
        if self.model_threshold is not None:
            for key, score in doc.cats.items():
                # An exclusion phrase still wins over the model.
                if score >= self.model_threshold and key in self.order and key not in hits:
                    hits[key] = True
        # Most posts name no topic: no sort of an empty selection (~1.5 µs a post).
        found = tuple(sorted((k for k, ok in hits.items() if ok), key=self.order.__getitem__)) if hits else ()
        doc.user_data["topics"] = found
        if found:
            text = doc.user_data.get("text") or doc.text
            doc.user_data["topic_evidence"] = tuple(
                TopicEvidence(k, "phrase", text[first[k][0]:first[k][1]], *first[k]) if k in first
                else TopicEvidence(k, "model") for k in found)
        else:
            doc.user_data["topic_evidence"] = ()
        return doc


@Language.factory("topic_tagger")
def make_topic_tagger(nlp: Language, name: str) -> TopicTagger:
    """An empty tagger; fill it with ``set_taxonomy``."""
    return TopicTagger(nlp, name)
