"""related_posts: the "Các bài viết khác" list under each article.

Sets ``article.related_posts`` for every article (published, draft and hidden): up to
``RELATED_POSTS_MAX`` published articles whose text is closest to it — Vietnamese TF-IDF over
syllables and syllable pairs, cosine similarity, blended with shared tags, the same category and
how close the dates are (the scoring is in ``scoring.py``, pure functions). Staff rarely tag, so
the text carries the score; articles without any related one get the latest articles of their
category. Never the article itself, a draft, a hidden or a future-dated article.

A ``Related:`` metadata line (slugs, comma-separated) puts those articles first::

    Related: hoi-nghi-giao-ban-cong-tac-xay-dung-dang-quy-i-2024, khai-giang-lop-boi-duong

Term counts are cached per text under ``CACHE_PATH/related_posts/``, so a rebuild only
tokenises the articles whose text changed; the text key of each article's title and body is
remembered too, so an unchanged article's text is not even extracted again. Same input, same
output, byte for byte.

Settings:
    RELATED_POSTS_MAX = 5               # links under each article (0: none)
    RELATED_POSTS_TERMS = 40            # strongest terms kept per article
    RELATED_POSTS_MAX_DF = 0.5          # terms in a larger share of the articles are ignored
    RELATED_POSTS_TEXT_WEIGHT = 1.0     # cosine of the texts
    RELATED_POSTS_TAGS_WEIGHT = 0.3     # cosine of the tag sets
    RELATED_POSTS_CATEGORY_WEIGHT = 0.05
    RELATED_POSTS_DATE_WEIGHT = 0.05    # × 1 / (1 + days apart / RELATED_POSTS_DATE_SCALE)
    RELATED_POSTS_DATE_SCALE = 365
    RELATED_POSTS_MIN_SCORE = 0.05      # text + tags evidence needed to count as related
    RELATED_POSTS_CACHE = True          # keep term counts between builds
"""

import hashlib
import logging
import marshal
import os
import sys
import time

from pelican import signals

from plugins.incremental.fingerprint import code_key, module_digest
from plugins.incremental.state import write_atomically
from plugins.vn_text import nfc, now_in_vietnam, to_vietnam_time

logger = logging.getLogger(__name__)

DEFAULTS = {
    "RELATED_POSTS_MAX": 5,
    "RELATED_POSTS_TERMS": 40,
    "RELATED_POSTS_MAX_DF": 0.5,
    "RELATED_POSTS_TEXT_WEIGHT": 1.0,
    "RELATED_POSTS_TAGS_WEIGHT": 0.3,
    "RELATED_POSTS_CATEGORY_WEIGHT": 0.05,
    "RELATED_POSTS_DATE_WEIGHT": 0.05,
    "RELATED_POSTS_DATE_SCALE": 365,
    "RELATED_POSTS_MIN_SCORE": 0.05,
    "RELATED_POSTS_CACHE": True,
}

CACHE_FILE = os.path.join("related_posts", "vectors.npz")
# The lists of the last build and a digest of everything they were computed from: when
# nothing an article's list depends on changed, the lists are reused as they are.
RESULT_FILE = os.path.join("related_posts", "result.marshal")
# The text key (terms.text_key) of each article's title and body seen by the last build, so
# that unchanged articles are found in the vector cache without extracting their text again.
TEXT_KEYS_FILE = os.path.join("related_posts", "text-keys.marshal")


class RelatedPostsSettingError(ValueError):
    pass


def params_from_settings(settings):
    """Params for the scoring, from the RELATED_POSTS_* settings (checked once)."""
    from plugins.related_posts.scoring import Params

    def number(key, minimum, integer=False, maximum=None):
        value = settings[key]
        kind = int if integer else (int, float)
        if (
            isinstance(value, bool)
            or not isinstance(value, kind)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            bounds = f"≥ {minimum}" if maximum is None else f"từ {minimum} đến {maximum}"
            raise RelatedPostsSettingError(
                f"related_posts: {key} = {value!r} không hợp lệ, cần một số {bounds} "
                f"(invalid setting, expected a number {minimum}..{maximum or ''})"
            )
        return value

    return Params(
        max_related=number("RELATED_POSTS_MAX", 0, integer=True),
        terms_per_article=number("RELATED_POSTS_TERMS", 1, integer=True),
        max_df=number("RELATED_POSTS_MAX_DF", 0.0, maximum=1.0),
        text_weight=number("RELATED_POSTS_TEXT_WEIGHT", 0.0),
        tags_weight=number("RELATED_POSTS_TAGS_WEIGHT", 0.0),
        category_weight=number("RELATED_POSTS_CATEGORY_WEIGHT", 0.0),
        date_weight=number("RELATED_POSTS_DATE_WEIGHT", 0.0),
        date_scale=number("RELATED_POSTS_DATE_SCALE", 1e-9),
        min_score=number("RELATED_POSTS_MIN_SCORE", 0.0),
    )


def related_slugs(value):
    """The slugs of a ``Related:`` line: "a, b" → ("a", "b")."""
    if not value:
        return ()
    if isinstance(value, (list, tuple)):
        value = ",".join(str(item) for item in value)
    return tuple(slug for slug in (nfc(part).strip() for part in str(value).split(",")) if slug)


def article_text(article):
    """What the scoring reads: the title (twice: it names the topic) and the plain text."""
    from plugins.related_posts.scoring import plain_text

    title = plain_text(article.title)
    return f"{title} . {title} . {plain_text(article._content or '')}"


def article_record(article, published, known_key=None):
    """The scoring's record of an article. ``known_key``: the text key remembered for this
    title and content, when the vector cache holds it (then the text is not extracted)."""
    from plugins.related_posts.scoring import Record
    from plugins.related_posts.terms import text_key

    text = "" if known_key is not None else article_text(article)
    return Record(
        slug=article.slug,
        date=to_vietnam_time(article.date),
        category=str(article.category),
        tags=tuple(sorted(str(tag) for tag in getattr(article, "tags", None) or ())),
        text=text,
        published=published,
        related=related_slugs(article.metadata.get("related")),
        source=article.get_relative_source_path(),
        text_key=known_key if known_key is not None else text_key(text),
    )


def source_key(article):
    """Digest of what ``article_text`` reads: the title and the HTML body."""
    hasher = hashlib.sha1(article.title.encode("utf-8", "surrogatepass"))
    hasher.update(b"\x00")
    hasher.update((article._content or "").encode("utf-8", "surrogatepass"))
    return hasher.digest()


def set_related_posts(generator):
    settings = generator.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    published = list(generator.articles)
    others = list(generator.drafts) + list(getattr(generator, "hidden_articles", []))
    articles = published + others
    if settings["RELATED_POSTS_MAX"] == 0 or not articles:
        for article in articles:
            article.related_posts = []
        return
    started = time.perf_counter()
    use_cache = settings["RELATED_POSTS_CACHE"]
    sources = [source_key(a) for a in articles]
    key = inputs_key(articles, len(published), settings, sources)
    result_path = os.path.join(settings["CACHE_PATH"], RESULT_FILE)
    lists = load_result(result_path, key) if use_cache else None
    if lists is not None:
        for article, chosen in zip(articles, lists, strict=True):
            article.related_posts = [articles[i] for i in chosen]
        logger.debug("related_posts: inputs unchanged, %d lists reused", len(lists))
        return

    from plugins.related_posts.scoring import VectorCache, related_articles

    params = params_from_settings(settings)  # checks the settings (numpy/scipy load here)
    cache_path = os.path.join(settings["CACHE_PATH"], CACHE_FILE)
    cache = VectorCache.load(cache_path) if use_cache else VectorCache()
    keys_path = os.path.join(settings["CACHE_PATH"], TEXT_KEYS_FILE)
    remembered = load_text_keys(keys_path) if use_cache else {}
    records = []
    for index, (article, source) in enumerate(zip(articles, sources, strict=True)):
        known = remembered.get(source)
        if known is not None and known not in cache.docs:
            known = None
        records.append(article_record(article, index < len(published), known))
    lists, warnings = related_articles(records, now_in_vietnam(), params, cache)
    for message in warnings:
        logger.warning("related_posts: %s", message)
    for article, chosen in zip(articles, lists, strict=True):
        article.related_posts = [articles[i] for i in chosen]
    if use_cache and not warnings:  # with warnings, compute again so they show again
        save_result(result_path, key, lists)
    if use_cache:
        text_keys = dict(zip(sources, (r.text_key for r in records), strict=True))
        if text_keys != remembered:
            save_text_keys(keys_path, text_keys)
        if must_save(cache, os.path.exists(cache_path)):
            try:
                cache.save(cache_path, keep=cache.used)
            except OSError as error:
                logger.warning(
                    "related_posts: không ghi được %s (cache not written): %s", cache_path, error
                )
    logger.debug(
        "related_posts: %d articles, %d texts tokenised, %.2f s",
        len(articles),
        cache.added,
        time.perf_counter() - started,
    )


# The vector cache (tens of MB at archive scale) is rewritten when this many texts are new or
# gone, not for every edit: the few texts it lacks meanwhile are tokenised again (milliseconds).
SAVE_MINIMUM = 64


def must_save(cache, exists):
    """Rewrite the vector cache? When it does not exist yet, or when enough texts were
    added, or are no longer used (edited or deleted articles)."""
    gone = len(cache.docs) - len(cache.used)
    if not exists:
        return True
    if not cache.changed and gone == 0:
        return False
    threshold = max(SAVE_MINIMUM, len(cache.used) // 100)
    return cache.added >= threshold or gone >= threshold


def inputs_key(articles, published_count, settings, sources):
    """Digest of everything the lists depend on: the code (plugins, numpy, scipy…), settings,
    and per article its place, slug, file, date, category, tags, ``Related:`` line, and
    title and text (``sources``: the articles' ``source_key``)."""
    hasher = hashlib.sha1(code_key().encode())
    hasher.update(repr(sorted((k, settings[k]) for k in DEFAULTS)).encode())
    for index, article in enumerate(articles):
        tags = ",".join(sorted(str(tag) for tag in getattr(article, "tags", None) or ()))
        fields = (
            str(index < published_count), article.slug, str(article.source_path),
            article.date.isoformat(), str(article.category), tags,
            str(article.metadata.get("related", "")), article.title,
        )  # fmt: skip
        hasher.update("\x1f".join(fields).encode("utf-8", "surrogatepass"))
        hasher.update(sources[index])
    return hasher.hexdigest()


def load_result(path, key):
    lists = _load_tagged(path, key)
    return None if lists is None else [list(chosen) for chosen in lists]


def save_result(path, key, lists):
    _save_tagged(path, key, [[int(i) for i in chosen] for chosen in lists])


def text_keys_version():
    """Changes with the code that makes an article's text and its key (this module and the
    tokenizer's): remembered text keys made by other code are not used."""
    from plugins.related_posts import terms

    return module_digest(sys.modules[__name__], terms)


def load_text_keys(path):
    """{source_key: text key} of the last build, if written by this version of the code."""
    keys = _load_tagged(path, text_keys_version())
    return keys if isinstance(keys, dict) else {}


def save_text_keys(path, keys):
    try:
        _save_tagged(path, text_keys_version(), keys)
    except OSError as error:
        logger.warning("related_posts: không ghi được %s (cache not written): %s", path, error)


def _load_tagged(path, tag):
    """The data saved by ``_save_tagged(path, tag, data)``, or None (missing, unreadable,
    or saved with another tag)."""
    try:
        with open(path, "rb") as handle:
            stored_tag, data = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if stored_tag == tag else None


def _save_tagged(path, tag, data):
    """Write ``(tag, data)`` with marshal, atomically."""
    write_atomically(path, marshal.dumps((tag, data)))


def register():
    signals.article_generator_finalized.connect(set_related_posts)
