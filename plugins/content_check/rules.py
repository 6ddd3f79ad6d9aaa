"""The content rules, as plain functions: no Pelican objects.

``check_source`` reads one Markdown file's bytes and returns a ``SourceReport``: the decoded
NFC text, the metadata header, and the problems found, each with a line number and a
message in Vietnamese with the English in brackets. ``check_reports`` adds the rules that
need every file at once (duplicate slugs and titles, links between files).
"""

import os
import re
from dataclasses import dataclass, field

from plugins.incremental.fingerprint import file_signature
from plugins.vn_text import nfc, parse_date, slugify
from plugins.vn_text.legacy import decode_bytes

ERROR = "error"
WARNING = "warning"
LEVEL_NAMES = {ERROR: "lỗi", WARNING: "cảnh báo"}

ENCODING_NAMES = {
    "utf-16": "UTF-16",
    "windows-1258": "Windows-1258",
    "tcvn3": "TCVN3 (ABC, phông .Vn)",
    "vni": "VNI (phông VNI-Times)",
}

KNOWN_KEYS = {
    "title", "date", "modified", "category", "tags", "author", "authors", "summary", "slug",
    "status", "lang", "template", "related", "save_as", "url", "translation", "image",
}  # fmt: skip
REQUIRED_KEYS = ("title", "date", "category")
STATUSES = {"published", "draft", "hidden"}
MAX_TITLE_LENGTH = 160

_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9_-]*)\s*:\s?(?P<value>.*)$")
_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\(\s*<?(?P<target>[^)\s>]*)>?"
                   r"(?:\s+[\"'](?P<title>[^\"']*)[\"'])?\s*\)")  # fmt: skip
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s+[\"'(].*)?$")
_INTERNAL = re.compile(r"^[{|](?P<kind>filename|static|attach)[}|](?P<path>.*)$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_SCRIPT = re.compile(r"<\s*script\b", re.IGNORECASE)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


@dataclass
class Problem:
    path: str
    line: int
    level: str
    message: str

    def format(self):
        return f"{self.path}:{self.line}: {LEVEL_NAMES[self.level]}: {self.message}"


@dataclass
class Link:
    line: int
    target: str


@dataclass
class SourceReport:
    path: str  # as shown in messages, e.g. content/articles/2021/x.md
    kind: str  # "article" or "page"
    text: str = ""
    encoding: str = "utf-8"
    metadata: dict = field(default_factory=dict)  # key → (value, line)
    body_line: int = 1
    date: object = None
    links: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    files: dict = field(default_factory=dict)  # path → file_signature: what the rules looked at

    def look_at(self, path):
        """Record that a rule looks at ``path`` on disk (taken before it does, so a change
        made while checking is seen next time)."""
        if path not in self.files:
            self.files[path] = file_signature(path)

    def add(self, line, level, vietnamese, english):
        self.problems.append(Problem(self.path, line, level, f"{vietnamese} ({english})"))

    def value(self, key, default=None):
        return self.metadata.get(key, (default, None))[0]

    def line_of(self, key):
        return self.metadata.get(key, (None, 1))[1] or 1

    @property
    def title(self):
        return nfc(self.value("title", "") or "").strip()

    @property
    def slug(self):
        explicit = (self.value("slug") or "").strip()
        return explicit or slugify(self.title)

    @property
    def errors(self):
        return [p for p in self.problems if p.level == ERROR]


def parse_header(text):
    """Split a Markdown source into its ``Key: value`` header and body.

    Returns (metadata, body_line, header_problems) where metadata maps the lower-cased key
    to (value, line number) and body_line is the first line of the body.
    """
    lines = text.split("\n")
    metadata = {}
    problems = []
    index = 0
    if lines and lines[0].strip() == "---":
        index = 1
    last_key = None
    separator = 0
    while index < len(lines):
        line = lines[index].rstrip("\r")
        number = index + 1
        if not line.strip() or (index > 0 and line.strip() in ("---", "...")):
            separator = 1
            break
        match = _HEADER_LINE.match(line)
        if match:
            last_key = match.group("key").lower()
            if last_key in metadata:
                problems.append((number, last_key))
            metadata[last_key] = (match.group("value").strip(), number)
        elif last_key and line.startswith((" ", "\t")):
            value, first = metadata[last_key]
            metadata[last_key] = (f"{value} {line.strip()}".strip(), first)
        else:
            break
        index += 1
    return metadata, index + 1 + separator, problems


def _first_changed_line(original, converted):
    pairs = zip(original.split("\n"), converted.split("\n"), strict=False)
    for number, (a, b) in enumerate(pairs, 1):
        if a != b:
            return number
    return 1


def _check_encoding(report, data):
    text, encoding = decode_bytes(data)
    report.text, report.encoding = text, encoding
    if encoding == "utf-8":
        return True
    line = 1
    if encoding in ("tcvn3", "vni"):
        line = _first_changed_line(data.decode("utf-8", errors="replace"), text)
    name = ENCODING_NAMES[encoding]
    report.add(
        line,
        ERROR,
        f"tệp được gõ bằng bảng mã {name}, không phải Unicode UTF-8; "
        "hãy chạy `make fix` để chuyển sang UTF-8 (tệp cũ được giữ lại dạng .bak)",
        f"file is in the {encoding} encoding, not UTF-8: run `make fix` to convert it",
    )
    return False


def _check_metadata(report, settings):
    metadata = report.metadata
    if not metadata:
        report.add(
            1,
            ERROR,
            "tệp không có phần thông tin đầu bài (các dòng Title:, Date:, Category: …) "
            "ở đầu tệp",
            "no metadata header (Title:, Date:, Category: …) at the top of the file",
        )
        return
    required = REQUIRED_KEYS if report.kind == "article" else ("title",)
    names = {"title": "Title (tiêu đề)", "date": "Date (ngày đăng)", "category": "Category"}
    for key in required:
        value = report.value(key)
        if value is None:
            report.add(
                1,
                ERROR,
                f"thiếu dòng {names[key]}",
                f"missing {key.capitalize()}",
            )
        elif not value.strip():
            report.add(
                report.line_of(key),
                ERROR,
                f"dòng {names[key]} đang để trống",
                f"{key.capitalize()} is empty",
            )
    title = report.title
    if len(title) > MAX_TITLE_LENGTH:
        report.add(
            report.line_of("title"),
            WARNING,
            f"tiêu đề dài {len(title)} ký tự, nên ngắn hơn {MAX_TITLE_LENGTH}",
            f"title is {len(title)} characters long, over {MAX_TITLE_LENGTH}",
        )
    date = report.value("date")
    if date and date.strip():
        try:
            report.date = parse_date(date)
        except ValueError as error:
            report.problems.append(Problem(report.path, report.line_of("date"), ERROR,
                                           str(error)))  # fmt: skip
    modified = report.value("modified")
    if modified and modified.strip():
        try:
            parse_date(modified)
        except ValueError as error:
            report.problems.append(Problem(report.path, report.line_of("modified"), ERROR,
                                           str(error)))  # fmt: skip
    status = (report.value("status") or "published").strip().lower()
    if status not in STATUSES:
        report.add(
            report.line_of("status"),
            ERROR,
            f'trạng thái "{status}" không hợp lệ; dùng draft (bản nháp), published hoặc hidden',
            f'unknown Status "{status}": use draft, published or hidden',
        )
    category = nfc(report.value("category") or "").strip()
    known = [nfc(name) for name in settings.get("SITE_CATEGORIES", [])]
    if report.kind == "article" and category and known and category not in known:
        report.add(
            report.line_of("category"),
            WARNING,
            f'chuyên mục "{category}" chưa có trong danh sách SITE_CATEGORIES '
            f"({', '.join(known)}); kiểm tra lỗi gõ",
            f'category "{category}" is not in SITE_CATEGORIES: a typo?',
        )
    slug = (report.value("slug") or "").strip()
    if slug and slug != slugify(slug):
        report.add(
            report.line_of("slug"),
            ERROR,
            f'Slug "{slug}" chỉ được gồm chữ thường không dấu, số và dấu gạch ngang '
            f'(ví dụ "{slugify(slug)}")',
            f'Slug "{slug}" must be lower-case ASCII letters, digits and hyphens',
        )
    for key, (_, line) in sorted(metadata.items(), key=lambda item: item[1][1]):
        if key not in KNOWN_KEYS:
            report.add(
                line,
                WARNING,
                f'không rõ dòng thông tin "{key}:"; có gõ nhầm không? '
                f"(các dòng dùng được: Title, Date, Category, Tags, Author, Summary, Slug, "
                "Status)",
                f'unknown metadata key "{key}": a typo?',
            )


def _resolve_internal(report, target, content_root):
    """Path on disk of a {filename}/{static}/{attach} or images/… link target, or None."""
    match = _INTERNAL.match(target)
    if match:
        path = match.group("path").split("#", 1)[0].split("?", 1)[0]
        if path.startswith("/"):
            return os.path.join(content_root, path.lstrip("/"))
        return os.path.join(content_root, os.path.dirname(report.relative), path)
    return None


def _check_body(report, content_root):
    lines = report.text.split("\n")
    in_fence = False
    for number in range(report.body_line, len(lines) + 1):
        line = lines[number - 1]
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            continue
        if _SCRIPT.search(line):
            report.add(
                number,
                ERROR,
                "bài viết không được chứa mã <script>",
                "<script> is not allowed in an article",
            )
        targets = []
        if "[" in line:  # every link has one: the expression is not tried on plain text
            targets = [(m.group("target"), bool(m.group("image"))) for m in _LINK.finditer(line)]
        reference = _REFERENCE.match(line)
        if reference:
            targets.append((reference.group("target"), False))
        for target, image in targets:
            report.links.append(Link(number, target))
            if not target:
                report.add(number, ERROR, "liên kết không có địa chỉ", "link without a target")
                continue
            if image:
                continue  # images are checked by the photos plugin (audit_images)
            on_disk = _resolve_internal(report, target, content_root)
            if on_disk is not None:
                report.look_at(on_disk)
            if on_disk is not None and not os.path.isfile(on_disk):
                report.add(
                    number,
                    ERROR,
                    f"không tìm thấy tệp được liên kết {target}",
                    f"link target {target} not found",
                )


def check_source(path, data, kind="article", content_root="content", settings=None,
                 relative=None):  # fmt: skip
    """Check one Markdown source given as bytes. ``path`` is how messages name the file;
    ``relative`` its path inside the content folder (for relative links)."""
    settings = settings or {}
    report = SourceReport(path=path, kind=kind)
    report.relative = relative if relative is not None else path
    if not _check_encoding(report, data):
        return report
    report.metadata, report.body_line, duplicates = parse_header(report.text)
    for line, key in duplicates:
        report.add(line, ERROR, f'dòng "{key}:" bị lặp lại', f'"{key}:" appears twice')
    _check_metadata(report, settings)
    _check_body(report, content_root)
    return report


def _url(pattern, report, settings):
    date = report.date
    return pattern.format(
        slug=report.slug,
        date=date,
        category=slugify(report.value("category") or ""),
        lang=settings.get("DEFAULT_LANG", "vi"),
    )


def check_reports(reports, settings, static_files=()):
    """Rules across files: duplicate explicit slugs (error), duplicate titles (warning),
    relative and root-relative links to pages that will not exist (error)."""
    problems = []
    by_slug = {}
    by_title = {}
    for report in reports:
        if report.errors and not report.metadata:
            continue
        explicit = (report.value("slug") or "").strip()
        if explicit:
            by_slug.setdefault((report.kind, explicit), []).append(report)
        if report.title:
            key = (report.kind, report.title.casefold())  # title is NFC already
            by_title.setdefault(key, []).append(report)
    for (_, slug), same in sorted(by_slug.items()):
        if len(same) > 1:
            for report in same:
                others = ", ".join(o.path for o in same if o is not report)
                problems.append(Problem(report.path, report.line_of("slug"), ERROR,
                    f'Slug "{slug}" trùng với {others}; mỗi bài cần một Slug riêng '
                    f'(Slug "{slug}" is also used by {others})'))  # fmt: skip
    for _, same in sorted(by_title.items()):
        if len(same) > 1:
            for report in same:
                others = ", ".join(o.path for o in same if o is not report)
                problems.append(Problem(report.path, report.line_of("title"), WARNING,
                    f"tiêu đề trùng với {others}; cả hai vẫn được đăng, ở hai địa chỉ khác nhau "
                    f"(same title as {others}: both are published, at distinct URLs)"))  # fmt: skip
    problems.extend(_check_relative_links(reports, settings, static_files))
    return problems


def _known_urls(reports, settings, static_files):
    """Every URL the build will produce, as far as the sources tell."""
    urls = set(static_files) | {"", "index.html", "404.html", "tim-kiem.html", "robots.txt",
                                "sitemap.xml"}  # fmt: skip
    for key in ("CATEGORIES_URL", "TAGS_URL", "ARCHIVES_URL"):
        if settings.get(key):
            urls.add(settings[key])
    for report in reports:
        if report.errors or not report.title:
            continue
        try:
            if report.kind == "article" and report.date is not None:
                urls.add(_url(settings["ARTICLE_URL"], report, settings))
                category = slugify(report.value("category") or "")
                urls.add(settings["CATEGORY_URL"].format(slug=category))
                for tag in (report.value("tags") or "").split(","):
                    if tag.strip():
                        urls.add(settings["TAG_URL"].format(slug=slugify(tag)))
                for key in ("YEAR_ARCHIVE_URL", "MONTH_ARCHIVE_URL"):
                    if settings.get(key):
                        urls.add(settings[key].format(date=report.date))
            elif report.kind == "page":
                urls.add(_url(settings["PAGE_URL"], report, settings))
        except (KeyError, IndexError, ValueError):
            continue
    return urls


def _check_relative_links(reports, settings, static_files):
    """Links written as site paths ("/chuyen-muc/…", "../2021/11/x.html") must exist."""
    candidates = [
        (report, link)
        for report in reports
        for link in report.links
        if link.target
        and not _EXTERNAL.match(link.target)
        and not _INTERNAL.match(link.target)
        and not link.target.startswith(tuple(settings.get("PHOTOS_CONTENT_PREFIXES", ["images/"])))
    ]
    if not candidates:
        return []
    urls = _known_urls(reports, settings, static_files)
    directories = _directory_urls(urls)
    problems = []
    for report, link in candidates:
        target = link.target.split("#", 1)[0].split("?", 1)[0]
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            try:
                base = os.path.dirname(_url(settings["ARTICLE_URL" if report.kind == "article"
                                                     else "PAGE_URL"], report, settings))
            except (KeyError, IndexError, ValueError, AttributeError):
                continue  # fmt: skip
            resolved = os.path.normpath(os.path.join(base, target)).replace(os.sep, "/")
        if resolved in urls or resolved.rstrip("/") + "/" in directories:
            continue
        problems.append(Problem(report.path, link.line, ERROR,
            f"liên kết {link.target} dẫn đến trang không có trên trang web; với bài viết khác "
            "hãy dùng {filename}/đường-dẫn/tới-bài.md "
            f"(link {link.target} points to no page of the site)"))  # fmt: skip
    return problems


def _directory_urls(urls):
    directories = set()
    for url in urls:
        parts = url.split("/")[:-1]
        for index in range(1, len(parts) + 1):
            directories.add("/".join(parts[:index]) + "/")
    return directories
