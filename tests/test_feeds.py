"""Atom and RSS feeds, sitemap.xml and robots.txt of the published sample site."""

import re
import xml.etree.ElementTree as ET

import feedparser
import pytest

from tests.conftest import SEED_PATH

SITEURL = "https://gialoc.dcs.vn"


def published_articles(site):
    """(url, category) of every article page in the output, from the pages themselves."""
    found = []
    for path in site.output.glob("20[0-9][0-9]/[01][0-9]/*.html"):
        soup = site.soup(path.relative_to(site.output))
        category = soup.select("nav.breadcrumbs li a")[1].get_text()
        found.append((f"{SITEURL}/{path.relative_to(site.output).as_posix()}", category))
    return found


@pytest.mark.parametrize("name", ["feeds/tat-ca.atom.xml", "feeds/tat-ca.rss.xml"])
def test_all_articles_feed(site, name):
    feed = feedparser.parse(site.text(name))
    assert not feed.bozo, feed.get("bozo_exception")
    links = sorted(entry.link for entry in feed.entries)
    assert links == sorted(url for url, _ in published_articles(site))


@pytest.mark.parametrize("name", ["feeds/tat-ca.atom.xml", "feeds/tat-ca.rss.xml"])
def test_feed_entries_have_full_content_and_absolute_urls(site, name):
    feed = feedparser.parse(site.text(name))
    seed = next(e for e in feed.entries if e.link == f"{SITEURL}/{SEED_PATH}")
    html = seed.content[0].value if "content" in seed else seed.description
    assert "nhiệm kỳ 2020 – 2025" in html  # the last paragraph: full text, not a summary
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert src.startswith(SITEURL + "/"), src
    assert seed.title.startswith("Ban Thường vụ Huyện ủy Gia Lộc")


def test_atom_dates_carry_the_vietnam_offset(site):
    text = site.text("feeds/tat-ca.atom.xml")
    published = re.findall(r"<published>([^<]+)</published>", text)
    assert published and all(value.endswith("+07:00") for value in published)
    assert "<published>2021-11-09T09:00:00+07:00</published>" in text


def test_rss_dates_carry_the_vietnam_offset(site):
    text = site.text("feeds/tat-ca.rss.xml")
    dates = re.findall(r"<pubDate>([^<]+)</pubDate>", text)
    assert dates and all(value.endswith("+0700") for value in dates)
    assert "<pubDate>Tue, 09 Nov 2021 09:00:00 +0700</pubDate>" in text


def test_one_feed_per_category_with_only_its_articles(site):
    by_category = {}
    for url, category in published_articles(site):
        by_category.setdefault(category, set()).add(url)
    assert len(by_category) >= 4
    index = site.soup("chuyen-muc/index.html")
    for link in index.select(".term-list a"):
        slug = link["href"].rstrip("/").rsplit("/", 1)[1]
        for kind in ("atom", "rss"):
            feed = feedparser.parse(site.text(f"feeds/{slug}.{kind}.xml"))
            assert not feed.bozo
            assert {e.link for e in feed.entries} == by_category[link.get_text()]


def test_category_page_links_its_feeds(site):
    soup = site.soup("chuyen-muc/xay-dung-dang/index.html")
    hrefs = [link["href"] for link in soup.head.find_all("link", rel="alternate")]
    assert f"{SITEURL}/feeds/xay-dung-dang.atom.xml" in hrefs
    assert f"{SITEURL}/feeds/xay-dung-dang.rss.xml" in hrefs


def test_sitemap_lists_every_article_with_absolute_urls(site):
    root = ET.fromstring(site.text("sitemap.xml"))
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = {loc.text for loc in root.findall("s:url/s:loc", ns)}
    for url, _ in published_articles(site):
        assert url in urls
    assert f"{SITEURL}/gioi-thieu.html" in urls
    assert all(url.startswith(SITEURL + "/") for url in urls)
    assert f"{SITEURL}/404.html" not in urls


def test_robots_txt_points_to_the_sitemap(site):
    text = site.text("robots.txt")
    assert "User-agent: *" in text
    assert f"Sitemap: {SITEURL}/sitemap.xml" in text
