"""search plugin: the Pagefind index of articles and pages in shards, the search page, the
skip of unchanged shards.

What the index finds is tested in a real browser (tests/browser/test_search.py); here the
index files themselves are read: Pagefind's fragments are gzip'd JSON after a signature.
"""

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from plugins.incremental.fingerprint import file_digest
from plugins.search import search
from plugins.search.pagefind_input import cut, ignored_spans
from plugins.vn_text import D_STROKE_MARK, compose_d
from tests.conftest import ROOT, SEED_PATH, build_site, make_content

SITEURL = "https://gialoc.dcs.vn"
SIGNATURE = b"pagefind_dcd"
ENTRY = "pagefind-entry.json"


def fragments(bundle):
    """url → fragment (content, meta, …) of every page in a Pagefind bundle."""
    found = {}
    for path in sorted(Path(bundle, "fragment").iterdir()):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(SIGNATURE)
        fragment = json.loads(data[len(SIGNATURE) :])
        found[fragment["url"]] = fragment
    return found


def shard_list(index):
    """The shards listed in <index>/shards.json, in order."""
    listed = json.loads(Path(index, "shards.json").read_text())["shards"]
    return [shard["path"].rstrip("/") for shard in listed]


def all_fragments(index):
    """url → fragment of every page in every shard of the index folder ``index``."""
    found = {}
    for shard in shard_list(index):
        shard_fragments = fragments(Path(index, shard))
        assert not set(shard_fragments) & set(found)  # a page is in one shard only
        found.update(shard_fragments)
    return found


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}  # fmt: skip


def mtimes(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in Path(folder).rglob("*") if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def site_fragments(site):
    return all_fragments(site.path("pagefind"))


# --- pure helpers ------------------------------------------------------------------------------


def test_prepared_form_is_nfc_with_d_stroke_decomposed():
    html = unicodedata.normalize("NFD", "<p>Đảng viên đã đến</p>").encode("utf-8")
    prepared = search.prepared_form(html).decode("utf-8")
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
    pages, read = search.find_pages(tmp_path, "pagefind")
    # Not digested yet: digested_pages cuts each page once, for its digest and Pagefind.
    assert pages == [("a.html", None), ("b/z.html", None)] and read == 3


def test_digested_pages_cuts_the_pages_not_digested_only(tmp_path):
    page = b"<html><head><link href=x></head><body><main data-pagefind-body>a</main></body>"
    (tmp_path / "a.html").write_bytes(page)
    pages, parts = search.digested_pages(tmp_path, [("a.html", None), ("gone.html", "known")])
    part = search.indexed_part(page)
    assert part != page and parts == {"a.html": part}
    assert pages == [("a.html", file_digest(part)), ("gone.html", "known")]


BODY = "<main><div data-pagefind-body><p>Bài.</p></div>"


@pytest.mark.parametrize(
    "ignored, left_out",
    [
        ('<section class="related" data-pagefind-ignore><h2 id="r">Khác</h2>'
         '<ul><li><a href="/b.html">B</a></li></ul></section>', True),
        ('<DIV data-pagefind-ignore="all"><div><span>x</span></div><div>y</div></DIV>', True),
        ("<aside data-pagefind-ignore><section>x</section></aside>", True),
        # Pagefind takes a page's first <h1> and <img> even when ignored: kept
        ("<section data-pagefind-ignore><h1>Tiêu đề</h1></section>", False),
        ('<section data-pagefind-ignore><IMG src="/a.jpg"></section>', False),
        ('<section data-pagefind-ignore><p data-pagefind-meta="x:y">x</p></section>', False),
        ('<section data-pagefind-ignore data-pagefind-filter="x:y">x</section>', False),
        # where the end could be miscounted: kept
        ("<section data-pagefind-ignore><!-- </section> --></section>", False),
        ("<section data-pagefind-ignore><script>'</section>'</script></section>", False),
        ("<p data-pagefind-ignore>x<p>y</p>", False),  # <p> ends without its tag
        ("<section data-pagefind-ignore><section>x</section>", False),  # never ends
        ("<p>The attribute data-pagefind-ignore hides a part.</p>", False),  # words only
    ],
)  # fmt: skip
def test_ignored_spans_leave_out_ignored_elements_only_where_sure(ignored, left_out):
    page = (BODY + ignored + "</main>").encode("utf-8")
    kept = cut(page, ignored_spans(page.lower()))
    assert kept == ((BODY + "</main>").encode("utf-8") if left_out else page)


def test_indexed_part_cuts_every_ignored_element_or_none():
    body = BODY.encode("utf-8")
    one, two = (b"<div data-pagefind-ignore>%d</div>" % n for n in (1, 2))
    assert search.indexed_part(one + body + two) == body
    kept = one + body + b"<div data-pagefind-ignore><h1>x</h1></div>"
    assert search.indexed_part(kept) == kept
    related = b"<section data-pagefind-ignore><ul><li>%s</li></ul></section>"
    assert search.indexed_part(body + related % b"A") == search.indexed_part(body + related % b"B")
    assert search.indexed_part(body + related % b"A") != search.indexed_part(b"<x>" + body)


@pytest.mark.parametrize(
    "relative, pattern, expected",
    [
        ("2024/03/hoi-nghi.html", search.DEFAULTS["SEARCH_SHARD_PATTERN"], "2024"),
        ("2021/11/x.html", search.DEFAULTS["SEARCH_SHARD_PATTERN"], "2021"),
        ("gioi-thieu.html", search.DEFAULTS["SEARCH_SHARD_PATTERN"], "trang"),
        ("ban-nhap/x.html", search.DEFAULTS["SEARCH_SHARD_PATTERN"], "trang"),
        ("20245/x.html", search.DEFAULTS["SEARCH_SHARD_PATTERN"], "trang"),  # not a year
        ("2024.html", search.DEFAULTS["SEARCH_SHARD_PATTERN"], "trang"),
        ("tin/2024/x.html", search.DEFAULTS["SEARCH_SHARD_PATTERN"], "trang"),  # not first
        ("2024/03/x.html", None, "trang"),  # no pattern: one shard
        ("2024/03/x.html", r"(\d{4}/\d{2})/", None),  # "2024/03" is no folder name
        ("tin-tuc/x.html", r"([^/]+)/", "tin-tuc"),
        ("2024/03/x.html", r"(\d{4})/(\d{2})/", "2024-03"),  # groups joined with "-"
        ("2024/03/x.html", r"(\d{3})\d/", "202"),  # decades
        ("2024/03/x.html", r"(\d{4})/(x)?", "2024"),  # a group that did not match
        (".git/x.html", r"([^/]+)/", None),  # a shard name is never a dot-folder
    ],
)
def test_shard_of(relative, pattern, expected):
    if expected is None:
        with pytest.raises(search.SearchError, match="SEARCH_SHARD_PATTERN"):
            search.shard_of(relative, pattern, "trang")
    else:
        assert search.shard_of(relative, pattern, "trang") == expected


def test_shard_of_defaults_are_the_settings_defaults():
    assert search.shard_of("2024/03/x.html") == "2024"
    assert search.shard_of("lien-he.html") == "trang"


def test_shard_order_is_newest_year_first_then_the_others():
    names = ["trang", "2021", "2024", "ban-nhap", "2023", "1999"]
    assert search.shard_order(names) == ["2024", "2023", "2021", "1999", "ban-nhap", "trang"]
    months = ["2023-12", "khac", "2024-03", "2024-11"]
    assert search.shard_order(months) == ["2024-11", "2024-03", "2023-12", "khac"]


MONTHS = search.DEFAULTS["SEARCH_SHARD_NEWEST"]


@pytest.mark.parametrize(
    "paths, pattern, expected",
    [
        (["2024/12/a.html", "2024/03/b.html", "2024/12/c.html", "gioi-thieu.html"], MONTHS,
         {"2024/12/a.html": "2024-12", "2024/12/c.html": "2024-12"}),
        (["2025/01/a.html", "2024/12/b.html"], MONTHS, {"2025/01/a.html": "2025-01"}),
        (["2024/09/a.html", "2024/10/b.html"], MONTHS, {"2024/10/b.html": "2024-10"}),  # text
        (["2024/03/a.html"], MONTHS, {"2024/03/a.html": "2024-03"}),
        (["gioi-thieu.html", "ban-nhap/x.html"], MONTHS, {}),  # nothing dated
        ([], MONTHS, {}),
        (["2024/12/a.html"], None, {}),  # off
        (["2024/12/a.html"], "", {}),
        (["2023/05/a.html", "2024/01/b.html"], r"(\d{4})/", {"2024/01/b.html": "2024"}),
    ],
)  # fmt: skip
def test_newest_shard_takes_the_pages_of_the_greatest_match(paths, pattern, expected):
    assert search.newest_shard(paths, pattern) == expected


def test_newest_shard_name_must_name_a_folder():
    with pytest.raises(search.SearchError, match="SEARCH_SHARD_NEWEST"):
        search.newest_shard(["2024/.x/a.html"], r"(\d{4})/(\.x)/")


def test_group_shards_splits_the_newest_month_off_its_year():
    pages = [(path, "") for path in
             ["2024/03/b.html", "2024/12/a.html", "2023/12/c.html", "gioi-thieu.html"]]  # fmt: skip
    shards = search.group_shards(pages, search.search_settings({}))
    assert {name: [path for path, _ in found] for name, found in shards.items()} == {
        "2024-12": ["2024/12/a.html"],
        "2024": ["2024/03/b.html"],
        "2023": ["2023/12/c.html"],
        "trang": ["gioi-thieu.html"],
    }
    one = search.group_shards(pages, search.search_settings({"SEARCH_SHARD_PATTERN": None}))
    assert list(one) == ["trang"]  # one index: the newest month is not split off either
    assert search.shard_order(shards) == ["2024-12", "2024", "2023", "trang"]


@pytest.mark.parametrize(
    "pattern", [r"(\d{4})/", r"(\d{3})\d/", r"(201)\d/|(\d{4})/", r"(\d{4})/(\d{2})/", None]
)
def test_group_shards_puts_each_page_in_its_shard_of(pattern):
    paths = ["2009/01/a.html", "2013/05/b.html", "2013/06/c.html", "2024/03/d.html",
             "gioi-thieu.html", "lien-he.html", "2024/x.html"]  # fmt: skip
    settings = search.search_settings(
        {"SEARCH_SHARD_PATTERN": pattern, "SEARCH_SHARD_NEWEST": None}
    )
    shards = search.group_shards([(path, "") for path in reversed(paths)], settings)
    expected = {}
    for path in sorted(paths):
        expected.setdefault(search.shard_of(path, pattern, "trang"), []).append((path, ""))
    assert shards == expected


def test_group_shards_refuses_a_name_that_cannot_name_a_folder():
    settings = search.search_settings({"SEARCH_SHARD_PATTERN": r"(\d{4})(\.x)/"})
    with pytest.raises(search.SearchError, match="SEARCH_SHARD_PATTERN"):
        search.group_shards([("2024.x/a.html", "")], settings)


def test_fingerprint_follows_paths_digests_language_and_code(monkeypatch):
    settings = search.search_settings({})
    pages = [("a.html", "d1"), ("b.html", "d2")]
    base = search.fingerprint(pages, settings)
    assert search.fingerprint(list(pages), settings) == base
    assert search.fingerprint([("a.html", "d3"), pages[1]], settings) != base
    assert search.fingerprint([("c.html", "d1"), pages[1]], settings) != base
    assert search.fingerprint(pages[:1], settings) != base
    other = search.search_settings({"SEARCH_LANGUAGE": "en"})
    assert search.fingerprint(pages, other) != base
    # Another version of the code that prepares the pages (search, vn_text.decompose_d).
    monkeypatch.setattr(search, "module_digest", lambda *modules: "other code")
    assert search.fingerprint(pages, settings) != base


def test_pages_from_outputs_reads_only_pages_whose_entry_changed(tmp_path):
    marked, plain = b"<div data-pagefind-body>x</div>", b"<p>list</p>"
    for name, data in [("2024/a.html", marked), ("2024/b.html", marked), ("index.html", plain),
                       ("trang.html", marked)]:  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    outputs = {
        "2024/a.html": ["f1", 31, 100],
        "2024/b.html": ["f2", 31, 100],
        "index.html": ["f3", 11, 100],
        "trang.html": [None, None, None],  # e.g. a static file: always read
        "feeds/x.xml": ["f4", 1, 100],
        "pagefind/2024/pagefind.js": ["f5", 1, 100],
    }
    pages, known, read = search.pages_from_outputs(tmp_path, outputs, "pagefind", {})
    # The pages read are not digested yet (None): digested_pages, then known_digests.
    assert pages == [("2024/a.html", None), ("2024/b.html", None), ("trang.html", None)]
    assert read == 4 and set(known) == {"2024/a.html", "2024/b.html", "index.html"}
    assert known["index.html"] == ["f3", 11, 100, ""] and known["2024/a.html"][3] is None
    digest = file_digest(search.indexed_part(marked))
    shard = [("2024/a.html", digest), ("2024/b.html", digest)]
    known = search.known_digests(known, {"2024": shard})
    assert known["2024/a.html"] == ["f1", 31, 100, digest]
    assert known["2024/b.html"] == ["f2", 31, 100, digest]

    # Same entries: the files are not read again (even gone, they are not looked at);
    # nor is a page rendered again to the same bytes (same size and mtime, new fingerprint).
    (tmp_path / "2024" / "a.html").unlink()
    (tmp_path / "index.html").unlink()
    outputs["2024/a.html"] = ["f1b", 31, 100]  # rendered again, not written: same bytes
    outputs["2024/b.html"] = ["f2b", 31, 200]  # rendered again and written
    (tmp_path / "2024" / "b.html").write_bytes(marked.replace(b"x", b"y"))
    again, known_again, read = search.pages_from_outputs(tmp_path, outputs, "pagefind", known)
    assert read == 2  # b.html and the page without a fingerprint
    assert again == [("2024/a.html", digest), ("2024/b.html", None), ("trang.html", None)]
    assert known_again["index.html"] == known["index.html"]
    assert known_again["2024/a.html"] == ["f1b", 31, 100, digest]


def test_shards_manifest_is_stable_json():
    data = search.shards_manifest([("2024", "vi_1"), ("trang", "vi_2")])
    assert data == search.shards_manifest([("2024", "vi_1"), ("trang", "vi_2")])
    shards = [{"path": "2024/", "hash": "vi_1"}, {"path": "trang/", "hash": "vi_2"}]
    assert json.loads(data) == {"format": 1, "shards": shards}


def test_search_settings_defaults_and_overrides():
    settings = search.search_settings({"SEARCH_BUNDLE_DIR": "tim", "CACHE_PATH": "/c", "X": 1})
    assert settings["SEARCH_BUNDLE_DIR"] == "tim"
    assert settings["SEARCH_INDEX"] is True
    assert settings["SEARCH_LANGUAGE"] == "vi"
    assert settings["SEARCH_SHARD_OTHER"] == "trang" and settings["SEARCH_WORKERS"] == 0
    assert settings["SEARCH_SHARD_NEWEST"] == r"(\d{4})/(\d{2})/"
    assert settings["SEARCH_TIMEOUT"] == 600
    assert settings["CACHE_PATH"] == "/c"
    assert "X" not in settings


@pytest.mark.parametrize(
    "setting, needed, free, expected",
    [
        (None, 10, 40, ["ram", "state"]),  # room for RAM_ROOM times the pages: RAM first
        (None, 10, 39, ["state"]),  # too little room
        (None, 10, 0, ["state"]),  # no RAM folder, or not writable
        ("", 10, 10**9, ["state"]),  # "": the cache, whatever the room
        ("/w", 10, 10**9, ["/w"]),  # a folder of one's own, only
    ],
)
def test_work_roots(setting, needed, free, expected):
    assert search.RAM_ROOM == 4
    roots = search.work_roots(setting, Path("state"), needed, free)
    names = {Path(search.RAM_FOLDER): "ram", Path("state"): "state"}
    assert [names.get(root, str(root)) for root in roots] == expected


def test_leftover_work_folders_of_ended_builds_are_removed(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead, alive = int(ended.stdout), os.getppid()
    names = [f"{search.WORK_PREFIX}{dead}-2024-abc", f"{search.WORK_PREFIX}{alive}-2024-abc",
             f"{search.WORK_PREFIX}{os.getpid()}-2023-abc", "pagefind-work-x", "other"]  # fmt: skip
    for name in names:
        (tmp_path / name).mkdir()
    search.remove_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])
    search.remove_leftovers(tmp_path / "missing")  # nothing to do, no error


def test_pagefind_failure_is_a_clear_error(tmp_path):
    with pytest.raises(search.SearchError, match="Pagefind không tạo được chỉ mục"):
        search.run_pagefind(tmp_path / "missing", tmp_path / "bundle", "vi")


def test_pagefind_executable_is_the_one_pagefinds_own_lookup_finds(monkeypatch):
    from pagefind.service import get_executable

    monkeypatch.delenv("PAGEFIND_BINARY_PATH", raising=False)
    found = search.pagefind_executable()
    assert found is not None and found.is_file()
    assert found == get_executable()
    # The variable comes first, as in Pagefind's lookup; no wheel: None (python -m pagefind).
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/opt/pagefind/pagefind")
    assert search.pagefind_executable() == Path("/opt/pagefind/pagefind") == get_executable()
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    assert search.pagefind_executable(binaries=("no_such_pagefind_wheel",)) is None


def test_finding_pagefind_does_not_import_asyncio():
    code = ("import sys; from plugins.search import search; search.pagefind_command(); "
            "print('asyncio' in sys.modules)")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PAGEFIND_BINARY_PATH"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env=env, check=True)  # fmt: skip
    assert result.stdout.strip() == "False"


# --- the sample site ------------------------------------------------------------------------


# The sample site's newest articles are of August 2024: that month is a shard of its own.
NEWEST = "2024-08"


def test_one_bundle_per_shard_listed_newest_first(site):
    index = site.path("pagefind")
    assert sorted(p.name for p in index.iterdir()) == [
        "2021", "2022", "2023", "2024", NEWEST, "shards.json", "trang"
    ]  # fmt: skip
    assert shard_list(index) == [NEWEST, "2024", "2023", "2022", "2021", "trang"]
    listed = json.loads(site.text("pagefind/shards.json"))["shards"]
    for shard in listed:
        # a complete Pagefind bundle each
        for name in ("pagefind.js", "pagefind-worker.js", ENTRY, "wasm.unknown.pagefind"):
            assert (index / shard["path"] / name).is_file(), (shard, name)
        entry = json.loads((index / shard["path"] / ENTRY).read_text())
        assert list(entry["languages"]) == ["vi"]
        assert entry["version"] == search.pagefind_version()
        assert shard["hash"] == entry["languages"]["vi"]["hash"]
        # Pagefind's ready-made UIs are not used by the search page: not published
        assert not [p for p in (index / shard["path"]).iterdir() if p.name in search.UNUSED_FILES]


def test_pages_are_in_the_shard_of_their_year_or_the_newest_month(site, site_fragments):
    index = site.path("pagefind")
    newest = [path.relative_to(site.output).as_posix()
              for path in site.path(NEWEST.replace("-", "/")).glob("*.html")]  # fmt: skip
    assert newest and set(fragments(index / NEWEST)) == {f"/{path}" for path in newest}
    for shard in shard_list(index):
        if shard not in ("trang", NEWEST):
            urls = fragments(index / shard)
            assert all(url.startswith(f"/{shard}/") for url in urls), shard
            assert not [url for url in urls if url.startswith(f"/{NEWEST.replace('-', '/')}/")]
    assert set(fragments(index / "trang")) == {"/gioi-thieu.html", "/lien-he.html"}


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


# --- small sites: settings, shards, skipping unchanged shards ------------------------------

ARTICLE = """Title: {title}
Date: {date}
Category: Xây dựng Đảng

{body}
"""
PAGE = "Title: Giới thiệu\n\nVăn phòng Huyện ủy là cơ quan tham mưu.\n"


def small_site(tmp_path, body="Đảng bộ huyện đã tổ chức hội nghị."):
    articles = {
        "2024/a.md": ARTICLE.format(title="Hội nghị Đảng bộ", date="2024-03-28 14:00", body=body),
        "2024/c.md": ARTICLE.format(
            title="Mừng Đảng mừng xuân", date="2024-01-15 08:00", body="Đón xuân Giáp Thìn."
        ),
        "2023/b.md": ARTICLE.format(
            title="Tổng kết năm",
            date="2023-12-20 08:00",
            body="Tổng kết công tác năm của Đảng bộ huyện.",
        ),  # fmt: skip
    }
    return make_content(tmp_path, articles, {"gioi-thieu.md": PAGE})


def edit_article(content, body):
    source = content / "articles" / "2024" / "a.md"
    text = ARTICLE.format(title="Hội nghị Đảng bộ", date="2024-03-28 14:00", body=body)
    source.write_text(text, encoding="utf-8")


def test_shards_are_digested_at_most_one_ahead_of_the_pagefind_threads(tmp_path, monkeypatch):
    """A cold build with one Pagefind thread and four shards: the build's thread digests a
    shard (and keeps its parts for Pagefind) only when fewer than two digested shards are
    waiting for or in Pagefind; every shard is still indexed."""
    events = []
    digested_pages, index_shard = search.digested_pages, search.index_shard

    def digesting(output, pages):
        events.append("digest")
        return digested_pages(output, pages)

    def indexing(*args):
        time.sleep(0.2)  # a Pagefind slower than the digesting: the build's thread must wait
        index_shard(*args)
        events.append("end")

    monkeypatch.setattr(search, "digested_pages", digesting)
    monkeypatch.setattr(search, "index_shard", indexing)
    build_site(tmp_path / "out", content=small_site(tmp_path), SEARCH_WORKERS=1)
    assert events.count("digest") == events.count("end") == 4
    waiting = [events[: i + 1].count("digest") - events[:i].count("end")
               for i, event in enumerate(events) if event == "digest"]  # fmt: skip
    assert max(waiting) <= 2, events  # one in Pagefind, one digested ahead


def test_a_failing_shard_stops_the_shards_not_started(tmp_path, monkeypatch):
    """One Pagefind process at a time, three shards: the first fails, the second is already
    running (it takes 2 s, a wide margin on a loaded machine), the third is never started;
    the build fails with the error."""
    started = []

    def index_shard(output, pages, bundle, settings, work_root, parts=None):
        started.append(bundle.name)
        if len(started) == 1:
            raise search.SearchError("search: Pagefind failed on purpose")
        time.sleep(2)

    monkeypatch.setattr(search, "index_shard", index_shard)
    content = small_site(tmp_path)
    with pytest.raises(search.SearchError, match="on purpose"):
        build_site(tmp_path / "out", content=content, SEARCH_WORKERS=1)
    assert 1 <= len(started) <= 2, started


def test_a_pagefind_that_does_not_end_is_stopped_and_fails_the_build(tmp_path, monkeypatch):
    """A Pagefind that hangs (here: a stand-in that sleeps 30 s and writes no bundle) is
    killed after SEARCH_TIMEOUT and the build fails with a message naming the setting; the
    process is gone, not left running. Without the limit the build would wait, then fail
    on the missing bundle with another error."""
    pids = tmp_path / "pids"
    stand_in = tmp_path / "pagefind.py"
    stand_in.write_text(
        "import os, sys, time\n"
        f"with open({str(pids)!r}, 'a') as f: f.write(f'{{os.getpid()}}\\n')\n"
        "time.sleep(30)\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(search, "pagefind_command", lambda: [sys.executable, str(stand_in)])
    content = small_site(tmp_path)
    with pytest.raises(search.SearchError, match="SEARCH_TIMEOUT") as error:
        build_site(tmp_path / "out", content=content, SEARCH_WORKERS=1, SEARCH_TIMEOUT=1)
    assert "chưa xong" in str(error.value) and "'2024-03'" in str(error.value)
    started = [int(line) for line in pids.read_text().split()]
    # The first shard (the largest); the one worker may have taken the next before the
    # build stopped the pool (see test_a_failing_shard_stops_the_shards_not_started).
    assert 1 <= len(started) <= 2, started
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("value", ["600", -5, True, [600]])
def test_a_wrong_search_timeout_is_a_clear_error(value):
    with pytest.raises(search.SearchError, match="SEARCH_TIMEOUT trong pelicanconf.py"):
        search.search_settings({"SEARCH_TIMEOUT": value})


@pytest.mark.parametrize("value, seconds", [(None, None), (0, None), (1, 1), (2.5, 2.5)])
def test_search_timeout_values(value, seconds):
    assert search.search_settings({"SEARCH_TIMEOUT": value})["SEARCH_TIMEOUT"] == seconds


def test_search_index_off_writes_no_bundle(tmp_path):
    built = build_site(tmp_path / "out", content=small_site(tmp_path), SEARCH_INDEX=False)
    assert not built.path("pagefind").exists()
    assert built.exists("tim-kiem.html")


def test_other_bundle_folder(tmp_path):
    built = build_site(tmp_path / "out", content=small_site(tmp_path), SEARCH_BUNDLE_DIR="tim")
    assert built.exists("tim/shards.json") and built.exists("tim/2024/pagefind.js")
    assert not built.path("pagefind").exists()
    results = built.soup("tim-kiem.html").select_one('[data-module="site-search"]')
    assert results["data-bundle"] == "/tim/"


def test_shard_settings(tmp_path):
    content = small_site(tmp_path)
    one = build_site(tmp_path / "one", content=content, SEARCH_SHARD_PATTERN=None)
    assert shard_list(one.path("pagefind")) == ["trang"]  # one index: no newest month either
    assert len(fragments(one.path("pagefind/trang"))) == 4
    other = build_site(tmp_path / "other", content=content, SEARCH_SHARD_OTHER="khac")
    assert shard_list(other.path("pagefind")) == ["2024-03", "2024", "2023", "khac"]
    years = build_site(tmp_path / "years", content=content, SEARCH_SHARD_NEWEST=None)
    assert shard_list(years.path("pagefind")) == ["2024", "2023", "trang"]
    assert len(fragments(years.path("pagefind/2024"))) == 2


def test_unchanged_shards_are_not_reindexed_and_edits_are(tmp_path, runs):
    content = small_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    html = [p for p in built.files(".html") if "pagefind" not in p.parts]
    assert runs[-1].indexed == ["2024-03", "2024", "2023", "trang"]
    assert runs[-1].read == len(html)
    index = built.path("pagefind")
    stale = index / "2024-03" / "fragment" / "stale.pf_fragment"
    stale.write_bytes(b"old")
    manifest = json.loads((index / "shards.json").read_text())["shards"]
    before = mtimes(index)

    # the pages are read (plain Pelican's way) and found unchanged
    settings = search.search_settings(built.settings)
    assert search.update_index(built.output, settings).skipped
    # a rebuild that renders every page again (a setting changed) but writes the same
    # bytes: nothing indexed, and only the pages written anew are read
    written = mtimes(built.output)
    build_site(tmp_path / "out", content=content, SUMMARY_MAX_LENGTH=41)
    rewritten = [n for n, t in mtimes(built.output).items()
                 if n.endswith(".html") and written.get(n) != t]  # fmt: skip
    assert runs[-1].skipped and runs[-1].read == len(rewritten) < len(html)
    assert stale.exists()

    # an edit re-indexes its own shard only (the newest month's), into a fresh bundle
    # (Pagefind never removes old files itself); the unchanged pages of the build are not read
    edit_article(content, "Nội dung đã sửa.")
    build_site(tmp_path / "out", content=content, SUMMARY_MAX_LENGTH=41)
    assert runs[-1].indexed == ["2024-03"]
    assert 0 < runs[-1].read < len(html)
    assert not stale.exists()
    (text,) = [f["content"] for f in fragments(index / "2024-03").values()]
    assert compose_d(text) == "Nội dung đã sửa."
    after = mtimes(index)
    assert {k: v for k, v in after.items() if not k.startswith(("2024-03/", "shards"))} == {
        k: v for k, v in before.items() if not k.startswith(("2024-03/", "shards"))
    }
    changed = json.loads((index / "shards.json").read_text())["shards"]
    same = [old["hash"] == new["hash"] for old, new in zip(manifest, changed, strict=True)]
    assert same == [False, True, True, True]  # 2024-03, 2024, 2023, trang
    assert search.update_index(built.output, settings).skipped


def test_each_page_is_cut_once_for_its_digest_and_pagefind(tmp_path, monkeypatch, runs):
    """A cold build cuts each indexed page once (``indexed_part``): the part digested is the
    part Pagefind is given. Pages written again are cut once, for their digests, which are
    remembered: after a setting shown on every page changed, an edit cuts only the edited
    page (its shard, the newest month, has no other page). No early indexing here (it cuts
    the pages it renders: a setting change reads the three articles anew)."""
    cut_pages = []
    indexed_part = search.indexed_part

    def counting(data):
        (title,) = re.findall(rb"<title>([^<]*)</title>", data)
        cut_pages.append(title.decode())
        return indexed_part(data)

    monkeypatch.setattr(search, "indexed_part", counting)
    content = small_site(tmp_path)
    build_site(tmp_path / "out", content=content, SEARCH_EARLY=0)
    assert len(runs[-1].pages) == 4 and len(cut_pages) == 4 == len(set(cut_pages))
    cut_pages.clear()
    build_site(tmp_path / "out", content=content, SEARCH_EARLY=0, OFFICE_PHONE="0220 999 999")
    assert runs[-1].skipped and runs[-1].read > 4
    assert len(cut_pages) == 4 == len(set(cut_pages))
    cut_pages.clear()
    edit_article(content, "Nội dung đã sửa.")
    build_site(tmp_path / "out", content=content, SEARCH_EARLY=0, OFFICE_PHONE="0220 999 999")
    assert runs[-1].indexed == ["2024-03"] and cut_pages == ["Hội nghị Đảng bộ – Huyện ủy Gia Lộc"]


def test_an_edit_anywhere_in_the_body_reaches_the_index(tmp_path, runs):
    """The last sentence of a long article changed (not in its summary, its description or
    anything else of the page): its shard is indexed again and the index is a cold build's."""
    opening = " ".join(["Hội nghị sơ kết công tác xây dựng Đảng sáu tháng đầu năm."] * 12)
    content = small_site(tmp_path, body=f"{opening}\n\nKết luận: giữ vững.")
    built = build_site(tmp_path / "out", content=content)
    edit_article(content, f"{opening}\n\nKết luận: vượt chỉ tiêu.")
    build_site(tmp_path / "out", content=content)
    assert runs[-1].indexed == ["2024-03"]
    (text,) = [f["content"] for f in fragments(built.path("pagefind/2024-03")).values()]
    assert compose_d(text).endswith("Kết luận: vượt chỉ tiêu.")
    cold = build_site(tmp_path / "cold", content=content)
    assert tree(built.path("pagefind")) == tree(cold.path("pagefind"))


def test_a_new_month_takes_the_newest_shard_and_the_last_one_joins_its_year(tmp_path, runs):
    """The first article of a new month re-indexes that month and the year the last newest
    month joins (no other shard); the old month's bundle and stamp go; the index equals a
    cold build's. A new year works the same way."""
    content = small_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    index = built.path("pagefind")
    unchanged = mtimes(index / "2023")

    def add(name, title, date):
        text = ARTICLE.format(title=title, date=date, body=f"Bài {title.lower()}.")
        source = content / "articles" / name
        source.parent.mkdir(exist_ok=True)
        source.write_text(text, encoding="utf-8")
        build_site(tmp_path / "out", content=content)
        indexed = runs[-1].indexed
        assert tree(index) == tree(build_site(tmp_path / f"cold-{date[:7]}", content=content)
                                   .path("pagefind"))  # fmt: skip
        return indexed

    assert add("2024/d.md", "Hội nghị tháng Tư", "2024-04-02 08:00") == ["2024-04", "2024"]
    assert shard_list(index) == ["2024-04", "2024", "2023", "trang"]
    assert sorted(fragments(index / "2024")) == [
        "/2024/01/mung-dang-mung-xuan.html", "/2024/03/hoi-nghi-dang-bo.html"
    ]  # fmt: skip
    assert not (index / "2024-03").exists()
    stamps = search.state_folder(built.output, built.settings) / "shards"
    assert not (stamps / "2024-03.json").exists() and (stamps / "2024-04.json").exists()
    assert mtimes(index / "2023") == unchanged

    assert add("2025/e.md", "Chào năm mới", "2025-01-03 08:00") == ["2025-01", "2024"]
    assert shard_list(index) == ["2025-01", "2024", "2023", "trang"]
    assert len(fragments(index / "2024")) == 3


def test_a_deleted_or_replaced_shard_is_rebuilt_even_with_a_fingerprint(tmp_path):
    content = small_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    settings = search.search_settings(built.settings)
    index = built.path("pagefind")
    shutil.rmtree(index / "2023")
    result = search.update_index(built.output, settings)
    assert result.indexed == ["2023"] and result.shards == ["2024-03", "2024", "2023", "trang"]
    assert result.pages == ["2023/12/tong-ket-nam.html", "2024/01/mung-dang-mung-xuan.html",
                            "2024/03/hoi-nghi-dang-bo.html", "gioi-thieu.html"]  # fmt: skip
    assert (index / "2023" / "pagefind-entry.json").is_file()

    # a bundle from an older build put back (e.g. the live site after a failed publish,
    # while the cache already saw the new one): indexed again
    old = tree(index / "2024-03")
    edit_article(content, "Nội dung đã sửa.")
    build_site(tmp_path / "out", content=content)
    new = tree(index / "2024-03")
    assert new != old
    shutil.rmtree(index / "2024-03")
    for name, data in old.items():
        (index / "2024-03" / name).parent.mkdir(parents=True, exist_ok=True)
        (index / "2024-03" / name).write_bytes(data)
    assert search.update_index(built.output, settings).indexed == ["2024-03"]
    assert tree(index / "2024-03") == new


def test_gone_shards_leftovers_and_an_older_layout_are_removed(tmp_path):
    content = small_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    index = built.path("pagefind")
    (index / "pagefind.js").write_bytes(b"// one index for the whole site")  # the old layout
    (index / "fragment").mkdir()
    (index / "fragment" / "vi_1.pf_fragment").write_bytes(b"old")
    (index / ".2024.new-1").mkdir()  # left by a killed build
    (content / "articles" / "2023" / "b.md").unlink()
    build_site(tmp_path / "out", content=content)
    assert sorted(p.name for p in index.iterdir()) == ["2024", "2024-03", "shards.json", "trang"]
    assert shard_list(index) == ["2024-03", "2024", "trang"]
    stamps = search.state_folder(built.output, built.settings) / "shards"
    assert sorted(p.name for p in stamps.iterdir()) == [
        "2024-03.json", "2024.json", "trang.json"
    ]  # fmt: skip


def test_the_same_index_whichever_the_work_folder(tmp_path):
    """The default work folder (in RAM when there is one), the cache and a folder of one's
    own give the same bundles, first built and then updated after an edit (the new bundle
    made in the work folder, its changed files copied), and no work folder is left. (Shards
    of one or two pages: the order a file system lists them in cannot change the bundle.)"""
    content = small_site(tmp_path)
    own = tmp_path / "work"
    built = {
        "default": build_site(tmp_path / "default", content=content),
        "cache": build_site(tmp_path / "cache", content=content, SEARCH_WORK_PATH=""),
        "own": build_site(tmp_path / "own", content=content, SEARCH_WORK_PATH=str(own)),
    }
    bundles = {name: tree(site.path("pagefind")) for name, site in built.items()}
    assert bundles["default"] == bundles["cache"] == bundles["own"]
    edit_article(content, "Nội dung đã sửa: đường giao thông nông thôn.")
    options = {"default": {}, "cache": {"SEARCH_WORK_PATH": ""},
               "own": {"SEARCH_WORK_PATH": str(own)}}  # fmt: skip
    for name, site in built.items():
        build_site(site.output, content=content, **options[name])
    edited = {name: tree(site.path("pagefind")) for name, site in built.items()}
    assert edited["default"] == edited["cache"] == edited["own"] != bundles["default"]
    assert list(own.iterdir()) == []
    state = search.state_folder(built["cache"].output, built["cache"].settings)
    assert not [p for p in state.iterdir() if p.name.startswith(search.WORK_PREFIX)]
    if os.path.isdir(search.RAM_FOLDER):
        mine = f"{search.WORK_PREFIX}{os.getpid()}-"
        assert not [n for n in os.listdir(search.RAM_FOLDER) if n.startswith(mine)]


def test_a_shard_that_fails_in_ram_is_indexed_again_on_disk(tmp_path, monkeypatch):
    """RAM filling up while a shard is prepared: the shard is done again in the cache, and
    the index is the one a build on disk makes."""
    ram = tmp_path / "ram"
    ram.mkdir()
    monkeypatch.setattr(search, "RAM_FOLDER", str(ram))
    monkeypatch.setattr(search, "ram_free", lambda: 10**12)
    write_prepared = search.write_prepared
    tried = []

    def full_ram(folder, items):
        tried.append(Path(folder).is_relative_to(ram))
        if tried[-1]:
            raise OSError(28, "No space left on device")
        write_prepared(folder, items)

    monkeypatch.setattr(search, "write_prepared", full_ram)
    content = small_site(tmp_path)
    built = build_site(tmp_path / "out", content=content, SEARCH_WORKERS=1)
    assert tried == [True, False] * 4  # each of the 4 shards: RAM, then disk
    assert list(ram.iterdir()) == []
    monkeypatch.setattr(search, "write_prepared", write_prepared)
    on_disk = build_site(tmp_path / "disk", content=content, SEARCH_WORK_PATH="")
    assert tree(built.path("pagefind")) == tree(on_disk.path("pagefind"))


def test_a_new_shard_ignores_what_a_killed_build_of_the_same_pid_left(tmp_path):
    """A new shard is written to <bundle dir>/.<shard>.new-<pid> and renamed: a folder of that
    name left by a killed build whose process id came round again must not be renamed with
    it."""
    stray = tmp_path / "out" / "pagefind" / f".2024.new-{os.getpid()}" / "stray.pf_fragment"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"old")
    built = build_site(tmp_path / "out", content=small_site(tmp_path))
    assert "stray.pf_fragment" not in tree(built.path("pagefind/2024"))
    assert not stray.parent.exists()


def test_a_pagefind_out_of_time_is_not_run_again_elsewhere(tmp_path, monkeypatch):
    calls = []

    def out_of_time(site, bundle, language, timeout=None, shard=""):
        calls.append(shard)
        raise search.SearchTimeout(f"search: '{shard}' timed out on purpose")

    monkeypatch.setattr(search, "ram_free", lambda: 10**12)
    monkeypatch.setattr(search, "run_pagefind", out_of_time)
    with pytest.raises(search.SearchTimeout, match="on purpose"):
        build_site(tmp_path / "out", content=small_site(tmp_path), SEARCH_WORKERS=1)
    # Each shard tried once, not again in another folder. (The stand-in fails at once, so
    # the one worker may take other shards before the build stops the pool.)
    assert calls and len(set(calls)) == len(calls), calls


def test_no_marked_page_no_index(tmp_path):
    content = make_content(tmp_path, {})
    built = build_site(tmp_path / "out", content=content)
    assert not built.path("pagefind").exists()


def test_same_index_with_plain_pelican_and_one_worker(tmp_path):
    content = small_site(tmp_path)
    incremental = build_site(tmp_path / "incremental", content=content)
    plain = build_site(tmp_path / "plain", content=content, PELICAN_CLASS="pelican.Pelican",
                       SEARCH_WORKERS=1)  # fmt: skip
    assert tree(incremental.path("pagefind")) == tree(plain.path("pagefind"))


def test_build_logs_no_warning(tmp_path):
    built = build_site(tmp_path / "out", content=small_site(tmp_path))
    assert [m for m in built.log.messages() if m.startswith("search:")] == []


def test_two_output_folders_sharing_a_cache_keep_their_own_index_state(tmp_path, runs):
    """`make html` into output/ and `make publish` into its standby folder share cache/:
    building one must not make the other index every shard again."""
    content = small_site(tmp_path)
    cache = str(tmp_path / "shared-cache")
    build_site(tmp_path / "first", content=content, CACHE_PATH=cache)
    build_site(tmp_path / "second", content=content, CACHE_PATH=cache,
               SITEURL="https://example.vn")  # fmt: skip
    assert runs[-1].indexed == ["2024-03", "2024", "2023", "trang"]
    (tmp_path / "first" / "index.html").unlink()  # the next build cannot skip everything
    build_site(tmp_path / "first", content=content, CACHE_PATH=cache)
    assert runs[-1].skipped
    edit_article(content, "Nội dung đã sửa.")
    build_site(tmp_path / "second", content=content, CACHE_PATH=cache,
               SITEURL="https://example.vn")  # fmt: skip
    assert runs[-1].indexed == ["2024-03"]
    assert len(list((tmp_path / "shared-cache" / "search").iterdir())) == 2


# --- indexing early (SEARCH_EARLY) -----------------------------------------------------------

TAGGED = """Title: {title}
Date: {date}
Category: Xây dựng Đảng
Tags: Đại hội, Đảng bộ

{body}
"""
EARLY_ARTICLES = {
    "2022/a.md": ("Đại hội chi bộ thôn Đông", "2022-05-10 08:00", "Chi bộ thôn Đông họp đại hội."),
    "2022/b.md": ("Đại hội chi bộ thôn Tây", "2022-06-11 08:00", "Chi bộ thôn Tây họp đại hội."),
    "2023/c.md": ("Đại hội Đảng bộ xã", "2023-04-02 08:00", "Đảng bộ xã họp đại hội nhiệm kỳ."),
    "2024/d.md": ("Hội nghị Đảng bộ huyện", "2024-03-28 14:00", "Đảng bộ huyện họp hội nghị."),
    "2024/e.md": ("Đại hội chi bộ cơ quan", "2024-02-01 08:00", "Chi bộ cơ quan họp đại hội."),
}


def early_site(tmp_path):
    """Related articles (the same tags: each has a related list) in the shards 2022 (two),
    2023, 2024 and the newest month 2024-03."""
    articles = {
        relative: TAGGED.format(title=title, date=date, body=body)
        for relative, (title, date, body) in EARLY_ARTICLES.items()
    }
    return make_content(tmp_path, articles, {"gioi-thieu.md": PAGE})


def rewrite(content, relative, body):
    title, date, _ = EARLY_ARTICLES.get(relative, ("Bài mới về đại hội", "2023-08-08 08:00", ""))
    source = content / "articles" / relative
    source.write_text(TAGGED.format(title=title, date=date, body=body), encoding="utf-8")


def work_folders():
    """The work folders of this process's indexing, in RAM."""
    prefix = f"{search.WORK_PREFIX}{os.getpid()}-"
    return [name for name in os.listdir(search.RAM_FOLDER) if name.startswith(prefix)]


@pytest.fixture
def early_runs(monkeypatch):
    """Every EarlyShard started in the builds of a test."""
    started = []

    class Recorded(search.EarlyShard):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(search, "EarlyShard", Recorded)
    return started


@pytest.mark.parametrize("background", [False, True], ids=["lists-inline", "lists-forked"])
def test_an_edited_articles_shard_is_indexed_early_as_a_cold_build_indexes_it(
    tmp_path, runs, early_runs, monkeypatch, background
):
    """An edit of an old article, of the newest one, and a new article: each time the shard
    is indexed by the Pagefind started when the context was complete (with the related lists
    still computed in a forked process, the page rendered with a stand-in list), and the
    index is a cold build's. Nothing is left running or in RAM."""
    if background:
        from plugins.related_posts import related_posts

        monkeypatch.setattr(related_posts, "BACKGROUND_MINIMUM", 0)
    content = early_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    assert runs[-1].early == [] and early_runs == []  # a cold build: nothing known to start from
    index = built.path("pagefind")
    for relative, body, shard in [
        ("2022/a.md", "Chi bộ thôn Đông tổng kết nhiệm kỳ.", "2022"),
        ("2024/d.md", "Đảng bộ huyện sơ kết sáu tháng.", "2024-03"),
        ("2023/moi.md", "Bài mới: đại hội điểm ở xã Gia Xuyên.", "2023"),
    ]:
        rewrite(content, relative, body)
        build_site(tmp_path / "out", content=content)
        assert runs[-1].indexed == [shard] and runs[-1].early == [shard], relative
        assert [run.name for run in early_runs[-1:]] == [shard]
        texts = [compose_d(f["content"]) for f in fragments(index / shard).values()]
        assert body in texts
        cold = build_site(tmp_path / f"cold-{shard}", content=content)
        assert tree(index) == tree(cold.path("pagefind")), relative
    for run in early_runs:
        assert run.process.poll() is not None and not run.work.exists()
    assert work_folders() == []


def test_no_early_indexing_when_off_or_for_more_articles_than_search_early(
    tmp_path, runs, early_runs
):
    """(Each site keeps its SEARCH_EARLY: a changed setting makes every article read anew.)"""
    content = early_site(tmp_path)
    build_site(tmp_path / "off", content=content, SEARCH_EARLY=0)
    rewrite(content, "2022/a.md", "Chi bộ thôn Đông tổng kết.")
    build_site(tmp_path / "off", content=content, SEARCH_EARLY=0)
    assert runs[-1].indexed == ["2022"] and runs[-1].early == [] and early_runs == []

    build_site(tmp_path / "one", content=content, SEARCH_EARLY=1)
    rewrite(content, "2022/a.md", "Chi bộ thôn Đông họp.")
    build_site(tmp_path / "one", content=content, SEARCH_EARLY=1)
    assert runs[-1].early == ["2022"]
    rewrite(content, "2022/a.md", "Chi bộ thôn Đông họp đại hội.")
    rewrite(content, "2023/c.md", "Đảng bộ xã họp.")  # two articles read anew, one allowed
    build_site(tmp_path / "one", content=content, SEARCH_EARLY=1)
    assert runs[-1].indexed == ["2023", "2022"] and runs[-1].early == []
    assert [run.name for run in early_runs] == ["2022"]


def test_an_early_index_not_made_from_the_final_pages_is_dropped(
    tmp_path, runs, early_runs, monkeypatch
):
    """The edited page as rendered for the early indexing differs from the page the build
    writes (here on purpose): the shard's fingerprint at the end is not the early one, so
    its bundle is dropped, its Pagefind stopped, and the shard indexed from the real page."""
    content = early_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    render = search.render_article
    monkeypatch.setattr(
        search, "render_article", lambda g, a: render(g, a).replace("giữ vững".encode(), b"sai")
    )
    rewrite(content, "2022/a.md", "Chi bộ thôn Đông giữ vững đoàn kết.")
    build_site(tmp_path / "out", content=content)
    assert [run.name for run in early_runs] == ["2022"]  # started, from the wrong page
    assert runs[-1].indexed == ["2022"] and runs[-1].early == []
    texts = [compose_d(f["content"]) for f in fragments(built.path("pagefind/2022")).values()]
    assert "Chi bộ thôn Đông giữ vững đoàn kết." in texts
    assert early_runs[0].process.poll() is not None and not early_runs[0].work.exists()
    cold = build_site(tmp_path / "cold", content=content)
    assert tree(built.path("pagefind")) == tree(cold.path("pagefind"))
    assert work_folders() == []


def test_early_indexing_of_a_failed_build_is_stopped_by_the_next_build(
    tmp_path, runs, early_runs, monkeypatch
):
    from plugins.incremental import incremental

    content = early_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    rewrite(content, "2023/c.md", "Đảng bộ xã tổng kết.")
    with monkeypatch.context() as patch:

        def fail(self, generators):
            raise RuntimeError("stopped on purpose")

        patch.setattr(incremental.Build, "finish", fail)
        with pytest.raises(RuntimeError, match="on purpose"):
            build_site(tmp_path / "out", content=content)
    (left,) = early_runs
    assert left.work.exists()  # still there: the build never got to the index
    build_site(tmp_path / "out", content=content)
    assert left.process.poll() is not None and not left.work.exists()
    assert runs[-1].indexed == ["2023"]
    cold = build_site(tmp_path / "cold", content=content)
    assert tree(built.path("pagefind")) == tree(cold.path("pagefind"))
    assert search._early is None and work_folders() == []


def test_render_article_gives_the_page_the_build_writes(tmp_path):
    """What the early indexing renders is the article's page; with the related lists still
    being computed, a stand-in list gives the same indexed part (and the lists are not
    waited for, nor replaced)."""
    from pelican import signals
    from pelican.generators import ArticlesGenerator

    from plugins.related_posts.related_posts import PendingList

    class NotReady:
        def get(self):
            raise AssertionError("the early render waited for the related lists")

    seen = []

    def remember(generators):
        seen.extend(g for g in generators if isinstance(g, ArticlesGenerator))

    with signals.all_generators_finalized.connected_to(remember):
        built = build_site(tmp_path / "out", content=early_site(tmp_path))
    (generator,) = seen
    assert len(generator.articles) == 5
    for article in generator.articles:
        page = built.path(article.save_as).read_bytes()
        assert search.render_article(generator, article) == page
        assert article.related_posts  # the stand-in is equivalent only for a shown list
        pending = PendingList(NotReady(), 0)
        article.related_posts = pending
        early = search.render_article(generator, article)
        assert article.related_posts is pending
        assert early != page and search.indexed_part(early) == search.indexed_part(page)


def test_an_early_pagefind_that_fails_is_run_again_at_the_end(tmp_path, runs, monkeypatch):
    """The early Pagefind fails (a stand-in that exits with 3): the shard is indexed at the
    end as usual, and its index is a cold build's."""
    started = []

    class Failing(search.EarlyShard):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.process.kill()
            self.process.wait()
            self.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
            started.append(self)

    content = early_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    monkeypatch.setattr(search, "EarlyShard", Failing)
    indexed = []
    index_shard = search.index_shard
    monkeypatch.setattr(
        search, "index_shard", lambda *a: indexed.append(a[2].name) or index_shard(*a)
    )
    rewrite(content, "2022/b.md", "Chi bộ thôn Tây tổng kết nhiệm kỳ.")
    build_site(tmp_path / "out", content=content)
    assert [run.name for run in started] == ["2022"] and indexed == ["2022"]
    assert runs[-1].indexed == ["2022"]
    assert started[0].process.returncode == 3 and not started[0].work.exists()
    cold = build_site(tmp_path / "cold", content=content)
    assert tree(built.path("pagefind")) == tree(cold.path("pagefind"))
    assert work_folders() == []
