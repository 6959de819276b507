"""``crmsphere nlp train``: a small topic model from labelled posts, used by the pipeline when saved."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path

from crmsphere.cli import main
from domain import Mention, MentionQuery, TopicEvidence
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline
from nlp.textcat import COMPONENT, has_model
from nlp.topics import parse_taxonomy
from tests.conftest import post

TAXONOMY = ('[[topics]]\nkey = "billing"\nphrases = ["invoice"]\n'
            '[[topics]]\nkey = "shipping"\nphrases = ["tracking number"]\nexclusions = ["no parcel"]\n')
SHIPPING = ["my parcel never arrived", "the courier lost my package", "parcel stuck in transit for days",
            "courier left the package at the wrong door", "package arrived crushed by the courier",
            "where is my parcel, courier says delivered", "transit delays again, parcel late"]
OTHER = ["love the new dark mode", "the app crashes when I log in", "great onboarding docs",
         "export to csv drops fields", "invoice totals look wrong", "support answered fast",
         "the invoice page is slow"]


def labelled(tmp_path: Path) -> Path:
    rows = [{"text": t, "topics": ["shipping"]} for t in SHIPPING]
    rows += [{"text": t, "topics": ["billing"] if "invoice" in t else []} for t in OTHER]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows * 3) + "\n")
    return path


def test_train_saves_a_model_the_pipeline_uses(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CRMSPHERE_STORE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    topics = tmp_path / "topics.toml"
    topics.write_text(TAXONOMY)
    out = tmp_path / "model"
    code = main(["--log-level", "ERROR", "nlp", "train", str(labelled(tmp_path)), "--out", str(out),
                 "--epochs", "15", "--topics", str(topics)])
    assert code == 0, capsys.readouterr().err
    assert "42 posts" in capsys.readouterr().out and has_model(out)

    options = StageOptions(topics=parse_taxonomy(tomllib.loads(TAXONOMY)), model_dir=str(out))
    nlp = build_pipeline([], options=options)
    assert nlp.pipe_names.index(COMPONENT) < nlp.pipe_names.index("topic_tagger")
    model, phrase, excluded, none = analyse_posts(nlp, [
        post(text="the courier lost my parcel in transit"),
        post(text="the invoice has a tracking number"),
        post(text="courier says no parcel for me"),
        post(text="love the dark mode"),
    ], options=options)
    assert model.topics == ("shipping",) and model.topic_evidence == (TopicEvidence("shipping", "model"),)
    # "the invoice has a tracking number": each phrase with its span in the text.
    assert phrase.topic_evidence == (TopicEvidence("billing", "phrase", "invoice", 4, 11),
                                     TopicEvidence("shipping", "phrase", "tracking number", 18, 33))
    assert "shipping" not in excluded.topics  # an exclusion phrase wins over the model
    assert none.topics == ()
    # Without a model directory the pipeline is the phrase taxonomy alone.
    plain = build_pipeline([], options=StageOptions(topics=options.topics, model_dir=str(tmp_path / "none")))
    assert COMPONENT not in plain.pipe_names


def test_train_names_bad_input(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CRMSPHERE_STORE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    topics = tmp_path / "topics.toml"
    topics.write_text(TAXONOMY)
    bad = tmp_path / "bad.jsonl"
    for content, words in [('{"text": "x", "topics": ["nope"]}\n{"text": "y", "topics": []}\n', "not in the taxonomy"),
                           ('not json\n', ":1: not JSON"),
                           ('{"text": "", "topics": []}\n', "'text'"),
                           ('{"text": "a", "topics": "billing"}\n', "'topics'"),
                           ('{"text": "only one", "topics": []}\n', "at least two")]:
        bad.write_text(content)
        code = main(["--log-level", "ERROR", "nlp", "train", str(bad), "--out", str(tmp_path / "m"),
                     "--topics", str(topics)])
        assert code == 2 and words in capsys.readouterr().err
    assert not has_model(tmp_path / "m")


async def _label_in_store(url: str, rows: list[tuple[str, list[str]]]) -> None:
    from storage import open_store

    store = await open_store(url)
    try:
        await store.save_mentions("k", [Mention(post(str(n), text, minutes=n)) for n, (text, _) in enumerate(rows)],
                                  None)
        ids = {m.post.text: m.id for m in (await store.list_mentions(MentionQuery(limit=500))).items}
        for text, topics in rows:
            await store.set_topic_label(ids[text], topics, "maria")
    finally:
        await store.close()


def test_train_from_the_labels_managers_gave_in_the_store(tmp_path: Path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CRMSPHERE_STORE__URL", url)
    topics = tmp_path / "topics.toml"
    topics.write_text(TAXONOMY)
    out = tmp_path / "model"
    args = ["--log-level", "ERROR", "nlp", "train", "--from-store", "--out", str(out), "--topics", str(topics)]
    # Nothing labelled yet: refused, saying what is missing.
    assert main(args) == 2 and "at least two" in capsys.readouterr().err and not has_model(out)
    # A label naming a topic since removed from the taxonomy keeps its other topics.
    rows = [(t, ["shipping", "retired"]) for t in SHIPPING] + [(t, []) for t in OTHER]
    asyncio.run(_label_in_store(url, rows))
    assert main([*args, "--epochs", "15"]) == 0
    captured = capsys.readouterr()
    assert "14 posts (14 labelled in the store)" in captured.out and "7 labelled topic(s)" in captured.err
    options = StageOptions(topics=parse_taxonomy(tomllib.loads(TAXONOMY)), model_dir=str(out))
    (found,) = analyse_posts(build_pipeline([], options=options),
                             [post(text="the courier lost my parcel in transit")], options=options)
    assert found.topics == ("shipping",) and found.topic_evidence == (TopicEvidence("shipping", "model"),)
    # The file and the store together.
    assert main([*args[:4], str(labelled(tmp_path)), *args[4:]]) == 0
    assert "56 posts (14 labelled in the store)" in capsys.readouterr().out
    # Neither a file nor --from-store.
    assert main(["--log-level", "ERROR", "nlp", "train", "--topics", str(topics)]) == 2
    assert "--from-store" in capsys.readouterr().err
