"""``crmsphere analyze`` and ``crmsphere nlp eval`` as real subprocesses: the stable contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crmsphere.cli import main

DATA = Path(__file__).with_name("data")


def run(args: list[str], stdin: str, tmp_path: Path) -> subprocess.CompletedProcess:
    # The gazetteer cache goes to the test's folder, not a data/ folder where tests run.
    env = {"CRMSPHERE_STORE__URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin",
           "CRMSPHERE_NLP__GAZETTEER_CACHE_DIR": str(tmp_path / "gazetteer-cache")}
    return subprocess.run([sys.executable, "-m", "crmsphere", "--log-level", "ERROR", *args],
                          input=stdin, capture_output=True, text=True, timeout=60, env=env)


def test_analyze_contract_with_a_customers_file(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Acme Anvils app crashes every time I log in 😡", "source": "x",
                    "author": {"handle": "priyaraman", "name": "Priya"}}),
        "this is not json",
        json.dumps({"id": 7, "text": "Would love dark mode!"}),
        json.dumps({"text": "no id"}),
        json.dumps({"id": "fr", "text": "Le produit ne fonctionne pas depuis hier, je suis très déçu"}),
    ]
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topics]]\nkey = "login"\nphrases = ["log in"]\n'
                      '[[topics]]\nkey = "bread"\nname = "Bread"\nphrases = ["sourdough"]\n'
                      'exclusions = ["sourdough starter"]\n')
    lines += [json.dumps({"id": i, "text": t}) for i, t in
              (("s1", "best sourdough in town"), ("s2", "my sourdough starter died"))]
    done = run(["analyze", "--customers", str(DATA / "customers.csv"), "--topics", str(topics)],
               "\n".join(lines) + "\n", tmp_path)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 7
    first = out[0]
    assert set(first) >= {"id", "customers", "topics", "sentiment", "intent", "language"}
    assert first["id"] == "a"
    by_id = {c["id"]: c for c in first["customers"]}
    assert by_id["c_priya"]["confidence"] > 0.9 and by_id["c_acme"]["confidence"] >= 0.8
    assert by_id["c_acme"]["evidence"][0]["rule"] in {"company_name", "employer"}
    assert "login" in first["topics"]
    assert first["sentiment"]["label"] == "negative" and -1 <= first["sentiment"]["score"] < -0.05
    assert first["intent"] == "complaint" and first["language"] == "en"
    assert out[1]["id"] is None and "JSON" in out[1]["error"]
    assert out[2]["id"] == 7 and out[2]["intent"] == "idea" and out[2]["sentiment"]["label"] == "positive"
    assert out[3] == {"id": None, "error": "field 'id' must be a string or an integer"}
    assert out[4]["language"] == "fr" and out[4]["sentiment"]["label"] == "neutral"
    assert [o["topics"] for o in out[5:]] == [["bread"], []]
    # The extra key: how each topic was found, the phrase and its span in the text.
    assert out[5]["topic_evidence"] == [{"topic": "bread", "rule": "phrase", "phrase": "sourdough",
                                         "span": [5, 14]}]
    assert out[6]["topic_evidence"] == [] and out[2]["topic_evidence"] == []
    login = [e for e in first["topic_evidence"] if e["topic"] == "login"]
    assert login == [{"topic": "login", "rule": "phrase", "phrase": "log in", "span": [37, 43]}]


def test_analyze_uses_the_store_without_a_customers_file(tmp_path: Path) -> None:
    imported = run(["import", "customers", str(DATA / "customers.csv")], "", tmp_path)
    assert imported.returncode == 0, imported.stderr
    done = run(["analyze"], json.dumps({"id": 1, "text": "write to orders@mosswick.example"}) + "\n", tmp_path)
    (line,) = [json.loads(x) for x in done.stdout.splitlines()]
    assert {c["id"] for c in line["customers"]} == {"c_moss"}


def test_nlp_eval_prints_scores_per_task(tmp_path: Path) -> None:
    done = run(["nlp", "eval", str(DATA / "linking.jsonl"), "--customers", str(DATA / "customers.csv")],
               "", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("linking") and "precision=" in done.stdout and "recall=" in done.stdout



def test_nlp_eval_names_a_missing_file(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CRMSPHERE_STORE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    code = main(["--log-level", "ERROR", "nlp", "eval", str(tmp_path / "nope.jsonl"),
                 "--customers", str(DATA / "customers.csv")])
    assert code == 2 and "cannot read" in capsys.readouterr().err
