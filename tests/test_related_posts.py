"""related_posts plugin: the "Các bài viết khác" list."""

from datetime import datetime
from types import SimpleNamespace

from plugins.related_posts.related_posts import latest_in_category


def article(slug, category, day):
    return SimpleNamespace(slug=slug, category=category, date=datetime(2024, 1, day))


def test_latest_in_category_excludes_the_article_and_other_categories():
    a = article("a", "X", 1)
    b = article("b", "X", 2)
    c = article("c", "X", 3)
    d = article("d", "Y", 4)
    related = latest_in_category([a, b, c, d], limit=5)
    assert related[0] == [c, b]
    assert related[2] == [b, a]
    assert related[3] == []


def test_latest_in_category_limit_and_ties_by_slug():
    items = [article(slug, "X", 1) for slug in ("m", "a", "z", "k")]
    related = latest_in_category(items, limit=2)
    assert [x.slug for x in related[0]] == ["z", "k"]  # newest first, then slug (descending)
    assert [x.slug for x in related[2]] == ["m", "k"]


def test_related_links_on_built_site_are_same_category(site):
    from tests.conftest import SEED_PATH

    soup = site.soup(SEED_PATH)
    for link in soup.select("section.related a"):
        other = site.soup(link["href"].removeprefix("https://gialoc.dcs.vn/"))
        category = other.select("nav.breadcrumbs li a")[1].get_text()
        assert category == "Xây dựng Đảng"
