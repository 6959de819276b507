"""A signed on-disk cache of the customer gazetteer built from a registry file.

``crmsphere analyze --customers FILE.csv`` reads the CSV and builds the linker's indexes at
every start (~3 s of CPU at 100,000 customers). The built indexes are saved once in
``nlp.gazetteer_cache_dir`` and loaded (~1.5 s) while the file's bytes, the code that reads
and indexes them, and the analysed languages are the same: the cache file is named by a
SHA-256 of all of them, so a changed registry or a new release is never served an old build.

The file is a pickle, and loading a pickle runs whatever code it names. A cache file is
therefore trusted only when its HMAC-SHA256 matches, under a random key kept in the cache
folder and readable by its owner only: a file someone else wrote, or one cut short or
corrupted, is ignored with a warning and the gazetteer is built from the registry.

The folder keeps the builds of the ``nlp.gazetteer_cache_builds`` most recently used
registries (a load or a save marks a build used): two registry files analysed in turn, or two
releases sharing the folder during a rolling deploy, each find their own build instead of
rebuilding over the other's at every start. Older builds are deleted on save.
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import hmac
import io
import logging
import os
import pickle
import secrets
import stat
import sys
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any

from spacy.language import Language

from domain import Customer, Identity
from domain.ids import id_number
from nlp.pipeline import collection_paused

log = logging.getLogger(__name__)

# Frozen dataclasses with slots unpickle through dataclasses' ``_dataclass_setstate``, which
# asks ``fields()`` again for every object: 1.2 of the 2.8 s a 100k registry's cache took to
# load. Saved as a call of the class with its field values, they load in under half that.
# (A change to those classes changes the cache key: ``domain`` is among ``_BUILDERS``.)
_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in (Customer, Identity)}


def _by_constructor(obj: Customer | Identity) -> tuple[type, tuple[Any, ...]]:
    return type(obj), tuple(getattr(obj, name) for name in _FIELDS[type(obj)])


_DISPATCH = {**copyreg.dispatch_table, Customer: _by_constructor, Identity: _by_constructor}


def _dumps(state: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(state)
    return out.getvalue()

#: Bumped when the layout of the saved state changes.
FORMAT = b"crmsphere-gazetteer 1\n"
_KEY_FILE = "cache.key"
_KEY_BYTES = 32
_SUFFIX = ".gazetteer"
#: Modules whose code decides what the saved state holds: any change to them is a new key.
_BUILDERS = ("collectors.customers_csv", "domain", "nlp.linking", "nlp.phrases",
             "nlp.hashtags", "nlp.fuzzy", "nlp.wordsense", "nlp.calibration", __name__)
#: Packages whose data or format is inside the saved state.
_PACKAGES = ("wordfreq", "pyahocorasick")
#: Linker attributes rebuilt by the pipeline itself rather than saved.
_NOT_SAVED = ("nlp", "name", "sense")


def cache_key(registry: bytes, languages: tuple[str, ...]) -> str:
    """The SHA-256 naming the build of ``registry`` by this code for ``languages``."""
    digest = hashlib.sha256(FORMAT)
    digest.update(f"{sys.version_info[:2]} {pickle.HIGHEST_PROTOCOL} {','.join(languages)}\n".encode())
    # The word lists decide which names are everyday words; the automaton's pickle is its own.
    for package in _PACKAGES:
        digest.update(f"{package} {metadata.version(package)}\n".encode())
    for name in _BUILDERS:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        digest.update(Path(module.__file__ or "").read_bytes())
    digest.update(registry)
    return digest.hexdigest()


class GazetteerCache:
    """Saved gazetteers in one folder, signed with the folder's key."""

    def __init__(self, folder: Path, keep: int = 4) -> None:
        """``keep``: how many registries' builds the folder holds (most recently used)."""
        self.folder = folder
        self.keep = max(1, keep)

    def _secret(self, create: bool) -> bytes | None:
        """The folder's signing key (made on first save); None when absent or not private."""
        path = self.folder / _KEY_FILE
        try:
            info = path.lstat()
        except FileNotFoundError:
            if not create:
                return None
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                return self._secret(create=False)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(_KEY_BYTES))
            return self._secret(create=False)
        # A key others could read or replace signs nothing: they could sign their own file.
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or info.st_uid != os.getuid():
            log.warning("gazetteer cache: %s is not a private file of this user; cache not used", path)
            return None
        secret = path.read_bytes()
        if len(secret) != _KEY_BYTES:
            log.warning("gazetteer cache: %s is not a %d-byte key; cache not used", path, _KEY_BYTES)
            return None
        return secret

    def _path(self, key: str) -> Path:
        return self.folder / f"{key[:40]}{_SUFFIX}"

    def load(self, key: str) -> dict[str, Any] | None:
        """The saved state for ``key``, or None (no file, or one that is not ours: warned)."""
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("gazetteer cache: cannot read %s (%s); building from the registry", path, exc)
            return None
        secret = self._secret(create=False)
        if secret is None:
            return None
        head, mac, body = blob[:len(FORMAT)], blob[len(FORMAT):len(FORMAT) + 32], blob[len(FORMAT) + 32:]
        expected = hmac.new(secret, key.encode() + body, hashlib.sha256).digest()
        if head != FORMAT or not hmac.compare_digest(mac, expected):
            log.warning("gazetteer cache: %s is not signed by this cache's key (corrupt or written "
                        "by someone else); ignored, building from the registry", path)
            return None
        # Signed by our key over this very key: written by this code for this registry.
        with collection_paused():
            state: dict[str, Any] = pickle.loads(body)
        self._mark_used(path)
        return state

    def _mark_used(self, path: Path) -> None:
        """Date ``path`` now: builds are pruned least recently used first."""
        try:
            os.utime(path)
        except OSError as exc:  # a read-only folder: still usable, only pruned as if older
            log.warning("gazetteer cache: cannot mark %s used (%s)", path, exc)

    def _prune(self, saved: Path) -> None:
        """Delete the builds beyond the ``keep`` most recently used (``saved`` is kept)."""
        dated = []
        for build in self.folder.glob(f"*{_SUFFIX}"):
            if build == saved:
                continue
            try:
                dated.append((build.stat().st_mtime_ns, build))
            except FileNotFoundError:  # pruned meanwhile by another process
                continue
        dated.sort(reverse=True)
        for _, old in dated[self.keep - 1:]:
            old.unlink(missing_ok=True)
        for part in self.folder.glob("*.*.part"):
            # A save killed half-way leaves its part file, ``<key>.<pid>.part`` (a registry's
            # worth of bytes): removed once the process that wrote it is gone, never while it
            # may still be writing.
            key, pid_text, _ = part.name.split(".", 2)
            pid = id_number(pid_text)
            if len(key) == 40 and pid is not None and not _process_alive(pid):
                part.unlink(missing_ok=True)

    def save(self, key: str, state: dict[str, Any]) -> None:
        """Save ``state`` under ``key`` (atomically) and drop the least recently used builds
        beyond the folder's ``keep``."""
        try:
            secret = self._secret(create=True)
            if secret is None:
                return
            body = _dumps(state)
            mac = hmac.new(secret, key.encode() + body, hashlib.sha256).digest()
            path = self._path(key)
            part = path.with_suffix(f".{os.getpid()}.part")
            # Owner-only, like the key: the file holds the whole customer registry.
            with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                f.write(FORMAT + mac + body)
            os.replace(part, path)
            self._prune(path)
        except OSError as exc:
            # A read-only or full disk costs the next start its speed, nothing else.
            log.warning("gazetteer cache: cannot save in %s (%s)", self.folder, exc)


def _process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's, or no pid this system has: left alone
    return True


def linker_state(nlp: Language) -> dict[str, Any]:
    """What the pipeline's customer linker built from its registry, as plain picklable data."""
    linker = nlp.get_pipe("customer_linker")
    state = {k: v for k, v in vars(linker).items() if k not in _NOT_SAVED}
    state["spelt"] = {k: v for k, v in vars(linker.spelt).items() if k != "sense"}
    return state


def restore_linker(nlp: Language, state: dict[str, Any]) -> None:
    """Give the pipeline's customer linker the gazetteer ``linker_state`` saved."""
    linker = nlp.get_pipe("customer_linker")
    spelt = state.pop("spelt")
    for name, value in state.items():
        setattr(linker, name, value)
    for name, value in spelt.items():
        setattr(linker.spelt, name, value)
    # Long-lived like a built gazetteer: out of the collector's walks (see ``build_pipeline``).
    gc.freeze()
