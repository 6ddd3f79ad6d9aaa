"""incremental: fast builds at archive scale, with output identical to a cold build.

Pelican re-reads, re-renders and rewrites every page on every build. With
``PELICAN_CLASS = "plugins.IncrementalPelican"`` (pelicanconf.py) a build instead:

1. reads content through a cache keyed by each file's bytes (and by a digest of the
   settings and our plugins' code), parsing only new or edited files, on every core when
   there are many, and puts back the article and page objects of unchanged files as Pelican's
   reader made them (``ObjectSnapshot`` in ``readers.py``);
2. fixes Pelican's quadratic steps (period archives, tag and category pages) for large
   archives;
3. renders a page only when its *fingerprint* changed: a digest of the templates it is
   made from (``template_sources``) and the rest of the theme, the settings, the site
   navigation, and the data the page shows (its article, the articles listed on it, their
   related lists…), or when its file is not as the last build left it
   (``writer.py``, ``state.py``); the summaries the listings show are remembered between
   builds under the digest of the HTML they are cut from (``Build.summary``), and so are
   the cards, when many pages are rendered (the ``{% cache %}`` tag, ``fragments.py``);
4. writes a file only when its bytes changed (unchanged files keep their mtime, so rsync or
   an object-store upload sends only what changed), and deletes the pages a previous build
   wrote that this build no longer produces (a deleted or renamed article).

The contract with templates: a page may show its own data (the objects passed to the
template), the site-wide navigation (``menu_categories``, ``pages``) and settings. A
template that lists other content must get it through an object attribute that is part of
its fingerprint (``article.related_posts``), or its template name must be unknown to
``PAGE_INPUTS`` (then it is rendered whenever any article changes). Related lists count in
the fingerprint of a page only when its template, or one it extends, includes or imports,
names ``related_posts`` (``template_mentions``): one edit changes the related lists of many
articles, and the listings that show none of them are not rendered again for that.

The plugin part (``register``) installs the writer, which also works with plain
``pelican.Pelican`` (write-if-changed only).

``build_outputs(pelican)`` tells ``finalized`` receivers which files the build wrote or
kept, with their fingerprints (plugins/search uses it instead of reading the output).
``contents_read_now(generator)`` tells which contents the build read anew (plugins/search
starts indexing their shards as soon as the context is complete, while the site is written).
``readers.EARLY_RECEIVERS`` are handed them earlier still, when they are few, before the
other contents are put back (plugins/related_posts guesses its lists meanwhile).

Settings:
    INCREMENTAL_MANIFEST = None   # path of the manifest; default under CACHE_PATH, per output
    INCREMENTAL_WORKERS = 0       # processes for reading and rendering; 0 = one per core
"""

import datetime
import logging
import os
import time
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from types import MappingProxyType

from jinja2 import TemplateNotFound
from pelican import Pelican, signals
from pelican.contents import Article, Page
from pelican.generators import ArticlesGenerator, PagesGenerator, StaticGenerator
from pelican.log import console

from plugins.incremental import fragments, readers
from plugins.incremental.collector import BuildCollector
from plugins.incremental.fingerprint import (
    build_key,
    content_hash,
    digest,
    file_digest,
    output_key,
    read_snapshot,
    sources_stamp,
    stable_repr,
    start_snapshot,
    static_links,
    theme_rest_digest,
    theme_roots,
    tree_digest,
    tree_files,
    tree_stamp,
)
from plugins.incremental.fragments import FragmentStore
from plugins.incremental.readers import (
    CachedReaders,
    ContentCache,
    FileKeys,
    ObjectSnapshot,
    SummaryCache,
    start_worker_pool,
    worker_count,
    worker_died,
)
from plugins.incremental.state import BuildState, overwrite_if_changed, write_if_changed
from plugins.incremental.templates import JinjaBytecodeCache, TemplateCache, parsed_references
from plugins.incremental.writer import IncrementalWriter

logger = logging.getLogger(__name__)

DEFAULTS = {
    "INCREMENTAL_MANIFEST": None,
    "INCREMENTAL_WORKERS": 0,
}

# Kwargs that hold every article: by contract, templates do not show them.
IGNORED_KWARGS = frozenset({"all_articles"})

_current = None


def current_build():
    return _current


def contents_read_now(generator):
    """The contents ``generator`` read anew in this build (parsed, or made by a reading
    worker), as opposed to those put back from the last build's object snapshot: the new
    and edited files. None when that is not known (a file read outside the snapshot's way,
    or plain ``pelican.Pelican``)."""
    readers_ = getattr(generator, "readers", None)
    if not isinstance(readers_, CachedReaders) or readers_.snapshot is None:
        return None
    return None if readers_.read_now is None else list(readers_.read_now)


def build_outputs(pelican):
    """The output files of the build that ``pelican`` has just run, for ``finalized``
    receivers (by then ``current_build()`` is None): a read-only mapping of each output
    name (relative to the output folder, "/"-separated) to ``[fingerprint, size, mtime_ns]``
    as this build wrote or kept it. Files the writer did not render (static files) have
    ``[None, None, None]``; files written by ``finalized`` receivers are not listed. None
    under plain ``pelican.Pelican``, or when the build did not get to its end.

    Pages with the same fingerprint hold the same bytes (that is what lets the build skip
    them), so a receiver can tell which pages changed without reading them."""
    build = getattr(pelican, "incremental_build", None)
    if build is None or not build.finished:
        return None
    return MappingProxyType(build.state.current)


# --- what each kind of page shows, beyond its own kwargs -------------------------------


def _categories_inputs(build, context, kwargs):
    return [(c.name, c.url, len(a)) for c, a in context.get("categories", [])]


def _tags_inputs(build, context, kwargs):
    return [(t.name, t.url, len(a)) for t, a in context.get("tags", [])]


def _archives_inputs(build, context, kwargs):
    archives = context.get("period_archives", {})
    return [
        (granularity, [(a["url"], len(a["dates"])) for a in archives.get(granularity, [])])
        for granularity in ("year", "month", "day")
    ]


def _no_inputs(build, context, kwargs):
    return None


PAGE_INPUTS = {
    "article": _no_inputs,
    "page": _no_inputs,
    "index": _no_inputs,
    "category": _no_inputs,
    "tag": _no_inputs,
    "period_archives": _no_inputs,
    "404": _no_inputs,
    "search": _no_inputs,
    "categories": _categories_inputs,
    "tags": _tags_inputs,
    "archives": _archives_inputs,
}


def template_sources(environment, name, references=parsed_references):
    """(name, source) of template ``name`` and of every template it extends, includes or
    imports, and so on, sorted by name: all a page made from ``name`` takes from the theme's
    templates. None when that cannot be known: a template not found, or one named only when
    rendering (``{% include some_variable %}``). ``references(environment, source)``: the
    names a source references (parsed, or remembered: ``TemplateCache.references``)."""
    seen, todo, found = set(), [name], []
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            source = environment.loader.get_source(environment, current)[0]
        except TemplateNotFound:
            return None
        found.append((current, source))
        for referenced in references(environment, source):
            if referenced is None:
                return None
            todo.append(referenced)
    return sorted(found)


def template_mentions(environment, name, word, references=parsed_references):
    """Whether the source of template ``name``, or of a template it extends, includes or
    imports (and so on), contains ``word``; True too when that cannot be known
    (``template_sources``)."""
    sources = template_sources(environment, name, references)
    return sources is None or any(word in source for _, source in sources)


def manifest_path(settings, output_path):
    """Where a build of ``output_path`` keeps its manifest (``BuildState``): the setting
    INCREMENTAL_MANIFEST, else one file per output folder under CACHE_PATH."""
    return settings.get("INCREMENTAL_MANIFEST") or os.path.join(
        settings["CACHE_PATH"], "incremental", f"manifest-{output_key(output_path)}.marshal"
    )


class Build:
    """State of one incremental build: caches, manifest, and the digests of the site."""

    def __init__(self, pelican):
        settings = pelican.settings
        self.settings = settings
        cache_root = os.path.join(settings["CACHE_PATH"], "incremental")
        self.settings_key = build_key(settings)
        self._cache_root = cache_root
        self._content_cache = None
        self.object_snapshot = ObjectSnapshot(cache_root, self.settings_key)
        self.summaries = SummaryCache(cache_root, self.settings_key)
        self.new_summaries = {}  # (digest, siteurl) → summary cut by this build or its workers
        self.fragments = FragmentStore(cache_root, self.settings_key)
        self.fragments_on = False  # see _start_rendering
        self.new_fragments = {}  # (outer, inner) → HTML rendered by this build or its workers
        # In a render share (``_render_share``): the summaries and fragments it makes, which
        # a worker sends back; both also go to new_summaries and new_fragments, where every
        # share of the process looks them up. None outside a share.
        self.share_summaries = self.share_fragments = None
        self._fragment_keys = {}  # template name → (template key, shows related lists)
        self.file_keys = FileKeys(os.path.join(cache_root, "file-keys.marshal"))
        self.templates = TemplateCache(cache_root, self.settings_key)
        self.state = BuildState(pelican.output_path, manifest_path(settings, pelican.output_path))
        # Every folder Pelican's Jinja loader finds templates in, and the theme's static
        # files (Pelican's own "simple" theme is in the code key, as an installed package).
        self.theme_key = tree_digest(*theme_roots(settings))
        # A page's fingerprint holds the theme less its templates, and the templates it is
        # made from (``template_key``): an edit of article.html renders the articles again,
        # not the lists.
        self.theme_rest_key = theme_rest_digest(settings)
        self._template_keys = {}
        self.site_key = None  # once the context is complete (see start_writing)
        self._digests = {}
        self._own_digests = {}  # without the related lists
        self._own_digest_set = None  # own_digests, at the end of the build
        self._shows_related = {}  # template name → bool
        self._wrappers = {}
        self._briefs = {}
        self._everything = None
        # kind of page (the template's name less ".html") → TEMPLATE_PAGES source
        self._template_pages = {
            source.rsplit(".html", 1)[0]: source for source in settings.get("TEMPLATE_PAGES") or {}
        }
        self._inputs = None
        self.context = None
        self.generators = []
        self.deferred = []
        self.early_render = None  # (pool, its start, its shares' futures): see below
        self.output_snapshot = None  # (its process, its file): see start_output_snapshot
        self.defer_rendering = True
        self.finished = False  # every page and static file written (see finish)
        self.collector = BuildCollector()

    @property
    def content_cache(self):
        if self._content_cache is None:
            self._content_cache = ContentCache(self._cache_root, self.settings_key)
        return self._content_cache

    # --- nothing changed? -----------------------------------------------------------------
    def inputs_key(self):
        """Settings, plugins, theme, and every file of the content folder and of the
        content paths outside it (path, size, mtime, ctime, inode; ``sources_stamp``): a
        different value means something may have to be built again."""
        if self._inputs is None:
            self._inputs = digest(self.settings_key, self.theme_key,
                                  sources_stamp(self.settings))  # fmt: skip
        return self._inputs

    def nothing_changed(self):
        """True when the inputs are those of the last complete build, the output folder is
        exactly as that build left it, and no future-dated article has come due."""
        last = self.state.last
        if not last or last.get("inputs") != self.inputs_key():
            return False
        due = last.get("next_future")
        if due is not None and time.time() >= due:
            return False
        return last.get("output") == tree_stamp(self.state.output_path)

    def remember(self):
        """Record what this complete build was made from, for ``nothing_changed``."""
        now = time.time()
        # Drafts by date (Pelican's default), and with WITH_FUTURE_DATES the published
        # articles whose date has not come (the related lists leave them out until then).
        future = [
            a.date.timestamp()
            for g in self.generators
            for kind in ("drafts", "articles", "hidden_articles")
            for a in getattr(g, kind, [])
            if a.date.timestamp() > now
        ]
        self.state.save_last({
            "inputs": self.inputs_key(),
            "output": tree_stamp(self.state.output_path, known=self.take_output_snapshot()),
            "next_future": min(future) if future else None,
        })  # fmt: skip

    # --- digests ------------------------------------------------------------------------
    def start_writing(self, context):
        """The site-wide part of every fingerprint: settings, plugins, theme, navigation."""
        self.context = context
        navigation = (
            [(c.name, c.url) for c in context.get("menu_categories", [])],
            [(p.title, p.url) for p in context.get("pages", [])],
        )
        self.site_key = digest(self.settings_key, self.theme_rest_key, navigation)
        readers.summary_source = self.summary
        fragments.fragment_source = self.fragment

    def summary(self, item, siteurl, compute):
        """``item``'s summary, ``compute`` (Pelican's) only when not remembered: a summary is
        cut from the article's HTML (with its links resolved), which ``content_digest``
        covers, by the settings and the code, which the cache's settings digest covers."""
        if "summary" in item.metadata:
            return compute(siteurl)
        key = self.summary_key(item)
        known = self.summaries.get(key, siteurl)
        if known is None:
            known = self._made_here(self.new_summaries, self.share_summaries, (key, siteurl),
                                    lambda: compute(siteurl))  # fmt: skip
        return known

    def fragment(self, environment, name, lineno, values, siteurl, render):
        """The HTML of a ``{% cache %}`` tag's body (``fragments.py``): remembered when the
        build renders many pages (``fragments_on``), else ``render()``'s."""
        item = values[0] if values else None
        if not self.fragments_on or name is None or not _is_content(item):
            return render()
        known = self._fragment_keys.get(name)
        if known is None:
            template = environment.get_template(name)
            known = self._fragment_keys[name] = (self.template_key(template),
                                                 self.shows_related(template))  # fmt: skip
        version, related = known
        outer = self.content_digest(item, related)
        inner = (name, lineno, version, siteurl,
                 *[self.digest_value(value, related) for value in values[1:]])  # fmt: skip
        html = self.fragments.get(outer, inner)
        if html is None:
            html = self._made_here(self.new_fragments, self.share_fragments, (outer, inner),
                                   lambda: str(render()))  # fmt: skip
        return html

    @staticmethod
    def _made_here(made, share, key, make):
        """What this build made under ``key`` (``made``: its new summaries or fragments, its
        workers' and those its process inherited included), else ``make()``'s, kept there
        and in ``share`` (what a render share sends back, ``_render_share``; None outside
        one): nothing is made twice in one process."""
        value = made.get(key)
        if value is None:
            value = made[key] = make()
            if share is not None:
                share[key] = value
        return value

    def summary_key(self, item):
        return self.content_digest(item, related=False)

    def fingerprint(self, *parts):
        return digest(self.site_key, *parts)

    def content_digest(self, item, related=True):
        """Digest of everything a page may show of this article or page; with
        ``related=False``, of everything but its related list (for the pages whose templates
        never show one, see ``shows_related``)."""
        memo = self._digests if related else self._own_digests
        known = memo.get(id(item))
        if known is not None and known[0] is item:
            return known[1]
        if related:
            briefs = "\x1e".join(self._brief(o) for o in getattr(item, "related_posts", None) or ())
            text = f"{self.content_digest(item, related=False)}\x1f{briefs}"
        else:
            raw = getattr(item, "_content", "") or ""
            # Links to other contents ({filename}…) resolve to their current URLs: the text
            # shown, else the body's hash (memoised, see content_hash).
            linked = "{" in raw or "|" in raw
            shown = f"t{item.content}" if linked else f"h{content_hash(item).hex()}"
            category = getattr(item, "category", None)
            text = "\x1f".join([
                type(item).__name__,
                getattr(item, "title", ""),
                getattr(item, "url", ""),
                getattr(item, "save_as", ""),
                getattr(item, "status", ""),
                str(getattr(item, "template", "")),
                str(getattr(item, "date", "")),
                str(getattr(item, "modified", "")),
                category.name if category is not None else "",
                "\x1e".join(t.name for t in getattr(item, "tags", None) or ()),
                "\x1e".join(a.name for a in getattr(item, "authors", None) or ()),
                str(item.metadata.get("summary", "")),
                repr(getattr(item, "lead_photo", None)),
                shown,
            ])  # fmt: skip
        value = file_digest(text.encode("utf-8", "surrogatepass"))
        memo[id(item)] = (item, value)
        return value

    def _brief(self, item):
        """What a list of links shows of an article: URL, title, date (memoised)."""
        known = self._briefs.get(id(item))
        if known is None or known[0] is not item:
            known = (item, f"{item.url}\x1d{item.title}\x1d{item.date.isoformat()}")
            self._briefs[id(item)] = known
        return known[1]

    def shows_related(self, template):
        """Whether pages of ``template`` may show related lists: its source or one of the
        templates it extends, includes or imports names ``related_posts`` (see
        ``template_mentions``). Pages that cannot are not rendered again when only the
        related lists of the articles they list changed (an edit changes many of them)."""
        if template.name is None:  # made from a string: no source to read
            return True
        known = self._shows_related.get(template.name)
        if known is None:
            known = template_mentions(template.environment, template.name, "related_posts",
                                      self.templates.references)  # fmt: skip
            self._shows_related[template.name] = known
        return known

    def digest_value(self, value, related=True):
        """A string standing for ``value`` in a fingerprint (``related``: see
        ``content_digest``)."""
        memo = self._digests if related else self._own_digests
        known = memo.get(id(value))  # articles and pages, listed many times
        if known is not None and known[0] is value:
            return known[1]
        if _is_content(value):
            return self.content_digest(value, related)
        if hasattr(value, "slug") and hasattr(value, "settings") and hasattr(value, "name"):
            known = self._wrappers.get(id(value))
            if known is None or known[0] is not value:
                known = (value, f"{type(value).__name__}\x1d{value.name}\x1d{value.url}")
                self._wrappers[id(value)] = known
            return known[1]
        if isinstance(value, (list, tuple)):
            return "[" + "\x1e".join([self.digest_value(v, related) for v in value]) + "]"
        if isinstance(value, dict):
            return "{" + "\x1e".join(f"{k}\x1d{self.digest_value(v, related)}"
                                      for k, v in sorted(value.items(), key=str)) + "}"  # fmt: skip
        if value is None or isinstance(value, (str, int, float, bool)):
            return repr(value)
        return stable_repr(value)

    def everything(self):
        """Digest of every content: for pages whose template is not in PAGE_INPUTS."""
        if self._everything is None:
            items = []
            for key in ("articles", "pages", "drafts", "hidden_articles", "hidden_pages"):
                items.extend(self.content_digest(i) for i in self.context.get(key, []))
            self._everything = digest("\n".join(items))
        return self._everything

    def page_fingerprint(self, kind, name, context, kwargs, paginated_keys, related=True,
                         template=None):  # fmt: skip
        inputs = PAGE_INPUTS.get(kind)
        extra = inputs(self, context, kwargs) if inputs else self.everything()
        shown = "\x1f".join(
            f"{key}\x1d{self.digest_value(value, related)}"
            for key, value in sorted(kwargs.items())
            if key not in IGNORED_KWARGS and key not in paginated_keys
        )
        parts = [kind, name, stable_repr(extra), shown, self.template_key(template)]
        source = self.template_page_source(kind)
        if source is not None:
            parts.append(source)
        return self.fingerprint(*parts)

    def template_key(self, template):
        """Digest of what a page made from ``template`` takes from the templates: its source
        and those of the templates it extends, includes or imports (``template_sources``).
        The digest of the whole theme when that cannot be known, or without a template."""
        name = getattr(template, "name", None)
        if name is None:
            return self.theme_key
        key = (name, id(template.environment))
        known = self._template_keys.get(key)
        if known is None:
            sources = template_sources(template.environment, name, self.templates.references)
            known = self.theme_key if sources is None else digest(stable_repr(sources))
            self._template_keys[key] = known
        return known

    def template_page_source(self, kind):
        """For a page of TEMPLATE_PAGES (robots.txt), its template's path and bytes: the
        template lives in the content folder, not in the theme of ``site_key``. None for
        other pages."""
        source = self._template_pages.get(kind)
        if source is None:
            return None
        try:
            with open(os.path.join(self.settings["PATH"], source), "rb") as handle:
                return source.encode("utf-8", "surrogatepass") + b"\0" + handle.read()
        except OSError:  # Pelican reports the missing template
            return source

    # --- rendering on every core ---------------------------------------------------------
    def render_listings_early(self):
        """Start rendering the pages queued so far (the listings) in worker processes, while
        the build goes on with the article pages (their fingerprints, and the related lists
        they wait for): a new article shifts every page of the newest-first lists, about
        1,200 pages at 10,000 articles. Only when there are many, and when no queued page's
        template shows related lists: they may still be computed in their own process, and
        a stand-in cannot wait in another one. ``render_deferred`` collects the results."""
        jobs = self.deferred
        workers = worker_count(self.settings)
        if (
            len(jobs) < PARALLEL_RENDER_MINIMUM
            or workers < 2
            or any(self.shows_related(job[0]) for job in jobs)
        ):
            return
        try:
            self.early_render = self._start_rendering(jobs, workers)
        except OSError as error:  # no process to be had now: they wait for the end
            logger.debug("incremental: listings not rendered early (%s)", error)
            return
        self.deferred = []

    def _start_rendering(self, jobs, workers):
        """Fork ``workers`` processes that render ``jobs`` and write them, in a few shares per
        worker (a stopped build waits only for the shares running; ``share_jobs`` says which
        pages go together): (the pool, the task that forked it, the shares' futures)."""
        global _render_state
        # Many pages: their remembered fragments (the cards) are worth reading, once, here.
        self.fragments_on = True
        self.fragments.as_markup()
        dates = [listed_when(kwargs) for _, _, _, kwargs, _ in jobs]
        shares = share_jobs(dates, workers * RENDER_SHARES_PER_WORKER)
        _render_state = (jobs, self.state.output_path)
        try:
            pool, started = start_worker_pool(workers)  # forked now, with the jobs
        finally:
            _render_state = None
        return pool, started, [pool.submit(_render_share, share) for share in shares]

    def _rendered(self, rendering):
        """What ``_start_rendering``'s shares wrote, in queue order, once all are done (the
        summaries they cut are kept); the pool is shut down."""
        pool, started, futures = rendering
        with pool:
            try:
                started.result()
                parts = [future.result() for future in futures]
            except BrokenProcessPool as error:
                raise worker_died() from error
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        for _, (summaries, made) in parts:
            self.new_summaries.update(summaries)
            self.new_fragments.update(made)
        return sorted((r for part, _ in parts for r in part), key=lambda r: r[0])

    def discard_early_render(self):
        """End the early rendering of a build that stopped before collecting it."""
        early, self.early_render = self.early_render, None
        if early is not None:
            early[0].shutdown(wait=True, cancel_futures=True)

    def render_deferred(self):
        """Render the pages the writer queued: in forked workers when there are many (each
        renders its shares' pages and writes them), else here. The parent records the results
        in the manifest in queue order, so the outcome does not depend on the workers
        (the listings rendered early first: they were queued first)."""
        early, self.early_render = self.early_render, None
        results = self._rendered(early) if early is not None else []
        jobs, self.deferred = self.deferred, []
        workers = worker_count(self.settings)
        if len(jobs) >= PARALLEL_RENDER_MINIMUM and workers > 1:
            results += self._rendered(self._start_rendering(jobs, workers))
        else:
            global _render_state
            _render_state = (jobs, self.state.output_path)
            try:
                results += _render_share(range(len(jobs)))[0]
            finally:
                _render_state = None
        for _, name, fingerprint, size, mtime, written in results:
            self.state.adopt(name, fingerprint, size, mtime, written)

    # --- the end of a build -------------------------------------------------------------
    def finish(self, generators):
        """Claim static outputs, delete stale pages, save the manifest and caches."""
        for generator in generators:
            if isinstance(generator, StaticGenerator):
                for static in generator.staticfiles:
                    if static.save_as:
                        self.state.own(os.path.normpath(static.save_as))
        removed = self.state.remove_stale()
        if removed:
            logger.info("incremental: removed %d stale files", len(removed))
        self.state.save()  # now: a build failing after this point must not lose it
        self.save_summaries(generators)
        self.save_fragments(generators)
        self.save_reading_caches()  # again: nothing to write unless read since
        self.templates.save()
        self.finished = True
        self.start_output_snapshot()
        logger.info(
            "incremental: %d pages rendered, %d files written",
            len(self.state.rendered),
            len(self.state.written),
        )

    def start_output_snapshot(self):
        """Start a process that reads the output's folders (``folder_snapshot``) while the
        last writers run (the search index, the sitemap, the assets: Pelican's ``finalized``
        receivers), so that ``remember`` reads again only the folders changed since: about
        0.02 s instead of 0.12–0.15 s at 10,000 articles (23,000 files in 3,000 folders).
        Only for a large output (``OUTPUT_SNAPSHOT_MINIMUM`` pages) and with workers; else,
        or if it fails, ``remember`` reads every folder itself: the stamp is the same."""
        if (
            len(self.state.current) < OUTPUT_SNAPSHOT_MINIMUM
            or worker_count(self.settings) < 2
        ):
            return
        # One name per output folder: a build killed meanwhile leaves one file, not one each.
        name = f"output-snapshot-{output_key(self.state.output_path)}.marshal"
        path = os.path.join(self._cache_root, name)
        try:
            os.makedirs(self._cache_root, exist_ok=True)
            self.output_snapshot = (start_snapshot(self.state.output_path, path), path)
        except OSError as error:  # no process to be had now
            logger.debug("incremental: no output snapshot (%s)", error)

    def take_output_snapshot(self):
        """The snapshot ``start_output_snapshot`` started, once its process ends; None if
        there is none or it failed."""
        taken, self.output_snapshot = self.output_snapshot, None
        return read_snapshot(*taken) if taken is not None else None

    def discard_output_snapshot(self):
        """End the snapshot of a build that stopped before ``remember``."""
        if self.output_snapshot is not None:
            self.output_snapshot[0].kill()
            self.take_output_snapshot()  # waits for it and removes its file

    def save_reading_caches(self):
        """Save what reading made (the content cache, the object snapshot, the file keys):
        complete once every generator has read its files. Done before the article pages,
        which may wait for the related lists meanwhile (``FastArticlesGenerator.
        generate_pages``), and at the end; each cache writes only what changed."""
        self.content_cache.save(kept_elsewhere=self.object_snapshot.file_keys())
        self.object_snapshot.save()
        self.file_keys.save()

    def save_fragments(self, generators):
        """Remember the fragments rendered by this build, and keep those of its contents
        made by the templates of this build (``FragmentStore.save``)."""
        if not self.fragments.loaded:
            return  # none looked up, none made: the file was not even read
        versions = {name: version for name, (version, _) in self._fragment_keys.items()}
        self.fragments.save(self.own_digests(generators), versions, self.new_fragments)

    def save_summaries(self, generators):
        """Remember the summaries of this build's contents, and only those."""
        for (key, siteurl), summary in self.new_summaries.items():
            self.summaries.put(key, siteurl, summary)
        if not self.summaries.loaded:
            return  # none looked up, none made: the cache was not even read
        self.summaries.used = self.own_digests(generators)
        self.summaries.save()

    def own_digests(self, generators):
        """The digests (without related lists) of every content of this build: the entries
        the summaries and the fragments keep."""
        if self._own_digest_set is None:
            self._own_digest_set = frozenset(
                self.content_digest(item, related=False)
                for generator in generators for kind in CONTENT_LISTS
                for item in getattr(generator, kind, None) or ()
            )  # fmt: skip
        return self._own_digest_set


def _is_content(value):
    """An article or page (what ``Build.content_digest`` takes)."""
    return hasattr(value, "_content") and hasattr(value, "source_path")


# --- generators ---------------------------------------------------------------------------

# Where Pelican's generators keep their contents (what a plugin that visits every article
# and page walks: the photos plugin, the summaries kept).
CONTENT_LISTS = (
    "articles", "translations", "hidden_articles", "hidden_translations", "drafts",
    "drafts_translations", "pages", "hidden_pages", "draft_pages", "draft_translations",
)  # fmt: skip


PARALLEL_RENDER_MINIMUM = 200
OUTPUT_SNAPSHOT_MINIMUM = 2000  # pages of the build (the manifest): see start_output_snapshot
RENDER_SHARES_PER_WORKER = 4
_render_state = None


def listed_when(kwargs):
    """When the articles a listing page shows were published, as a number: the timestamp of
    the middle one of its page (Pelican's ``articles_page`` or ``dates_page``) or, on a page
    not paginated (a month's archive), of its ``dates``; None for a page that lists none
    (an article page)."""
    for key in ("articles_page", "dates_page", "dates"):
        shown = getattr(kwargs.get(key), "object_list", kwargs.get(key))
        if isinstance(shown, (list, tuple)) and shown:  # not what a plugin may pass instead
            date = getattr(shown[len(shown) // 2], "date", None)
            if isinstance(date, datetime.datetime):
                return date.timestamp()
    return None


def share_jobs(dates, count):
    """The queued pages' numbers split into ``count`` shares of about as many pages. The
    listings (``dates``: ``listed_when`` of each page) are sorted by date and cut into runs
    of consecutive dates, so that the pages that show an article (the home page's pagination,
    its category's, its tags', its month's) mostly fall into one share and its card and
    summary are made in one worker, not in each: a cold build at 10,000 articles made about
    5,950 cards and 5,750 summaries twice when every page was dealt out in turn, 930 now.
    The other pages are still dealt out in turn, as their cost varies along the queue (an
    article page's depends on its length)."""
    listings = sorted((date, number) for number, date in enumerate(dates) if date is not None)
    shares = [[number for _, number in listings[i * len(listings) // count:
                                                  (i + 1) * len(listings) // count]]
              for i in range(count)]  # fmt: skip
    others = [number for number, date in enumerate(dates) if date is None]
    for position, number in enumerate(others):
        shares[position % count].append(number)
    return [sorted(share) for share in shares]


def _render_share(numbers):
    """In a worker (or inline): render the queued pages ``numbers``; return what was written."""
    jobs, output_path = _render_state
    build = current_build()  # render_deferred's, forked with it into a worker
    # The summaries this share cuts and the fragments it renders, apart as well: a worker's
    # are lost with it unless sent back (and only those: what the worker inherited, or sent
    # back with an earlier share, the parent has). Each is still looked up among all those
    # the process has (new_summaries, new_fragments), so none is made twice in one process.
    made, fragments_made = {}, {}
    build.share_summaries, build.share_fragments = made, fragments_made
    results = []
    try:
        for number in numbers:
            template, name, context, kwargs, fingerprint = jobs[number]
            local = IncrementalWriter.local_context(context, name, kwargs, relative_urls=False)
            data = template.render(local).encode("utf-8")
            path = os.path.join(output_path, name)
            written = overwrite_if_changed(path, data)
            stat = os.stat(path)
            results.append((number, name, fingerprint, stat.st_size, stat.st_mtime_ns, written))
    finally:
        build.share_summaries = build.share_fragments = None
    return results, (made, fragments_made)


def pick_extensions(files, extensions):
    """The paths among ``files`` that Pelican's ``Generator._include_path`` lets through for
    ``extensions`` (False: all), the other rule (IGNORE_FILES) being already applied: the
    name's last extension, without its dot, is one of them."""
    if extensions is False:
        return list(files)
    return [f for f in files if os.path.splitext(os.path.basename(f))[1][1:] in extensions]


class _CachedReading:
    def get_files(self, paths, exclude=None, extensions=None):
        # Pelican walks the content folder here, again for its check of the disabled
        # readers' files (another extension list: 0.03 s at 10,000 articles), and the
        # prefetch needs the same list: walk once per build, every extension, and pick
        # by extension as Pelican's ``_include_path`` does (``pick_extensions``). In path
        # order: Pelican returns a set, whose order changes with every process (hash
        # randomisation), and it reads the files in that order, so articles of the same
        # date (a date without a time is common) changed places from one build to the
        # next, in the listings and the feeds.
        key = (tuple([paths] if isinstance(paths, str) else paths), tuple(exclude or ()))
        memo = self.__dict__.setdefault("_files_memo", {})
        if key not in memo:
            memo[key] = sorted(super().get_files(paths, exclude=exclude, extensions=False))
        if extensions is None:
            extensions = tuple(self.readers.extensions)
        return pick_extensions(memo[key], extensions)

    def add_static_links(self, content):
        # Pelican's, with the scan of the body for {static} and {attach} links remembered
        # with the object (``static_links``): an article put back is not scanned again.
        self.context["static_links"] |= static_links(content)

    # Pelican's own generator cache (CACHE_CONTENT, off here: our reader cache replaces it)
    # still stats every file twice per build; skip it when it holds nothing.
    def get_cached_data(self, filename, default=None):
        if not self._cache_data_policy and not self._cache:
            return default
        return super().get_cached_data(filename, default)

    def cache_data(self, filename, data):
        if self._cache_data_policy:
            super().cache_data(filename, data)

    def _use_build_caches(self):
        build = current_build()
        if build is not None:
            self.readers = CachedReaders(self.settings, build.content_cache, build.file_keys,
                                         build.object_snapshot)  # fmt: skip
            self.env.bytecode_cache = JinjaBytecodeCache(build.templates)

    def _prefetch(self, paths, excludes, content_class):
        if isinstance(self.readers, CachedReaders):
            found = self.get_files(paths, exclude=excludes)
            self.readers.prefetch([os.path.join(self.path, f) for f in found], self.path,
                                  content_class)  # fmt: skip


class FastArticlesGenerator(_CachedReading, ArticlesGenerator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._use_build_caches()

    def generate_context(self):
        self._prefetch(self.settings["ARTICLE_PATHS"], self.settings["ARTICLE_EXCLUDES"], Article)
        super().generate_context()

    def generate_pages(self, writer):
        """Pelican's pages in another order: the listings first, the article pages last.
        At archive scale the related lists are still being computed then, in another
        process (``related_posts``), and the article pages are the first to need them;
        meanwhile the articles' own digests are made and the reading caches saved too. The
        output is the same."""
        write = partial(writer.write_file, relative_urls=self.settings["RELATIVE_URLS"])
        self.generate_period_archives(write)
        self.generate_direct_templates(write)
        self.generate_tags(write)
        self.generate_categories(write)
        self.generate_authors(write)
        build = current_build()
        if build is not None:
            build.render_listings_early()
            for kind in CONTENT_LISTS:
                for article in getattr(self, kind, None) or ():
                    build.content_digest(article, related=False)
            build.save_reading_caches()
        self.generate_articles(write)
        self.generate_drafts(write)

    def _build_period_archives(self, sorted_articles, articles, settings):
        # Pelican filters `articles` with `a in dates` (a list) for every period: quadratic.
        # Same result here: each period's articles, in the order of `articles`.
        archives = super()._build_period_archives(sorted_articles, [], settings)
        for granularity in archives.values():
            period_of = {}
            for number, archive in enumerate(granularity):
                archive["articles"] = []
                for article in archive["dates"]:
                    period_of[id(article)] = number
            for article in articles:
                number = period_of.get(id(article))
                if number is not None:
                    granularity[number]["articles"].append(article)
        return archives

    def generate_tags(self, write):
        self._with_dates(self.tags.items(), "tag", write)

    def generate_categories(self, write):
        self._with_dates(self.categories, "category", write)

    def generate_authors(self, write):
        if self.settings.get("AUTHOR_SAVE_AS"):
            self._with_dates(self.authors, "author", write)

    def _with_dates(self, groups, kind, write):
        """Pelican's tag and category pages, without its quadratic `a in articles` nor a
        pass over every article per group: each group's ``dates`` are its articles in the
        order of ``self.dates``."""
        template = self.get_template(kind)
        position = {id(a): i for i, a in enumerate(self.dates)}
        for term, articles in groups:
            members = {position[id(a)]: a for a in articles if id(a) in position}
            dates = [members[i] for i in sorted(members)]
            write(
                term.save_as,
                template,
                self.context,
                url=term.url,
                articles=articles,
                dates=dates,
                template_name=kind,
                blog=True,
                page_name=term.page_name,
                all_articles=self.articles,
                **{kind: term},
            )


class FastPagesGenerator(_CachedReading, PagesGenerator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._use_build_caches()

    def generate_context(self):
        self._prefetch(self.settings["PAGE_PATHS"], self.settings["PAGE_EXCLUDES"], Page)
        super().generate_context()


class FastStaticGenerator(StaticGenerator):
    """Copies the theme's static files only when their bytes changed (Pelican rewrites
    them on every build), and claims them as outputs of the build."""

    def _copy_paths(self, paths, source, destination, output_path, final_path=None):
        build = current_build()
        for path in paths:
            source_path = os.path.join(source, path)
            if final_path:
                target = os.path.join(output_path, destination, final_path)
                if os.path.isfile(source_path):
                    target = os.path.join(target, os.path.basename(path))
            else:
                target = os.path.join(output_path, destination, path)
            for origin, copy_to in _files_to_copy(source_path, target):
                with open(origin, "rb") as handle:
                    write_if_changed(copy_to, handle.read())
                if build is not None:
                    build.state.own(os.path.relpath(copy_to, output_path))


def _files_to_copy(source, target):
    if os.path.isfile(source):
        yield source, target
        return
    # Links followed, as Pelican's copy follows them.
    for relative, entry in tree_files(source, _hidden):
        if not entry.name.startswith("."):
            yield entry.path, os.path.join(target, relative)


def _hidden(name):
    return name.startswith(".")


class BuildFinisher:
    """Runs last among the generators: after every page and static file is written."""

    def __init__(self, *args, **kwargs):
        self.generators = []

    def generate_output(self, writer):
        build = current_build()
        if build is not None:
            build.render_deferred()
            build.finish(self.generators)


class IncrementalPelican(Pelican):
    """Pelican with the incremental build above (select with PELICAN_CLASS)."""

    def _get_generator_classes(self):
        replace = {
            ArticlesGenerator: FastArticlesGenerator,
            PagesGenerator: FastPagesGenerator,
            StaticGenerator: FastStaticGenerator,
        }
        classes = [replace.get(cls, cls) for cls in super()._get_generator_classes()]
        return [*classes, BuildFinisher]

    def run(self):
        global _current
        for key, value in DEFAULTS.items():
            self.settings.setdefault(key, value)
        build = Build(self)
        self.incremental_build = None
        if build.nothing_changed():
            logger.info("incremental: nothing changed since the last build")
            console.print("Done: nothing changed since the last build.")
            return
        _current = build
        self.incremental_build = build  # for build_outputs(), after the build
        build.collector.start()
        try:
            super().run()
            build.remember()
        finally:
            build.discard_early_render()
            build.discard_output_snapshot()
            _current = None
            readers.summary_source = None
            fragments.fragment_source = None
            build.collector.stop()


# --- plugin part ----------------------------------------------------------------------------


def get_writer(pelican):
    return IncrementalWriter


def prepare_writing(generators):
    build = current_build()
    if build is None:
        return
    build.collector.settle()  # everything is read
    build.generators = list(generators)
    finisher = next((g for g in generators if isinstance(g, BuildFinisher)), None)
    if finisher is not None:
        finisher.generators = list(generators)
    context = generators[0].context if generators else {}
    build.start_writing(context)


def add_cache_tag(generator):
    """``generator_init`` receiver: the ``{% cache %}`` tag (``fragments.FragmentCache``) in
    every generator's Jinja environment, if ``JINJA_ENVIRONMENT`` does not name it already:
    the theme's card macro uses it."""
    environment = getattr(generator, "env", None)
    if environment is not None and not any(
        isinstance(extension, fragments.FragmentCache)
        for extension in environment.extensions.values()
    ):
        environment.add_extension(fragments.FragmentCache)


def register():
    signals.get_writer.connect(get_writer)
    signals.generator_init.connect(add_cache_tag)
    signals.all_generators_finalized.connect(prepare_writing)
