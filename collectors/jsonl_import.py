"""Bulk import of posts from a ``.jsonl`` file or a folder of them.

The cursor records, per file, the byte offset and line number reached with the
file's identity (``collectors.file_position``), so an interrupted import resumes
where its last committed batch ended, a file that grows is read from where it
stopped, and a file changed in the part already read is read again from the start.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from domain import RawPost, Rejection, utcnow
from domain.errors import BadItem, NotConfigured

from collectors.base import Batch, Collector, SourceOptions
from collectors.file_position import FilePosition, resume_position
from collectors.post_format import parse_post
from collectors.registry import register

log = logging.getLogger(__name__)

MAX_LINE = 1_000_000


def jsonl_files(path: Path) -> list[Path]:
    """The files an import of ``path`` reads, in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    if path.is_file():
        return [path]
    raise NotConfigured(f"{path} is neither a file nor a folder")


def _skip_line(fh: Any, pos: FilePosition) -> None:
    """Read past the rest of the current line a piece at a time: a JSON array exported on one
    line of gigabytes (instead of one post per line) must not be held in memory whole."""
    while True:
        rest = fh.readline(MAX_LINE)
        pos.read(rest)
        if not rest or rest.endswith(b"\n"):
            return


def _read_batch(path: Path, pos: FilePosition, size: int,
                now: datetime) -> tuple[list[RawPost], list[Rejection]]:
    """Read up to ``size`` lines from ``pos`` (which moves on); returns posts and rejections."""
    posts: list[RawPost] = []
    rejected: list[Rejection] = []
    with path.open("rb") as fh:
        fh.seek(pos.offset)
        while len(posts) + len(rejected) < size:
            raw = fh.readline(MAX_LINE + 1)
            if not raw:
                break
            pos.read(raw)
            pos.line += 1
            where = f"{path}:{pos.line}"
            if len(raw) > MAX_LINE:
                rejected.append(Rejection(where, f"line longer than {MAX_LINE} bytes"))
                _skip_line(fh, pos)
                continue
            if not raw.strip():
                continue
            try:
                posts.append(parse_post(json.loads(raw), now))
            except UnicodeDecodeError:
                rejected.append(Rejection(where, "not UTF-8 text"))
            except json.JSONDecodeError as exc:
                rejected.append(Rejection(where, f"invalid JSON: {exc.msg} at column {exc.colno}"))
            except RecursionError:
                rejected.append(Rejection(where, "JSON nested too deeply"))
            except BadItem as exc:
                rejected.append(Rejection(where, exc.reason))
    return posts, rejected


class JsonlOptions(SourceOptions):
    """The options of a ``jsonl`` source: checked, so that ``batch_size = 0`` (which read
    nothing and reported success) or ``path = 5`` is named at start instead."""

    path: Path
    batch_size: int = Field(500, ge=1, le=100_000)

    @field_validator("path", mode="before")
    @classmethod
    def _a_name(cls, value: Any) -> Any:
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise ValueError("the name of a .jsonl file or of a folder of them")
        return value


#: Byte-order marks of the encodings a JSON Lines file must not be in, longest first.
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def _wide_encoding(path: Path) -> str | None:
    """"UTF-16" or "UTF-32" when ``path`` starts with such a byte-order mark, else ``None``."""
    with path.open("rb") as fh:
        head = fh.read(4)
    return next((name for bom, name in _WIDE_BOMS if head.startswith(bom)), None)


@register("jsonl")
class JsonlImport(Collector):
    """Posts from JSON Lines files.  Options: ``path`` (file or folder), ``batch_size``."""

    options_model = JsonlOptions

    def __init__(self, key: str, options: dict[str, Any], http: Any = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """``BadOption`` (a ``NotConfigured``) names a missing ``path`` or a bad ``batch_size``;
        ``clock`` says when now is (posts dated more than a day after it are refused)."""
        super().__init__(key, options, http)
        self.clock = clock
        self.path = Path(self.options["path"]).resolve()
        self.batch_size = int(self.options.get("batch_size", 500))
        #: Called with the bytes read as they are read (a progress bar).
        self.on_progress: Callable[[int], None] | None = None

    def total_bytes(self) -> int:
        """Bytes in all files, for a progress bar."""
        return sum(p.stat().st_size for p in jsonl_files(self.path))

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        state: dict[str, Any] = dict((cursor or {}).get("files", {}))
        for path in jsonl_files(self.path):
            name = str(path)
            pos, restart = await asyncio.to_thread(resume_position, path, state.get(name))
            if pos is None:  # read to the end before and unchanged since
                if self.on_progress:
                    self.on_progress(path.stat().st_size)
                continue
            if restart:
                log.info("%s is read again from the start: %s", path, restart)
            if pos.offset == 0 and (wide := await asyncio.to_thread(_wide_encoding, path)):
                # Read line by line as UTF-8 such a file loses its first line and splits others
                # where a character's UTF-16 code holds a 0x0A byte.  Nothing of it is read
                # (the cursor stays), so the file saved again as UTF-8 is read whole.
                yield Batch((), {"files": dict(state)}, (Rejection(
                    f"{path}:1", f"the file is {wide} (as Windows PowerShell's > and Out-File "
                                 f"write it), not UTF-8: save it as UTF-8"),))
                continue
            if self.on_progress:
                self.on_progress(pos.offset)
            while True:
                start = pos.offset
                posts, rejected = await asyncio.to_thread(_read_batch, path, pos, self.batch_size,
                                                          self.clock())
                if pos.offset == start:
                    break
                if self.on_progress:
                    self.on_progress(pos.offset - start)
                state[name] = pos.as_cursor()
                yield Batch(tuple(posts), {"files": dict(state)}, tuple(rejected))
