"""The site's Pelican writer."""

from markupsafe import Markup
from pelican.writers import Writer


class SiteWriter(Writer):
    """Pelican's writer, with titles in feeds kept as the text they are.

    Pelican strips tags from feed titles (it assumes titles may be HTML); ours are plain
    text, so a title such as ``Quy định <mới>`` must reach the feed as that text
    (feedgenerator escapes it for XML), not lose its "tags".
    """

    def _add_item_to_the_feed(self, feed, item):
        title = item.title
        # Pelican calls Markup(title).striptags(): escaping first makes that a no-op.
        item_title = Markup.escape(title)
        try:
            item.title = item_title
            super()._add_item_to_the_feed(feed, item)
        finally:
            item.title = title
