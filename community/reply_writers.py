"""Which writer posts a reply: the one built from the source that read the mention.

Two sources of one platform (two Mastodon instances, two Reddit accounts) read different
threads with different ids and post with different credentials, so a reply goes out through
the source whose key the mention keeps (``Mention.source_key``).  A mention whose key names
no source of its platform — stored before keys were kept, pushed (``push:<name>``) or
imported (``jsonl:<path>``, the demo's ``demo:posts``), whose posts were read by someone
else — is answered through
the only configured source of its platform; with several, which one could reach the thread
is not known and the reply is refused with that reason.  A key naming a source since removed
from the configuration turns the reply off, saying so: another source may not even see that
thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from collectors.replies import ReplyNotConfigured, ReplyWriter, build_writer, load_writers, writer_for
from domain import Mention

#: Key prefixes of mentions not read by a configured source: a push, a bulk import, the demo's
#: posts (``crmsphere demo``).
INGEST_PREFIXES = ("push:", "jsonl:", "demo:")


def reply_off(writer: ReplyWriter | ReplyNotConfigured) -> str:
    """Why replies through ``writer`` are off ("" when they are on)."""
    return writer.reason if isinstance(writer, ReplyNotConfigured) else ""


@dataclass(slots=True)
class ReplyWriters:
    """The reply writers of the configured sources, by source key."""

    #: Configured source key (its ``name``) -> its platform (``kind``).
    kinds: dict[str, str] = field(default_factory=dict)
    #: Configured source key -> its writer, or why replies through it are off.
    by_source: dict[str, ReplyWriter | ReplyNotConfigured] = field(default_factory=dict)
    #: Platform -> a writer that needs nothing configured (Hacker News), whatever the source.
    free: dict[str, ReplyWriter] = field(default_factory=dict)

    def platforms(self) -> list[str]:
        """Every platform with a reply writer, sorted."""
        return sorted(load_writers())

    def for_post(self, platform: str, source_key: str | None) -> ReplyWriter | ReplyNotConfigured:
        """The writer for a post of ``platform`` stored by ``source_key``, or why there is none."""
        cls = writer_for(platform)
        if cls is None:
            return ReplyNotConfigured(f"{platform} has no reply writer: reply on the platform itself")
        if platform in self.free:
            return self.free[platform]  # no account to choose: a person posts it anyway
        if source_key is not None and self.kinds.get(source_key) == platform:
            return self.by_source[source_key]
        if source_key is not None and source_key not in self.kinds \
                and not source_key.startswith(INGEST_PREFIXES):
            return ReplyNotConfigured(f"source {source_key!r}, which read this mention, is no longer "
                                      f"configured: reply on {platform} itself")
        same = sorted(key for key, kind in self.kinds.items() if kind == platform)
        if len(same) == 1:
            return self.by_source[same[0]]
        if not same:
            # Said where a manager sees it (the stream's notice, the reply box): what to set.
            names = ", ".join(f"{n}_env" for n in cls.credential_names)
            return ReplyNotConfigured(f"no {platform} source is configured: add a [[sources]] table "
                                      f"of kind \"{platform}\" with a [sources.reply] table ({names})")
        return ReplyNotConfigured(f"which {platform} source read this mention is not known "
                                  f"(configured: {', '.join(same)}): reply on {platform} itself")

    def for_mention(self, mention: Mention) -> ReplyWriter | ReplyNotConfigured:
        """The writer for a reply to ``mention`` (see ``for_post``)."""
        return self.for_post(mention.post.source, mention.source_key)

    def source_of(self, platform: str, source_key: str | None) -> tuple[str | None, str]:
        """The configured source a reply to a post of ``platform`` stored by ``source_key``
        goes out through (``None``: none can, or the platform needs no account), and why
        sending is off ("" when on): what one card's or queue item's reply button shows, so
        two sources of one platform (two Mastodon instances) each show their own state."""
        writer = self.for_post(platform, source_key)
        # ``for_post`` hands out the source's own writer (or its own reason): find whose.
        source = next((key for key, built in self.by_source.items() if built is writer), None)
        return source, reply_off(writer)

    def platform_status(self, platform: str) -> tuple[bool, str]:
        """Whether some source of ``platform`` can send replies, and if none can why (the
        reason of its first source): for pages that show a platform, not one mention."""
        if writer_for(platform) is None:
            return False, f"{platform} has no reply writer: reply on the platform itself"
        if platform in self.free:
            return True, ""
        writers = [self.by_source[k] for k, kind in self.kinds.items() if kind == platform]
        if any(isinstance(w, ReplyWriter) for w in writers):
            return True, ""
        return False, reply_off(writers[0]) if writers else f"no {platform} source is configured"

    def note(self, platform: str) -> str:
        """What a person should know before replying on ``platform``."""
        cls = writer_for(platform)
        return cls.note if cls is not None else ""


def writers_by_source(source_tables: Sequence[Mapping[str, Any]], environ: Mapping[str, str],
                      http: Any = None) -> ReplyWriters:
    """The writer of every configured source whose platform has one (built from that source's
    table and ``reply`` table), else why replies through it are off."""
    writers = ReplyWriters()
    for kind, cls in load_writers().items():
        if not cls.credential_names:
            writers.free[kind] = cls({}, {}, http)
    for table in source_tables:
        kind, name = str(table.get("kind") or ""), str(table.get("name") or table.get("kind") or "")
        if writer_for(kind) is None or kind in writers.free:
            continue
        writers.kinds[name] = kind
        try:
            writers.by_source[name] = build_writer(table, environ, http)
        except ReplyNotConfigured as exc:
            writers.by_source[name] = exc
    return writers
