"""What makes two posts the same mention: the identity a platform really guarantees.

Mentions are unique on (platform, identity).  Where a platform's ids are global the
identity is the post's id.  Where they are only unique on one server, the same id on two
servers is two posts, so the identity adds the server; and a federated post read through
two servers (with two local ids) is one post, so its identity is what every server reports
the same:

* ``mastodon`` — the status's public address: its ``url``, else its ``uri`` (the collector
  keeps that in ``RawPost.url``).  Status ids are per instance (one post has a different id
  on every instance that holds it), but every instance serves a federated status with the
  origin's ``url``/``uri``.
* ``discourse`` — the forum (the post's address up to ``/t/``) and the post id: post ids
  count per forum.
* ``rss`` — a guid that is a global address (``http(s)://``, ``urn:``, ``tag:``, or the
  collector's own ``sha256:`` hashes of feed and entry) as it is: one article in two feeds is
  one mention; any other guid (``42``, ``post:42``, a date) with its feed (``thread_id``).
* everything else (``reddit``, ``x``, ``hackernews``, ``bluesky`` and imports of other kinds)
  — the id as given: fullnames, tweet ids, Algolia object ids and ``at://`` URIs are global.

A pure function of stored fields: storage migration 0075 computes the same value in SQL for
mentions stored before, so that an import repeated after the upgrade finds them.
"""

from __future__ import annotations

from domain import RawPost

#: RSS/Atom ids that are unique by themselves (compared ASCII-case-insensitively, as SQL's LIKE).
GLOBAL_FEED_IDS: tuple[str, ...] = ("http://", "https://", "urn:", "tag:", "sha256:", "text-sha256:")

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def mention_identity(post: RawPost) -> str:
    """The identity of ``post`` among the mentions of its platform (see the module)."""
    return identity_of(post.source, post.external_id, post.url, post.thread_id)


def identity_of(source: str, external_id: str, url: str | None, thread_id: str | None) -> str:
    """``mention_identity`` from the stored fields it reads (for stores filling it in)."""
    url = url or ""
    if source == "mastodon" and url:
        return url
    if source == "discourse" and "/t/" in url:
        return f"{url[:url.index('/t/')]} {external_id}"
    if (source == "rss" and thread_id
            and not external_id.translate(_ASCII_LOWER).startswith(GLOBAL_FEED_IDS)):
        return f"{thread_id}#{external_id}"
    return external_id


#: Where servers of a platform can give one identity to posts stored apart before identities
#: existed, the later ones are kept with this mark (SQLite migration 0075 writes the same).
def repeated_identity(identity: str, mention_id: int) -> str:
    """The identity kept by mention ``mention_id`` whose identity an earlier mention has."""
    return f"{identity} (also stored as mention {mention_id})"


#: The platforms whose identity is not simply the post's id.
PER_SERVER_PLATFORMS: tuple[str, ...] = ("mastodon", "discourse", "rss")
