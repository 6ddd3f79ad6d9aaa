"""Content cache keyed by the file's bytes, and parallel reading of the files not cached.

The cache maps SHA-1(file bytes) to the Markdown reader's raw output: the HTML body and
the metadata strings (never Pelican objects, so no settings get pickled). Metadata objects
(Category, Tag, dates) are made again from those strings on every build, which is cheap and
always consistent. One cache file per digest of the settings and the plugins' code, so a
change there starts from an empty cache instead of serving stale HTML.
"""

import contextlib
import datetime
import io
import logging
import marshal
import multiprocessing
import os
import pickle
import signal
import string
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pelican import signals
from pelican.contents import Article, Content, Page
from pelican.readers import Readers, _filter_discardable_metadata
from pelican.urlwrappers import Author, Category, Tag

from plugins.incremental.fingerprint import (
    content_hash,
    file_digest,
    file_signature,
    static_links,
)
from plugins.incremental.state import write_atomically

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
# Below this many uncached files a process pool costs more than it saves.
PARALLEL_MINIMUM = 24


def worker_count(settings):
    """Processes for reading and for rendering: INCREMENTAL_WORKERS, or one per core (8 at
    most: beyond that the parent's own share of the work dominates)."""
    return min(settings.get("INCREMENTAL_WORKERS") or os.cpu_count() or 1, 8)


_WORKER_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def worker_pool(workers):
    """A ProcessPoolExecutor of ``workers`` forked processes whose signals are the system's
    own: SIGTERM ends a worker at once and SIGINT (Ctrl-C reaches the whole process group)
    is ignored; the parent handles both and ends the pool.

    A worker must not inherit the parent's Python handlers (``make publish`` turns SIGTERM
    into KeyboardInterrupt): a KeyboardInterrupt raised in a worker on its way out can
    escape the worker's own code and unwind the parent's stack copied by the fork, into a
    build that then waits for ever (multiprocessing's Pool, used before, ended its workers
    with SIGTERM and so did exactly that, now and then). The two signals stay blocked from
    before the fork until the worker has set its handlers; the parent gets any pending one
    when it unblocks. The workers are all forked at once, by a first task, while blocked.

    A worker that dies (the kernel's out-of-memory killer, a crash in a C library) makes
    the build fail with BuildWorkerError instead of waiting for it for ever."""
    pool, started = start_worker_pool(workers)
    with pool:
        try:
            started.result()
            yield pool
        except BrokenProcessPool as error:
            raise worker_died() from error


def start_worker_pool(workers):
    """The pool of ``worker_pool`` and the task that forked its workers (they are forked
    when this returns), for a pool that outlives a ``with`` block: its owner shuts it down
    and turns a BrokenProcessPool into ``worker_died()``."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _WORKER_SIGNALS)
    try:
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker, initargs=(previous,),
        )  # fmt: skip
        started = pool.submit(os.getpid)  # forks every worker (the fork start method)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return pool, started


def worker_died():
    return BuildWorkerError(
        "incremental: một tiến trình con của bản dựng đã dừng đột ngột (thường do "
        "máy hết bộ nhớ): chạy lại, hoặc đặt INCREMENTAL_WORKERS = 1 (a build worker "
        "process ended abruptly, usually out of memory: run again, or set "
        "INCREMENTAL_WORKERS = 1)"
    )


class BuildWorkerError(RuntimeError):
    """A build worker process died."""


def _start_worker(mask):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class SettingsCache:
    """A dict kept in ``<folder>/<prefix><settings digest><suffix>``, read at its first use
    (a build may not need it at all), saved with only the entries this build used. The files
    of other settings digests go, except the most recent one (see ``remove_other_caches``).
    Saved with marshal (plain values), or with ``SERIALIZER = pickle`` for objects."""

    PREFIX = ""
    SUFFIX = ".marshal"
    SERIALIZER = marshal
    FORMAT = 1
    # Read the file whole, then parse it: ``marshal.load`` on a file reads it piece by piece,
    # one call per value (file keys: 46 ms against 6; summaries: 26 against 12). Not for
    # files of a few big values, where the copy would only add to the memory peak.
    READ_WHOLE = True

    def __init__(self, folder, settings_key):
        self.folder = folder
        self.path = os.path.join(folder, f"{self.PREFIX}{settings_key[:16]}{self.SUFFIX}")
        self._entries = None
        self.used = set()
        self.changed = False

    @property
    def loaded(self):
        """Whether the file was read (or an entry put): else ``save`` has nothing to do."""
        return self._entries is not None

    @property
    def entries(self):
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _read(self):
        """The file's entries; {} when it is missing, truncated, or from other code."""
        try:
            with open(self.path, "rb") as handle:
                if self.READ_WHOLE:
                    version, entries = self.SERIALIZER.loads(handle.read())
                else:
                    version, entries = self.SERIALIZER.load(handle)
        except Exception:  # missing, truncated, or from other code: start empty
            return {}
        return entries if version == self.FORMAT and isinstance(entries, dict) else {}

    def get(self, key):
        """The entry ``key`` (None if there is none), counted as used."""
        entry = self.entries.get(key)
        if entry is not None:
            self.used.add(key)
        return entry

    def put(self, key, value):
        self.entries[key] = value
        self.used.add(key)
        self.changed = True

    def save(self, also_drop=()):
        """Write the entries used by this build (the others and ``also_drop`` are forgotten),
        atomically; nothing when the cache was not read or nothing changed."""
        if self._entries is None:
            return  # not read, so not changed; unused entries go at a later save
        unused = {key for key in self._entries if key not in self.used or key in also_drop}
        if not self.changed and not unused:
            return
        for key in unused:
            del self._entries[key]
        self._write(unused)
        self.changed = False

    def _write(self, dropped):
        """Write the entries out (``dropped``: the keys just forgotten)."""
        os.makedirs(self.folder, exist_ok=True)
        remove_other_caches(self.folder, self.PREFIX, self.path)
        write_atomically(self.path, self.SERIALIZER.dumps((self.FORMAT, self._entries)))


class ContentCache(SettingsCache):
    """SHA-1 of a source file → (html, raw metadata) for one settings digest."""

    PREFIX = "content-"
    FORMAT = CACHE_FORMAT

    def __init__(self, folder, settings_key):
        super().__init__(folder, settings_key)
        self.needed = set()  # read from here, not kept by the object snapshot

    def keep(self, key):
        """Count the entry ``key`` as used (if there is one) without reading the cache."""
        self.used.add(key)

    def need(self, key):
        """The entry ``key`` must stay even if the object snapshot holds the same bytes."""
        self.needed.add(key)

    def put(self, key, html, meta):
        super().put(key, (html, meta))

    def save(self, kept_elsewhere=()):
        """``kept_elsewhere``: keys whose content objects the object snapshot holds; their
        entries are dropped too, so a build that reads one changed file does not load and
        rewrite the whole site's HTML twice."""
        super().save(also_drop=set(kept_elsewhere) - self.needed)


class SummaryCache(SettingsCache):
    """Digest of what an article shows (``Build.content_digest`` without its related list)
    → {siteurl: summary}, for one settings digest. Pelican cuts each summary out of the
    article's HTML (about 0.5 ms); a listing shows ten, and a new article shifts every page of
    the newest-first lists: 10,000 summaries to cut again at 10,000 articles. Kept: the
    entries of the contents of this build (``Build.save_summaries`` marks them used)."""

    PREFIX = "summaries-"

    def get(self, key, siteurl):
        return self.entries.get(key, {}).get(siteurl)

    def put(self, key, siteurl, summary):
        self.entries.setdefault(key, {})[siteurl] = summary
        self.changed = True


def remove_other_caches(folder, prefix, current, keep=1, stale_seconds=600):
    """Delete the cache files ``prefix*`` of other settings digests in ``folder``, except the
    ``keep`` most recently written: `make html` and `make publish` (another SITEURL, so
    another digest) share the cache, and switching between them must not start from an
    empty cache each time. Temporary files left by a killed build go too."""
    others = []
    now = time.time()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not name.startswith(prefix) or path == current:
            continue
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        if name.endswith(".tmp"):
            if now - mtime > stale_seconds:
                _remove(path)
        else:
            others.append((mtime, path))
    for _, path in sorted(others, reverse=True)[keep:]:
        _remove(path)


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def file_identity(info):
    """What tells one written file from another at the same path: inode, size, mtime."""
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class FileKeys:
    """SHA-1 of content files, remembered by their stat so unchanged files are not read.

    The memo is kept between builds (``path``): a file whose ``file_signature`` (size,
    mtime, ctime, inode) is that of the last build is not read again. Within a build a
    file's key is taken once (the prefetch and the read ask for it): the caches store what
    the reader parsed under the digest of the bytes it parsed (``read_raw``), never under
    this key, so a file saved during the build cannot leave its new text under an old key."""

    FORMAT = 2

    def __init__(self, path=None):
        self.path = path
        self.memo = {}
        self.current = {}  # path → key, for the files this build asked for
        self.changed = False
        if path:
            try:
                with open(path, "rb") as handle:
                    version, memo = marshal.loads(handle.read())
                if version == self.FORMAT and isinstance(memo, dict):
                    self.memo = memo
            except (OSError, EOFError, ValueError, TypeError):
                self.memo = {}

    def key(self, path):
        key = self.current.get(path)
        if key is not None:
            return key
        stamp = file_signature(path)  # None for a missing file: the open() below raises
        known = self.memo.get(path)
        if stamp is not None and known and known[0] == stamp:
            key = known[1]
        else:
            with open(path, "rb") as handle:
                data = handle.read()
            key = file_digest(data)
            self.memo[path] = (stamp, key)
            self.changed = True
        self.current[path] = key
        return key

    def learn(self, path, stamp, key):
        """Take ``key`` as the digest of ``path``, read by someone else (a reading worker)
        whose ``file_signature`` before reading was ``stamp``. Read after the stamp, the
        bytes can only be newer than it says: the next build then finds another stamp and
        reads the file again; never a digest kept under the stamp of other bytes."""
        self.current[path] = key
        if stamp is not None:
            self.memo[path] = (stamp, key)
            self.changed = True

    def save(self):
        """Write the memo of the files this build asked for, atomically."""
        if not self.path:
            return
        memo = {p: v for p, v in self.memo.items() if p in self.current}
        if not self.changed and len(memo) == len(self.memo):
            return
        write_atomically(self.path, marshal.dumps((self.FORMAT, memo)))
        self.memo, self.changed = memo, False


class ObjectSnapshot(SettingsCache):
    """Each content object as Pelican's reader made it, by file, for one settings digest.

    A cached file still costs Pelican's reading steps (metadata objects, dates and their
    locale strings, slug, URLs, validity checks): about 0.2 ms per file, 2 s at 10,000
    articles. Their result depends only on the file's bytes, its path, the settings and the
    plugins' code (all in the key, see ``CachedReaders.read_file``), so the object's state is
    kept here, pickled without the settings and the build's context, and put back as a new
    object on the next build. Not kept: objects whose reading logged a warning (it must be
    logged again), and articles dated in the future (Pelican makes them drafts by the clock).
    Not used at all while a plugin listens to a signal sent during reading (such as
    ``content_object_init``): it expects the signal for every file.

    The file is about 4.5 kB per file read: 45 MB at 10,000 articles, 0.12 s to write again
    for one edited article. So an edit's build writes only what changed, to a delta file
    (``delta-objects-…``: the entries put and the paths dropped since the whole file was
    written), which reading applies on top of the whole file it was made for (its inode,
    size and mtime); the whole file is written again, and the delta removed, once the delta
    holds more than ``DELTA_SHARE`` of the entries.
    """

    PREFIX = "objects-"
    DELTA_PREFIX = "delta-objects-"
    DELTA_SHARE = 0.05
    DETACHED = ("settings", "_context")
    READ_WHOLE = False  # a few big values: a whole copy would only raise the memory peak

    def __init__(self, folder, settings_key):
        super().__init__(folder, settings_key)
        self.wrappers = {}  # (class name, name) → the build's Author/Category/Tag object
        self.delta_path = os.path.join(
            folder, self.DELTA_PREFIX + os.path.basename(self.path)[len(self.PREFIX):]
        )
        self.put_now = set()  # paths whose entry this build put (keep, adopt)
        self._base = None  # (inode, size, mtime) of the whole file read or written
        self._delta = ({}, set())  # what the delta file holds: entries put, paths dropped

    def _read(self):
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                version, entries = self.SERIALIZER.load(handle)
        except Exception:  # missing, truncated, or from other code: start empty
            return {}
        if version != self.FORMAT or not isinstance(entries, dict):
            return {}
        self._base = file_identity(info)
        try:
            with open(self.delta_path, "rb") as handle:
                version, base, put, dropped = marshal.loads(handle.read())
        except Exception:  # no delta (the whole file is current), or a broken one
            return entries
        if version == self.FORMAT and base == self._base and isinstance(put, dict):
            for path in dropped:
                entries.pop(path, None)
            entries.update(put)
            self._delta = (put, set(dropped))
        return entries

    def _write(self, dropped):
        put, gone = self._delta
        put, gone = dict(put), set(gone)
        for path in dropped:
            put.pop(path, None)
            gone.add(path)
        for path in self.put_now:
            if path in self._entries:
                put[path] = self._entries[path]
                gone.discard(path)
        self.put_now = set()
        small = len(put) + len(gone) <= self.DELTA_SHARE * len(self._entries)
        if self._base is not None and small:
            delta = (self.FORMAT, self._base, put, sorted(gone))
            remove_other_caches(self.folder, self.DELTA_PREFIX, self.delta_path)
            write_atomically(self.delta_path, marshal.dumps(delta))
            self._delta = (put, gone)
            return
        super()._write(dropped)
        self._base = file_identity(os.stat(self.path))
        self._delta = ({}, set())
        _remove(self.delta_path)

    def _entry(self, path, file_key):
        entry = self.entries.get(path)
        return entry if entry is not None and entry[0] == file_key else None

    def has(self, path, file_key):
        return self._entry(path, file_key) is not None

    def restore(self, path, file_key, content_class, base_path, settings, context):
        """A new object equal to the one read before from ``path``, or None."""
        entry = self._entry(path, file_key)
        if entry is None or entry[1] != content_class.__name__ or entry[2] != base_path:
            return None
        try:
            state = _Unpickler(io.BytesIO(entry[3]), settings, self.wrappers).load()
        except Exception:  # an old or foreign entry: read the file instead
            return None
        self.used.add(path)
        obj = content_class.__new__(content_class)
        state["settings"] = settings
        state["_context"] = context
        obj.__dict__.update(state)
        return obj

    def keep(self, path, file_key, base_path, obj):
        content_hash(obj)  # memoised on the object: kept with it (the string pickled once)
        static_links(obj)  # the same
        state = {
            name: (value.copy() if isinstance(value, (list, dict, set)) else value)
            for name, value in obj.__dict__.items()
            if name not in self.DETACHED
        }
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, obj.settings).dump(state)
        except Exception:  # something a plugin attached cannot be pickled: not kept
            return False
        self.entries[path] = (file_key, type(obj).__name__, base_path, buffer.getvalue())
        self.used.add(path)
        self.put_now.add(path)
        self.changed = True
        return True

    def adopt(self, path, entry):
        """An entry made by ``keep`` in a worker process."""
        self.entries[path] = entry
        self.used.add(path)
        self.put_now.add(path)
        self.changed = True

    def file_keys(self):
        """The file keys of the objects this build used or kept."""
        if self._entries is None:
            return set()
        return {self._entries[path][0] for path in self.used if path in self._entries}


_WRAPPERS = {cls.__name__: cls for cls in (Author, Category, Tag)}


class _Pickler(pickle.Pickler):
    """Pickles a content's state with the settings (shared by every object, and holding
    functions) left out as a reference, and authors, categories and tags as their names."""

    def __init__(self, file, settings):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.settings = settings

    def persistent_id(self, obj):
        if obj is self.settings:
            return "settings"
        if type(obj) in _WRAPPER_TYPES and obj.settings is self.settings:
            return (type(obj).__name__, obj.name)
        return None


_WRAPPER_TYPES = frozenset(_WRAPPERS.values())


class _Unpickler(pickle.Unpickler):
    """The other way: one Author, Category or Tag object per name for the whole build
    (``wrappers``), as the reader makes them."""

    def __init__(self, file, settings, wrappers):
        super().__init__(file)
        self.settings = settings
        self.wrappers = wrappers

    def persistent_load(self, pid):
        if pid == "settings":
            return self.settings
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] in _WRAPPERS:
            wrapper = self.wrappers.get(pid)
            if wrapper is None:
                wrapper = self.wrappers[pid] = _WRAPPERS[pid[0]](pid[1], self.settings)
            return wrapper
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


# What each generator sends while it reads a file (besides content_object_init).
_GENERATOR_SIGNALS = {
    Article: (signals.article_generator_preread, signals.article_generator_context),
    Page: (signals.page_generator_preread, signals.page_generator_context),
}


def _heard_while_reading(*generator_signals):
    """True when a plugin listens to a signal sent while a file is read: it expects the
    signal for every file, so no object may come from the snapshot or a worker."""
    return any(
        s is not None and s.receivers
        for s in (signals.content_object_init, *generator_signals)
    )


def _in_future(date):
    if date is None:
        return False
    if date.tzinfo is None:
        return date > datetime.datetime.now()
    return date > datetime.datetime.now(datetime.UTC)


class _WarningSeen(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.seen = False

    def emit(self, record):
        self.seen = True


_FIELDS = {}
_FAST_FIELDS = frozenset({"slug", "lang", "date", "category", "author"})


def _fields_of(pattern):
    fields = _FIELDS.get(pattern)
    if fields is None:
        fields = _FIELDS[pattern] = frozenset(
            name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(pattern)
            if name
        )
    return fields


def expand_url(content, key, klass):
    """Pelican's ``Content._expand_settings``, computed once per slug and status.

    Pelican formats the URL pattern anew on every access, through a copy of the metadata,
    two path normalisations and a locale-safe strftime; templates ask for URLs dozens of
    times per page. Patterns that use only slug, lang, date, category and author are
    formatted here directly (same result); any other pattern goes through Pelican."""
    memo = content.__dict__.setdefault("_url_memo", {})
    memo_key = (key, content.slug, content.status)
    value = memo.get(memo_key)
    if value is None:
        pattern = str(content.settings[f"{klass}_{key}".upper()])
        if _fields_of(pattern) <= _FAST_FIELDS and "%z" not in pattern and "%Z" not in pattern:
            date = getattr(content, "date", None)
            if date:  # naive, same fields (timetuple() would ask the time zone at each call)
                date = datetime.datetime(date.year, date.month, date.day, date.hour,
                                         date.minute, date.second, date.microsecond)  # fmt: skip
            value = pattern.format(
                slug=getattr(content, "slug", ""),
                lang=getattr(content, "lang", "en"),
                date=date,
                author=content.author.slug if hasattr(content, "author") else "",
                category=content.category.slug if hasattr(content, "category") else "",
            )
        else:
            value = Content._expand_settings(content, key, klass)
        memo[memo_key] = value
    return value


def relative_source_path(content, source_path=None):
    """Pelican's ``get_relative_source_path`` (two abspath and a relpath per call, several
    calls per article and build), remembered for the content's own file."""
    if source_path is not None and source_path != content.source_path:
        return Content.get_relative_source_path(content, source_path)
    memo = content.__dict__.get("_relative_source_path")
    if memo is None or memo[0] != content.source_path:
        memo = (content.source_path, _relative_to_content(content))
        content.__dict__["_relative_source_path"] = memo
    return memo[1]


_CONTENT_ROOTS = {}


def _relative_to_content(content):
    """``Content.get_relative_source_path()`` for the usual case, a normalised absolute file
    under the content folder, without its abspath/relpath calls; else Pelican's."""
    source = content.source_path
    folder = content.settings["PATH"]
    root = _CONTENT_ROOTS.get(folder)
    if root is None:
        root = _CONTENT_ROOTS[folder] = os.path.abspath(folder) + os.sep
    if os.sep == "/" and source and source.startswith(root) and os.path.normpath(source) == source:
        return source[len(root) :]
    return Content.get_relative_source_path(content)


def _memoised(prop, tag):
    """A property that remembers ``prop``'s value for the current slug and status."""

    def getter(self):
        memo = self.__dict__.get(tag)
        if memo is not None and memo[0] == self.slug and memo[1] == self.status:
            return memo[2]
        value = prop.fget(self)
        self.__dict__[tag] = (self.slug, self.status, value)
        return value

    return property(getter)


def has_valid_save_as(content, base):
    """Pelican's ``_has_valid_save_as`` without its two abspath calls when ``save_as`` is a
    relative path without "..": such a path cannot leave the output folder."""
    save_as = content.save_as
    if save_as is not None and not save_as.startswith("/") and ".." not in save_as.split("/"):
        return True
    return base._has_valid_save_as(content)


# While a build writes its pages: its ``Build.summary`` (summaries remembered between
# builds); None at any other time (before, a plugin may still change the contents).
summary_source = None


def remembered_summary(content, siteurl, compute):
    """``compute(siteurl)`` (Pelican's ``get_summary``), or the build's remembered value."""
    source = summary_source
    return compute(siteurl) if source is None else source(content, siteurl, compute)


class FastArticle(Article):
    """An Article with memoised URLs (see ``expand_url``), relative path and summary."""

    def _expand_settings(self, key):
        return expand_url(self, key, "draft" if self.status == "draft" else "article")

    def _has_valid_save_as(self):
        return has_valid_save_as(self, Article)

    def get_summary(self, siteurl):
        return remembered_summary(self, siteurl, super().get_summary)

    url = _memoised(Article.url, "_memo_url")
    save_as = _memoised(Article.save_as, "_memo_save_as")
    get_relative_source_path = relative_source_path


class FastPage(Page):
    """A Page with memoised URLs (see ``expand_url``), relative path and summary."""

    def _expand_settings(self, key):
        return expand_url(self, key, "draft_page" if self.status == "draft" else "page")

    def _has_valid_save_as(self):
        return has_valid_save_as(self, Page)

    def get_summary(self, siteurl):
        return remembered_summary(self, siteurl, super().get_summary)

    url = _memoised(Page.url, "_memo_url")
    save_as = _memoised(Page.save_as, "_memo_save_as")
    get_relative_source_path = relative_source_path


FAST_CLASSES = {Article: FastArticle, Page: FastPage}


class CachedReaders(Readers):
    """Pelican's Readers with the content cache above in place of Pelican's own."""

    def __init__(self, settings, cache, keys, snapshot=None):
        super().__init__(settings, cache_name="")
        self.content_cache = cache
        self.file_keys = keys
        self.snapshot = snapshot
        # The contents this build read anew (parsed here, or made by a reading worker), not
        # put back from an earlier build; None once a file was read outside the snapshot's
        # way (then which are new is not known). See ``incremental.contents_read_now``.
        self.read_now = []
        self._from_workers = set()

    def _markdown_reader(self, path):
        reader = self.readers.get(path.rsplit(".", 1)[-1])
        return reader if hasattr(reader, "read_raw") else None

    def read_file(self, base_path, path, content_class=Page, fmt=None, context=None,
                  preread_signal=None, preread_sender=None, context_signal=None,
                  context_sender=None):  # fmt: skip
        content_class = FAST_CLASSES.get(content_class, content_class)
        arguments = (base_path, path, content_class, fmt, context, preread_signal,
                     preread_sender, context_signal, context_sender)  # fmt: skip
        full_path = os.path.abspath(os.path.join(base_path, path))
        reader = self._markdown_reader(full_path)
        if (
            self.snapshot is None
            or reader is None
            or (fmt and fmt != full_path.rsplit(".", 1)[-1])
            or _heard_while_reading(preread_signal, context_signal)
        ):
            self.read_now = None
            return super().read_file(*arguments)
        file_key = self.file_keys.key(full_path)
        obj = self.snapshot.restore(full_path, file_key, content_class, base_path,
                                    self.settings, context)  # fmt: skip
        if obj is not None:
            self.content_cache.keep(file_key)
            if full_path in self._from_workers and self.read_now is not None:
                self.read_now.append(obj)
            return obj
        watch = _WarningSeen()
        root = logging.getLogger()
        root.addHandler(watch)
        reader.last_raw = None
        try:
            obj = super().read_file(*arguments)
        finally:
            root.removeHandler(watch)
        if reader.last_raw is not None and reader.last_raw[0] == full_path:
            file_key = reader.last_raw[3]  # parsed now: the key of the bytes parsed
        if watch.seen or not self._kept(full_path, file_key, base_path, obj):
            self.content_cache.need(file_key)
        if self.read_now is not None:
            self.read_now.append(obj)
        return obj

    def _kept(self, path, file_key, base_path, obj):
        """Keep ``obj`` in the object snapshot, its URLs computed first (kept with it),
        unless it is dated in the future; whether it was kept."""
        if isinstance(obj, (FastArticle, FastPage)):
            obj.url, obj.save_as  # noqa: B018 (computed now, so the snapshot keeps them)
        return not _in_future(getattr(obj, "date", None)) and self.snapshot.keep(
            path, file_key, base_path, obj
        )

    def get_cached_data(self, path, default=None):
        reader = self._markdown_reader(path)
        if reader is None:
            return default
        entry = self.content_cache.get(self.file_keys.key(path))
        if entry is None:
            return default
        html, meta = entry
        reader._source_path = path
        return html, _filter_discardable_metadata(reader.metadata_from_raw(meta))

    def cache_data(self, path, data):
        reader = self._markdown_reader(path)
        raw = getattr(reader, "last_raw", None) if reader else None
        if raw is not None and raw[0] == path:
            self.content_cache.put(raw[3], raw[1], raw[2])  # under the bytes parsed

    def save_cache(self):
        pass  # saved once per build by the incremental plugin

    def prefetch(self, paths, base_path=None, content_class=None):
        """Read the uncached Markdown files among ``paths`` on every core, into the cache.

        With ``base_path`` and ``content_class`` (what the generator's ``read_file`` calls
        will pass) and the object snapshot on, the workers also make the content objects, so
        Pelican's per-file work is shared by the cores too: the parent gets snapshot entries
        and its ``read_file`` puts them back. Files with errors are left out: the normal
        sequential read then reports them. Warnings found by the workers are logged here,
        once (and their files get no object from the workers)."""
        missing, fresh = [], []
        # Nothing remembered (a cold build): every file is read, and the workers take its
        # key as they read it (``_read_in_worker``), instead of this process reading all
        # 10,000 files once more, alone, before the workers start (0.4 s).
        keys_from_workers = not self.file_keys.memo
        for path in paths:
            if self._markdown_reader(path) is None:
                continue
            if keys_from_workers and path not in self.file_keys.current:
                fresh.append(path)
                missing.append(path)
                continue
            key = self.file_keys.key(path)
            if self.snapshot is not None and self.snapshot.has(path, key):
                continue
            fresh.append(path)
            if self.content_cache.get(key) is None:
                missing.append(path)
        workers = worker_count(self.settings)
        make_objects = (
            base_path is not None
            and self.snapshot is not None
            and not _heard_while_reading(*_GENERATOR_SIGNALS.get(content_class, ()))
        )
        if len(missing) < PARALLEL_MINIMUM or workers < 2:
            if make_objects and EARLY_RECEIVERS and len(fresh) < PARALLEL_MINIMUM:
                self.read_early(fresh, paths, base_path, content_class)
            return 0
        chunk = max(1, min(64, len(missing) // (workers * 8)))
        global _worker_job
        _worker_job = (self, self._markdown_reader(missing[0]),
                       (base_path, content_class) if make_objects else None)  # fmt: skip
        try:
            with worker_pool(workers) as pool:
                for path, result in zip(
                    missing, pool.map(_read_in_worker, missing, chunksize=chunk), strict=True
                ):
                    html, meta, warnings, key, entry, stamp = result
                    for warning in warnings:
                        logger.warning("content_check: %s", warning)
                    if key is None:
                        continue  # failed: the sequential read reports it
                    if path not in self.file_keys.current:
                        self.file_keys.learn(path, stamp, key)
                    if entry is not None:
                        self.snapshot.adopt(path, entry)
                        self._from_workers.add(path)
                    else:
                        self.content_cache.put(key, html, meta)
        finally:
            _worker_job = None
        return len(missing)

    def read_early(self, fresh, paths, base_path, content_class):
        """Make the objects of the few new or edited files (``fresh``) now, as a reading
        worker would (the loop puts a copy back from the snapshot), and hand them to the
        ``EARLY_RECEIVERS`` with every path found: the related posts start on the lists
        before the other 10,000 objects are put back. A file with a warning is left to the
        loop, which reports it once; then nothing is handed."""
        contents = []
        for path in fresh:
            key = self.file_keys.key(path)
            if self.content_cache.get(key) is None:
                try:
                    html, meta, warnings, key = self._markdown_reader(path).read_raw(path)
                except Exception:  # noqa: BLE001 (the reading loop reports it)
                    return
                if warnings:
                    return
                self.content_cache.put(key, html, meta)
            content = self._content_apart(base_path, path, content_class)
            if content is None:
                return
            if self._kept(path, key, base_path, content):  # the loop puts a copy back
                self._from_workers.add(path)
            contents.append(content)
        for receiver in EARLY_RECEIVERS:
            receiver(content_class, contents, paths)

    def _content_apart(self, base_path, path, content_class):
        """The object Pelican's reader makes of ``path`` (parsed already), made apart from
        the reading loop and without logging: None if anything was to be logged (the loop
        then makes it again, and logs)."""
        root = logging.getLogger()
        watch, handlers = _WarningSeen(), root.handlers
        root.handlers = [watch]
        try:
            content = Readers.read_file(
                self, base_path, os.path.relpath(path, base_path),
                FAST_CLASSES.get(content_class, content_class),
            )  # fmt: skip
        except Exception:  # noqa: BLE001 (the reading loop reports it)
            return None
        finally:
            root.handlers = handlers
        return None if watch.seen else content


# Receivers of the contents a build reads anew, made before the others are put back
# (``CachedReaders.read_early``): callables (content class, contents, every path found).
EARLY_RECEIVERS = []
_worker_job = None  # (readers, Markdown reader, (base path, content class) or None)


def _read_in_worker(path):
    """In a forked worker: (html, raw metadata, warnings, key, snapshot entry, stamp) for
    one file, ``key`` being the digest of the bytes parsed (None when the file could not be
    read) and ``stamp`` the file's signature before they were read (None when the parent
    had the key already); the entry (the content
    object, see ``ObjectSnapshot``) replaces html and metadata when the object could be made
    and kept here."""
    readers, reader, target = _worker_job
    # A cold build's file, whose key the parent did not take: its stat before reading (see
    # FileKeys.learn). None for the others: the parent knows their keys.
    known = path in readers.file_keys.current
    stamp = None if known else file_signature(path)
    try:
        html, meta, warnings, key = reader.read_raw(path)
    except Exception:
        return None, None, [], None, None, None
    if not known:
        readers.file_keys.learn(path, stamp, key)
    if target is not None and not warnings:
        base_path, content_class = target
        readers.content_cache.put(key, html, meta)  # this worker's copy
        try:
            readers.read_file(base_path, os.path.relpath(path, base_path), content_class)
            entry = readers.snapshot.entries.get(path)
        except Exception:
            entry = None
        if entry is not None and entry[0] == key:
            return None, None, warnings, key, entry, stamp
    return html, meta, warnings, key, None, stamp
