"""search: site search with Pagefind that finds Vietnamese typed with or without diacritics.

At the end of every build (the ``finalized`` signal, so ``make html``, ``make publish`` and
the test builds all get it) the pages that carry ``data-pagefind-body`` (articles and pages;
see theme/templates/article.html) are indexed with Pagefind, the binary shipped by the
``pagefind[extended]`` wheel, into ``<output>/<SEARCH_BUNDLE_DIR>/``.

Pagefind 1.5 folds diacritics by removing combining marks after NFD, so "dang" already
finds "dâng", but never "đảng": đ (U+0111) has no decomposition. Each page is therefore
indexed in its ``vn_text.decompose_d`` form (NFC, đ written as d + U+0335), which Pagefind
folds to "dang" like any other letter, while the original spelling stays in the index for
exact-diacritic matching and in the excerpts (theme/static/js/site-search.js turns d + U+0335
back into đ). The pages themselves are not changed: Pagefind reads prepared copies in a
temporary work folder, and writes an existing shard's new bundle there too; only the files
whose bytes changed are then copied into the output. The work folder is in RAM
(``/dev/shm``) when it has room, since a shard means hundreds of new files (``work_roots``).

Shards. Pagefind cannot update an index, only build a new one. The indexed pages are
therefore split into shards that rarely change together (``shard_of``): articles by the
year that starts their output path (``2024/03/x.html`` → ``2024``), every other page
(Giới thiệu, Liên hệ) in one shard ``trang``; but the pages of the newest month
(``2024/12/``, ``newest_shard``) form a shard of their own, ``2024-12``: a new article, the
commonest edit, then re-indexes about 50 pages instead of a year's 650 (the month joins its
year's shard when the next month's first article comes). Each shard is a complete Pagefind
bundle of its own, ``<SEARCH_BUNDLE_DIR>/<shard>/``, and ``<SEARCH_BUNDLE_DIR>/shards.json``
lists them, newest first: the search page loads the first and merges the others (Pagefind's
``mergeIndex``). A shard is indexed again only when what Pagefind reads of its pages changed
(``pagefind_input.indexed_part``: not the related lists, which one new article changes on
pages of other years, nor the head, menus and footer, which a setting changes on every page);
Pagefind reads only that part of each page too. One fingerprint per shard is kept in
``CACHE_PATH/search/<output>/``, checked against the bundle's ``pagefind-entry.json``; one
such folder per output folder, so `make html` into output/ and `make publish` into its
standby folder, sharing cache/, do not undo each other's work. The shards to index are
indexed concurrently, ``SEARCH_WORKERS`` Pagefind processes at once.
Files are written only when their bytes change; shards and files that are no longer
produced are removed.

Early. Under ``plugins.IncrementalPelican``, when a build read only a few articles anew
(an edit: at most ``SEARCH_EARLY``), their shards' Pagefind starts as soon as the site's
context is complete (``all_generators_finalized``, ``start_early``), while the related lists
are computed and the pages written, instead of after everything: an old article's year is
650 pages, 0.8 s of Pagefind. The edited articles' pages are rendered for it, with a
stand-in related list (Pagefind ignores the list: ``pagefind_input``), and the shard's other
pages are read from the output as the last build left them. At the end the shard's
fingerprint (its pages' digests, as always) decides: the early bundle is used only when it
was made from exactly what the build's pages give Pagefind; otherwise it is dropped and the
shard indexed as usual. The output is the same either way.

Change detection. Under ``plugins.IncrementalPelican`` the plugin neither walks nor reads
the output: the build lists its output files with their fingerprints
(``incremental.build_outputs``), and only the pages whose entry differs from the one seen at
the last indexing (``CACHE_PATH/search/<output>/pages.marshal``) are read. Under plain
``pelican.Pelican`` every HTML file of the output is read. A page read is only looked at for
``data-pagefind-body`` at first; it is cut (``indexed_part``) and digested shard by shard
(``digested_pages``), once: the part digested is the part given to Pagefind, and one shard's
pages are cut while the shards before it are indexed (in a cold build, every page).

The search page itself is Pelican's direct template "search" (theme/templates/search.html),
written to ``SEARCH_SAVE_AS``; the header form on every page submits to ``SEARCH_URL``.

Settings:
    SEARCH_INDEX = True               # build the index (False: no index, e.g. quick previews)
    SEARCH_BUNDLE_DIR = "pagefind"    # folder of the index in the output, and its URL path
    SEARCH_LANGUAGE = "vi"            # one index for every page, whatever its lang says
    SEARCH_SHARD_PATTERN = r"(\\d{4})/"  # matched at the start of a page's output path:
                                      # its groups, joined with "-", name the page's shard
                                      # (None: a single shard)
    SEARCH_SHARD_OTHER = "trang"      # the shard of the pages the pattern does not match
    SEARCH_SHARD_NEWEST = r"(\\d{4})/(\\d{2})/"  # the pages with the greatest match of this
                                      # pattern (the newest month) get a shard of their own
                                      # (None: not split off; ignored when the shard
                                      # pattern is None: one index)
    SEARCH_WORKERS = 0                # Pagefind processes at once; 0 = one per core
    SEARCH_TIMEOUT = 600              # seconds one Pagefind process may take before it is
                                      # stopped and the build fails (None or 0: no limit)
    SEARCH_WORK_PATH = None           # where a shard's prepared pages and new bundle are
                                      # made: None = in RAM (/dev/shm) when it has room, else
                                      # in CACHE_PATH; "" = in CACHE_PATH; or a folder
    SEARCH_EARLY = 3                  # an incremental build that read at most this many
                                      # articles anew starts indexing their shards before
                                      # the article pages are written (0: never; see "Early")
    SEARCH_URL = "tim-kiem.html"      # the search page (add "search" to DIRECT_TEMPLATES)
    SEARCH_SAVE_AS = "tim-kiem.html"
"""

import atexit
import functools
import importlib
import json
import logging
import marshal
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from pelican import signals
from pelican.generators import ArticlesGenerator

from plugins.incremental.fingerprint import digest, file_digest, module_digest, output_key
from plugins.incremental.incremental import build_outputs, contents_read_now, current_build
from plugins.incremental.state import write_if_changed
from plugins.incremental.writer import IncrementalWriter
from plugins.search import pagefind_input
from plugins.search.pagefind_input import BODY_MARKER, indexed_part
from plugins.vn_text import decompose_d, vn_text

logger = logging.getLogger(__name__)

DEFAULTS = {
    "SEARCH_INDEX": True,
    "SEARCH_BUNDLE_DIR": "pagefind",
    "SEARCH_LANGUAGE": "vi",
    "SEARCH_SHARD_PATTERN": r"(\d{4})/",
    "SEARCH_SHARD_OTHER": "trang",
    "SEARCH_SHARD_NEWEST": r"(\d{4})/(\d{2})/",
    "SEARCH_WORKERS": 0,
    "SEARCH_TIMEOUT": 600,
    "SEARCH_WORK_PATH": None,
    "SEARCH_EARLY": 3,
    "SEARCH_URL": "tim-kiem.html",
    "SEARCH_SAVE_AS": "tim-kiem.html",
}

# The format of the state files (the known pages, the stamps); the shards' fingerprints also
# carry the digest of the code that prepares the pages (``fingerprint``).
FORMAT_VERSION = "4"
ENTRY_FILE = "pagefind-entry.json"
SHARDS_FILE = "shards.json"
# A shard names a folder of the output and a part of its URL: plain ASCII only.
SHARD_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]*\Z")
# Pagefind's ready-made search UIs: the search page uses its JS API only (pagefind.js,
# pagefind-worker.js, the WebAssembly, the entry, meta, index chunks and fragments).
UNUSED_FILES = frozenset({
    "pagefind-ui.js", "pagefind-ui.css",
    "pagefind-modular-ui.js", "pagefind-modular-ui.css",
    "pagefind-component-ui.js", "pagefind-component-ui.css",
    "pagefind-highlight.js",
})  # fmt: skip


# A shard's work folder: Pagefind reads a prepared copy of each of its pages and writes a
# new bundle, hundreds of new files. On this project's test machine (ext4) creating a file
# costs up to 0.5–0.8 ms, so a year of 647 pages took 0.3–0.7 s longer to prepare and
# Pagefind 0.5 s longer than in RAM, where it costs next to nothing (docs/BENCHMARKS.md).
# The RAM folder is used when it has RAM_ROOM times the shard's pages free (room for the
# shards indexed at once).
# Pagefind numbers the pages in the order the file system lists them (ext4: by a hash of the
# names, seeded per file system; tmpfs: by creation, which follows the sorted pages), so a
# shard made on disk holds the same pages and words as one made in RAM, in another order.
RAM_FOLDER = "/dev/shm"
RAM_ROOM = 4
WORK_PREFIX = "pagefind-work-"  # then the build's process id: leftovers are recognised


class SearchError(Exception):
    pass


class SearchTimeout(SearchError):
    pass


@dataclass
class IndexResult:
    pages: list = field(default_factory=list)  # relative paths of the indexed pages
    shards: list = field(default_factory=list)  # every shard, in the order of shards.json
    indexed: list = field(default_factory=list)  # the shards indexed by this run
    early: list = field(default_factory=list)  # those of them indexed early (``start_early``)
    read: int = 0  # pages read (the others were known from the build's outputs)
    seconds: float = 0.0

    @property
    def skipped(self):
        """True when no shard had to be indexed."""
        return not self.indexed


# --- pure helpers -------------------------------------------------------------------------


def timeout_setting(settings):
    """SEARCH_TIMEOUT in seconds, or None for no limit (None or 0); a clear error otherwise."""
    value = settings["SEARCH_TIMEOUT"]
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SearchError(
            f"search: SEARCH_TIMEOUT trong pelicanconf.py phải là số giây lớn hơn 0 hoặc None, "
            f"không phải {value!r} (SEARCH_TIMEOUT must be a positive number of seconds or None)"
        )
    return value


def search_settings(settings):
    """Our settings with the defaults filled in (``settings`` is not changed) and checked:
    SEARCH_TIMEOUT becomes seconds or None (``timeout_setting``)."""
    merged = dict(DEFAULTS)
    merged.update({key: value for key, value in settings.items() if key.startswith("SEARCH_")})
    merged["CACHE_PATH"] = settings.get("CACHE_PATH", "cache")
    merged["SEARCH_TIMEOUT"] = timeout_setting(merged)
    return merged


def prepared_form(part):
    """The form in which Pagefind is given a page whose ``indexed_part`` (what it uses of the
    page) is ``part``: NFC, đ written as d + U+0335 (``decompose_d``)."""
    return decompose_d(part.decode("utf-8")).encode("utf-8")  # NFC too


def shard_of(relative, pattern=DEFAULTS["SEARCH_SHARD_PATTERN"],
             other=DEFAULTS["SEARCH_SHARD_OTHER"]):  # fmt: skip
    """The shard of the page at output path ``relative``: the groups of ``pattern`` matched
    at the start of the path, joined with "-" ("2024/03/x.html" → "2024"), or ``other``
    ("gioi-thieu.html") when it does not match."""
    return shard_namer(pattern, other)(relative)


def shard_namer(pattern, other):
    """``shard_of`` with ``pattern`` and ``other`` given once, for many pages: the pattern
    compiled once, each shard's name made and checked once (10,000 pages: 17 ms, not 30)."""
    match = re.compile(pattern).match if pattern else None
    named = {}  # the groups matched (None: no match) → the shard's checked name

    def name_of(relative):
        found = match(relative) if match else None
        groups = found.groups() if found else None
        name = named.get(groups)
        if name is None:
            name = joined_groups(groups) if found else other
            name = named[groups] = checked_name(
                name, relative, "SEARCH_SHARD_PATTERN hoặc SEARCH_SHARD_OTHER"
            )
        return name

    return name_of


def joined_groups(groups):
    """A shard's name from the groups a pattern matched: ("2024", "03") → "2024-03"; the
    groups that matched nothing left out."""
    return "-".join(group for group in groups if group)


def checked_name(name, relative, settings):
    """``name`` if it can name a shard's folder, else a clear error naming ``settings``."""
    if not name or not SHARD_NAME.match(name):
        raise SearchError(
            f"search: {relative}: tên nhóm chỉ mục “{name}” không dùng được làm tên thư mục, "
            f"hãy sửa {settings} (a shard name must be letters, digits, - or _)"
        )
    return name


def newest_shard(paths, pattern=DEFAULTS["SEARCH_SHARD_NEWEST"]):
    """{path: shard} for the pages of the newest period: those of ``paths`` whose match of
    ``pattern`` at the start of the path has the greatest groups, compared as text
    ("2024/12/x.html" → "2024-12"). A new article is nearly always one of them, so its edit
    re-indexes a month instead of a year. {} without a pattern or a match."""
    if not pattern:
        return {}
    groups = {}
    match_start = re.compile(pattern).match
    for relative in paths:
        match = match_start(relative)
        if match:
            groups[relative] = tuple(group or "" for group in match.groups())
    if not groups:
        return {}
    latest = max(groups.values())
    newest = [path for path, found in groups.items() if found == latest]
    name = checked_name(joined_groups(latest), newest[0], "SEARCH_SHARD_NEWEST")
    return dict.fromkeys(newest, name)


def shard_order(names):
    """Shards in the order of shards.json: dated ones (starting with a digit: years) newest
    first, then the others by name."""
    dated = sorted((name for name in names if name[:1].isdigit()), reverse=True)
    return dated + sorted(name for name in names if not name[:1].isdigit())


def group_shards(pages, settings):
    """shard → its (relative, digest) pages, in path order: by ``shard_of``, but the pages of
    the newest period in a shard of their own (``newest_shard``)."""
    pattern, other = settings["SEARCH_SHARD_PATTERN"], settings["SEARCH_SHARD_OTHER"]
    newest = {}
    if pattern:  # no pattern: one index, whatever the newest month
        newest = newest_shard([relative for relative, _ in pages], settings["SEARCH_SHARD_NEWEST"])
    name_of = shard_namer(pattern, other)
    shards = {}
    for relative, page in sorted(pages):
        name = newest.get(relative) or name_of(relative)
        shards.setdefault(name, []).append((relative, page))
    return shards


def fingerprint(pages, settings):
    """Digest of a shard's pages (paths and digests of their bytes) and of what else shapes
    its index: Pagefind's version, the language, and the code that prepares the pages (this
    module, ``pagefind_input`` and ``vn_text``)."""
    lines = "".join(f"{relative}\0{page}\n" for relative, page in pages)
    code = module_digest(sys.modules[__name__], pagefind_input, vn_text)
    return digest(FORMAT_VERSION, pagefind_version(), settings["SEARCH_LANGUAGE"], code, lines)


def shards_manifest(shards):
    """The bytes of shards.json: ``shards`` is [(name, index hash)] in order. The hash
    (Pagefind's, from the shard's pagefind-entry.json) changes with the shard's index, so
    the browser may cache a shard's entry file under it."""
    data = {"format": 1, "shards": [{"path": f"{name}/", "hash": tag} for name, tag in shards]}
    return (json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n").encode()


@functools.cache
def pagefind_version():
    """The installed Pagefind's version (looked up once a process: 0.6 ms each time, for
    every shard's fingerprint, twice a build; ``pagefind_command`` keeps its binary too)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pagefind")
    except PackageNotFoundError:
        return "unknown"


# --- finding the pages ----------------------------------------------------------------------


def find_pages(output, bundle_dir):
    """(relative path, None) of every HTML page of ``output`` marked for indexing, sorted by
    path, and the number of HTML files read: all of them (plain ``pelican.Pelican``). None:
    the page's digest is not known yet (``digested_pages`` makes it)."""
    output = Path(output)
    pages, read = [], 0
    for directory, subdirs, files in os.walk(output):
        if Path(directory) == output and bundle_dir in subdirs:
            subdirs.remove(bundle_dir)
        subdirs.sort()
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            path = Path(directory) / name
            marked = BODY_MARKER in path.read_bytes()
            read += 1
            if marked:
                pages.append((path.relative_to(output).as_posix(), None))
    pages.sort()
    return pages, read


def pages_from_outputs(output, outputs, bundle_dir, known):
    """The marked pages among the build's ``outputs`` (``incremental.build_outputs``), as
    (relative path, digest) sorted by path, the new ``known`` map and the number of pages
    read. The digest is None for each page read: ``digested_pages`` makes it when it cuts the
    page for Pagefind, and ``known_digests`` puts it in ``known``.

    ``known`` maps each page to its build entry ([fingerprint, size, mtime_ns]) as last
    seen, plus its digest: a page with the same size and mtime now is the same file, so it
    is not read again. The build writes a page only when its bytes change, and every write
    moves the mtime; a page whose fingerprint changed but whose bytes did not (a template or
    a setting edited, every page rendered again) was not written. The build itself trusts
    size and mtime the same way (``BuildState.unchanged``). The others (new, written again,
    or without a fingerprint: not the build's) are read."""
    pages, seen, read = [], {}, 0
    prefix = bundle_dir.rstrip("/") + "/"
    for name, entry in outputs.items():
        if not name.endswith(".html") or name.startswith(prefix):
            continue
        entry = list(entry)
        cached = known.get(name)
        if entry[0] is not None and cached is not None and cached[1:3] == entry[1:]:
            digest = cached[3]
        else:
            digest = None if BODY_MARKER in (Path(output) / name).read_bytes() else ""
            read += 1
        if entry[0] is not None:
            seen[name] = [*entry, digest]
        if digest != "":
            pages.append((name, digest))
    pages.sort()
    return pages, seen, read


# --- writing the bundles ----------------------------------------------------------------------


def page_parts(output, pages, parts=None):
    """(relative path, ``indexed_part``) of each of ``pages``, one at a time: from ``parts``
    ({path: part}, already cut) if there, else cut from the file in ``output``."""
    for relative, _ in pages:
        part = parts.get(relative) if parts else None
        if part is None:
            part = indexed_part((Path(output) / relative).read_bytes())
        yield relative, part


def pages_size(output, pages, rendered=None):
    """The bytes of ``pages`` (see ``page_bytes``), without reading the files."""
    rendered = rendered or {}
    return sum(
        len(rendered[relative]) if relative in rendered
        else os.path.getsize(os.path.join(output, relative))
        for relative, _ in pages
    )  # fmt: skip


def write_prepared(folder, items):
    """Write the prepared form (``prepared_form``) of each (relative path, indexed part) of
    ``items`` (``page_parts``) under ``folder``, in their order (Pagefind numbers the pages in
    the order the folder lists them)."""
    for relative, part in items:
        target = Path(folder) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(prepared_form(part))


def work_prefix(shard):
    """The name of a shard's work folders starts so (``remove_leftovers`` reads the pid)."""
    return f"{WORK_PREFIX}{os.getpid()}-{shard}-"


@functools.cache
def pagefind_command():
    """The Pagefind binary of the ``pagefind[extended]`` wheel, found as ``python -m pagefind``
    finds it but run directly: one Python start-up less per shard."""
    executable = pagefind_executable()
    return [str(executable)] if executable else [sys.executable, "-m", "pagefind"]


def pagefind_executable(binaries=("pagefind_bin_extended", "pagefind_bin")):
    """The binary ``pagefind.service.get_executable`` finds, looked up in its order (the
    PAGEFIND_BINARY_PATH variable, the extended wheel's binary, the standard one's) without
    importing that module: it imports asyncio, 30 ms of an edit's build before Pagefind can
    start. None when neither wheel has one: ``python -m pagefind`` then looks further."""
    path = os.environ.get("PAGEFIND_BINARY_PATH")
    if path is not None:
        return Path(path)
    for name in binaries:
        try:
            module = importlib.import_module(name)
            return module.get_executable()
        except (ImportError, FileNotFoundError):
            continue
    return None


def pagefind_arguments(site, bundle, language):
    return [
        *pagefind_command(),
        "--site", str(site),
        "--output-path", str(bundle),
        "--force-language", language,
    ]  # fmt: skip


def timeout_error(shard, timeout):
    return SearchTimeout(
        f"search: Pagefind lập chỉ mục phần '{shard}' chưa xong sau {timeout:g} giây nên đã "
        f"bị dừng; hãy chạy lại, hoặc tăng SEARCH_TIMEOUT trong pelicanconf.py (Pagefind "
        f"timed out after {timeout:g} s on shard '{shard}'; run again or raise "
        f"SEARCH_TIMEOUT)"
    )


def failure_error(code, log):
    return SearchError(
        f"search: Pagefind không tạo được chỉ mục tìm kiếm (Pagefind failed, exit code "
        f"{code}):\n{log}"
    )


def run_pagefind(site, bundle, language, timeout=None, shard=""):
    """Index the HTML files of ``site`` into ``bundle`` with Pagefind's CLI; return its log.

    A Pagefind that has not ended after ``timeout`` seconds is killed and the build fails:
    a ``make publish`` run by cron must end, not wait for ever (output/ is then kept)."""
    command = pagefind_arguments(site, bundle, language)
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        # subprocess.run has killed Pagefind and waited for it.
        raise timeout_error(shard, timeout) from error
    if result.returncode != 0:
        raise failure_error(result.returncode, result.stdout + result.stderr)
    return result.stdout


def put_in_place(new, bundle, update):
    """Make Pagefind's ``new`` bundle the shard's ``bundle``, without the unused UI files:
    only its changed files copied (``update``: the shard exists), else renamed into place."""
    for name in UNUSED_FILES:
        (Path(new) / name).unlink(missing_ok=True)
    if update:
        replace_folder(new, bundle)
    else:
        Path(new).rename(bundle)


def replace_folder(new, target):
    """Make ``target`` hold exactly the files of ``new``: files whose bytes are unchanged are
    left alone (their mtime kept, so an upload sends only what changed), changed ones are
    replaced atomically, and files no longer produced (stale chunks) are removed."""
    new, target = Path(new), Path(target)
    wanted = set()
    for path in sorted(p for p in new.rglob("*") if p.is_file()):
        relative = path.relative_to(new)
        wanted.add(relative)
        write_if_changed(str(target / relative), path.read_bytes())
    if target.exists():
        for path in sorted(target.rglob("*"), reverse=True):
            if path.is_file() and path.relative_to(target) not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def work_roots(setting, state, needed, free_in_ram):
    """The folders to make a shard's work folder in, in the order to try them.

    ``setting``: SEARCH_WORK_PATH; ``state``: the output's state folder in CACHE_PATH;
    ``needed``: the bytes of the shard's pages; ``free_in_ram``: the bytes free in
    RAM_FOLDER (0 when it is missing or not writable). By default RAM first when it has
    room, then the state folder (RAM may fill up meanwhile)."""
    if setting:
        return [Path(setting)]
    if setting is None and free_in_ram >= RAM_ROOM * needed:
        return [Path(RAM_FOLDER), Path(state)]
    return [Path(state)]


def ram_free():
    """Bytes free in RAM_FOLDER, 0 if it cannot be used."""
    if not os.path.isdir(RAM_FOLDER) or not os.access(RAM_FOLDER, os.W_OK | os.X_OK):
        return 0
    try:
        info = os.statvfs(RAM_FOLDER)
    except OSError:
        return 0
    return info.f_bavail * info.f_frsize


def remove_leftovers(folder):
    """Remove the work folders (WORK_PREFIX<pid>-…) of builds that are no longer running: a
    killed build leaves its folder, and in RAM it would hold memory until the next boot."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name[len(WORK_PREFIX) :].split("-", 1)[0] if name.startswith(WORK_PREFIX) else ""
        if pid.isdigit() and int(pid) != os.getpid() and not process_exists(int(pid)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        return True
    return True


def index_shard(output, pages, bundle, settings, state, parts=None):
    """Index one shard's ``pages`` into the bundle folder ``bundle``; return Pagefind's log.
    ``parts``: {path: indexed part} of those pages already cut (``page_parts``).

    The work is done in a temporary folder (``work_roots``; ``state``: the output's state
    folder); if it fails there for another reason than the time limit, it is done again in
    the next folder, if any."""
    roots = work_roots(settings["SEARCH_WORK_PATH"], state, pages_size(output, pages), ram_free())
    for attempt, root in enumerate(roots, start=1):
        try:
            return index_shard_in(root, output, pages, bundle, settings, parts)
        except SearchTimeout:
            raise
        except (OSError, SearchError) as error:
            if attempt == len(roots):
                raise
            logger.debug("search: shard %s failed in %s (%s), again in %s",
                         bundle.name, root, error, roots[attempt])  # fmt: skip


def index_shard_in(root, output, pages, bundle, settings, parts=None):
    """``index_shard`` with its work folder in ``root``, where the prepared pages go.
    Pagefind's new bundle goes there too when the shard exists: then only its changed files
    are copied into ``bundle``. A new shard is written next to ``bundle`` (a dot-folder, never
    a shard name), then renamed into place: every file is new anyway."""
    os.makedirs(root, exist_ok=True)
    update = bundle.exists()
    with tempfile.TemporaryDirectory(prefix=work_prefix(bundle.name), dir=root) as work:
        site = Path(work) / "site"
        beside = bundle.with_name(f".{bundle.name}.new-{os.getpid()}")
        new = Path(work) / "bundle" if update else beside
        try:
            if not update:
                shutil.rmtree(new, ignore_errors=True)  # left by a killed build of this pid
            site.mkdir()
            write_prepared(site, page_parts(output, pages, parts))
            log = run_pagefind(site, new, settings["SEARCH_LANGUAGE"],
                               timeout=settings["SEARCH_TIMEOUT"], shard=bundle.name)  # fmt: skip
            put_in_place(new, bundle, update)
        finally:
            if not update:
                shutil.rmtree(new, ignore_errors=True)
    return log


class Stamps:
    """What the last indexing of each shard was made from (``<state>/shards/``):
    the shard's fingerprint and the digest of the pagefind-entry.json it produced. A shard is
    current when both still match: the entry names the index by a hash of its content, so a
    bundle replaced from elsewhere (a failed publish, a copy) is indexed again."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def path(self, shard):
        return self.folder / f"{shard}.json"

    def current(self, shard, fingerprint_, bundle):
        """The bytes of the shard's pagefind-entry.json if the shard is current, else None."""
        try:
            stamp = json.loads(self.path(shard).read_text(encoding="utf-8"))
            entry = (bundle / ENTRY_FILE).read_bytes()
        except (OSError, ValueError):
            return None
        good = {"fingerprint": fingerprint_, "entry": file_digest(entry)}
        return entry if stamp == good else None

    def save(self, shard, fingerprint_, entry):
        """``entry``: the bytes of the shard's new pagefind-entry.json."""
        stamp = {"entry": file_digest(entry), "fingerprint": fingerprint_}
        write_if_changed(str(self.path(shard)), json.dumps(stamp, sort_keys=True).encode())

    def keep_only(self, shards):
        if self.folder.is_dir():
            for path in self.folder.glob("*.json"):
                if path.stem not in shards:
                    path.unlink()


def load_known(path):
    """The ``known`` map of ``pages_from_outputs`` saved by ``save_known``, or {}. Saved with
    marshal: it is read and written at every build (10,000 pages: 5 ms, against 30 ms as
    JSON)."""
    try:
        with open(path, "rb") as handle:
            version, pages = marshal.loads(handle.read())
        if version == FORMAT_VERSION and isinstance(pages, dict):
            return pages
    except (OSError, EOFError, ValueError, TypeError):
        pass
    return {}


def save_known(path, pages):
    write_if_changed(str(path), marshal.dumps((FORMAT_VERSION, pages)))


def state_path(output, settings):
    return Path(settings["CACHE_PATH"]) / "search" / output_key(output)


STATE_DAYS = 30  # the state of an output folder no build used for this long is removed


def state_folder(output, settings):
    """``CACHE_PATH/search/<digest of the output folder's path>``: what the last indexing
    into this output folder was made from. Other output folders' states not used for
    STATE_DAYS days, and the single state of older versions, are removed."""
    state = state_path(output, settings)
    root = state.parent
    if root.is_dir():
        limit = time.time() - STATE_DAYS * 86400
        for path in root.iterdir():
            if path.name == "pages.json":  # the layout before per-output states
                path.unlink()
            elif path == state:
                (path / "pages.json").unlink(missing_ok=True)  # its format before marshal
            elif path.name == "shards" or (
                path != state and path.is_dir() and path.stat().st_mtime < limit
            ):
                shutil.rmtree(path, ignore_errors=True)
    if state.is_dir():
        os.utime(state)
    return state


# --- indexing early -------------------------------------------------------------------------


class EarlyShard:
    """A shard's Pagefind started by ``start_early`` before the end of the build, on the
    prepared pages in ``work``/site, into ``work``/bundle; its log goes to a file (a pipe
    nobody reads could fill up and stop it)."""

    def __init__(self, name, fingerprint_, work, language):
        self.name, self.fingerprint, self.work = name, fingerprint_, Path(work)
        self.started = time.monotonic()
        self.log = open(self.work / "pagefind.log", "w+b")  # noqa: SIM115 (closed by discard)
        try:
            self.process = subprocess.Popen(
                pagefind_arguments(self.work / "site", self.work / "bundle", language),
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        except BaseException:
            self.log.close()
            raise

    def finish(self, bundle, timeout):
        """Wait for Pagefind (``timeout``: seconds from its start, or None), put the new
        bundle's files in ``bundle`` (``replace_folder``) and return Pagefind's log."""
        try:
            left = None
            if timeout is not None:
                left = max(0.0, timeout - (time.monotonic() - self.started))
            try:
                code = self.process.wait(left)
            except subprocess.TimeoutExpired as error:
                raise timeout_error(self.name, timeout) from error
            self.log.seek(0)
            log = self.log.read().decode("utf-8", "replace")
            if code != 0:
                raise failure_error(code, log)
            put_in_place(self.work / "bundle", bundle, update=True)
            return log
        finally:
            self.discard()

    def discard(self):
        """Stop Pagefind if it still runs, and remove the work folder."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)


_early = None  # (the build, {shard: EarlyShard}) started by start_early


def discard_early():
    """Stop and remove the early indexing not taken by ``update_index`` (a build that failed
    or was stopped after ``start_early``; at exit too)."""
    global _early
    early, _early = _early, None
    for shard in early[1].values() if early else ():
        shard.discard()


def take_early(build):
    """The early shards started for ``build`` (``start_early``), for its ``update_index``;
    any others are discarded."""
    global _early
    if _early is not None and build is not None and _early[0] is build:
        shards, _early = _early[1], None
        return shards
    discard_early()
    return {}


def render_article(generator, article):
    """The bytes of ``article``'s page as ``generate_articles`` has the writer render it,
    but with a stand-in related list (the article itself) if the real one is still being
    computed: Pagefind ignores the list, and the stand-in has the same markup around it."""
    kwargs = {
        "article": article,
        "category": getattr(article, "category", None),
        "url": article.url,
        "blog": True,
    }
    local = IncrementalWriter.local_context(
        generator.context, article.save_as, kwargs, generator.settings["RELATIVE_URLS"]
    )
    state = article.__dict__
    related = state.get("related_posts")
    pending = related is not None and not isinstance(related, list)
    if pending:
        state["related_posts"] = [article]
    try:
        return generator.get_template(article.template).render(local).encode("utf-8")
    finally:
        if pending:
            state["related_posts"] = related


def early_pages(generator, limit):
    """{output path: page bytes} of the articles ``generator`` read anew, rendered, or {}
    when there are more than ``limit`` of them (not an edit: a cold build, a new theme) or
    which are new is not known."""
    read = contents_read_now(generator)
    if not read or len(read) > limit:
        return {}
    written = {
        id(article)
        for article in chain(generator.translations, generator.articles,
                             generator.hidden_translations, generator.hidden_articles)
    }  # fmt: skip
    return {
        Path(os.path.normpath(article.save_as)).as_posix(): render_article(generator, article)
        for article in read
        if id(article) in written and article.save_as
    }


def start_early(generators):
    """``all_generators_finalized`` receiver: under an incremental build, start Pagefind on
    each existing shard that holds a page of an article the build read anew (at most
    SEARCH_EARLY of them), with those pages as the build will write them and the shard's
    other pages as the last build left them. ``update_index`` takes a shard's early bundle
    only if the shard's fingerprint at the end is the one it was made from.

    Nothing here may fail the build: a template error, say, must be reported by the build's
    own rendering, after it has saved what it read. Any error leaves the indexing to the
    end."""
    global _early
    discard_early()
    build = current_build()
    generator = next((g for g in generators if isinstance(g, ArticlesGenerator)), None)
    if build is None or generator is None:
        return
    started = {}
    try:
        settings = search_settings(generator.settings)
        if not settings["SEARCH_INDEX"] or not settings["SEARCH_EARLY"]:
            return
        output = Path(generator.output_path)
        state = state_path(output, settings)
        known = load_known(state / "pages.marshal")
        rendered = early_pages(generator, settings["SEARCH_EARLY"]) if known else {}
        if not rendered:
            return
        digests = {name: entry[3] for name, entry in known.items() if entry[3]}
        # The rendered pages are digested by prepare_early, from the parts it cuts for Pagefind.
        for name, data in rendered.items():
            digests[name] = None if BODY_MARKER in data else ""
        pages = [(name, page) for name, page in digests.items() if page != ""]
        for name, members in group_shards(pages, settings).items():
            bundle = output / settings["SEARCH_BUNDLE_DIR"] / name
            if any(relative in rendered for relative, _ in members) and bundle.is_dir():
                shard = prepare_early(name, members, rendered, output, bundle, settings, state)
                if shard is not None:
                    started[name] = shard
    except Exception as error:  # noqa: BLE001 (the build reports it, or not, as usual)
        logger.debug("search: no early indexing (%s: %s)", type(error).__name__, error)
        for shard in started.values():
            shard.discard()
        return
    if started:
        _early = (build, started)
        logger.debug("search: shards %s indexed early", ", ".join(started))


def prepare_early(name, members, rendered, output, bundle, settings, state):
    """Write the prepared pages of shard ``name`` (its ``members``; ``rendered`` pages, the
    others from ``output``) to a work folder and start Pagefind there: an ``EarlyShard``,
    fingerprinted by the digests of the very pages prepared. None when the shard's stamp
    already has that fingerprint, or anything went wrong (the shard is then indexed at the
    end as usual)."""
    work = None
    pages = []  # (relative path, digest) of the very bytes prepared

    def digested(items):
        for relative, part in items:
            pages.append((relative, file_digest(part)))
            yield relative, part

    try:
        needed = pages_size(output, members, rendered)
        root = work_roots(settings["SEARCH_WORK_PATH"], state, needed, ram_free())[0]
        os.makedirs(root, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=work_prefix(name), dir=root))
        parts = {relative: indexed_part(rendered[relative])
                 for relative, _ in members if relative in rendered}  # fmt: skip
        write_prepared(work / "site", digested(page_parts(output, members, parts)))
        fingerprint_ = fingerprint(pages, settings)
        if Stamps(state / "shards").current(name, fingerprint_, bundle) is not None:
            shutil.rmtree(work, ignore_errors=True)
            return None
        return EarlyShard(name, fingerprint_, work, settings["SEARCH_LANGUAGE"])
    except (OSError, SearchError) as error:  # a page gone, RAM full…
        logger.debug("search: shard %s not indexed early (%s)", name, error)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        return None


def finish_early(shard, output, pages, bundle, settings, state):
    """Put the early ``shard``'s bundle in place; if its Pagefind failed (other than by
    running out of time), index the shard as usual (``index_shard``)."""
    try:
        return shard.finish(bundle, settings["SEARCH_TIMEOUT"])
    except SearchTimeout:
        raise
    except (OSError, SearchError) as error:
        logger.debug("search: early shard %s failed (%s), indexed again", shard.name, error)
    return index_shard(output, pages, bundle, settings, state)


atexit.register(discard_early)


# --- bringing the shards up to date -----------------------------------------------------------


def digested_pages(output, pages):
    """``pages`` with the digests not known (None: pages new or written again, every page in
    a cold build) made, and {path: indexed part} of those pages: each is cut once
    (``indexed_part``), its digest made from the very part Pagefind is then given."""
    parts, done = {}, []
    for relative, page in pages:
        if page is None:
            part = parts[relative] = indexed_part((Path(output) / relative).read_bytes())
            page = file_digest(part)
        done.append((relative, page))
    return done, parts


def _index_shards(names, shards, entries, output, settings, state, early):
    """Bring the shards ``names`` up to date, in that order: ``entries`` gets the bytes of
    each one's pagefind-entry.json, ``shards`` every page's digest. Return [(shard, how)] of
    those indexed, how: "early" (``start_early``'s bundle taken) or "indexed".

    A shard is digested first where its digests are not all known (``digested_pages``), and
    left as it is if its stamp has its fingerprint (nothing changed, or only what Pagefind
    does not read: a setting shown on every page). This thread does that Python work, one
    shard at a time, while the pool's threads wait for the Pagefind of the shards before:
    two threads cutting pages at once would take turns on the interpreter's lock, and take
    longer than one. At most one shard more than the pool's threads is digested ahead (its
    parts are kept for Pagefind: a year of 1,250 pages is about 5 MB). A shard that fails
    stops the shards not started; the running ones finish."""
    stamps = Stamps(state / "shards")
    bundle = Path(output) / settings["SEARCH_BUNDLE_DIR"]
    threads = min(workers(settings), len(names))
    ahead = threading.Semaphore(threads + 1)
    fingerprints = {}
    running = {}  # shard → (future, how)
    handed = []  # the early shards given to the pool
    with ThreadPoolExecutor(max_workers=threads) as pool:  # its threads start at a submit
        try:
            for name in names:
                ahead.acquire()
                for future, _ in running.values():
                    if future.done():
                        future.result()  # raises the shard's error, if any
                shards[name], parts = digested_pages(output, shards[name])
                fingerprints[name] = fingerprint(shards[name], settings)
                entry = stamps.current(name, fingerprints[name], bundle / name)
                if entry is not None:
                    entries[name] = entry
                    ahead.release()
                    continue
                if not running:
                    clear_work_folders(state, settings)
                shard = early.pop(name, None)
                if shard is not None and shard.fingerprint == fingerprints[name]:
                    handed.append(shard)
                    future = pool.submit(finish_early, shard, output, shards[name],
                                         bundle / name, settings, state)  # fmt: skip
                    how = "early"
                else:
                    if shard is not None:
                        shard.discard()
                    future = pool.submit(index_shard, output, shards[name], bundle / name,
                                         settings, state, parts)  # fmt: skip
                    how = "indexed"
                future.add_done_callback(lambda _: ahead.release())
                running[name] = future, how
            for name, (future, _) in running.items():
                future.result()
                entries[name] = (bundle / name / ENTRY_FILE).read_bytes()
                stamps.save(name, fingerprints[name], entries[name])
        except BaseException:
            # A shard failed or the build was stopped: start no other shard (leaving the
            # pool would otherwise wait for all of them; the running ones finish).
            pool.shutdown(cancel_futures=True)
            for shard in handed:  # those of the shards never started
                shard.discard()
            raise
    return [(name, how) for name, (_, how) in running.items()]


def clear_work_folders(state, settings):
    """Before the first shard is indexed: make the state folder, and remove what killed
    builds left in the work folders (``remove_leftovers``)."""
    state.mkdir(parents=True, exist_ok=True)
    for folder in (RAM_FOLDER, state, settings["SEARCH_WORK_PATH"]):
        if folder:
            remove_leftovers(folder)


def known_digests(known, shards):
    """``known`` (``pages_from_outputs``) with the digests made by ``digested_pages``:
    ``shards`` maps each shard to its pages, every digest known."""
    for pages in shards.values():
        for relative, page in pages:
            entry = known.get(relative)
            if entry is not None:
                entry[3] = page
    return known


def workers(settings):
    return settings["SEARCH_WORKERS"] or os.cpu_count() or 1


def update_index(output, settings, outputs=None, early=None):
    """Index the shards of ``output`` whose pages changed since their last indexing.

    ``outputs``: the build's output files (``incremental.build_outputs``); without them
    every HTML file of ``output`` is read. ``early``: {shard: EarlyShard} started for this
    build (``take_early``); each is used if its fingerprint is the shard's, else discarded."""
    early = dict(early or {})
    try:
        return _update_index(output, settings, outputs, early)
    finally:
        for shard in early.values():  # not used
            shard.discard()


def _update_index(output, settings, outputs, early):
    started = time.perf_counter()
    output = Path(output)
    bundle = output / settings["SEARCH_BUNDLE_DIR"]
    state = state_folder(output, settings)
    stamps = Stamps(state / "shards")
    known = seen = None
    if outputs is None:
        pages, read = find_pages(output, settings["SEARCH_BUNDLE_DIR"])
    else:
        known = load_known(state / "pages.marshal")
        pages, seen, read = pages_from_outputs(
            output, outputs, settings["SEARCH_BUNDLE_DIR"], known
        )
    shards = group_shards(pages, settings)
    order = shard_order(shards)
    result = IndexResult(pages=[relative for relative, _ in pages], shards=order, read=read)

    if not pages:
        # A new site with nothing published yet: no index (the search page says so).
        logger.info("search: no page marked data-pagefind-body, no index")
        shutil.rmtree(bundle, ignore_errors=True)
        stamps.keep_only(())
        if seen is not None and seen != known:
            save_known(state / "pages.marshal", seen)
        result.seconds = time.perf_counter() - started
        return result

    entries = {}  # shard → bytes of its pagefind-entry.json
    # The early ones first (their Pagefind may be done), then the largest shards: the pool
    # then ends with the small ones.
    names = sorted(order, key=lambda name: (name not in early, -len(shards[name])))
    indexed = _index_shards(names, shards, entries, output, settings, state, early)
    result.indexed = shard_order([name for name, _ in indexed])
    result.early = shard_order([name for name, how in indexed if how == "early"])
    if seen is not None:
        seen = known_digests(seen, shards)
        if seen != known:
            save_known(state / "pages.marshal", seen)

    # Only the shards and shards.json: remove gone shards and anything else (an older layout).
    for path in sorted(bundle.iterdir()):
        if path.is_dir() and path.name not in shards:
            shutil.rmtree(path)
        elif path.is_file() and path.name != SHARDS_FILE:
            path.unlink()
    stamps.keep_only(shards)
    language = settings["SEARCH_LANGUAGE"]
    listed = []
    for name in order:
        listed.append((name, json.loads(entries[name])["languages"][language]["hash"]))
    write_if_changed(str(bundle / SHARDS_FILE), shards_manifest(listed))

    result.seconds = time.perf_counter() - started
    return result


# --- signal receivers -------------------------------------------------------------------------


def set_default_settings(pelican):
    for key, value in DEFAULTS.items():
        pelican.settings.setdefault(key, value)


def index_site(pelican):
    early = take_early(getattr(pelican, "incremental_build", None))
    settings = search_settings(pelican.settings)
    if not settings["SEARCH_INDEX"]:
        logger.info("search: SEARCH_INDEX is off, no search index written")
        return
    result = update_index(pelican.output_path, settings, build_outputs(pelican), early)
    if result.skipped:
        logger.info(
            "search: %d pages in %d shards unchanged, index kept (%d pages read, %.2f s)",
            len(result.pages), len(result.shards), result.read, result.seconds,
        )  # fmt: skip
    else:
        logger.info(
            "search: indexed %d of %d shards (%s; %d started early), %d pages in all, in "
            "%.2f s",
            len(result.indexed), len(result.shards), ", ".join(result.indexed),
            len(result.early), len(result.pages), result.seconds,
        )  # fmt: skip


def register():
    signals.initialized.connect(set_default_settings)
    signals.finalized.connect(index_site)
    signals.all_generators_finalized.connect(start_early)
