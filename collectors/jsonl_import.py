"""Bulk import of posts from a ``.jsonl`` file or a folder of them.

The cursor records, per file, the byte offset and line number reached, so an
interrupted import resumes where its last committed batch ended, and a file that
grows is read from where it stopped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from crmsphere.domain import RawPost, Rejection
from crmsphere.errors import BadItem, NotConfigured

from collectors.base import Batch, Collector
from collectors.post_format import parse_post
from collectors.registry import register

MAX_LINE = 1_000_000


def jsonl_files(path: Path) -> list[Path]:
    """The files an import of ``path`` reads, in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    if path.is_file():
        return [path]
    raise NotConfigured(f"{path} is neither a file nor a folder")


def _read_batch(path: Path, offset: int, line_no: int, size: int) -> tuple[list[RawPost], list[Rejection], int, int]:
    """Read up to ``size`` lines from ``offset``; returns posts, rejections and the new position."""
    posts: list[RawPost] = []
    rejected: list[Rejection] = []
    with path.open("rb") as fh:
        fh.seek(offset)
        while len(posts) + len(rejected) < size:
            raw = fh.readline(MAX_LINE + 1)
            if not raw:
                break
            offset += len(raw)
            line_no += 1
            where = f"{path}:{line_no}"
            if len(raw) > MAX_LINE:
                rejected.append(Rejection(where, f"line longer than {MAX_LINE} bytes"))
                fh.readline()  # skip the rest of it
                offset = fh.tell()
                continue
            if not raw.strip():
                continue
            try:
                posts.append(parse_post(json.loads(raw)))
            except UnicodeDecodeError:
                rejected.append(Rejection(where, "not UTF-8 text"))
            except json.JSONDecodeError as exc:
                rejected.append(Rejection(where, f"invalid JSON: {exc.msg} at column {exc.colno}"))
            except RecursionError:
                rejected.append(Rejection(where, "JSON nested too deeply"))
            except BadItem as exc:
                rejected.append(Rejection(where, exc.reason))
    return posts, rejected, offset, line_no


@register("jsonl")
class JsonlImport(Collector):
    """Posts from JSON Lines files.  Options: ``path`` (file or folder), ``batch_size``."""

    def __init__(self, key: str, options: dict[str, Any], http: Any = None) -> None:
        super().__init__(key, options, http)
        if "path" not in self.options:
            raise NotConfigured("jsonl import needs a 'path'")
        self.path = Path(self.options["path"]).resolve()
        self.batch_size = int(self.options.get("batch_size", 500))
        self.on_progress: Callable[[int], None] | None = self.options.get("on_progress")

    def total_bytes(self) -> int:
        """Bytes in all files, for a progress bar."""
        return sum(p.stat().st_size for p in jsonl_files(self.path))

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        state: dict[str, Any] = dict((cursor or {}).get("files", {}))
        for path in jsonl_files(self.path):
            name = str(path)
            pos = state.get(name, {"offset": 0, "line": 0})
            if path.stat().st_size < pos["offset"]:
                pos = {"offset": 0, "line": 0}  # replaced by a shorter file: read it again
            if self.on_progress:
                self.on_progress(pos["offset"])
            while True:
                posts, rejected, offset, line = await asyncio.to_thread(
                    _read_batch, path, pos["offset"], pos["line"], self.batch_size)
                if offset == pos["offset"]:
                    break
                if self.on_progress:
                    self.on_progress(offset - pos["offset"])
                pos = {"offset": offset, "line": line}
                state[name] = pos
                yield Batch(tuple(posts), {"files": dict(state)}, tuple(rejected))
