"""Where an import stopped in a file, tied to the file's identity.

A byte offset alone says nothing about *which* file it belongs to: after a bad line is
fixed in place, the old offset points into the middle of a different line, and the
fixed post is never read.  So the position also records the file's size and
modification time when it was read and a SHA-256 of every byte before the offset.
An import resumes from the offset only when the part already read is still byte for
byte the same (the file is unchanged, or only grew); otherwise it reads the file again
from the start, and the store's unique (source, identity) drops the posts it
already holds.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


@dataclass(slots=True)
class FilePosition:
    """How far a file was read: byte ``offset``, ``line`` number, and the running hash
    of the bytes before ``offset`` (updated as lines are read)."""

    offset: int
    line: int
    digest: Any  # a hashlib sha256 object over bytes [0, offset)
    size: int
    mtime_ns: int

    def read(self, raw: bytes) -> None:
        """Account for ``raw``, the next bytes of the file."""
        self.offset += len(raw)
        self.digest.update(raw)

    def as_cursor(self) -> dict[str, Any]:
        """The JSON form kept in the source's cursor."""
        return {"offset": self.offset, "line": self.line, "size": self.size,
                "mtime_ns": self.mtime_ns, "sha256": self.digest.hexdigest()}


def _prefix_digest(path: Path, length: int) -> Any:
    """SHA-256 of the first ``length`` bytes of ``path`` (fewer if the file is shorter)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        left = length
        while left > 0:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    return digest


def resume_position(path: Path, saved: dict[str, Any] | None) -> tuple[FilePosition | None, str | None]:
    """Where to go on reading ``path`` given its ``saved`` cursor entry, and why it starts
    over (``None`` when it resumes or starts fresh).  Blocking: run it in a thread.

    Resumes only when the bytes before the saved offset hash to the saved SHA-256.  A
    finished file whose size and modification time are unchanged is not hashed again:
    the position is ``None``, nothing to read.
    """
    stat = os.stat(path)
    fresh = FilePosition(0, 0, hashlib.sha256(), stat.st_size, stat.st_mtime_ns)
    if not saved or not saved.get("offset"):
        return fresh, None
    offset = int(saved["offset"])
    if "sha256" not in saved:
        return fresh, "its position was saved without the file's identity"
    if stat.st_size < offset:
        return fresh, "it is shorter than the part already read"
    if offset == stat.st_size and (stat.st_size, stat.st_mtime_ns) == (saved.get("size"), saved.get("mtime_ns")):
        return None, None
    digest = _prefix_digest(path, offset)
    if digest.hexdigest() != saved["sha256"]:
        return fresh, "the part already read has changed"
    return FilePosition(offset, int(saved["line"]), digest, stat.st_size, stat.st_mtime_ns), None
