"""xml_sitemap: sitemap.xml listing every public HTML page of the output.

Our own instead of the official pelican-sitemap because that plugin (1.2.2) dates index
pages with the build time (two builds of the same commit differ) and lists only the pages
written in this run (an incremental build that skips unchanged pages would drop them).
Here the list is the set of HTML files of the build, minus the excluded patterns: under
``plugins.IncrementalPelican`` the files the build wrote or kept (``incremental.build_outputs``,
no walk of 12,000 files: a stray page left in the output is not listed, as a cold build
into an empty folder would not list it), under plain Pelican the HTML files in the output
folder at the end of the build. Articles and pages carry ``lastmod`` from their own dates,
other pages none (it is optional in the protocol). Sorted by URL: byte-identical output
for identical input. Written only when its bytes change.

Settings:
    XML_SITEMAP_EXCLUDE = [r"^404\\.html$", r"(^|/)trang/\\d+/", r"^ban-nhap/"]
"""

import logging
import os
import re
from xml.sax.saxutils import escape

from pelican import signals

from plugins.incremental.incremental import build_outputs
from plugins.incremental.state import write_if_changed
from plugins.vn_text import iso_datetime

logger = logging.getLogger(__name__)

DEFAULTS = {
    "XML_SITEMAP_EXCLUDE": [r"^404\.html$", r"(^|/)trang/\d+/", r"^ban-nhap/"],
}

HEADER = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
)
FOOTER = "</urlset>\n"

_dated = {}


def page_url(relative):
    """"chuyen-muc/x/index.html" → "chuyen-muc/x/"; "a/b.html" unchanged."""
    if relative == "index.html" or relative.endswith("/index.html"):
        return relative[: -len("index.html")]
    return relative


def excluded(patterns):
    """One compiled pattern that matches (``search``) where any of ``patterns`` does;
    None when there are none."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def html_pages(output_path, outputs=None):
    """The HTML pages' paths, relative and "/"-separated: the names in ``outputs`` (the
    build's output files, ``incremental.build_outputs``) when given, else every HTML file
    under ``output_path``."""
    if outputs is not None:
        return [name for name in outputs if name.endswith(".html")]
    pages = []
    skip = len(str(output_path).rstrip(os.sep)) + 1
    for directory, _subdirs, files in os.walk(output_path):
        prefix = directory[skip:].replace(os.sep, "/")
        for name in files:
            if name.endswith(".html"):
                pages.append(f"{prefix}/{name}" if prefix else name)
    return pages  # in no particular order: write_sitemap sorts the URLs


def render(siteurl, entries):
    """entries: (url, lastmod or None) pairs, already sorted."""
    parts = [HEADER]
    for url, lastmod in entries:
        parts.append(f"  <url>\n    <loc>{escape(siteurl)}/{escape(url)}</loc>\n")
        if lastmod:
            parts.append(f"    <lastmod>{lastmod}</lastmod>\n")
        parts.append("  </url>\n")
    parts.append(FOOTER)
    return "".join(parts)


def remember_dates(generator):
    """Map output paths of published articles and pages to their last modification."""
    for item in list(getattr(generator, "articles", [])) + list(getattr(generator, "pages", [])):
        date = getattr(item, "modified", None) or getattr(item, "date", None)
        if date is not None and item.save_as:
            _dated[item.save_as] = iso_datetime(date)


def write_sitemap(pelican):
    settings = pelican.settings
    exclude = excluded(settings.get("XML_SITEMAP_EXCLUDE", DEFAULTS["XML_SITEMAP_EXCLUDE"]))
    entries = [
        (page_url(path), _dated.get(path))
        for path in html_pages(pelican.output_path, build_outputs(pelican))
        if exclude is None or not exclude.search(path)
    ]
    entries.sort()
    data = render(settings.get("SITEURL", ""), entries).encode("utf-8")
    write_if_changed(os.path.join(pelican.output_path, "sitemap.xml"), data)
    logger.debug("xml_sitemap: %d URLs", len(entries))
    _dated.clear()


def register():
    signals.article_generator_finalized.connect(remember_dates)
    signals.page_generator_finalized.connect(remember_dates)
    signals.finalized.connect(write_sitemap)
