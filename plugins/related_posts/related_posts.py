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

From ``BACKGROUND_MINIMUM`` articles on (and unless INCREMENTAL_WORKERS = 1), a forked
process finds whether the last lists still hold, and computes them if not, while the build
goes on (``lists_for``): each ``article.related_posts`` is a stand-in (``PendingList``)
until the build first uses one, which waits for all of them and puts the real lists in place.
The incremental plugin writes the article pages after the listings, so an edit's build waits
for them as late as it can.

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

import collections.abc
import hashlib
import logging
import marshal
import os
import sys
import time
from concurrent.futures.process import BrokenProcessPool

from pelican import signals

from plugins.incremental.fingerprint import code_key, content_hash, module_digest
from plugins.incremental.readers import start_worker_pool, worker_count, worker_died
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


def setting_values(settings):
    """The RELATED_POSTS_* numbers of the scoring, checked: {field of Params: value}. Raises
    RelatedPostsSettingError, naming the setting, for a value out of its range."""

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

    return {
        "max_related": number("RELATED_POSTS_MAX", 0, integer=True),
        "terms_per_article": number("RELATED_POSTS_TERMS", 1, integer=True),
        "max_df": number("RELATED_POSTS_MAX_DF", 0.0, maximum=1.0),
        "text_weight": number("RELATED_POSTS_TEXT_WEIGHT", 0.0),
        "tags_weight": number("RELATED_POSTS_TAGS_WEIGHT", 0.0),
        "category_weight": number("RELATED_POSTS_CATEGORY_WEIGHT", 0.0),
        "date_weight": number("RELATED_POSTS_DATE_WEIGHT", 0.0),
        "date_scale": number("RELATED_POSTS_DATE_SCALE", 1e-9),
        "min_score": number("RELATED_POSTS_MIN_SCORE", 0.0),
    }


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
    """Digest of what ``article_text`` reads: the title and the HTML body (by its
    ``content_hash``, memoised on the article and kept with it between builds)."""
    hasher = hashlib.sha1(article.title.encode("utf-8", "surrogatepass"))
    hasher.update(b"\x00")
    hasher.update(content_hash(article))
    return hasher.digest()


# Articles from which the lists are computed in a forked process while the build goes on;
# below, the fork and its pool cost more than the overlap saves.
BACKGROUND_MINIMUM = 500


def set_related_posts(generator):
    settings = generator.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    discard_background()  # of a build that failed before it used its lists
    published = list(generator.articles)
    others = list(generator.drafts) + list(getattr(generator, "hidden_articles", []))
    articles = published + others
    if settings["RELATED_POSTS_MAX"] == 0 or not articles:
        for article in articles:
            article.related_posts = []
        return
    started = time.perf_counter()
    sources = [source_key(a) for a in articles]
    now = now_in_vietnam()
    values = setting_values(settings)  # a wrong one stops the build here, not in the process
    job = (articles, len(published), settings, values, sources, now)
    if len(articles) >= BACKGROUND_MINIMUM and worker_count(settings) > 1:
        # The process also takes the inputs' key and finds whether the last lists still
        # hold (``lists_for``): 0.07 s at 10,000 articles that the build no longer waits for.
        global _background
        try:
            _background = BackgroundLists(articles, job, started)
        except OSError as error:  # no process to be had (memory, a process limit): here
            logger.debug("related_posts: no background process (%s)", error)
        else:
            for index, article in enumerate(articles):
                article.related_posts = PendingList(_background, index)
            return
    use_lists(articles, lists_for(*job), started)


def lists_for(articles, published_count, settings, values, sources, now):
    """``compute_lists``'s outcome, or the last build's lists when nothing they depend on
    changed (``inputs_key``; then no text was tokenised)."""
    key = inputs_key(articles, published_count, settings, sources, now)
    if settings["RELATED_POSTS_CACHE"]:
        lists = load_result(os.path.join(settings["CACHE_PATH"], RESULT_FILE), key)
        if lists is not None:
            return lists, [], 0
    return compute_lists(articles, published_count, settings, values, sources, key, now)


def compute_lists(articles, published_count, settings, values, sources, key, now):
    """The related lists of ``articles`` (indices), saving the caches; returns
    ``(lists, warnings, texts tokenised)``. ``values``: the checked ``setting_values``;
    ``now``: the time ``inputs_key`` took (articles dated later are not candidates).
    Logs nothing: it may run in a forked process, whose log records the build would not see
    (``use_lists`` logs the warnings)."""
    from plugins.related_posts.scoring import Params, VectorCache, related_articles  # numpy

    params = Params(**values)
    use_cache = settings["RELATED_POSTS_CACHE"]
    cache_path = os.path.join(settings["CACHE_PATH"], CACHE_FILE)
    cache = VectorCache.load(cache_path) if use_cache else VectorCache()
    keys_path = os.path.join(settings["CACHE_PATH"], TEXT_KEYS_FILE)
    remembered = load_text_keys(keys_path) if use_cache else {}
    records = []
    for index, (article, source) in enumerate(zip(articles, sources, strict=True)):
        known = remembered.get(source)
        if known is not None and known not in cache.docs:
            known = None
        records.append(article_record(article, index < published_count, known))
    lists, warnings = related_articles(records, now, params, cache)
    lists = [[int(i) for i in chosen] for chosen in lists]  # numpy's integers: plain ones
    warnings = list(warnings)
    if use_cache and not warnings:  # with warnings, compute again so they show again
        save_result(os.path.join(settings["CACHE_PATH"], RESULT_FILE), key, lists)
    if use_cache:
        text_keys = dict(zip(sources, (r.text_key for r in records), strict=True))
        if text_keys != remembered:
            warnings.extend(save_text_keys(keys_path, text_keys))
        if must_save(cache, os.path.exists(cache_path)):
            try:
                cache.save(cache_path, keep=cache.used)
            except OSError as error:
                warnings.append(f"không ghi được {cache_path} (cache not written): {error}")
    return lists, warnings, cache.added


def use_lists(articles, outcome, started):
    """Give each article its related list (``compute_lists``'s outcome) and log."""
    lists, warnings, tokenised = outcome
    for message in warnings:
        logger.warning("related_posts: %s", message)
    for article, chosen in zip(articles, lists, strict=True):
        article.related_posts = [articles[i] for i in chosen]
    logger.debug(
        "related_posts: %d articles, %d texts tokenised, %.2f s",
        len(articles), tokenised, time.perf_counter() - started,
    )  # fmt: skip


_background = None  # the BackgroundLists of the build under way
_job = None  # what the forked process computes: set just before the fork


def _compute_job():
    return lists_for(*_job)


class BackgroundLists:
    """The related lists computed in a forked process (``incremental.worker_pool``'s kind:
    its signals are the system's, its death fails the build). ``get`` waits for them, once,
    and puts each article's real list in place of its ``PendingList``."""

    def __init__(self, articles, job, started):
        global _job
        self.articles, self.started, self.lists = articles, started, None
        self.owner = os.getpid()
        _job = job
        try:
            self.pool, _ = start_worker_pool(1)  # the process has its copy of _job now
        finally:
            _job = None
        self.future = self.pool.submit(_compute_job)

    def get(self):
        global _background
        if self.lists is None and os.getpid() != self.owner:
            # A process forked from the build (a render worker) would wait for ever: the
            # pool that brings the lists does not run in it.
            raise RuntimeError("related_posts: the related lists are not ready in a forked "
                               "process (a template of the listings shows them?)")  # fmt: skip
        if self.lists is None:
            try:
                outcome = self.future.result()
            except BrokenProcessPool as error:
                raise worker_died() from error
            finally:
                self.pool.shutdown(wait=self.future.done(), cancel_futures=True)
                if _background is self:
                    _background = None
            use_lists(self.articles, outcome, self.started)
            self.lists = [article.related_posts for article in self.articles]
        return self.lists

    def discard(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class PendingList(collections.abc.Sequence):
    """``article.related_posts`` while the lists are computed in the background: any use
    (a template's loop, a fingerprint) waits for them (``BackgroundLists.get``)."""

    __slots__ = ("_lists", "_index")

    def __init__(self, lists, index):
        self._lists, self._index = lists, index

    def _list(self):
        return self._lists.get()[self._index]

    def __getitem__(self, item):
        return self._list()[item]

    def __len__(self):
        return len(self._list())

    def __iter__(self):
        return iter(self._list())

    def __repr__(self):
        return repr(self._list())

    def __reduce__(self):  # pickled as the list it stands for
        return list, (self._list(),)


def wait_for_lists(*args, **kwargs):
    """After the article pages are written: the lists must be in place before anything
    forks (the render workers), since a stand-in cannot wait in another process."""
    if _background is not None:
        _background.get()


def discard_background():
    global _background
    if _background is not None:
        _background.discard()
        _background = None


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


def inputs_key(articles, published_count, settings, sources, now):
    """Digest of everything the lists depend on: the code (plugins, numpy, scipy…), settings,
    and per article its place, slug, file, date, category, tags, ``Related:`` line, and
    title and text (``sources``: the articles' ``source_key``), and which articles are
    dated after ``now`` (published with WITH_FUTURE_DATES, not candidates until then)."""
    hasher = hashlib.sha1(code_key().encode())
    hasher.update(repr(sorted((k, settings[k]) for k in DEFAULTS)).encode())
    later = [i for i, a in enumerate(articles) if to_vietnam_time(a.date) > now]
    hasher.update(repr(later).encode())
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
    """``lists``: lists of plain ints (marshal does not take numpy's)."""
    _save_tagged(path, key, lists)


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
    """Returns the warnings to log (none, or the file could not be written)."""
    try:
        _save_tagged(path, text_keys_version(), keys)
    except OSError as error:
        return [f"không ghi được {path} (cache not written): {error}"]
    return []


def _load_tagged(path, tag):
    """The data saved by ``_save_tagged(path, tag, data)``, or None (missing, unreadable,
    or saved with another tag)."""
    try:
        with open(path, "rb") as handle:
            stored_tag, data = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if stored_tag == tag else None


def _save_tagged(path, tag, data):
    """Write ``(tag, data)`` with marshal, atomically."""
    write_atomically(path, marshal.dumps((tag, data)))


def register():
    signals.article_generator_finalized.connect(set_related_posts)
    signals.article_writer_finalized.connect(wait_for_lists)
