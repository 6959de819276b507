"""A logo file of the forum's brand (``[forum] brand_logo_file``): which image it is, known
from its first bytes, never from its name (a page renamed logo.png stays a page)."""

from __future__ import annotations

from pathlib import Path

#: the largest logo served: a header mark, not a photograph
LOGO_MAX_BYTES = 512 * 1024

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(head: bytes) -> str | None:
    """The content type of an image starting with ``head`` (PNG, JPEG, GIF, WebP or SVG), or
    ``None``."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    return None


def read_logo(path: str) -> tuple[bytes, str]:
    """The bytes and content type of the logo at ``path``; ``ValueError`` saying what is
    wrong (missing, too large, not an image)."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"brand_logo_file {path!r}: no such file")
    size = file.stat().st_size
    if size > LOGO_MAX_BYTES:
        raise ValueError(f"brand_logo_file {path!r}: {size} bytes, at most {LOGO_MAX_BYTES}")
    data = file.read_bytes()
    content_type = image_type(data[:512])
    if content_type is None:
        raise ValueError(f"brand_logo_file {path!r}: not a PNG, JPEG, GIF, WebP or SVG image")
    return data, content_type
