"""vietnamese: make Pelican publish Vietnamese correctly.

- Normalises every Markdown source to NFC before it is parsed, so an article typed in
  decomposed Unicode (NFD) comes out NFC and its tags and category merge with NFC ones.
- Slugs: ASCII, đ→d, punctuation such as "/" becomes a hyphen ("Quý I/2024" → "quy-i-2024").
- Jinja filters for dates from our own weekday table (never the OS locale):
  ``vn_date``, ``vn_datetime``, ``vn_long_date``, ``vn_month``, ``isodatetime``, and
  ``vn_sorted`` for Vietnamese alphabetical order.
- Sorts the ``categories`` and ``tags`` template lists in Vietnamese alphabetical order and
  adds ``menu_categories``: the categories in the order of ``SITE_CATEGORIES``, then any
  other category alphabetically.

Settings:
    VIETNAMESE_SLUGS = True   # install the slug substitutions above
    SITE_CATEGORIES = []      # menu order of categories (site identity, in pelicanconf.py)
"""

import functools
import logging

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from pelican import signals

from plugins.vn_text import (
    SLUG_REGEX_SUBSTITUTIONS,
    format_date,
    format_datetime,
    format_long_date,
    format_month,
    iso_datetime,
    nfc,
    sort_key,
)

logger = logging.getLogger(__name__)

DEFAULTS = {
    "VIETNAMESE_SLUGS": True,
    "SITE_CATEGORIES": [],
}

SLUG_SETTINGS = (
    "SLUG_REGEX_SUBSTITUTIONS",
    "CATEGORY_REGEX_SUBSTITUTIONS",
    "TAG_REGEX_SUBSTITUTIONS",
    "AUTHOR_REGEX_SUBSTITUTIONS",
)


class NfcPreprocessor(Preprocessor):
    """Normalise source lines to NFC before any other Markdown processing (metadata too)."""

    def run(self, lines):
        return [nfc(line) for line in lines]


class NfcExtension(Extension):
    def extendMarkdown(self, md):
        # Above every built-in preprocessor (normalize_whitespace is 30, meta is 27).
        md.preprocessors.register(NfcPreprocessor(md), "vietnamese_nfc", 40)


def vn_sorted(items, attribute=None):
    """Sort strings (or objects by ``attribute``, or (key, value) pairs) in Vietnamese order."""

    def text_of(item):
        if attribute is not None:
            for part in attribute.split("."):
                item = item[int(part)] if part.isdigit() else getattr(item, part)
        elif isinstance(item, tuple):
            item = item[0]
        return str(item)

    return sorted(items, key=lambda item: sort_key(text_of(item)))


def order_categories(categories, preferred):
    """Categories named in ``preferred`` first, in that order, then the rest alphabetically."""
    rank = {nfc(name): position for position, name in enumerate(preferred)}
    return sorted(
        categories,
        key=lambda category: (
            rank.get(str(category), len(rank)),
            sort_key(str(category)),
        ),
    )


def remembered(function):
    """``function`` with its results kept by argument. For the filters of an article's date
    that every page shows (a card, a related list, the article's own head): 2.5 µs a call on
    Pelican's dates (converted to Vietnam time), 0.1 µs remembered, for 160,000 calls in a
    cold build at 10,000 articles. Equal datetimes are the same instant (or, naive, the same
    wall time), which is all these filters read: a remembered result is never another's."""
    return functools.lru_cache(maxsize=1 << 17)(function)


JINJA_FILTERS = {
    "vn_date": format_date,
    "vn_datetime": remembered(format_datetime),
    "vn_long_date": format_long_date,
    "vn_month": format_month,
    "isodatetime": remembered(iso_datetime),
    "vn_sorted": vn_sorted,
}


def configure(pelican):
    settings = pelican.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    if settings["VIETNAMESE_SLUGS"]:
        for key in SLUG_SETTINGS:
            settings[key] = list(SLUG_REGEX_SUBSTITUTIONS)
    markdown = settings.setdefault("MARKDOWN", {})
    extensions = markdown.setdefault("extensions", [])
    if not any(isinstance(ext, NfcExtension) for ext in extensions):
        extensions.append(NfcExtension())
    filters = settings.setdefault("JINJA_FILTERS", {})
    for name, function in JINJA_FILTERS.items():
        filters.setdefault(name, function)


def sort_taxonomies(generator):
    context = generator.context
    context["categories"] = vn_sorted(context.get("categories", []))
    context["tags"] = vn_sorted(context.get("tags", []))
    generator.categories = context["categories"]
    generator.tags = dict(context["tags"])
    context["menu_categories"] = order_categories(
        [category for category, _ in context["categories"]],
        generator.settings.get("SITE_CATEGORIES", []),
    )


def register():
    signals.initialized.connect(configure)
    signals.article_generator_finalized.connect(sort_taxonomies)
