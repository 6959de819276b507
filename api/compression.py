"""gzip for text answers, and long-lived caching of the static files by content-hash URLs.

Pages, stylesheets, scripts and JSON answers above ``MIN_BYTES`` go out gzipped when the
client says it accepts gzip: the forum index shrinks from ~18 KB to ~4 KB on the wire, the
dashboard's scripts from ~90 KB to ~30 KB.  Not compressed: the live stream (a
``StreamResponse`` that is no ``Response``: server-sent events and websockets, which flush
event by event and carry their own per-batch deflate, see api/dashboard/stream.py), answers
already encoded, and anything that is not text (images and fonts are compressed formats).

BREACH: a compressed page that carries a secret and reflects input lets an attacker who sees
the answer sizes guess the secret byte by byte.  The only secret of the pages is the CSRF
token, and it is sent masked with a fresh random pad on every answer (api/csrf_mask.py), so
no two answers carry the same token string to compress against.

Static text files are gzipped once per process and answered from memory (they change only
with a deploy, which starts new processes); other static files go through aiohttp's route.
Static files are linked as ``/static/<path>?v=<hash of the content>`` (the ``static()``
function of the templates): an answer to the current hash may be kept a year
(``immutable``); any other asks the browser to revalidate (ETag), so a deploy never leaves a
browser on an old script.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

#: Below this a gzip frame and the work cost more than they save.
MIN_BYTES = 1024
#: Types worth compressing (everything the app sends as text).
TEXT_TYPES = frozenset({"text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
                        "application/json", "application/problem+json", "image/svg+xml",
                        "application/atom+xml", "application/xml", "text/xml"})
#: Static files by suffix (a FileResponse has no content type until it is sent).
TEXT_SUFFIXES = frozenset({".css", ".js", ".json", ".svg", ".html", ".txt", ".map"})
#: A year: what a content-hash URL may be kept for.
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_PREFIX = "/static/"


def accepts_gzip(request: web.Request) -> bool:
    """Whether the client lists gzip in Accept-Encoding with a weight above zero."""
    for part in request.headers.get(hdrs.ACCEPT_ENCODING, "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def _compressible(response: web.StreamResponse) -> bool:
    """Whether ``response`` is a finished text answer worth gzipping (see the module)."""
    if type(response) is web.Response:  # most answers: JSON and pages (small ones first out)
        body = response.body
        if not isinstance(body, (bytes, bytearray)) or len(body) <= MIN_BYTES:
            return False
    if response.headers.get(hdrs.CONTENT_ENCODING) or response.status in (204, 304) or response.status < 200:
        return False
    if isinstance(response, web.FileResponse):
        path = Path(getattr(response, "_path", ""))
        try:
            return path.suffix in TEXT_SUFFIXES and path.stat().st_size > MIN_BYTES
        except OSError:  # gone since it was found: FileResponse answers 404 itself
            return False
    if not isinstance(response, web.Response):
        return False  # a StreamResponse: the live stream, written as it goes
    body = response.body
    return (isinstance(body, (bytes, bytearray)) and len(body) > MIN_BYTES
            and response.content_type in TEXT_TYPES)


def compression_middleware() -> Middleware:
    """The middleware gzipping text answers (see the module) and setting the static files'
    cache headers."""

    @web.middleware
    async def compress(request: web.Request, handler: Handler) -> web.StreamResponse:
        static = request.path.startswith(STATIC_PREFIX)
        if static and request.method in ("GET", "HEAD") and accepts_gzip(request):
            packed = gzipped_static(request.path[len(STATIC_PREFIX):])
            if packed is not None:  # a text file of the folder, gzipped once per process
                return _static_answer(request, packed)
        response = await handler(request)
        if static:
            _static_cache_headers(request, response)
        if _compressible(response):
            # Caches must keep the gzipped and the plain answer apart.
            response.headers.add(hdrs.VARY, hdrs.ACCEPT_ENCODING)
            if accepts_gzip(request):
                response.enable_compression(web.ContentCoding.gzip)
        return response

    return compress


def _static_cache_headers(request: web.Request, response: web.StreamResponse,
                          ok: tuple[int, ...] = (200,)) -> None:
    """A year for the current content-hash URL, revalidation for any other."""
    if response.status not in ok:
        return
    current = content_hash(request.path[len(STATIC_PREFIX):])
    if not current:
        return  # not a file of the folder (the brand's stylesheet sets its own)
    response.headers[hdrs.CACHE_CONTROL] = IMMUTABLE if request.query.get("v") == current else "no-cache"


STATIC_DIR = Path(__file__).with_name("static")


@functools.lru_cache(maxsize=256)
def content_hash(relative: str) -> str:
    """The first 12 hex digits of the SHA-256 of static file ``relative`` ("" if none).

    Read once per process: the files change only with a deploy, which starts new processes.
    """
    path = (STATIC_DIR / relative).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class PackedFile:
    """A static text file gzipped once: its body, type and ETag."""

    body: bytes
    content_type: str
    etag: str


@functools.lru_cache(maxsize=256)
def gzipped_static(relative: str) -> PackedFile | None:
    """Static text file ``relative`` gzipped (level 9: once per process, not per request), or
    ``None`` for anything else (not a file of the folder, not text, too small): the static
    route answers those as they are."""
    digest = content_hash(relative)
    path = STATIC_DIR / relative
    if not digest or path.suffix not in TEXT_SUFFIXES:
        return None
    raw = path.read_bytes()
    if len(raw) <= MIN_BYTES:
        return None
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind == "application/javascript":
        kind += "; charset=utf-8"
    return PackedFile(gzip.compress(raw, 9, mtime=0), kind, f'"{digest}-gz"')


def _static_answer(request: web.Request, packed: PackedFile) -> web.Response:
    """The gzipped file, or 304 when the browser has this version."""
    headers = {hdrs.CONTENT_TYPE: packed.content_type, hdrs.ETAG: packed.etag, hdrs.VARY: hdrs.ACCEPT_ENCODING}
    if packed.etag in request.headers.get(hdrs.IF_NONE_MATCH, ""):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(body=packed.body, headers={**headers, hdrs.CONTENT_ENCODING: "gzip"})
    _static_cache_headers(request, response, ok=(200, 304))
    return response


def static_url(relative: str) -> str:
    """``/static/<relative>?v=<content hash>``: the URL templates link a static file by."""
    digest = content_hash(relative)
    return f"{STATIC_PREFIX}{relative}?v={digest}" if digest else f"{STATIC_PREFIX}{relative}"
