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

From ``BACKGROUND_MINIMUM`` articles on (and unless INCREMENTAL_WORKERS = 1), another
process finds whether the last lists still hold, and computes them if not, while the build
goes on (``lists_for``): each ``article.related_posts`` is a stand-in (``PendingList``)
until the build first uses one, which waits for all of them and puts the real lists in place.
The incremental plugin writes the article pages after the listings, so an edit's build waits
for them as late as it can. When the last build had that many articles, the process is
started before the articles are read (``ListsProcess``): it imports numpy and scipy and reads
the caches meanwhile, on the core reading leaves idle, and is then sent each article's plain
values (``Row``) and the few texts it has no vectors for. Otherwise (a first build, many new
texts) it is forked when reading ends and takes all that from its copy of the articles.
Meanwhile that process guesses the lists (``speculate_lists``, ``_speculate``): from the last
lists' rows and the few articles read anew, which the incremental build makes before it puts
back the others; the guess is used only if it was computed from exactly the build's rows.

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
from datetime import datetime
from functools import partial
from typing import NamedTuple

from pelican import signals
from pelican.contents import Article

from plugins.incremental.fingerprint import code_key, content_hash, module_digest
from plugins.incremental.readers import (
    EARLY_RECEIVERS,
    start_worker_pool,
    worker_count,
    worker_died,
)
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
# The texts tokenised since the vector cache was last written (it is written only when
# enough are new, ``must_save``): the next build's processes tokenise them again when they
# read the caches, so the vector cache they use misses no article's text.
PENDING_FILE = os.path.join("related_posts", "pending-texts.marshal")
# What the last lists were computed from (``Row``s, sources, the published count): a
# ``ListsProcess`` guesses this build's from it and the few articles read anew, and computes
# the lists while the build is still reading (``speculate_lists``).
ROWS_FILE = os.path.join("related_posts", "rows.marshal")


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


def article_text(title, content):
    """What the scoring reads of an article: the title (twice: it names the topic) and the
    plain text of its HTML ``content``."""
    from plugins.related_posts.scoring import plain_text

    title = plain_text(title)
    return f"{title} . {title} . {plain_text(content or '')}"


class Row(NamedTuple):
    """What the lists depend on of one article, in plain values (``article_row``): what a
    process that did not read the articles is sent (``ListsProcess``)."""

    slug: str
    path: str  # the file, as Pelican has it
    date: str  # ISO 8601, as written by Pelican's datetime
    category: str
    tags: tuple  # sorted
    related: object  # the ``Related:`` metadata value, "" if none
    title: str
    source: str  # the file relative to the content folder, for messages


def article_row(article):
    return Row(
        slug=article.slug,
        path=str(article.source_path),
        date=article.date.isoformat(),
        category=str(article.category),
        tags=tuple(sorted(str(tag) for tag in getattr(article, "tags", None) or ())),
        related=article.metadata.get("related", ""),
        title=article.title,
        source=article.get_relative_source_path(),
    )


def article_record(row, date, published, text, known_key=None):
    """The scoring's record of an article (its ``Row``, and its date in Vietnam time).
    ``known_key``: the text key remembered for this title and content, when the vector
    cache holds it; else ``text``, a function that gives the text (``article_text``)."""
    from plugins.related_posts.scoring import Record
    from plugins.related_posts.terms import text_key

    text = "" if known_key is not None else text()
    return Record(
        slug=row.slug,
        date=date,
        category=row.category,
        tags=row.tags,
        text=text,
        published=published,
        related=related_slugs(row.related),
        source=row.source,
        text_key=known_key if known_key is not None else text_key(text),
    )


def source_key(article):
    """Digest of what ``article_text`` reads: the title and the HTML body (by its
    ``content_hash``, memoised on the article and kept with it between builds)."""
    hasher = hashlib.sha1(article.title.encode("utf-8", "surrogatepass"))
    hasher.update(b"\x00")
    hasher.update(content_hash(article))
    return hasher.digest()


# Articles from which the lists are computed in another process while the build goes on;
# below, the process and its pool cost more than the overlap saves.
BACKGROUND_MINIMUM = 500
# The texts a ``ListsProcess`` may be sent (the articles it has no vectors for): with more (a
# first build, a new version of the tokeniser) the process forked from the build extracts
# them itself, from its copy of the articles.
SENT_TEXTS_MAXIMUM = 200
# Bytes of the text-keys file per article (marshal: a 20-byte key and a 16-byte value): how
# many articles the last build had, without reading the file.
TEXT_KEY_BYTES = 46


class Job(NamedTuple):
    """What the lists are computed from, besides the articles (or their ``Row``)."""

    published_count: int  # the first ones are published, the others drafts or hidden
    settings: dict  # ``lists_settings``
    values: dict  # the checked ``setting_values``
    sources: list  # each article's ``source_key``
    now: datetime  # articles dated later are not candidates


def with_defaults(settings):
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    return settings


def lists_settings(settings):
    """The settings the lists depend on: RELATED_POSTS_* and CACHE_PATH."""
    return {**{key: settings[key] for key in DEFAULTS}, "CACHE_PATH": settings["CACHE_PATH"]}


def start_process(generator):
    """``article_generator_init`` receiver: from ``BACKGROUND_MINIMUM`` articles in the last
    build, start the process that will compute the lists (``ListsProcess``) now, before the
    articles are read: it imports the scoring (numpy, scipy) and reads the caches on the core
    that reading leaves idle, instead of after it, when every core is busy."""
    global _process
    discard_process()  # of a build that failed before it used it
    settings = with_defaults(generator.settings)
    if (
        settings["RELATED_POSTS_MAX"] == 0
        or not settings["RELATED_POSTS_CACHE"]
        or worker_count(settings) < 2
        or last_article_count(settings["CACHE_PATH"]) < max(BACKGROUND_MINIMUM, 1)
    ):
        return
    try:
        _process = ListsProcess(lists_settings(settings))
    except OSError as error:  # no process to be had: forked later, or the lists made here
        logger.debug("related_posts: no process started before reading (%s)", error)


def last_article_count(cache_path):
    """About how many articles the last build had (its text-keys file's size); 0 if none."""
    try:
        return os.path.getsize(os.path.join(cache_path, TEXT_KEYS_FILE)) // TEXT_KEY_BYTES
    except OSError:
        return 0


def set_related_posts(generator):
    settings = with_defaults(generator.settings)
    discard_background()  # of a build that failed before it used its lists
    process = take_process()
    try:
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
        values = setting_values(settings)  # a wrong one stops the build here, not elsewhere
        job = Job(len(published), lists_settings(settings), values, sources, now)
        if len(articles) >= BACKGROUND_MINIMUM and worker_count(settings) > 1:
            # The process also takes the inputs' key and finds whether the last lists still
            # hold (``lists_for``): 0.07 s at 10,000 articles that the build does not wait for.
            global _background
            try:
                _background, process = BackgroundLists.start(articles, job, started, process)
            except OSError as error:  # no process to be had (memory, a process limit): here
                logger.debug("related_posts: no background process (%s)", error)
            else:
                for index, article in enumerate(articles):
                    article.related_posts = PendingList(_background, index)
                return
        use_lists(articles, lists_of_articles(articles, job), started)
    finally:
        if process is not None:  # not used
            process.discard()


def lists_of_articles(articles, job):
    """``lists_for`` the articles read by this process (or by the build it was forked from)."""
    rows = [article_row(a) for a in articles]
    return lists_for(rows, job, lambda i: article_text(articles[i].title, articles[i]._content))


def lists_for(rows, job, text, loaded=None):
    """``compute_lists``'s outcome, or the last build's lists when nothing they depend on
    changed (``inputs_key``; then no text was tokenised)."""
    return keyed_lists(rows, job, text, loaded)[1]


def keyed_lists(rows, job, text, loaded=None, guess=None):
    """(``inputs_key``, ``lists_for``'s outcome). ``guess``: a (key, outcome) computed
    ahead from guessed rows (``_speculate``), used when its key is this one: when everything
    the lists depend on is what was guessed. What the lists were computed from is
    remembered (``ROWS_FILE``) for the next build's guess."""
    dates = [to_vietnam_time(datetime.fromisoformat(row.date)) for row in rows]
    key = inputs_key(rows, dates, job)
    if guess is not None and guess[0] == key:
        return guess
    cached = job.settings["RELATED_POSTS_CACHE"]
    if cached:
        lists = load_result(os.path.join(job.settings["CACHE_PATH"], RESULT_FILE), key)
        if lists is not None:
            return key, (lists, [], 0)
    outcome = compute_lists(rows, dates, job, key, text, loaded)
    if cached and len(rows) >= BACKGROUND_MINIMUM:
        save_rows(job.settings["CACHE_PATH"], rows, job)
    return key, outcome


def save_rows(cache_path, rows, job):
    """Remember what the lists were computed from (``ROWS_FILE``)."""
    data = (job.published_count, [tuple(row) for row in rows], list(job.sources))
    try:
        _save_tagged(os.path.join(cache_path, ROWS_FILE), text_keys_version(), data)
    except (OSError, ValueError):  # ValueError: a ``Related:`` value marshal cannot write
        pass


def load_rows(cache_path):
    """(published count, rows as tuples, sources) saved by ``save_rows``, or None."""
    data = _load_tagged(os.path.join(cache_path, ROWS_FILE), text_keys_version())
    return data if isinstance(data, tuple) and len(data) == 3 else None


def load_caches(settings):
    """The vector cache, with the texts tokenised since it was written (``PENDING_FILE``)
    added again, and the remembered text keys (``compute_lists``)."""
    from plugins.related_posts.scoring import VectorCache  # numpy

    if not settings["RELATED_POSTS_CACHE"]:
        return VectorCache(), {}
    cache = VectorCache.load(os.path.join(settings["CACHE_PATH"], CACHE_FILE))
    cache.pending = load_pending(os.path.join(settings["CACHE_PATH"], PENDING_FILE))
    if cache.pending:
        cache.counts_for(list(cache.pending.values()), keys=list(cache.pending))
        cache.used.clear()  # what this build uses is counted when it computes its lists
    return cache, load_text_keys(os.path.join(settings["CACHE_PATH"], TEXT_KEYS_FILE))


def known_key(source, cache, remembered):
    """The text key remembered for ``source`` (``source_key``) if the cache has its vector."""
    known = remembered.get(source)
    return known if known is not None and known in cache.docs else None


def compute_lists(rows, dates, job, key, text, loaded=None):
    """The related lists of the articles of ``rows`` (indices), saving the caches; returns
    ``(lists, warnings, texts tokenised)``. ``dates``: the rows' dates in Vietnam time;
    ``key``: ``inputs_key``; ``text(i)``: article i's text (``article_text``), asked only
    if the cache has no vector for it; ``loaded``: ``load_caches``'s outcome, if already read.
    Logs nothing: it may run in another process, whose log records the build would not see
    (``use_lists`` logs the warnings)."""
    from plugins.related_posts.scoring import Params, related_articles  # numpy

    settings, sources = job.settings, job.sources
    params = Params(**job.values)
    use_cache = settings["RELATED_POSTS_CACHE"]
    cache_path = os.path.join(settings["CACHE_PATH"], CACHE_FILE)
    keys_path = os.path.join(settings["CACHE_PATH"], TEXT_KEYS_FILE)
    cache, remembered = loaded if loaded is not None else load_caches(settings)
    records = [
        article_record(row, dates[index], index < job.published_count, partial(text, index),
                       known_key(source, cache, remembered))
        for index, (row, source) in enumerate(zip(rows, sources, strict=True))
    ]  # fmt: skip
    lists, warnings = related_articles(records, job.now, params, cache)
    lists = [[int(i) for i in chosen] for chosen in lists]  # numpy's integers: plain ones
    warnings = list(warnings)
    if use_cache and not warnings:  # with warnings, compute again so they show again
        save_result(os.path.join(settings["CACHE_PATH"], RESULT_FILE), key, lists)
    if use_cache:
        text_keys = dict(zip(sources, (r.text_key for r in records), strict=True))
        if text_keys != remembered:
            warnings.extend(save_text_keys(keys_path, text_keys))
        texts = {**cache.pending, **{r.text_key: r.text for r in records if r.text}}
        if must_save(cache, os.path.exists(cache_path)):
            try:
                cache.save(cache_path, keep=cache.used)
            except OSError as error:
                warnings.append(f"không ghi được {cache_path} (cache not written): {error}")
        used = set(text_keys.values())
        pending = {key: text for key, text in texts.items()
                   if key in used and key not in cache.saved_keys}  # fmt: skip
        if pending != cache.pending:
            pending_path = os.path.join(settings["CACHE_PATH"], PENDING_FILE)
            warnings.extend(save_pending(pending_path, pending))
            cache.pending = pending
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


_process = None  # the ListsProcess started for the build under way, not yet used
_background = None  # the BackgroundLists of the build under way
_job = None  # what the forked process computes (articles, Job): set just before the fork
_loaded = None  # in a ListsProcess: the caches it read (``_load``)
_guess = None  # in a ListsProcess: (key, outcome) of the lists it guessed (``_speculate``)


def _compute_job():
    return lists_of_articles(*_job)


def _load(settings):
    """In a ListsProcess: import the scoring and read the caches; return the sources
    (``source_key``) whose vectors it has."""
    global _loaded
    cache, remembered = _loaded = load_caches(settings)
    return {source for source in remembered if known_key(source, cache, remembered)}


def _compute_sent(rows, texts, job):
    """In a ListsProcess: ``lists_for`` the articles of ``rows``, with the caches it read
    and ``texts`` ({index: (title, HTML)}) for the articles it had no vector for; the lists
    it guessed if they were computed from the same (``_speculate``)."""
    global _guess
    guess, _guess = _guess, None
    rows, texts = [Row._make(row) for row in rows], dict(texts)
    return keyed_lists(rows, job, lambda i: article_text(*texts[i]), _loaded, guess)[1]


def _speculate(changes, paths, settings):
    """In a ListsProcess, while the build reads: guess this build's rows from the last
    lists' (``ROWS_FILE``), less the articles whose file is gone (``paths``: the files
    found), with the articles read anew (``changes``: (row, source, title, HTML)) in their
    place, or, new ones, among the published ones by date; then compute their lists. The
    build's real rows decide later (``_compute_sent``): a wrong guess costs only the work
    done on a core that reading leaves idle. True if lists were guessed."""
    global _guess
    _guess = None
    last = load_rows(settings["CACHE_PATH"])
    if last is None or _loaded is None:
        return False
    try:
        count, rows, sources = last
        present = set(paths)
        kept = [i for i, row in enumerate(rows) if row[1] in present]
        rows = [Row._make(rows[i]) for i in kept]
        sources, count = [sources[i] for i in kept], sum(1 for i in kept if i < count)
        texts = {}
        for row, source, title, html in changes:
            row = Row._make(row)
            texts[row.path] = (title, html)
            index = next((i for i, known in enumerate(rows) if known.path == row.path), None)
            if index is None:  # a new article: published, placed by date as Pelican does
                date = datetime.fromisoformat(row.date)
                index = next((i for i in range(count)
                              if datetime.fromisoformat(rows[i].date) < date), count)  # fmt: skip
                rows.insert(index, row)
                sources.insert(index, source)
                count += 1
            else:
                rows[index], sources[index] = row, source
        by_index = {i: texts[row.path] for i, row in enumerate(rows) if row.path in texts}
        cache, remembered = _loaded
        if any(i not in by_index and known_key(source, cache, remembered) is None
               for i, source in enumerate(sources)):  # fmt: skip
            return False  # a text it does not have: the build will send it
        job = Job(count, settings, setting_values(settings), sources, now_in_vietnam())
        _guess = keyed_lists(rows, job, lambda i: article_text(*by_index[i]), _loaded)
    except Exception as error:  # noqa: BLE001 (a guess: the build's rows decide)
        logger.debug("related_posts: no guess (%s: %s)", type(error).__name__, error)
        return False
    return True


class ListsProcess:
    """A process started before the articles are read (``start_process``) that imports the
    scoring and reads the caches meanwhile (``_load``), then computes the lists from what it
    is sent (``BackgroundLists.start``): the articles' ``Row`` and the texts it has no
    vectors for. A process forked when reading ends would do all that on a busy machine, and
    touch the build's every object (0.3 s at 10,000 articles, in the build's longest wait)."""

    def __init__(self, settings):
        self.settings = settings
        self.pool, _ = start_worker_pool(1)
        self.loading = self.pool.submit(_load, settings)

    def known(self):
        """The sources whose vectors it has, or None if it failed (it is then discarded)."""
        try:
            return self.loading.result()
        except Exception as error:  # noqa: BLE001 (a cache it could not read, its death…)
            logger.debug("related_posts: the process started before reading failed (%s: %s)",
                         type(error).__name__, error)  # fmt: skip
            return None

    def send(self, articles, job):
        """Have it compute the lists of ``articles``: the future of its outcome, or None if
        it cannot (other settings, it failed, or more than SENT_TEXTS_MAXIMUM texts to
        send)."""
        known = self.known() if self.settings == job.settings else None
        if known is None:
            return None
        missing = [i for i, source in enumerate(job.sources) if source not in known]
        if len(missing) > SENT_TEXTS_MAXIMUM:
            return None
        rows = [tuple(article_row(a)) for a in articles]  # plain tuples: sent faster
        texts = [(i, (articles[i].title, articles[i]._content)) for i in missing]
        try:
            return self.pool.submit(_compute_sent, rows, texts, job)
        except BrokenProcessPool as error:  # it died since
            logger.debug("related_posts: the process started before reading ended (%s)",
                         error)  # fmt: skip
            return None

    def speculate(self, changes, paths):
        """Have it guess the lists while the build reads (``_speculate``); not waited for."""
        try:
            self.pool.submit(_speculate, changes, paths, self.settings)
        except BrokenProcessPool:  # ``send`` finds it dead
            pass

    def discard(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


def speculate_lists(content_class, contents, paths):
    """``incremental.readers.EARLY_RECEIVERS`` receiver: the articles a build reads anew
    (``contents``, made apart before the others are put back), and every article file
    found (``paths``), sent to the ``ListsProcess`` so that it guesses this build's lists
    while the build reads (``_speculate``). Not when one of them is not published (a draft
    has no place among the published to guess)."""
    process = _process
    if process is None or not issubclass(content_class, Article):
        return
    if any(getattr(content, "status", None) != "published" for content in contents):
        return
    changes = [(tuple(article_row(content)), source_key(content), content.title,
                content._content) for content in contents]  # fmt: skip
    process.speculate(changes, [os.path.abspath(path) for path in paths])


def take_process():
    """The ListsProcess started for this build, if any (now the caller's)."""
    global _process
    process, _process = _process, None
    return process


def discard_process():
    process = take_process()
    if process is not None:
        process.discard()


class BackgroundLists:
    """The related lists computed in another process: a ``ListsProcess`` or one forked now
    (both ``incremental.worker_pool``'s kind: their signals are the system's, their death
    fails the build). ``get`` waits for them, once, and puts each article's real list in
    place of its ``PendingList``."""

    def __init__(self, articles, pool, future, started):
        self.articles, self.started, self.lists = articles, started, None
        self.owner = os.getpid()
        self.pool, self.future = pool, future

    @classmethod
    def start(cls, articles, job, started, process=None):
        """The lists of ``articles`` computed by ``process`` if it can (``ListsProcess.
        send``), else by a process forked now. Returns (the BackgroundLists, ``process``
        if not used)."""
        future = process.send(articles, job) if process is not None else None
        if future is not None:
            return cls(articles, process.pool, future, started), None
        global _job
        _job = (articles, job)
        try:
            pool, _ = start_worker_pool(1)  # the process has its copy of _job now
        finally:
            _job = None
        return cls(articles, pool, pool.submit(_compute_job), started), process

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


def inputs_key(rows, dates, job):
    """Digest of everything the lists depend on: the code (plugins, numpy, scipy…), settings,
    and per article (its ``Row``) its place, slug, file, date, category, tags, ``Related:``
    line, and title and text (``sources``: the articles' ``source_key``), and which articles
    are dated after ``job.now`` (``dates``: the rows' dates in Vietnam time; published with
    WITH_FUTURE_DATES, they are not candidates until then)."""
    hasher = hashlib.sha1(code_key().encode())
    hasher.update(repr(sorted((k, job.settings[k]) for k in DEFAULTS)).encode())
    later = [i for i, date in enumerate(dates) if date > job.now]
    hasher.update(repr(later).encode())
    for index, row in enumerate(rows):
        fields = (
            str(index < job.published_count), row.slug, row.path, row.date, row.category,
            ",".join(row.tags), str(row.related), row.title,
        )  # fmt: skip
        hasher.update("\x1f".join(fields).encode("utf-8", "surrogatepass"))
        hasher.update(job.sources[index])
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


def load_pending(path):
    """{text key: text} tokenised since the vector cache was written, by this code."""
    texts = _load_tagged(path, text_keys_version())
    return texts if isinstance(texts, dict) else {}


def save_pending(path, texts):
    """Returns the warnings to log (none, or the file could not be written)."""
    try:
        if texts:
            _save_tagged(path, text_keys_version(), texts)
        elif os.path.exists(path):
            os.remove(path)
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
    if speculate_lists not in EARLY_RECEIVERS:
        EARLY_RECEIVERS.append(speculate_lists)
    signals.article_generator_init.connect(start_process)
    signals.article_generator_finalized.connect(set_related_posts)
    signals.article_writer_finalized.connect(wait_for_lists)
