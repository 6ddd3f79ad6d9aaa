"""xml_sitemap: which pages sitemap.xml lists, and that incremental builds list the same."""

import re
import xml.etree.ElementTree as ET

import pytest

from plugins.xml_sitemap.xml_sitemap import DEFAULTS, excluded, html_pages, page_url
from tests.conftest import build_site, make_content

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}

ARTICLE = """Title: Bài số {n}
Date: 2023-03-{day:02d} 08:00
Category: Xây dựng Đảng

Nội dung bài số {n}.
"""


def listed(output, siteurl):
    """The URLs of sitemap.xml, relative to ``siteurl``, in file order."""
    root = ET.fromstring((output / "sitemap.xml").read_text(encoding="utf-8"))
    return [loc.text[len(siteurl) + 1 :] for loc in root.findall("s:url/s:loc", NS)]


@pytest.mark.parametrize(
    ("relative", "url"),
    [
        ("index.html", ""),
        ("chuyen-muc/xay-dung-dang/index.html", "chuyen-muc/xay-dung-dang/"),
        ("2021/11/bai.html", "2021/11/bai.html"),
        ("gioi-thieu.html", "gioi-thieu.html"),
        ("not-index.html", "not-index.html"),
        ("a/myindex.html", "a/myindex.html"),
    ],
)
def test_page_url_drops_only_a_whole_index_html(relative, url):
    assert page_url(relative) == url


@pytest.mark.parametrize(
    ("path", "is_excluded"),
    [
        ("404.html", True),
        ("a/404.html", False),
        ("trang/2/index.html", True),
        ("chuyen-muc/x/trang/3/index.html", True),
        ("trang-chu.html", False),
        ("ban-nhap/bai.html", True),
        ("2021/ban-nhap/bai.html", False),
        ("index.html", False),
    ],
)
def test_the_default_exclusions_match_as_any_of_them_would(path, is_excluded):
    patterns = DEFAULTS["XML_SITEMAP_EXCLUDE"]
    assert bool(excluded(patterns).search(path)) is is_excluded
    assert any(re.search(p, path) for p in patterns) is is_excluded
    assert excluded([]) is None


def test_the_sample_site_lists_every_html_page_but_the_excluded(site):
    """The build's own list of outputs gives the same pages as a walk of the output."""
    siteurl = site.settings["SITEURL"]
    exclude = excluded(site.settings["XML_SITEMAP_EXCLUDE"])
    walked = sorted(page_url(p) for p in html_pages(site.output) if not exclude.search(p))
    urls = listed(site.output, siteurl)
    assert urls == sorted(urls)
    assert urls == walked
    assert "" in urls and "gioi-thieu.html" in urls


def test_an_incremental_build_lists_what_a_cold_build_lists(tmp_path):
    """A page left in the output by something else is not listed (a cold build into an empty
    folder would not list it), and a deleted article leaves the sitemap."""
    articles = {f"bai-{n}.md": ARTICLE.format(n=n, day=n) for n in range(1, 6)}
    content = make_content(tmp_path, articles)
    output = tmp_path / "output"
    site = build_site(output, content=content)
    siteurl = site.settings["SITEURL"]
    assert any(url.endswith("bai-so-3.html") for url in listed(output, siteurl))

    (output / "con-sot-lai.html").write_text("<p>trang lạ</p>", encoding="utf-8")
    (content / "articles" / "bai-3.md").unlink()
    build_site(output, content=content)
    cold = build_site(tmp_path / "cold", content=content)
    urls = listed(output, siteurl)
    assert "con-sot-lai.html" not in urls
    assert not any(url.endswith("bai-so-3.html") for url in urls)
    assert (output / "sitemap.xml").read_bytes() == (cold.output / "sitemap.xml").read_bytes()
