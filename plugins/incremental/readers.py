"""Content cache keyed by the file's bytes, and parallel reading of the files not cached.

The cache maps SHA-1(file bytes) to the Markdown reader's raw output: the HTML body and
the metadata strings (never Pelican objects, so no settings get pickled). Metadata objects
(Category, Tag, dates) are made again from those strings on every build, which is cheap and
always consistent. One cache file per digest of the settings and the plugins' code, so a
change there starts from an empty cache instead of serving stale HTML.
"""

import datetime
import logging
import marshal
import multiprocessing
import os
import string

from pelican.contents import Article, Content, Page
from pelican.readers import Readers, _filter_discardable_metadata

from plugins.incremental.fingerprint import file_digest
from plugins.incremental.state import write_atomically

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
# Below this many uncached files a process pool costs more than it saves.
PARALLEL_MINIMUM = 24


class ContentCache:
    """SHA-1 of a source file → (html, raw metadata) for one settings digest."""

    def __init__(self, folder, settings_key):
        self.folder = folder
        self.path = os.path.join(folder, f"content-{settings_key[:16]}.marshal")
        self.entries = {}
        self.used = set()
        self.changed = False
        try:
            with open(self.path, "rb") as handle:
                version, entries = marshal.load(handle)
            if version == CACHE_FORMAT:
                self.entries = entries
        except (OSError, EOFError, ValueError, TypeError):
            self.entries = {}

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None:
            self.used.add(key)
        return entry

    def put(self, key, html, meta):
        self.entries[key] = (html, meta)
        self.used.add(key)
        self.changed = True

    def save(self):
        """Write the entries used by this build (others are forgotten), atomically."""
        unused = set(self.entries) - self.used
        if not self.changed and not unused:
            return
        for key in unused:
            del self.entries[key]
        os.makedirs(self.folder, exist_ok=True)
        for name in os.listdir(self.folder):  # caches of other settings
            if name.startswith("content-") and os.path.join(self.folder, name) != self.path:
                os.remove(os.path.join(self.folder, name))
        write_atomically(self.path, marshal.dumps((CACHE_FORMAT, self.entries)))
        self.changed = False


class FileKeys:
    """SHA-1 of content files, remembered by their stat so unchanged files are not read.

    The memo is kept between builds (``path``): a file whose size, mtime, ctime and inode
    are those of the last build is not read again. Any write to a file changes its ctime,
    which no tool can set back, so an edit is never missed, even one that keeps the size
    and restores the mtime."""

    FORMAT = 1

    def __init__(self, path=None):
        self.path = path
        self.memo = {}
        self.used = set()
        self.changed = False
        if path:
            try:
                with open(path, "rb") as handle:
                    version, memo = marshal.load(handle)
                if version == self.FORMAT and isinstance(memo, dict):
                    self.memo = memo
            except (OSError, EOFError, ValueError, TypeError):
                self.memo = {}

    def key(self, path):
        self.used.add(path)
        stat = os.stat(path)
        stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        known = self.memo.get(path)
        if known and known[0] == stamp:
            return known[1]
        with open(path, "rb") as handle:
            data = handle.read()
        key = file_digest(data)
        self.memo[path] = (stamp, key)
        self.changed = True
        return key

    def save(self):
        """Write the memo of the files this build asked for, atomically."""
        if not self.path:
            return
        memo = {p: v for p, v in self.memo.items() if p in self.used}
        if not self.changed and len(memo) == len(self.memo):
            return
        write_atomically(self.path, marshal.dumps((self.FORMAT, memo)))
        self.memo, self.changed = memo, False


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


class FastArticle(Article):
    """An Article with memoised URLs (see ``expand_url``) and relative path."""

    def _expand_settings(self, key):
        return expand_url(self, key, "draft" if self.status == "draft" else "article")

    url = _memoised(Article.url, "_memo_url")
    save_as = _memoised(Article.save_as, "_memo_save_as")
    get_relative_source_path = relative_source_path


class FastPage(Page):
    """A Page with memoised URLs (see ``expand_url``) and relative path."""

    def _expand_settings(self, key):
        return expand_url(self, key, "draft_page" if self.status == "draft" else "page")

    url = _memoised(Page.url, "_memo_url")
    save_as = _memoised(Page.save_as, "_memo_save_as")
    get_relative_source_path = relative_source_path


FAST_CLASSES = {Article: FastArticle, Page: FastPage}


class CachedReaders(Readers):
    """Pelican's Readers with the content cache above in place of Pelican's own."""

    def __init__(self, settings, cache, keys):
        super().__init__(settings, cache_name="")
        self.content_cache = cache
        self.file_keys = keys

    def _markdown_reader(self, path):
        reader = self.readers.get(path.rsplit(".", 1)[-1])
        return reader if hasattr(reader, "read_raw") else None

    def read_file(self, base_path, path, content_class=Page, *args, **kwargs):
        content_class = FAST_CLASSES.get(content_class, content_class)
        return super().read_file(base_path, path, content_class, *args, **kwargs)

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
            self.content_cache.put(self.file_keys.key(path), raw[1], raw[2])

    def save_cache(self):
        pass  # saved once per build by the incremental plugin

    def prefetch(self, paths):
        """Read the uncached Markdown files among ``paths`` on every core, into the cache.

        Files with errors are left out: the normal sequential read then reports them.
        Warnings found by the workers are logged here, once."""
        missing = []
        for path in paths:
            if self._markdown_reader(path) is None:
                continue
            if self.content_cache.get(self.file_keys.key(path)) is None:
                missing.append(path)
        workers = min(os.cpu_count() or 1, 8)
        if len(missing) < PARALLEL_MINIMUM or workers < 2:
            return 0
        reader = self._markdown_reader(missing[0])
        context = multiprocessing.get_context("fork")
        chunk = max(1, min(64, len(missing) // (workers * 8)))
        global _worker_reader
        _worker_reader = reader
        try:
            with context.Pool(workers) as pool:
                for path, result in zip(
                    missing, pool.imap(_read_in_worker, missing, chunksize=chunk), strict=True
                ):
                    html, meta, warnings, failed = result
                    for warning in warnings:
                        logger.warning("content_check: %s", warning)
                    if not failed:
                        self.content_cache.put(self.file_keys.key(path), html, meta)
        finally:
            _worker_reader = None
        return len(missing)


_worker_reader = None


def _read_in_worker(path):
    """In a forked worker: (html, raw metadata, warnings, failed) for one file."""
    try:
        html, meta, warnings = _worker_reader.read_raw(path)
        return html, meta, warnings, False
    except Exception:
        return None, None, [], True
