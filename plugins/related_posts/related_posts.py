"""related_posts: the "Các bài viết khác" list under each article.

Sets ``article.related_posts`` for every published article: for now the latest
articles of the same category, never the article itself.

Settings:
    RELATED_POSTS_MAX = 5   # how many links under each article
"""

import logging
from collections import defaultdict

from pelican import signals

logger = logging.getLogger(__name__)

DEFAULTS = {
    "RELATED_POSTS_MAX": 5,
}


def latest_in_category(articles, limit):
    """Return, per article (same order as ``articles``), the ``limit`` newest other
    articles of its category. Ties on date are broken by slug: input order never matters.
    """
    by_category = defaultdict(list)
    for article in articles:
        by_category[article.category].append(article)
    newest = {}
    for category, members in by_category.items():
        members.sort(key=lambda a: (a.date, a.slug), reverse=True)
        newest[category] = members[: limit + 1]
    return [
        [other for other in newest[article.category] if other is not article][:limit]
        for article in articles
    ]


def set_related_posts(generator):
    settings = generator.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    related = latest_in_category(generator.articles, settings["RELATED_POSTS_MAX"])
    for article, others in zip(generator.articles, related, strict=True):
        article.related_posts = others


def register():
    signals.article_generator_finalized.connect(set_related_posts)
