"""The JSONL post import: bad lines reported, the rest kept, resumable, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors import COLLECTORS, create_collector
from collectors.post_format import parse_post
from domain.errors import BadItem, NotConfigured
from crmsphere.ingest import run_collector
from nlp.runner import Analyzer
from storage import Store
from tests.conftest import acme_customers, post_row, write_jsonl


@pytest.fixture
async def analyzer() -> Analyzer:
    a = Analyzer(workers=0)
    await a.start(acme_customers())
    yield a
    await a.close()


def jsonl(path: Path, batch_size: int = 500):
    return create_collector("jsonl", f"jsonl:{path}", {"path": path, "batch_size": batch_size})


async def test_malformed_lines_are_reported_and_the_rest_imported(
        tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    bad_time = post_row(3, created_at="yesterday")
    no_author = post_row(4)
    del no_author["author"]
    f = write_jsonl(tmp_path / "posts.jsonl", [
        post_row(1), "{not json", post_row(2), bad_time, no_author, "", "[1, 2]",
        post_row(5, text=None), post_row(6, external_id={"a": 1}), post_row(7),
    ])
    with f.open("ab") as fh:
        fh.write(b'{"text": "\xff\xfe"}\n')
    report = await run_collector(jsonl(f), store, analyzer)
    assert report.accepted == 3
    # An import keeps its own key: the file's, never a reading source of the posts' platform.
    stored = await store.mentions_after(0, 10)
    assert {m.source_key for m in stored} == {f"jsonl:{f}"}
    reasons = {r.where.rsplit(":", 1)[1]: r.reason for r in report.rejected}
    assert set(reasons) == {"2", "4", "5", "7", "8", "9", "11"}
    assert reasons["2"].startswith("invalid JSON")
    assert "created_at" in reasons["4"]
    assert "author" in reasons["5"]
    assert "JSON object" in reasons["7"]
    assert "text" in reasons["8"]
    assert "external_id" in reasons["9"]
    assert reasons["11"] == "not UTF-8 text"
    assert all(r.where.startswith(str(f)) for r in report.rejected)


async def test_importing_twice_stores_nothing_new(tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    f = write_jsonl(tmp_path / "p.jsonl", [post_row(i) for i in range(30)])
    first = await run_collector(jsonl(f, batch_size=7), store, analyzer)
    assert (first.accepted, first.duplicates) == (30, 0)
    # Same file under a new key (no cursor): every post is recognised as stored.
    again = await run_collector(create_collector("jsonl", "other", {"path": f}), store, analyzer)
    assert (again.accepted, again.duplicates) == (0, 30)
    # Same key: the cursor says there is nothing left to read.
    resumed = await run_collector(jsonl(f), store, analyzer)
    assert (resumed.accepted, resumed.duplicates) == (0, 0)
    assert (await store.counts())["mentions"] == 30


async def test_appended_lines_are_read_from_the_cursor(tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    f = write_jsonl(tmp_path / "p.jsonl", [post_row(i) for i in range(5)])
    await run_collector(jsonl(f), store, analyzer)
    with f.open("a") as fh:
        fh.write(json.dumps(post_row(5)) + "\n" + json.dumps(post_row(1)) + "\n")
    report = await run_collector(jsonl(f), store, analyzer)
    assert (report.accepted, report.duplicates) == (1, 1)
    cursor = await store.get_cursor(f"jsonl:{f}")
    assert cursor["files"][str(f.resolve())]["line"] == 7


async def test_a_folder_is_read_file_by_file(tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    (tmp_path / "sub").mkdir()
    write_jsonl(tmp_path / "a.jsonl", [post_row(i) for i in range(3)])
    write_jsonl(tmp_path / "sub" / "b.jsonl", [post_row(i) for i in range(2, 6)])
    (tmp_path / "ignored.txt").write_text("not a post\n")
    report = await run_collector(jsonl(tmp_path), store, analyzer)
    assert (report.accepted, report.duplicates, report.rejected) == (6, 1, [])


async def test_posts_are_linked_with_evidence(tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    await store.upsert_customers(acme_customers())
    f = write_jsonl(tmp_path / "p.jsonl", [
        post_row(1, source="x", author={"handle": "@JoRivera"}, text="Acme Anvils billing broke"),
    ])
    await run_collector(jsonl(f), store, analyzer)
    (m,) = (await store.list_mentions(__import__("domain").MentionQuery())).items
    rules = {(k.customer_id, k.rule) for k in m.analysis.links}
    assert ("cus_jo", "author_handle") in rules
    assert ("cus_acme", "company_name") in rules
    assert all(k.evidence for k in m.analysis.links)


def test_registry_knows_jsonl_and_refuses_a_duplicate_name() -> None:
    from collectors.registry import register

    assert "jsonl" in COLLECTORS
    with pytest.raises(RuntimeError, match="registered twice"):
        @register("jsonl")
        class Again(COLLECTORS["jsonl"]):  # type: ignore[misc, valid-type]
            pass
    with pytest.raises(NotConfigured):
        create_collector("no-such-source", "k", {})
    with pytest.raises(NotConfigured):
        create_collector("jsonl", "k", {})


@pytest.mark.parametrize("obj, fragment", [
    ({"source": "x", "external_id": "1", "author": {"handle": ""}, "text": "t",
      "created_at": "2026-01-01T00:00:00Z"}, "handle"),
    ({"source": "x", "external_id": True, "author": {"handle": "a"}, "text": "t",
      "created_at": "2026-01-01T00:00:00Z"}, "external_id"),
    ({"source": "x", "external_id": "1", "author": {"handle": "a"}, "text": "t" * 100_001,
      "created_at": "2026-01-01T00:00:00Z"}, "longer"),
    ({"source": "x", "external_id": "1", "author": {"handle": "a"}, "text": "t", "created_at": 5}, "created_at"),
])
def test_parse_post_names_the_bad_field(obj: dict, fragment: str) -> None:
    with pytest.raises(BadItem) as info:
        parse_post(obj)
    assert fragment in info.value.reason


def test_parse_post_normalises() -> None:
    p = parse_post({"source": "X", "external_id": 12, "author": {"handle": "a"},
                    "text": "zero\u200bwidth\x00", "created_at": "2026-01-01T01:00:00+01:00"})
    assert (p.source, p.external_id, p.text) == ("x", "12", "zerowidth")
    assert p.created_at.isoformat() == "2026-01-01T00:00:00+00:00"


def _rewrite_line(path: Path, line_no: int, text: str) -> None:
    """Replace one line in place, as an editor does (same file, same name)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line_no - 1] = text + "\n"
    path.write_text("".join(lines), encoding="utf-8")


async def test_a_line_fixed_in_place_is_imported_on_the_next_run(
        tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    # An exporter killed mid-write leaves a line cut short; someone fixes it in the file.
    good = json.dumps(post_row(2, text="Nimbus sync lost my notes again"))
    f = write_jsonl(tmp_path / "export.jsonl",
                    [post_row(1), good[:57], post_row(3), post_row(4)])
    first = await run_collector(jsonl(f), store, analyzer)
    assert first.accepted == 3
    assert [r.where for r in first.rejected] == [f"{f.resolve()}:2"]
    _rewrite_line(f, 2, good)
    fixed = await run_collector(jsonl(f), store, analyzer)
    assert fixed.rejected == []
    assert (fixed.accepted, fixed.duplicates) == (1, 3)
    assert await store.known_identities("reddit", ["t3_000002"]) == {"t3_000002"}
    # And the run after that has nothing left to read.
    again = await run_collector(jsonl(f), store, analyzer)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 0, [])


async def test_a_same_size_fix_in_place_is_imported_too(
        tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    # Month 13: the line is rejected; the fix changes one byte, the size stays the same.
    f = write_jsonl(tmp_path / "export.jsonl",
                    [post_row(1), post_row(2, created_at="2026-13-01T08:30:00Z"), post_row(3)])
    first = await run_collector(jsonl(f), store, analyzer)
    assert (first.accepted, len(first.rejected)) == (2, 1)
    size = f.stat().st_size
    _rewrite_line(f, 2, json.dumps(post_row(2, created_at="2026-12-01T08:30:00Z")))
    assert f.stat().st_size == size
    fixed = await run_collector(jsonl(f), store, analyzer)
    assert (fixed.accepted, fixed.duplicates, fixed.rejected) == (1, 2, [])


async def test_a_position_saved_without_the_file_identity_reads_the_file_again(
        tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    f = write_jsonl(tmp_path / "p.jsonl", [post_row(i) for i in range(4)])
    # A cursor as an earlier version saved it: an offset past the first two lines only.
    offset = len(f.read_bytes().splitlines(keepends=True)[0]) * 2
    await store.save_mentions(f"jsonl:{f}", [], {"files": {str(f.resolve()): {"offset": offset, "line": 2}}})
    report = await run_collector(jsonl(f), store, analyzer)
    assert (report.accepted, report.rejected) == (4, [])


async def test_a_utf16_file_is_named_whole_and_read_once_saved_as_utf8(
        tmp_path: Path, store: Store, analyzer: Analyzer) -> None:
    # Windows PowerShell 5.1's > and Out-File write UTF-16 with a byte-order mark.
    folder = tmp_path / "exports"
    folder.mkdir()
    rows = [post_row(i, text=f"Nimbus caf\u00e9 number {i}") for i in range(4)]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows)
    (folder / "a-powershell.jsonl").write_text(lines, encoding="utf-16")
    write_jsonl(folder / "b-utf8.jsonl", [post_row(10)])
    key = f"jsonl:{folder}"
    report = await run_collector(create_collector("jsonl", key, {"path": folder}), store, analyzer)
    assert report.accepted == 1
    assert [(r.where, r.reason) for r in report.rejected] == [
        (f"{folder / 'a-powershell.jsonl'}:1", "the file is UTF-16 (as Windows PowerShell's > and "
                                               "Out-File write it), not UTF-8: save it as UTF-8")]
    (folder / "a-powershell.jsonl").write_text(lines, encoding="utf-8")
    again = await run_collector(create_collector("jsonl", key, {"path": folder}), store, analyzer)
    assert (again.accepted, again.rejected) == (4, [])
    assert sorted(m.post.text for m in await store.mentions_after(0, 10))[:4] == [
        f"Nimbus caf\u00e9 number {i}" for i in range(4)]


async def test_a_json_array_on_one_line_of_64_mb_is_skipped_a_piece_at_a_time(tmp_path: Path) -> None:
    # An export written as one JSON array instead of one post per line.
    import tracemalloc

    f = tmp_path / "export.jsonl"
    with f.open("w", encoding="utf-8") as fh:
        fh.write("[")
        row = json.dumps(post_row(0)) + ","
        fh.write(row * (64 * 1024 * 1024 // len(row)))
        fh.write("{}]\n" + json.dumps(post_row(1)) + "\n")
    tracemalloc.start()
    try:
        batches = [batch async for batch in jsonl(f).fetch(None)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.external_id for b in batches for p in b.posts] == ["t3_000001"]
    assert [(r.where, r.reason) for b in batches for r in b.rejected] == [
        (f"{f}:1", "line longer than 1000000 bytes")]
    assert peak < 16 * 1024 * 1024, peak
