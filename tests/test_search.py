"""search plugin: the Pagefind index of articles and pages, the search page, the skip.

What the index finds is tested in a real browser (tests/browser/test_search.py); here the
index files themselves are read: Pagefind's fragments are gzip'd JSON after a signature.
"""

import gzip
import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from plugins.search import search
from plugins.vn_text import D_STROKE_MARK, compose_d
from tests.conftest import SEED_PATH, build_site, make_content

SITEURL = "https://gialoc.dcs.vn"
SIGNATURE = b"pagefind_dcd"


def fragments(bundle):
    """url → fragment (content, meta, …) of every page in a Pagefind bundle."""
    found = {}
    for path in sorted(Path(bundle, "fragment").iterdir()):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(SIGNATURE)
        fragment = json.loads(data[len(SIGNATURE) :])
        found[fragment["url"]] = fragment
    return found


@pytest.fixture(scope="module")
def site_fragments(site):
    return fragments(site.path("pagefind"))


# --- pure helpers ------------------------------------------------------------------------------


def test_prepare_page_is_nfc_with_d_stroke_decomposed():
    html = unicodedata.normalize("NFD", "<p>Đảng viên đã đến</p>").encode("utf-8")
    prepared = search.prepare_page(html).decode("utf-8")
    assert prepared == f"<p>D{D_STROKE_MARK}ảng viên d{D_STROKE_MARK}ã d{D_STROKE_MARK}ến</p>"
    assert unicodedata.is_normalized("NFC", prepared)
    assert compose_d(prepared) == "<p>Đảng viên đã đến</p>"


def test_find_pages_keeps_marked_pages_only_and_skips_the_bundle(tmp_path):
    marked = b"<div data-pagefind-body>x</div>"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.html").write_bytes(marked)
    (tmp_path / "a.html").write_bytes(marked)
    (tmp_path / "index.html").write_bytes(b"<p>list page</p>")
    (tmp_path / "notes.txt").write_bytes(marked)
    (tmp_path / "pagefind").mkdir()
    (tmp_path / "pagefind" / "x.html").write_bytes(marked)
    pages = search.find_pages(tmp_path, "pagefind")
    assert [relative for relative, _ in pages] == ["a.html", "b/z.html"]


def test_fingerprint_follows_paths_bytes_and_language():
    settings = search.search_settings({})
    pages = [("a.html", b"<p>A</p>"), ("b.html", b"<p>B</p>")]
    base = search.fingerprint(pages, settings)
    assert search.fingerprint(list(pages), settings) == base
    assert search.fingerprint([("a.html", b"<p>A!</p>"), pages[1]], settings) != base
    assert search.fingerprint([("c.html", b"<p>A</p>"), pages[1]], settings) != base
    assert search.fingerprint(pages[:1], settings) != base
    # the same bytes split differently between two pages are another site
    assert search.fingerprint([("a.html", b"<p>A</p><p>B"), ("b.html", b"</p>")], settings) != (
        search.fingerprint([("a.html", b"<p>A</p>"), ("b.html", b"<p>B</p>")], settings)
    )
    other = search.search_settings({"SEARCH_LANGUAGE": "en"})
    assert search.fingerprint(pages, other) != base


def test_search_settings_defaults_and_overrides():
    settings = search.search_settings({"SEARCH_BUNDLE_DIR": "tim", "CACHE_PATH": "/c", "X": 1})
    assert settings["SEARCH_BUNDLE_DIR"] == "tim"
    assert settings["SEARCH_INDEX"] is True
    assert settings["SEARCH_LANGUAGE"] == "vi"
    assert settings["CACHE_PATH"] == "/c"
    assert "X" not in settings


@pytest.mark.parametrize(
    "log, expected",
    [("Total:\n  Indexed 1 language\n  Indexed 21 pages\n  Indexed 740 words\n", 740), ("", 0)],
)
def test_indexed_word_count(log, expected):
    assert search.indexed_word_count(log) == expected


def test_pagefind_failure_is_a_clear_error(tmp_path):
    with pytest.raises(search.SearchError, match="Pagefind không tạo được chỉ mục"):
        search.run_pagefind(tmp_path / "missing", tmp_path / "bundle", "vi")


# --- the sample site ------------------------------------------------------------------------


def test_bundle_is_written_into_the_output(site):
    names = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", "wasm.unknown.pagefind")
    for name in names:
        assert site.exists(f"pagefind/{name}"), name
    entry = json.loads(site.text("pagefind/pagefind-entry.json"))
    assert list(entry["languages"]) == ["vi"]
    assert entry["version"] == search.pagefind_version()


def test_only_articles_and_pages_are_indexed(site, site_fragments):
    articles = [p for p in site.files(".html") if p.relative_to(site.output).parts[0].isdigit()]
    assert len(site_fragments) == len(articles) + 2  # + Giới thiệu, Liên hệ
    assert "/gioi-thieu.html" in site_fragments and "/lien-he.html" in site_fragments
    listings = ("/chuyen-muc/", "/chu-de/", "/luu-tru/", "/trang/")
    assert not any(url.startswith(listings) for url in site_fragments)
    assert "/" not in site_fragments and "/tim-kiem.html" not in site_fragments


def test_seed_fragment_holds_the_body_only_in_index_form(site, site_fragments, seed_text):
    fragment = site_fragments["/" + SEED_PATH]
    content = fragment["content"]
    assert "đ" not in content and "Đ" not in content
    real = compose_d(content)
    assert "công tác phát triển đảng viên" in real
    assert real.endswith("trong nhiệm kỳ 2020 – 2025.")
    # not the menu, banner, date line, tags, related list or footer
    seed = site.soup(SEED_PATH)
    related = seed.select_one("section.related")
    assert related is not None and related.has_attr("data-pagefind-ignore")
    for link in related.select("a"):
        assert link.get_text() not in real
    for outside in (
        "Trang chủ",
        "Trang thông tin điện tử",
        "Thứ Ba 09/11/2021",
        "Chủ đề:",
        "Các bài viết khác",
        "Chịu trách nhiệm",
    ):
        assert outside not in real, outside


def test_seed_fragment_metadata(site_fragments):
    meta = site_fragments["/" + SEED_PATH]["meta"]
    assert compose_d(meta["title"]) == (
        "Ban Thường vụ Huyện ủy Gia Lộc tổ chức Hội nghị giao ban bí thư chi bộ chuyên đề về "
        "công tác phát triển đảng viên"
    )
    assert meta["date"] == "09/11/2021"
    assert meta["datetime"] == "2021-11-09T09:00:00+07:00"
    assert compose_d(meta["category"]) == "Xây dựng Đảng"
    # the photo as readers get it: a responsive derivative of the seed photo
    assert meta["image"].startswith(f"{SITEURL}/images/2021/hoi-nghi-giao-ban-phat-trien-dang-vien")
    assert meta["image"].endswith((".jpg", ".webp"))
    assert meta["image_alt"] == "Quang cảnh Hội nghị"


def test_page_fragment_has_title_and_no_date(site_fragments):
    meta = site_fragments["/gioi-thieu.html"]["meta"]
    assert meta["title"] == "Giới thiệu"
    assert "date" not in meta and "category" not in meta


def test_every_fragment_is_nfc_once_composed(site_fragments):
    for url, fragment in site_fragments.items():
        assert unicodedata.is_normalized("NFC", compose_d(fragment["content"])), url


def test_search_page(site):
    soup = site.soup("tim-kiem.html")
    assert soup.title.get_text() == "Tìm kiếm – Huyện ủy Gia Lộc"
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    crumbs = [li.get_text(strip=True) for li in soup.select("nav.breadcrumbs li")]
    assert crumbs == ["Trang chủ", "Tìm kiếm"]
    assert soup.find("h1").get_text() == "Tìm kiếm"
    form = soup.select_one("main form[role=search]")
    assert form["action"] == f"{SITEURL}/tim-kiem.html" and form["method"] == "get"
    field = form.find("input", attrs={"name": "q"})
    assert form.find("label", attrs={"for": field["id"]}).get_text() == "Từ khóa"
    assert "cần JavaScript" in soup.find("noscript").get_text()
    results = soup.select_one('[data-module="site-search"]')
    assert results["data-bundle"] == f"{SITEURL}/pagefind/"
    assert results.select_one("[role=status]")["aria-live"] == "polite"
    scripts = [s["src"] for s in soup.find_all("script", src=True)]
    assert f"{SITEURL}/theme/js/vn-fold.js" in scripts
    assert f"{SITEURL}/theme/js/site-search.js" in scripts
    assert site.exists("theme/js/vn-fold.js") and site.exists("theme/js/site-search.js")


def test_header_form_submits_to_the_search_page_on_every_page(site):
    for page in site.files(".html"):
        form = site.soup(page.relative_to(site.output)).find("form", attrs={"role": "search"})
        assert form["action"] == f"{SITEURL}/tim-kiem.html", page
        assert form.find("input", attrs={"type": "search"})["name"] == "q"


def test_search_page_is_not_in_the_sitemap(site):
    assert "tim-kiem.html" not in site.text("sitemap.xml")


# --- small sites: settings, skipping unchanged pages -----------------------------------------

ARTICLE = """Title: {title}
Date: 2024-03-28 14:00
Category: Xây dựng Đảng

{body}
"""


def small_site(tmp_path, body="Đảng bộ huyện đã tổ chức hội nghị."):
    articles = {"2024/a.md": ARTICLE.format(title="Hội nghị Đảng bộ", body=body)}
    return make_content(tmp_path, articles)


def test_search_index_off_writes_no_bundle(tmp_path):
    built = build_site(tmp_path / "out", content=small_site(tmp_path), SEARCH_INDEX=False)
    assert not built.exists("pagefind/pagefind.js")
    assert built.exists("tim-kiem.html")


def test_other_bundle_folder(tmp_path):
    built = build_site(tmp_path / "out", content=small_site(tmp_path), SEARCH_BUNDLE_DIR="tim")
    assert built.exists("tim/pagefind.js") and not built.exists("pagefind/pagefind.js")
    results = built.soup("tim-kiem.html").select_one('[data-module="site-search"]')
    assert results["data-bundle"] == "/tim/"


def test_unchanged_pages_are_not_reindexed_and_edits_are(tmp_path):
    content = small_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    settings = search.search_settings(built.settings)
    bundle = built.path("pagefind")
    assert (bundle / "pagefind-entry.json").is_file()
    stale = bundle / "fragment" / "stale.pf_fragment"
    stale.write_bytes(b"old")

    assert search.update_index(built.output, settings).skipped

    # a rebuild of the same content writes the same pages: still skipped
    build_site(tmp_path / "out", content=content)
    assert stale.exists()

    # an edit re-indexes, into a fresh bundle (Pagefind never removes old files itself)
    source = content / "articles" / "2024" / "a.md"
    source.write_text(ARTICLE.format(title="Hội nghị Đảng bộ", body="Nội dung đã sửa."), "utf-8")
    build_site(tmp_path / "out", content=content)
    assert not stale.exists()
    assert (bundle / "pagefind-entry.json").is_file()
    (content,) = [f["content"] for f in fragments(bundle).values()]
    assert compose_d(content) == "Nội dung đã sửa."
    assert search.update_index(built.output, settings).skipped


def test_a_deleted_bundle_is_rebuilt_even_with_a_fingerprint(tmp_path):
    built = build_site(tmp_path / "out", content=small_site(tmp_path))
    settings = search.search_settings(built.settings)
    shutil.rmtree(built.path("pagefind"))
    result = search.update_index(built.output, settings)
    assert not result.skipped and result.pages == ["2024/03/hoi-nghi-dang-bo.html"]
    assert built.exists("pagefind/pagefind-entry.json")


def test_build_logs_no_warning(tmp_path):
    built = build_site(tmp_path / "out", content=small_site(tmp_path))
    assert [m for m in built.log.messages() if m.startswith("search:")] == []
