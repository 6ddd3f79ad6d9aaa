"""The site's Pelican writer: skips pages whose inputs did not change, writes only bytes
that changed, and keeps feed titles as text."""

import logging
import os

from markupsafe import Markup
from pelican import signals
from pelican.paginator import Paginator
from pelican.utils import get_relative_path, path_to_url, sanitised_join
from pelican.writers import Writer

logger = logging.getLogger(__name__)


class SiteWriter(Writer):
    """Pelican's writer, with titles in feeds kept as the text they are.

    Pelican strips tags from feed titles (it assumes titles may be HTML); ours are plain
    text, so a title such as ``Quy định <mới>`` must reach the feed as that text
    (feedgenerator escapes it for XML), not lose its "tags".
    """

    def _add_item_to_the_feed(self, feed, item):
        title = item.title
        try:
            # Pelican calls Markup(title).striptags(): escaping first makes that a no-op.
            item.title = Markup.escape(title)
            super()._add_item_to_the_feed(feed, item)
        finally:
            item.title = title


class IncrementalWriter(SiteWriter):
    """Renders a page only when its fingerprint (see ``Build.page_fingerprint``) changed
    or its file is not as the last build left it; writes a file only when its bytes
    changed, so unchanged files keep their mtime. Without a build in progress (plain
    ``pelican.Pelican``) every page is rendered, still written only when changed."""

    def __init__(self, output_path, settings=None):
        super().__init__(output_path, settings=settings)
        from plugins.incremental.incremental import current_build

        self.build = current_build()
        self._names = set()

    # --- feeds --------------------------------------------------------------------------
    def write_feed(self, elements, context, path=None, url=None, feed_type="atom",
                   override_output=False, feed_title=None):  # fmt: skip
        if not path:
            return super().write_feed(elements, context, path, url, feed_type,
                                      override_output, feed_title)  # fmt: skip
        items = elements[: self.settings["FEED_MAX_ITEMS"]]
        build = self.build
        fingerprint = None
        if build is not None:
            # Pelican's feeds show no related lists.
            fingerprint = build.fingerprint("feed", path, url, feed_type, feed_title,
                                            build.digest_value(items, related=False))  # fmt: skip
            if build.state.unchanged(path, fingerprint):
                build.state.keep(path)
                return None
        self.site_url = context.get("SITEURL", path_to_url(get_relative_path(path)))
        self.feed_domain = context.get("FEED_DOMAIN")
        self.feed_url = self.urljoiner(self.feed_domain, url or path)
        feed = self._create_new_feed(feed_type, feed_title, context)
        for element in items:
            self._add_item_to_the_feed(feed, element)
        signals.feed_generated.send(context, feed=feed)
        data = feed.writeString("utf-8").encode("utf-8")
        self._store(path, fingerprint, data, override_output)
        signals.feed_written.send(sanitised_join(self.output_path, path), context=context,
                                  feed=feed)  # fmt: skip
        return feed

    # --- pages --------------------------------------------------------------------------
    def write_file(self, name, template, context, relative_urls=False, paginated=None,
                   template_name=None, override_output=False, url=None, **kwargs):  # fmt: skip
        if not name:
            return
        build = self.build
        kind = (template_name or template.name).rsplit(".html", 1)[0]
        if paginated is None:
            paginated = {k: v for k, v in kwargs.items() if k in {"articles", "dates"}}
        paginate = bool(paginated) and template_name in self.settings["PAGINATED_TEMPLATES"]

        related = build is not None and build.shows_related(template)
        if not paginate:
            fingerprint = None
            if build is not None:
                fingerprint = build.page_fingerprint(kind, name, context, kwargs, (), related,
                                                     template)  # fmt: skip
                if build.state.unchanged(name, fingerprint):
                    build.state.keep(name)
                    self._claim(name, override_output)
                    return
            self._render(template, context, name, kwargs, relative_urls, fingerprint,
                         override_output)  # fmt: skip
            return

        per_page = (self.settings["PAGINATED_TEMPLATES"][template_name]
                    or self.settings["DEFAULT_PAGINATION"])  # fmt: skip
        paginators = {key: Paginator(name, url, value, self.settings, per_page)
                      for key, value in paginated.items()}  # fmt: skip
        base = None
        if build is not None:
            base = build.page_fingerprint(kind, name, context, kwargs, tuple(paginated),
                                          related, template)  # fmt: skip
        num_pages = next(iter(paginators.values())).num_pages
        for number in range(num_pages):
            page_kwargs = kwargs.copy()
            listed = []
            for key, paginator in paginators.items():
                page = paginator.page(number + 1)
                page_kwargs.update({
                    f"{key}_paginator": paginator,
                    f"{key}_page": page,
                    f"{key}_previous_page": paginator.page(number) if number > 0 else None,
                    f"{key}_next_page": (paginator.page(number + 2)
                                         if number + 1 < paginator.num_pages else None),
                })  # fmt: skip
                listed.append((key, page.object_list))
            save_as = page.save_as
            fingerprint = None
            if build is not None:
                listing = "\x1f".join(
                    f"{key}\x1d{build.digest_value(items, related)}" for key, items in listed
                )
                fingerprint = build.fingerprint(base, str(number), str(num_pages), save_as, listing)
                if build.state.unchanged(save_as, fingerprint):
                    build.state.keep(save_as)
                    self._claim(save_as, override_output)
                    continue
            self._render(template, context, save_as, page_kwargs, relative_urls, fingerprint,
                         override_output)  # fmt: skip

    # --- helpers ------------------------------------------------------------------------
    @staticmethod
    def local_context(context, name, kwargs, relative_urls):
        """The context one page is rendered with (here, or by a render worker)."""
        local = context.copy()
        local["localsiteurl"] = local.get("localsiteurl", None)
        if relative_urls:
            relative_url = path_to_url(get_relative_path(name))
            local["SITEURL"] = relative_url
            local["localsiteurl"] = relative_url
        local["output_file"] = name
        local.update(kwargs)
        return local

    def _render(self, template, context, name, kwargs, relative_urls, fingerprint, override):
        build = self.build
        if build is not None and build.defer_rendering and not relative_urls:
            # Rendered later, on every core (Build.render_deferred).
            if name in self._names and override:
                return
            self._claim(name, override)
            build.deferred.append((template, os.path.normpath(name), context, kwargs, fingerprint))
            return
        local = self.local_context(context, name, kwargs, relative_urls)
        if local["localsiteurl"]:
            context["localsiteurl"] = local["localsiteurl"]
        data = template.render(local).encode("utf-8")
        if self._store(name, fingerprint, data, override):
            signals.content_written.send(sanitised_join(self.output_path, name), context=local)

    def _claim(self, name, override):
        """Pelican's rule: two contents must not write the same file (unless overriding)."""
        if name in self._names and not override:
            raise RuntimeError(
                f"File {sanitised_join(self.output_path, name)} is to be overwritten"
            )
        self._names.add(name)

    def _store(self, name, fingerprint, data, override):
        if name in self._names and override:
            logger.info("Skipping %s", name)  # the first writer with override wins
            return False
        self._claim(name, override)
        path = sanitised_join(self.output_path, name)
        if self.build is not None:
            self.build.state.record(os.path.relpath(path, self.output_path), fingerprint, data)
        else:
            from plugins.incremental.state import overwrite_if_changed

            overwrite_if_changed(path, data)
        logger.info('Writing "%s"', path)
        return True
