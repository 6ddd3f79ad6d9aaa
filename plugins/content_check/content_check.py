"""content_check: staff mistakes are caught with a clear message, never silently published.

The same rules (``rules.py``) run in three places:

- ``make check`` (``python -m plugins.content_check``): every file, no build, exit 1 on error;
- every build: the Markdown reader below refuses a bad file with the same message, and
  the build stops (``--fatal errors``); warnings are logged;
- ``make publish`` (``tools/publish.py``): the check first, then the build.

What the build itself does about content:

- Reads UTF-8 only (a BOM is allowed); legacy encodings are refused (``make fix`` converts).
- Dates day first, never guessed: ``YYYY-MM-DD HH:MM`` or ``DD/MM/YYYY HH:MM``.
- ``Summary:`` is plain text, escaped wherever it is shown (HTML, feeds).
- Two articles whose URLs would collide (same title, same month) both get published: the
  later ones get a date suffix (``-2024-03-28``). Two files with the same explicit
  ``Slug:`` stop the build, naming both files.
- When ``DRAFT_SAVE_AS`` is empty (publishconf.py) drafts, and future-dated articles (which
  Pelican turns into drafts), are dropped entirely: no file, link, feed or sitemap entry.

``check_tree`` remembers each file's report in CACHE_PATH/content_check/ (``CheckCache``):
a file is checked again only when it, or a file its rules looked at (a linked article, an
image), changed since (size, mtime, ctime, inode), or when the settings, the plugins' code
or the working folder did. The rules across files always run on every report.

Settings:
    CONTENT_CHECK_SUFFIX_FORMAT = "-{date:%Y-%m-%d}"   # suffix for colliding URLs
"""

import html
import logging
import os
import pickle

from markdown import Markdown
from pelican import signals
from pelican.generators import Generator
from pelican.readers import (
    _DISCARD,
    DUPLICATES_DEFINITIONS_ALLOWED,
    MarkdownReader,
    ensure_metadata_list,
)
from pelican.urlwrappers import Tag
from pelican.utils import SafeDatetime

from plugins.content_check.fast_markdown import prefilter
from plugins.content_check.rules import (
    ERROR,
    WARNING,
    Problem,
    check_reports,
    check_source,
)
from plugins.incremental.collector import paused_collection
from plugins.incremental.fingerprint import (
    build_key,
    digest,
    file_digest,
    file_signature,
    tree_files,
)
from plugins.incremental.readers import SettingsCache
from plugins.photos.photos import display_path
from plugins.vn_text import parse_date

logger = logging.getLogger(__name__)

DEFAULTS = {
    "CONTENT_CHECK_SUFFIX_FORMAT": "-{date:%Y-%m-%d}",
}
MARKDOWN_EXTENSIONS = tuple(MarkdownReader.file_extensions)


class ContentError(Exception):
    """A content file that must not be published; the message names the file and line."""


# Messages of the files refused in this build; the build stops once all are read.
_refused = []


def content_kind(relative, settings):
    page_paths = [p.rstrip("/") + "/" for p in settings.get("PAGE_PATHS", ["pages"])]
    return "page" if relative.startswith(tuple(page_paths)) else "article"


def check_file(path, settings, data=None):
    """Run the single-file rules on ``path``; returns its ``SourceReport``."""
    if data is None:
        with open(path, "rb") as handle:
            data = handle.read()
    content_root = settings["PATH"]
    relative = os.path.relpath(path, content_root).replace(os.sep, "/")
    report = check_source(
        display_path(path),
        data,
        kind=content_kind(relative, settings),
        content_root=content_root,
        settings=settings,
        relative=relative,
    )
    if report.encoding == "utf-8":
        # Images: the photos plugin knows formats, sizes and captions.
        from plugins.photos.photos import DEFAULTS as PHOTOS_DEFAULTS
        from plugins.photos.photos import audit_images

        defaults = PHOTOS_DEFAULTS
        prefixes = settings.get("PHOTOS_CONTENT_PREFIXES", defaults["PHOTOS_CONTENT_PREFIXES"])
        max_pixels = settings.get("PHOTOS_MAX_PIXELS", defaults["PHOTOS_MAX_PIXELS"])
        body = "\n" * (report.body_line - 1) + "\n".join(
            report.text.split("\n")[report.body_line - 1 :]
        )
        for problem in audit_images(path, body, content_root, tuple(prefixes), max_pixels,
                                    report.look_at):  # fmt: skip
            report.problems.append(
                Problem(report.path, problem.line, problem.level, problem.message)
            )
    return report


def source_files(settings, others=None):
    """Every Markdown file Pelican will read as an article or a page, sorted: Pelican's own
    ``Generator.get_files`` picks them (ARTICLE_PATHS and PAGE_PATHS less ARTICLE_EXCLUDES,
    PAGE_EXCLUDES and IGNORE_FILES), so the check and the build see the same files. Other
    files found there (which will not be published) are appended to ``others``."""
    root = settings["PATH"]
    finder = Generator(context={}, settings=settings, path=root, theme=settings["THEME"],
                       output_path=settings["OUTPUT_PATH"])  # fmt: skip
    found = []
    for kind in ("ARTICLE", "PAGE"):
        paths, excludes = settings[f"{kind}_PATHS"], settings[f"{kind}_EXCLUDES"]
        for relative in finder.get_files(paths, exclude=excludes, extensions=False):
            path = os.path.join(root, relative)
            if os.path.splitext(relative)[1][1:] in MARKDOWN_EXTENSIONS:
                found.append(path)
            elif others is not None and ".bak" not in os.path.basename(relative):
                others.append(path)
    return sorted(set(found))


def static_urls(settings):
    """Output paths of the static files (images …), for checking links to them."""
    root = settings["PATH"]
    urls = set()
    for folder in settings.get("STATIC_PATHS", []):
        # Links followed, as Pelican follows them when it copies static files.
        base = os.path.join(root, folder)
        for relative, _ in tree_files(base):
            urls.add(os.path.relpath(os.path.join(base, relative), root).replace(os.sep, "/"))
    return urls


class CheckCache(SettingsCache):
    """The reports of the last check, per file, with the signatures of the file and of the
    files its rules looked at (``SourceReport.files``). One cache file per settings, plugins'
    code, content folder and working folder (messages name files relative to it)."""

    PREFIX = "reports-"
    SUFFIX = ".pickle"
    SERIALIZER = pickle
    FORMAT = 1  # bumped when SourceReport changes

    def __init__(self, settings):
        key = digest(build_key(settings), settings["PATH"], os.getcwd())
        super().__init__(os.path.join(settings["CACHE_PATH"], "content_check"), key)

    def report(self, path, settings):
        """The report of ``path``: remembered if nothing it depends on changed, else made."""
        signature = file_signature(path)  # before reading: a later write is seen next time
        entry = self.entries.get(path)
        self.used.add(path)
        if (
            entry is not None
            and entry[0] == signature
            and all(file_signature(p) == known for p, known in entry[1].items())
        ):
            return entry[2]
        report = check_file(path, settings)
        report.text = ""  # not needed after the rules of one file; keeps the cache small
        self.entries[path] = (signature, report.files, report)
        self.changed = True
        return report


def check_tree(settings, cache=True):
    """All rules on all content files: returns (reports, problems) with problems sorted.
    ``cache``: reuse the reports of files unchanged since the last check (``CheckCache``).
    The reports live until the check ends and make no cyclic garbage: the cycle collector
    is paused meanwhile (about 0.2 s of 1.2 s after one edit at 10,000 articles)."""
    with paused_collection():
        return _check_tree(settings, cache)


def _check_tree(settings, cache):
    others = []
    files = source_files(settings, others)
    if cache:
        remembered = CheckCache(settings)
        reports = [remembered.report(path, settings) for path in files]
        remembered.save()
    else:
        reports = [check_file(path, settings) for path in files]
    problems = [problem for report in reports for problem in report.problems]
    for path in sorted(set(others)):
        problems.append(Problem(display_path(path), 1, WARNING,
            "tệp này không phải bài viết Markdown (.md) nên sẽ không được đăng "
            "(not a Markdown file: it will not be published)"))  # fmt: skip
    problems.extend(check_reports(reports, settings, static_urls(settings)))
    problems.sort(key=lambda p: (p.path, p.line, p.level != ERROR, p.message))
    return reports, problems


class CheckedMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader with our rules: strict encoding and dates, plain-text
    summaries, one Markdown instance reused for every file (much faster than Pelican's
    new instance per file), its slowest searches skipped where they cannot match
    (``fast_markdown.py``: the same HTML).

    ``read_raw`` gives the HTML and the metadata as strings (what a cache can keep, or a
    worker process can send back) and the digest of the bytes it parsed (the cache's key
    for them); ``metadata_from_raw`` turns those into Pelican's values.
    """

    last_raw = None  # (path, html, raw metadata, digest of the bytes) of the last file read

    def read_raw(self, source_path):
        """(html, {key: [strings]}, [warning messages], SHA-1 of the bytes parsed); raises
        ContentError on errors. The digest is of the bytes read here, once: a file saved
        again since a cache computed its key is never cached under that older key."""
        with open(source_path, "rb") as handle:
            data = handle.read()
        report = check_file(source_path, self.settings, data)
        errors = [p for p in report.problems if p.level == ERROR]
        if errors:
            raise ContentError("\n".join(problem.format() for problem in errors))
        if getattr(self, "_shared_md", None) is None:
            self._shared_md = Markdown(**self.settings["MARKDOWN"])
            prefilter(self._shared_md)  # the same HTML, sooner (fast_markdown.py)
        md = self._shared_md
        md.reset()
        html = md.convert(report.text)
        meta = {key.lower(): list(values) for key, values in getattr(md, "Meta", {}).items()}
        md.reset()
        warnings = [p.format() for p in report.problems if p.level == WARNING]
        return html, meta, warnings, file_digest(data)

    def read(self, source_path):
        self._source_path = source_path
        try:
            html, meta, warnings, key = self.read_raw(source_path)
        except ContentError as error:
            # Logged here too: Pelican logs a failed file without the exception's message.
            _refused.append(str(error))
            logger.error("content_check: %s", error)
            raise
        for warning in warnings:
            logger.warning("content_check: %s", warning)
        self.last_raw = (source_path, html, meta, key)
        return html, self.metadata_from_raw(meta)

    def metadata_from_raw(self, meta):
        return self._parse_metadata(meta)

    def _parse_metadata(self, meta):
        # Pelican's version de-registers the meta preprocessor of the shared Markdown
        # instance (to format fields with it); no field is formatted here (summary is
        # plain text), so the instance stays intact for the next file.
        output = {}
        for name, values in meta.items():
            name = name.lower()
            if not DUPLICATES_DEFINITIONS_ALLOWED.get(name, True) or len(values) == 1:
                output[name] = self.process_metadata(name, values[0])
            else:
                output[name] = self.process_metadata(name, values)
        return output

    def process_metadata(self, name, value):
        if name in ("category", "author", "tags"):
            # One Category/Tag/Author object per name for all files: Pelican makes one per
            # file, each computing its slug again.
            return self._interned(name, value)
        if name in ("date", "modified"):
            return SafeDatetime(*parse_date(value).timetuple()[:6])
        if name == "summary":
            if not value.strip():
                return _DISCARD
            return f"<p>{html.escape(value.strip(), quote=False)}</p>"
        return super().process_metadata(name, value)


    def _interned(self, name, value):
        table = self.__dict__.setdefault("_interned_metadata", {})
        if name == "tags":
            tags = []
            for tag in ensure_metadata_list(value):
                if ("tag", tag) not in table:
                    table[("tag", tag)] = Tag(tag, self.settings)
                tags.append(table[("tag", tag)])
            return tags or _DISCARD
        key = (name, value if isinstance(value, str) else tuple(value))
        if key not in table:
            table[key] = super().process_metadata(name, value)
        return table[key]


def use_checked_reader(readers):
    for extension in MARKDOWN_EXTENSIONS:
        readers.reader_classes[extension] = CheckedMarkdownReader


def deduplicate_urls(generator):
    """Give colliding articles distinct URLs; stop on duplicate explicit slugs."""
    settings = generator.settings
    suffix_format = settings.get(
        "CONTENT_CHECK_SUFFIX_FORMAT", DEFAULTS["CONTENT_CHECK_SUFFIX_FORMAT"]
    )
    for group in (generator.articles, generator.drafts, generator.hidden_articles):
        by_save_as = {}
        for article in sorted(group, key=lambda a: (a.date, a.source_path)):
            if article.save_as:  # drafts in the public build have none: never written
                by_save_as.setdefault(article.save_as, []).append(article)
        taken = set(by_save_as)
        for _, same in sorted(by_save_as.items()):
            if len(same) < 2:
                continue
            explicit = [a for a in same if "slug" in a.metadata]
            if len(explicit) > 1:
                names = ", ".join(display_path(a.source_path) for a in explicit)
                slug = explicit[0].slug
                message = (
                    f'{names}: dùng chung Slug "{slug}"; mỗi bài cần một Slug riêng '
                    f'(files share the Slug "{slug}")'
                )
                _refused.append(message)
                logger.error("content_check: %s", message)
            keep = explicit[0] if explicit else same[0]
            for article in same:
                if article is keep:
                    continue
                base = article.slug
                candidate = base + suffix_format.format(date=article.date)
                number = 2
                article.slug = candidate
                while article.save_as in taken:
                    article.slug = f"{candidate}-{number}"
                    number += 1
                taken.add(article.save_as)


def drop_unpublished(generator):
    """In the public build (DRAFT_SAVE_AS empty) drafts and future articles vanish."""
    if generator.settings.get("DRAFT_SAVE_AS"):
        return
    generator.drafts = []
    generator.drafts_translations = []
    generator.context["drafts"] = []


def drop_unpublished_pages(generator):
    if generator.settings.get("DRAFT_PAGE_SAVE_AS"):
        return
    generator.draft_pages = []
    generator.draft_translations = []
    generator.context["draft_pages"] = []


def stop_if_refused(generators):
    """Pelican logs a refused file and goes on; we stop before anything is written, once
    every file has been read (so every bad file is named)."""
    if _refused:
        message = "\n".join(_refused)
        _refused.clear()
        raise ContentError(message)


def forget_refused(pelican):
    _refused.clear()


def register():
    signals.initialized.connect(forget_refused)
    signals.all_generators_finalized.connect(stop_if_refused)
    signals.readers_init.connect(use_checked_reader)
    signals.article_generator_pretaxonomy.connect(deduplicate_urls)
    signals.article_generator_finalized.connect(drop_unpublished)
    signals.page_generator_finalized.connect(drop_unpublished_pages)
