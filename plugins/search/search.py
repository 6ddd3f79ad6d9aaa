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
temporary folder.

Pagefind cannot update an index, only rebuild it. When the indexed pages are byte for byte
the same as at the last indexing (a fingerprint kept in ``CACHE_PATH``) and the bundle is
still there, indexing is skipped.

The search page itself is Pelican's direct template "search" (theme/templates/search.html),
written to ``SEARCH_SAVE_AS``; the header form on every page submits to ``SEARCH_URL``.

Settings:
    SEARCH_INDEX = True               # build the index (False: no index, e.g. quick previews)
    SEARCH_BUNDLE_DIR = "pagefind"    # folder of the index in the output, and its URL path
    SEARCH_LANGUAGE = "vi"            # one index for every page, whatever its lang says
    SEARCH_URL = "tim-kiem.html"      # the search page (add "search" to DIRECT_TEMPLATES)
    SEARCH_SAVE_AS = "tim-kiem.html"
"""

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pelican import signals

from plugins.vn_text import decompose_d, nfc

logger = logging.getLogger(__name__)

DEFAULTS = {
    "SEARCH_INDEX": True,
    "SEARCH_BUNDLE_DIR": "pagefind",
    "SEARCH_LANGUAGE": "vi",
    "SEARCH_URL": "tim-kiem.html",
    "SEARCH_SAVE_AS": "tim-kiem.html",
}

# Pages Pagefind should index carry this attribute (and Pagefind skips pages without it).
BODY_MARKER = b"data-pagefind-body"
# Bumped whenever the prepared form of a page changes, so old fingerprints stop matching.
FORMAT_VERSION = "1"
ENTRY_FILE = "pagefind-entry.json"


class SearchError(Exception):
    pass


@dataclass
class IndexResult:
    pages: list = field(default_factory=list)  # relative paths of the indexed pages
    skipped: bool = False
    words: int = 0
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)  # read, prepare, pagefind (seconds)


def search_settings(settings):
    """Our settings with the defaults filled in (``settings`` is not changed)."""
    merged = dict(DEFAULTS)
    merged.update({key: value for key, value in settings.items() if key.startswith("SEARCH_")})
    merged["CACHE_PATH"] = settings.get("CACHE_PATH", "cache")
    return merged


def prepare_page(data):
    """The form of a page Pagefind reads: NFC, đ written as d + U+0335 (``decompose_d``)."""
    return decompose_d(nfc(data.decode("utf-8"))).encode("utf-8")


def find_pages(output, bundle_dir):
    """(relative path, bytes) of every HTML page marked for indexing, sorted by path."""
    output = Path(output)
    pages = []
    for directory, subdirs, files in os.walk(output):
        if Path(directory) == output and bundle_dir in subdirs:
            subdirs.remove(bundle_dir)
        subdirs.sort()
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            path = Path(directory) / name
            data = path.read_bytes()
            if BODY_MARKER in data:
                pages.append((path.relative_to(output).as_posix(), data))
    pages.sort()
    return pages


def fingerprint(pages, settings):
    """SHA-256 of the pages (paths and bytes) and of what else shapes the index."""
    digest = hashlib.sha256()
    for part in (FORMAT_VERSION, pagefind_version(), settings["SEARCH_LANGUAGE"]):
        digest.update(part.encode("utf-8") + b"\0")
    for relative, data in pages:
        digest.update(relative.encode("utf-8") + b"\0")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def pagefind_version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pagefind")
    except PackageNotFoundError:
        return "unknown"


def write_prepared(folder, pages):
    for relative, data in pages:
        target = Path(folder) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(prepare_page(data))


def run_pagefind(site, bundle, language):
    """Index the HTML files of ``site`` into ``bundle`` with Pagefind's CLI; return its log."""
    command = [
        sys.executable, "-m", "pagefind",
        "--site", str(site),
        "--output-path", str(bundle),
        "--force-language", language,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SearchError(
            f"search: Pagefind không tạo được chỉ mục tìm kiếm (Pagefind failed, exit code "
            f"{result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def indexed_word_count(log):
    """The "Indexed N words" figure of Pagefind's log (0 when absent)."""
    for line in log.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "Indexed" and parts[2] == "words":
            return int(parts[1])
    return 0


def replace_folder(new, target):
    """Make ``target`` hold exactly the files of ``new``: files whose bytes are unchanged are
    left alone (their mtime kept, so an upload sends only what changed), changed ones are
    replaced atomically, and files Pagefind no longer produces (stale chunks) are removed."""
    from plugins.incremental.state import write_if_changed

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


def update_index(output, settings):
    """Index the marked pages of ``output`` unless they are unchanged since the last run."""
    started = time.perf_counter()
    output = Path(output)
    bundle = output / settings["SEARCH_BUNDLE_DIR"]
    pages = find_pages(output, settings["SEARCH_BUNDLE_DIR"])
    result = IndexResult(pages=[relative for relative, _ in pages])
    state = Path(settings["CACHE_PATH"]) / "search"
    stamp = state / "fingerprint"
    current = fingerprint(pages, settings)
    result.timings["read"] = time.perf_counter() - started
    if (bundle / ENTRY_FILE).is_file() and stamp.is_file() and stamp.read_text() == current:
        result.skipped = True
        result.seconds = time.perf_counter() - started
        return result
    state.mkdir(parents=True, exist_ok=True)
    if not pages:
        # A new site with nothing published yet: no index (the search page says so).
        logger.info("search: no page marked data-pagefind-body, no index")
        shutil.rmtree(bundle, ignore_errors=True)
        stamp.write_text(current)
        result.skipped = True
        result.seconds = time.perf_counter() - started
        return result
    with tempfile.TemporaryDirectory(prefix="work-", dir=state) as work:
        site = Path(work) / "site"
        site.mkdir()
        write_prepared(site, pages)
        result.timings["prepare"] = time.perf_counter() - started - result.timings["read"]
        log = run_pagefind(site, Path(work) / "bundle", settings["SEARCH_LANGUAGE"])
        replace_folder(Path(work) / "bundle", bundle)
    result.words = indexed_word_count(log)
    stamp.write_text(current)
    result.seconds = time.perf_counter() - started
    result.timings["pagefind"] = result.seconds - result.timings["read"] - result.timings["prepare"]
    return result


def set_default_settings(pelican):
    for key, value in DEFAULTS.items():
        pelican.settings.setdefault(key, value)


def index_site(pelican):
    settings = search_settings(pelican.settings)
    if not settings["SEARCH_INDEX"]:
        logger.info("search: SEARCH_INDEX is off, no search index written")
        return
    result = update_index(pelican.output_path, settings)
    if result.skipped:
        logger.info(
            "search: %d pages unchanged, index kept (%.2f s)", len(result.pages), result.seconds
        )
    else:
        logger.info(
            "search: indexed %d pages, %d words, in %.2f s (Pagefind %.2f s)",
            len(result.pages), result.words, result.seconds, result.timings["pagefind"],
        )  # fmt: skip


def register():
    signals.initialized.connect(set_default_settings)
    signals.finalized.connect(index_site)
