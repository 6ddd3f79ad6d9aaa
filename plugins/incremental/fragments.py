"""The ``{% cache %}`` tag: a piece of a template remembered from one build to the next.

    {% cache article, heading, eager %} … {% endcache %}

The first value must be an article or page; the others are plain values. During an
incremental build that renders many pages (``Build.render_listings_early``,
``Build.render_deferred``), the body is rendered once for the same values and its HTML kept
in ``<CACHE_PATH>/incremental/fragments-<settings digest>.marshal``; later builds, in the
build process or in a render worker, put the kept HTML in its place. Elsewhere (a build
rendering a few pages, plain ``pelican.Pelican``, a first value that is not a content) the
body is simply rendered.

What it is for: the article card. A new article shifts every page of the newest-first lists
by one (about 1,140 pages at 10,000 articles), and their 11,000 cards were about 60 % of those
pages' rendering, each card the same as in the last build.

The key (``Build.fragment``): the content's digest (``Build.content_digest``: everything a
page may show of it: title, URL, date, category, tags, summary, photo, body; with its
related list when the template names ``related_posts``), the template's name and the tag's
line, the template's key (its source and those of the templates it imports, extends or
includes: ``Build.template_key``), the page's ``SITEURL``, and the other values. The cache
file belongs to one settings digest (settings, plugins' code, theme's static files).

The contract: the body shows only what the values, the settings and ``SITEURL`` give, never
what else is on the page around it (a macro imported ``with context`` can see the page: it
must not use it inside the tag).
"""

import logging

from jinja2 import nodes
from jinja2.ext import Extension
from markupsafe import Markup

from plugins.incremental.readers import SettingsCache

logger = logging.getLogger(__name__)

# The build that answers the tag (``Build.fragment``), set while it writes; None: render.
fragment_source = None


class FragmentCache(Extension):
    """``{% cache content, value, … %} … {% endcache %}`` (module docstring). Named in
    ``JINJA_ENVIRONMENT["extensions"]`` as ``plugins.incremental.fragments.FragmentCache``."""

    tags = {"cache"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        values = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            values.append(parser.parse_expression())
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_fragment", [
            nodes.ContextReference(), nodes.Const(parser.name), nodes.Const(lineno),
            nodes.List(values),
        ])  # fmt: skip
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _fragment(self, context, name, lineno, values, caller):
        source = fragment_source
        if source is None:
            return caller()
        html = source(self.environment, name, lineno, values, context.get("SITEURL"), caller)
        if context.eval_ctx.autoescape and not isinstance(html, Markup):
            html = Markup(html)
        return html


class FragmentStore(SettingsCache):
    """The content's digest → {(template, line, template key, SITEURL, values…): HTML}, for
    one settings digest. Kept at each save: the entries of this build's contents, less the
    fragments of a template whose key this build saw change."""

    PREFIX = "fragments-"
    # New fragments fewer than this share of the contents held are not worth writing the
    # file again (about 8 MB at 10,000 articles, 0.04 s at the end of the build): a new
    # article's build makes one. The few left out are rendered again until enough come.
    SAVE_SHARE = 0.01

    def __init__(self, folder, settings_key):
        super().__init__(folder, settings_key)
        self._markup = False

    def get(self, outer, inner):
        return self.entries.get(outer, {}).get(inner)

    def as_markup(self):
        """Read the file now, the HTML as ``Markup`` (safe in an escaping template): once,
        before the render workers are forked, instead of once per fragment in each."""
        if self._markup:
            return
        for fragments in self.entries.values():
            for inner, html in fragments.items():
                fragments[inner] = Markup(html)
        self._markup = True

    def put(self, outer, inner, html):
        self.entries.setdefault(outer, {})[inner] = html
        self.changed = True

    def save(self, contents, templates, made):
        """``contents``: the digests of this build's contents; ``templates``: template name
        → its key in this build's process; ``made``: (outer, inner) → HTML rendered by this
        build, here or in its workers (their contents and template keys count too). A
        template's fragments made with another key go, whatever line their tag was on.
        Written when ``made`` holds at least ``SAVE_SHARE`` of the contents held, or a
        template's key changed."""
        if self._entries is None:
            return
        templates = {**templates, **{inner[0]: inner[2] for _, inner in made}}
        stale = 0
        for fragments in self._entries.values():
            old = [inner for inner in fragments
                   if templates.get(inner[0], inner[2]) != inner[2]]  # fmt: skip
            for inner in old:
                del fragments[inner]
            stale += len(old)
        if not stale and (not made or len(made) < self.SAVE_SHARE * len(self._entries)):
            return
        for (outer, inner), html in made.items():
            self.put(outer, inner, html)
        for fragments in self._entries.values():
            for inner, html in fragments.items():
                if type(html) is not str:  # Markup (as_markup): marshal takes only str
                    fragments[inner] = str(html)
        self.used = {*contents, *(outer for outer, _ in made)}
        self.changed = True
        super().save()
        logger.debug(
            "incremental: %d fragments made, %d of a changed template dropped, %d contents' "
            "fragments kept", len(made), stale, len(self._entries),
        )  # fmt: skip
