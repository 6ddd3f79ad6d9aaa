"""photos: staff drop in camera photos, readers get small, private, captioned images.

A paragraph holding only an image becomes a figure::

    ![Quang cảnh Hội nghị](images/2021/hoi-nghi.jpg "Quang cảnh Hội nghị")

or, with the caption in italics on the next line::

    ![Quang cảnh Hội nghị](images/2021/hoi-nghi.jpg)
    *Quang cảnh Hội nghị*

both give ``<figure><picture>…<img …></picture><figcaption>…</figcaption></figure>``.
An image without alt text takes its caption as alt. Image paths written relative to the
content folder (``images/…``) are resolved like ``{static}/images/…``.

The build then, for every JPEG, PNG and WebP it publishes (see imaging.py):
- applies the EXIF orientation and publishes no metadata (EXIF, GPS, XMP, comments), the
  original included: the original is stripped losslessly, or re-encoded upright when its
  EXIF orientation is not 1; Pelican's static copy of these files is switched off;
- writes responsive derivatives next to the original (``x-480w.webp``, ``x-480w.jpg``, …,
  never upscaled), a list thumbnail (``x-thumb.*``) and an og:image (``x-og.jpg``);
- rewrites each ``<img>`` of a photo into ``<picture>`` with srcset/sizes, width/height,
  and loading="lazy" decoding="async" on every image but the first of the page;
- sets ``lead_photo`` (thumbnail and og:image of the first photo) on articles and pages.
Derivatives are cached under CACHE_PATH/photos by source content hash + settings, so a
rebuild only stats unchanged photos; the first build encodes in parallel over the cores.
Entries that no build has used for PHOTOS_CACHE_DAYS (a replaced photo, old settings) are
deleted, so the cache does not grow for ever; a draft's photos stay while it is previewed.
GIF and SVG files pass through untouched. A missing, corrupt, truncated, oversized or
unsupported image stops the build with a message naming the article and the image.

``audit_images`` checks one Markdown text without building (for ``make check``).

Settings:
    PHOTOS_CONTENT_PREFIXES = ["images/"]   # paths resolved from the content folder
    PHOTOS_WIDTHS = [480, 720, 960, 1200, 1600]   # derivative widths in pixels
    PHOTOS_FORMATS = ["webp", "jpeg"]       # <source> formats, then the <img> fallback
    PHOTOS_QUALITY = {"jpeg": 80, "webp": 75, "avif": 60}
    PHOTOS_WEBP_METHOD = 4                  # libwebp effort 0-6: smaller files, slower
    PHOTOS_ORIGINAL_QUALITY = 90            # originals re-encoded to apply the orientation
    PHOTOS_SIZES = "(min-width: 52em) 47.25em, calc(100vw - 2rem)"   # <img sizes>
    PHOTOS_THUMB_SIZE = [360, 240]          # list thumbnail, centre-cropped
    PHOTOS_OG_SIZE = [1200, 630]            # og:image, centre-cropped
    PHOTOS_MAX_PIXELS = 89478485            # Pillow's decompression-bomb limit
    PHOTOS_WORKERS = 0                      # encoding processes; 0 = os.cpu_count()
    PHOTOS_CACHE_DAYS = 30                  # cache entries no build used for this long go
"""

import html
import json
import logging
import multiprocessing
import os
import posixpath
import re
import shutil
import tempfile
import time
import xml.etree.ElementTree as etree
from collections import namedtuple
from concurrent.futures import ProcessPoolExecutor
from urllib.parse import quote, unquote, urlparse

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pelican import signals
from pelican.contents import Article, Page

from plugins.incremental.fingerprint import file_signature
from plugins.incremental.incremental import CONTENT_LISTS, current_build
from plugins.incremental.state import write_atomically

from . import imaging
from .imaging import (
    MIME,
    PASSTHROUGH_SUFFIXES,
    PROCESSED_SUFFIXES,
    SUFFIX,
    UNSUPPORTED_SUFFIXES,
    ImageProblem,
    Options,
    PhotoInfo,
)

logger = logging.getLogger(__name__)

DEFAULTS = {
    "PHOTOS_CONTENT_PREFIXES": ["images/"],
    "PHOTOS_WIDTHS": [480, 720, 960, 1200, 1600],
    "PHOTOS_FORMATS": ["webp", "jpeg"],
    "PHOTOS_QUALITY": {"jpeg": 80, "webp": 75, "avif": 60},
    "PHOTOS_WEBP_METHOD": 4,
    "PHOTOS_ORIGINAL_QUALITY": 90,
    "PHOTOS_SIZES": "(min-width: 52em) 47.25em, calc(100vw - 2rem)",
    "PHOTOS_THUMB_SIZE": [360, 240],
    "PHOTOS_OG_SIZE": [1200, 630],
    "PHOTOS_MAX_PIXELS": 89_478_485,
    "PHOTOS_WORKERS": 0,
    "PHOTOS_CACHE_DAYS": 30,
}

STATE_KEY = "_photos_build"


class PhotoError(Exception):
    """Photos that stop the build; one problem per line, each naming its file."""


class PhotoSettingsError(PhotoError):
    pass


Problem = namedtuple("Problem", "line level message")


# --- Markdown: lone images become figures --------------------------------------------------


def resolve_src(src, prefixes):
    """ "images/2021/a.jpg" → "{static}/images/2021/a.jpg"; anything else unchanged."""
    if any(src.startswith(prefix) for prefix in prefixes):
        return "{static}/" + src
    return src


def _only_whitespace(text):
    return not (text or "").strip()


def figure_parts(paragraph):
    """Return (img, caption) when ``paragraph`` is a lone image (with an optional
    italic caption after it), else None."""
    children = list(paragraph)
    if not children or children[0].tag != "img" or not _only_whitespace(paragraph.text):
        return None
    img = children[0]
    if len(children) == 1 and _only_whitespace(img.tail):
        return img, img.get("title", "")
    if len(children) == 2 and children[1].tag == "em" and _only_whitespace(img.tail):
        em = children[1]
        if _only_whitespace(em.tail) and len(em) == 0:
            return img, (em.text or "").strip()
    return None


class FigureTreeprocessor(Treeprocessor):
    def __init__(self, md, prefixes):
        super().__init__(md)
        self.prefixes = prefixes

    def run(self, root):
        for img in root.iter("img"):
            img.set("src", resolve_src(img.get("src", ""), self.prefixes))
        for index, paragraph in enumerate(list(root)):
            if paragraph.tag != "p":
                continue
            parts = figure_parts(paragraph)
            if parts is None:
                continue
            img, caption = parts
            img.attrib.pop("title", None)
            img.tail = None
            if not img.get("alt") and caption:
                img.set("alt", caption)
            figure = etree.Element("figure")
            figure.tail = paragraph.tail
            figure.append(img)
            if caption:
                figcaption = etree.SubElement(figure, "figcaption")
                figcaption.text = caption
            root.remove(paragraph)
            root.insert(index, figure)


class FigureExtension(Extension):
    def __init__(self, prefixes):
        super().__init__()
        self.prefixes = prefixes

    def extendMarkdown(self, md):
        # After inline patterns (priority 20) have produced the <img> elements.
        md.treeprocessors.register(FigureTreeprocessor(md, self.prefixes), "photos_figure", 5)


# --- settings ------------------------------------------------------------------------------


def options_from_settings(settings):
    """Options from the PHOTOS_* settings; a bad value fails loudly, once."""
    widths = settings["PHOTOS_WIDTHS"]
    formats = settings["PHOTOS_FORMATS"]
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise PhotoSettingsError(f"photos: PHOTOS_WIDTHS must be positive integers: {widths!r}")
    if not formats or any(fmt not in SUFFIX for fmt in formats):
        raise PhotoSettingsError(
            f"photos: PHOTOS_FORMATS must be among {sorted(SUFFIX)}: {formats!r}"
        )
    for key in ("PHOTOS_THUMB_SIZE", "PHOTOS_OG_SIZE"):
        size = settings[key]
        if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
            raise PhotoSettingsError(f"photos: {key} must be [width, height]: {size!r}")
    quality = {**DEFAULTS["PHOTOS_QUALITY"], **settings["PHOTOS_QUALITY"]}
    return Options(
        widths=tuple(sorted(set(widths))),
        formats=tuple(formats),
        quality=tuple(sorted(quality.items())),
        webp_method=int(settings["PHOTOS_WEBP_METHOD"]),
        original_quality=int(settings["PHOTOS_ORIGINAL_QUALITY"]),
        thumb_size=tuple(settings["PHOTOS_THUMB_SIZE"]),
        og_size=tuple(settings["PHOTOS_OG_SIZE"]),
        max_pixels=int(settings["PHOTOS_MAX_PIXELS"]),
    )


# --- pure helpers: paths, URLs, HTML -------------------------------------------------------

_INTRASITE = re.compile(r"^(?:\{(?:static|attach)\}|\|(?:static|attach)\|)(?P<value>.*)$")
_TAGS = re.compile(
    r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>|<picture\b[^>]*>|</picture\s*>""", re.IGNORECASE
)
_ATTR = re.compile(r"""([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_REWRITTEN_ATTRS = {"src", "srcset", "sizes", "width", "height", "loading", "decoding"}


def source_of(src, relative_dir):
    """The content-relative path of an ``{static}``/``{attach}`` image, else None."""
    match = _INTRASITE.match(src.strip())
    if match is None:
        return None
    path = unquote(urlparse(match.group("value")).path)
    if path.startswith("/"):
        path = path[1:]
    else:
        path = posixpath.join(relative_dir.replace(os.sep, "/"), path)
    path = posixpath.normpath(path)
    return None if path.startswith("../") or path == ".." else path


def derivative_path(relpath, name):
    """images/2021/a.jpg + "w960.webp" → images/2021/a-960w.webp (thumb, og alike)."""
    stem = posixpath.splitext(relpath)[0]
    kind, suffix = name.split(".", 1)
    label = f"{kind[1:]}w" if kind.startswith("w") else kind
    return f"{stem}-{label}.{suffix}"


def parse_attrs(tag):
    """[(name, value)] of an ``<img …>`` tag, values unescaped, in order."""
    inner = re.sub(r"^<img\b|/?>$", "", tag, flags=re.IGNORECASE)
    attrs = []
    for match in _ATTR.finditer(inner):
        name = match.group(1).lower()
        value = next((g for g in match.group(2, 3, 4) if g is not None), None)
        attrs.append((name, html.unescape(value) if value is not None else None))
    return attrs


def format_tag(name, attrs):
    parts = [name]
    for key, value in attrs:
        parts.append(key if value is None else f'{key}="{html.escape(str(value), quote=True)}"')
    return "<" + " ".join(parts) + ">"


def fallback_width(plan, widths):
    """The <img src> width for browsers without srcset: the middle configured width,
    or the nearest smaller derivative."""
    middle = sorted(widths)[len(widths) // 2]
    fitting = [w for w, _h in plan if w <= middle]
    return max(fitting) if fitting else plan[0][0]


def render_picture(attrs, relpath, info, options, url_for, sizes, eager):
    """``<picture>`` with one ``<source>`` per extra format and the fallback ``<img>``."""
    plan = imaging.plan_widths(info.width, info.height, options.widths)

    def srcset(fmt):
        return ", ".join(
            f"{url_for(derivative_path(relpath, f'w{w}.{SUFFIX[fmt]}'))} {w}w" for w, _h in plan
        )

    fallback = options.formats[-1]
    src_w = fallback_width(plan, options.widths)
    src_h = dict(plan)[src_w]
    sources = [
        format_tag("source", [("type", MIME[fmt]), ("srcset", srcset(fmt)), ("sizes", sizes)])
        for fmt in options.formats[:-1]
    ]
    img_attrs = [
        ("src", url_for(derivative_path(relpath, f"w{src_w}.{SUFFIX[fallback]}"))),
        ("srcset", srcset(fallback)),
        ("sizes", sizes),
        ("width", src_w),
        ("height", src_h),
    ]
    img_attrs += [(k, v) for k, v in attrs if k not in _REWRITTEN_ATTRS]
    if not any(k == "alt" for k, _v in img_attrs):
        img_attrs.append(("alt", ""))
    if not eager:
        img_attrs += [("loading", "lazy"), ("decoding", "async")]
    return "<picture>" + "".join(sources) + format_tag("img", img_attrs) + "</picture>"


def renditions(relpath, info, options, url_for):
    """The thumbnail and og:image of a photo, for templates."""
    names = imaging.derivative_names(info, options)
    thumbs = [(fmt, name) for name, (fmt, _w, _h) in names.items() if name.startswith("thumb.")]
    _fmt, thumb_w, thumb_h = names[thumbs[0][1]]
    fallback = options.formats[-1]
    thumb = {
        "src": url_for(derivative_path(relpath, f"thumb.{SUFFIX[fallback]}")),
        "width": thumb_w,
        "height": thumb_h,
        "sources": [
            {"type": MIME[fmt], "srcset": url_for(derivative_path(relpath, f"thumb.{SUFFIX[fmt]}"))}
            for fmt in options.formats[:-1]
        ],
    }
    _fmt, og_w, og_h = names["og.jpg"]
    og = {"url": url_for(derivative_path(relpath, "og.jpg")), "width": og_w, "height": og_h}
    return thumb, og


def display_path(path):
    """A path as staff see it: relative to the working folder when inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


# --- audit for `make check` (no build needed) ----------------------------------------------

_MD_IMAGE = re.compile(
    r"""!\[(?P<alt>[^\]]*)\]\(\s*(?P<src><[^>]*>|[^)\s]+)"""
    r"""(?:\s+(?:"(?P<t1>[^"]*)"|'(?P<t2>[^']*)'|\((?P<t3>[^)]*)\)))?\s*\)"""
)
_HTML_IMG = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_ITALIC_LINE = re.compile(r"^\s*(\*|_)(?!\1)(?P<caption>.+?)\1\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _audit_one(src, alt, caption, source_dir, content_root, prefixes, max_pixels,
               look_at=None):  # fmt: skip
    """Problems (level, message) of one image reference. ``look_at(path)`` is told of the
    file before it is examined."""
    problems = []
    if not (alt or "").strip() and not (caption or "").strip():
        problems.append(("warning", ImageProblem("no_alt").describe(src)))
    if re.match(r"^([a-z][a-z0-9+.-]*:|//)", src, re.IGNORECASE) and not _INTRASITE.match(src):
        return problems  # another site, a data: URL
    relpath = source_of(src, source_dir)
    if relpath is None and any(src.startswith(prefix) for prefix in prefixes):
        relpath = posixpath.normpath(unquote(urlparse(src).path))
    if relpath is None:
        return problems  # not a content image (theme file, page-relative path)
    shown = relpath
    path = os.path.join(content_root, *relpath.split("/"))
    if look_at is not None:
        look_at(path)
    suffix = posixpath.splitext(relpath)[1].lower()
    if suffix in UNSUPPORTED_SUFFIXES or not (
        suffix in PROCESSED_SUFFIXES or suffix in PASSTHROUGH_SUFFIXES
    ):
        if os.path.isfile(path) or suffix in UNSUPPORTED_SUFFIXES:
            problems.append(("error", ImageProblem("unsupported", suffix).describe(shown)))
            return problems
    try:
        imaging.inspect_photo(path, max_pixels, with_hash=False)
    except ImageProblem as problem:
        problems.append(("error", problem.describe(shown)))
    return problems


def audit_images(
    source_path,
    markdown_text,
    content_root,
    prefixes=tuple(DEFAULTS["PHOTOS_CONTENT_PREFIXES"]),
    max_pixels=DEFAULTS["PHOTOS_MAX_PIXELS"],
    look_at=None,
):
    """Check the images of one Markdown text: [Problem(line, level, message)], level
    "error" (missing file, unsupported or unreadable format, too large) or "warning"
    (neither alt text nor caption). Reads image headers only, never whole images.
    ``look_at(path)`` is told of each image file before it is examined."""
    relative = os.path.relpath(os.path.dirname(os.path.abspath(source_path)), content_root)
    source_dir = "" if relative == "." else relative.replace(os.sep, "/")
    lines = markdown_text.split("\n")
    problems = []
    in_fence = False
    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        found = []
        for match in _MD_IMAGE.finditer(line):
            src = match.group("src").strip("<>")
            title = match.group("t1") or match.group("t2") or match.group("t3") or ""
            caption = title
            alone = line.strip() == match.group(0)
            if alone and not caption and number < len(lines):
                italic = _ITALIC_LINE.match(lines[number])
                caption = italic.group("caption") if italic else ""
            found.append((src, match.group("alt"), caption))
        for match in _HTML_IMG.finditer(line):
            attrs = dict(parse_attrs(match.group(0)))
            found.append((attrs.get("src") or "", attrs.get("alt"), attrs.get("title")))
        for src, alt, caption in found:
            for level, message in _audit_one(
                src, alt, caption, source_dir, content_root, prefixes, max_pixels, look_at
            ):
                problems.append(Problem(number, level, message))
    return problems


# --- the build -----------------------------------------------------------------------------


def publish_file(source, target):
    """Copy ``source`` to ``target`` unless it already holds these bytes; atomic (temp
    file in the target folder, then os.replace). The target keeps the mtime of the cache
    file, so the next build recognises it from a stat alone. Returns True if written."""
    source_stat = os.stat(source)
    try:
        target_stat = os.stat(target)
    except FileNotFoundError:
        target_stat = None
    if target_stat is not None and target_stat.st_size == source_stat.st_size:
        if target_stat.st_mtime_ns == source_stat.st_mtime_ns:
            return False
        if _same_bytes(source, target):
            # Same bytes (e.g. after the cache was cleared): leave the target alone and
            # give the cache file its mtime, so the next build skips it on stat alone.
            os.utime(source, ns=(source_stat.st_atime_ns, target_stat.st_mtime_ns))
            return False
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".photos-", suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; readers need 0644
        os.utime(temporary, ns=(source_stat.st_atime_ns, source_stat.st_mtime_ns))
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            block_a, block_b = fa.read(1 << 20), fb.read(1 << 20)
            if block_a != block_b:
                return False
            if not block_a:
                return True


class PhotoBuild:
    """The photos of one Pelican run: what content refers to, what gets published."""

    def __init__(self, settings):
        self.settings = settings
        self.options = options_from_settings(settings)
        self.fingerprint = self.options.fingerprint()
        self.content_root = os.path.abspath(settings["PATH"])
        self.output_path = os.path.abspath(settings["OUTPUT_PATH"])
        self.cache_root = os.path.join(os.path.abspath(settings["CACHE_PATH"]), "photos")
        self.siteurl = settings.get("SITEURL", "")
        self.sizes = settings["PHOTOS_SIZES"]
        self.memo_path = os.path.join(self.cache_root, "inspected.json")
        self.memo = None
        self.memo_changed = False
        self.infos = {}  # relpath → PhotoInfo or ImageProblem
        self.users = {}  # relpath → [source files of the content showing it]
        self.originals = {}  # relpath → save_as of the published original
        self.problems = []

    # -- inspecting, memoised on the file's signature (size, mtime, ctime, inode) --

    def _load_memo(self):
        try:
            with open(self.memo_path, encoding="utf-8") as handle:
                memo = json.load(handle)
            self.memo = memo if memo.get("version") == 1 else {"version": 1}
        except (OSError, ValueError):
            self.memo = {"version": 1}

    def save_memo(self):
        if not self.memo_changed:
            return
        data = json.dumps(self.memo, ensure_ascii=False, sort_keys=True).encode("utf-8")
        write_atomically(self.memo_path, data)
        self.memo_changed = False

    def info(self, relpath):
        """PhotoInfo of a content file; raises ImageProblem."""
        if relpath in self.infos:
            found = self.infos[relpath]
            if isinstance(found, ImageProblem):
                raise found
            return found
        try:
            found = self._inspect(relpath)
        except ImageProblem as problem:
            self.infos[relpath] = problem
            raise
        self.infos[relpath] = found
        return found

    def _inspect(self, relpath):
        path = os.path.join(self.content_root, *relpath.split("/"))
        suffix = posixpath.splitext(relpath)[1].lower()
        if suffix in UNSUPPORTED_SUFFIXES:
            raise ImageProblem("unsupported", suffix)
        signature = file_signature(path)  # size, mtime, ctime, inode: as for the Markdown
        if signature is None:
            raise ImageProblem("missing")
        if self.memo is None:
            self._load_memo()
        stamp = [*signature, self.options.max_pixels]
        entry = self.memo.get(path)
        if entry and entry[0] == stamp:
            return PhotoInfo(**entry[1])
        info = imaging.inspect_photo(path, self.options.max_pixels)
        self.memo[path] = [stamp, info.__dict__]
        self.memo_changed = True
        return info

    def shown(self, relpath):
        """A content file as staff see it (content/images/…)."""
        return display_path(os.path.join(self.content_root, *relpath.split("/")))

    def url_for(self, relpath):
        return f"{self.siteurl}/{quote(relpath)}"

    # -- content: <img> → <picture> --

    def rewrite(self, content):
        """Rewrite the photos of one article or page; set its ``lead_photo``."""
        source = getattr(content, "_photos_source", None)
        if source is None:
            source = content._content or ""
            content._photos_source = source  # rewriting twice starts from the original
        content.lead_photo = None
        if "<img" not in source and "<IMG" not in source:
            return
        shown = display_path(content.source_path)
        relative_dir = getattr(content, "relative_dir", "")
        state = {"first": True, "in_picture": 0}

        def replace(match):
            tag = match.group(0)
            lowered = tag[:9].lower()
            if lowered.startswith("<picture"):
                state["in_picture"] += 1
                return tag
            if lowered.startswith("</picture"):
                state["in_picture"] = max(0, state["in_picture"] - 1)
                return tag
            attrs = parse_attrs(tag)
            relpath = source_of(dict(attrs).get("src") or "", relative_dir)
            if relpath is None or state["in_picture"]:
                return tag
            try:
                info = self.info(relpath)
            except ImageProblem as problem:
                self.problems.append(f"{shown}: {problem.describe(relpath)}")
                return tag
            self.users.setdefault(relpath, []).append(shown)
            eager, state["first"] = state["first"], False
            if not info.processed:  # GIF, SVG: the file is published untouched
                extra = [("width", info.width), ("height", info.height)] if info.width else []
                kept = [(k, v) for k, v in attrs if k not in {"loading", "decoding"}]
                lazy = [] if eager else [("loading", "lazy"), ("decoding", "async")]
                if extra and not any(k in ("width", "height") for k, _v in kept):
                    kept += extra
                return format_tag("img", kept + lazy)
            if content.lead_photo is None:
                thumb, og = renditions(relpath, info, self.options, self.url_for)
                alt = dict(attrs).get("alt") or ""
                content.lead_photo = {"alt": alt, "thumb": thumb, "og": og}
            return render_picture(
                attrs, relpath, info, self.options, self.url_for, self.sizes, eager
            )

        content._content = _TAGS.sub(replace, source)

    # -- static files: photos are published by us, stripped --

    def take_over(self, generator):
        kept = []
        for static in generator.staticfiles:
            relpath = static.relative_source_path.replace(os.sep, "/")
            suffix = posixpath.splitext(relpath)[1].lower()
            if suffix in UNSUPPORTED_SUFFIXES:
                problem = ImageProblem("unsupported", suffix)
                self.problems.append(
                    f"{display_path(static.source_path)}: {problem.describe(relpath)}"
                )
            elif suffix in PROCESSED_SUFFIXES:
                self.originals[relpath] = static.save_as
                continue
            kept.append(static)
        # Pelican copies context["staticfiles"], the same list: the photos leave it.
        generator.staticfiles[:] = kept

    # -- encoding and publishing --

    def entry_dir(self, info):
        key = f"{info.sha256[:32]}-{self.fingerprint}"
        return os.path.join(self.cache_root, "entries", key[:2], key)

    def publish(self):
        """Encode what the cache lacks (in parallel), then publish every photo; raise
        PhotoError, before writing anything, if any image is unusable."""
        jobs = {}
        for relpath in sorted(set(self.originals) | set(self.users)):
            try:
                info = self.info(relpath)
            except ImageProblem as problem:
                if relpath not in self.users:  # content problems are reported already
                    self.problems.append(f"{self.shown(relpath)}: {problem.describe(relpath)}")
                continue
            if info.processed:
                jobs[relpath] = info
            elif relpath in self.originals:
                # e.g. a GIF named .jpg: refused rather than published with a wrong type
                problem = ImageProblem("unsupported", info.format)
                self.problems.append(f"{self.shown(relpath)}: {problem.describe(relpath)}")
        targets = self._plan_targets(jobs)
        self._encode_missing(jobs)
        self.save_memo()
        if self.problems:
            raise PhotoError(
                "\n".join(
                    ["photos: ảnh không dùng được (unusable images):"] + sorted(set(self.problems))
                )
            )
        written = 0
        build = current_build()  # the incremental build in progress, if any
        for target, cached in sorted(targets.items()):
            written += publish_file(cached, os.path.join(self.output_path, target))
            if build is not None:
                # Claimed as outputs of this build: when a photo is deleted, renamed or no
                # longer gets a size, the next build removes its files from output/.
                build.state.own(os.path.normpath(target))
        logger.info("photos: %d photos, %d files written", len(jobs), written)
        removed = prune_entries(
            os.path.join(self.cache_root, "entries"),
            {self.entry_dir(info) for info in jobs.values()},
            self.settings["PHOTOS_CACHE_DAYS"] * 86400,
        )
        if removed:
            logger.info("photos: %d unused cache entries removed", removed)

    def _plan_targets(self, jobs):
        """output-relative path → cache file; two photos writing one file is a problem."""
        targets, owner = {}, {}
        for relpath, info in jobs.items():
            folder = self.entry_dir(info)
            files = {
                derivative_path(relpath, name): name
                for name in imaging.derivative_names(info, self.options)
            }
            if relpath in self.originals:
                files[self.originals[relpath]] = "original"
            for target, name in files.items():
                if target in owner and owner[target] != relpath:
                    problem = ImageProblem("name_clash", other=owner[target])
                    self.problems.append(f"{relpath}: {problem.describe(relpath)}")
                    continue
                owner[target] = relpath
                targets[target] = os.path.join(folder, name)
        return targets

    def _encode_missing(self, jobs):
        missing = {
            rel: info for rel, info in jobs.items() if not os.path.isdir(self.entry_dir(info))
        }
        if not missing:
            return
        workers = self.settings["PHOTOS_WORKERS"] or os.cpu_count() or 1
        workers = min(workers, len(missing))
        logger.info("photos: encoding %d photos with %d processes", len(missing), workers)
        calls = [
            (
                os.path.join(self.content_root, *rel.split("/")),
                info,
                self.options,
                self.entry_dir(info),
            )
            for rel, info in sorted(missing.items())
        ]
        if workers == 1:
            results = [imaging.build_into_cache(*call) for call in calls]
        else:
            # forkserver: never fork the build process itself (it runs threads). Its workers
            # import the main module, so a script that builds the site must keep its work
            # under `if __name__ == "__main__":` (as multiprocessing requires), or the workers
            # run the script again.
            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                results = list(pool.map(imaging.build_into_cache, *zip(*calls, strict=True)))
        for relpath, problem in zip(sorted(missing), results, strict=True):
            if problem is not None:
                for user in self.users.get(relpath) or [self.shown(relpath)]:
                    self.problems.append(f"{user}: {problem.describe(relpath)}")


def prune_entries(root, used, keep_seconds, now=None):
    """Mark the cache entries in ``used`` as used now (their folder's mtime) and delete the
    other entries under ``root`` not used for ``keep_seconds``; return how many went.

    Another build (``make html`` with drafts next to ``make publish``, other settings)
    may use entries this one does not: they stay as long as some build uses them."""
    now = time.time() if now is None else now
    for folder in used:
        try:
            os.utime(folder, (now, now))
        except OSError:
            pass
    removed = 0
    try:
        shards = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return 0
    for shard in shards:
        if not shard.is_dir(follow_symlinks=False):
            continue
        for entry in os.scandir(shard.path):
            if entry.path in used or not entry.is_dir(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime > keep_seconds:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
    return removed


def get_build(context, settings):
    """The PhotoBuild of this run, kept in the run's context (reset every run)."""
    build = context.get(STATE_KEY)
    if build is None:
        build = context[STATE_KEY] = PhotoBuild(settings)
    return build


# --- signal receivers ------------------------------------------------------------------------


def configure(pelican):
    settings = pelican.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    options_from_settings(settings)  # a bad setting stops the build here, once
    extensions = settings.setdefault("MARKDOWN", {}).setdefault("extensions", [])
    if not any(isinstance(ext, FigureExtension) for ext in extensions):
        extensions.append(FigureExtension(settings["PHOTOS_CONTENT_PREFIXES"]))


def rewrite_contents(generator):
    """After reading (and after Pelican cached the read objects): <img> → <picture>."""
    build = get_build(generator.context, generator.settings)
    seen = set()
    for name in CONTENT_LISTS:
        for content in getattr(generator, name, None) or []:
            if id(content) in seen or not isinstance(content, (Article, Page)):
                continue
            seen.add(id(content))
            build.rewrite(content)


def take_over_photos(generator):
    get_build(generator.context, generator.settings).take_over(generator)


def publish_photos(generators):
    context = generators[0].context
    get_build(context, generators[0].settings).publish()


def register():
    signals.initialized.connect(configure)
    signals.article_generator_finalized.connect(rewrite_contents)
    signals.page_generator_finalized.connect(rewrite_contents)
    signals.static_generator_finalized.connect(take_over_photos)
    signals.all_generators_finalized.connect(publish_photos)
