"""content_check: each rule with a real bad file — `make check` exit code and message, and
what the build does with it."""

import json
import os
import sys
import unicodedata
from datetime import datetime

import feedparser
import pytest

from plugins.content_check.content_check import ContentError
from plugins.content_check.rules import check_source, parse_header
from plugins.vn_text.legacy import (
    decode_bytes,
    decode_tcvn3,
    decode_vni,
    encode_tcvn3,
    encode_vni,
    encode_windows_1258,
    vietnamese_score,
)
from tests.conftest import ROOT, build_site, make_content, run_tool

GOOD = """Title: Hội nghị giao ban công tác Đảng
Date: 2024-03-28 14:00
Category: Xây dựng Đảng
Author: VPHU Gia Lộc

Chiều ngày 28/3, Ban Thường vụ Huyện ủy tổ chức hội nghị giao ban.
"""

BODY = "Hội nghị giao ban được tổ chức tại hội trường Huyện ủy, có các đồng chí Ủy viên dự."


def article(title="Hội nghị giao ban công tác Đảng", date="2024-03-28 14:00",
            category="Xây dựng Đảng", extra="", body=BODY):  # fmt: skip
    lines = []
    if title is not None:
        lines.append(f"Title: {title}")
    if date is not None:
        lines.append(f"Date: {date}")
    if category is not None:
        lines.append(f"Category: {category}")
    lines.append("Author: VPHU Gia Lộc")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n\n" + body + "\n"


def run_check(content):
    """`make check` on a content folder: (exit code, output)."""
    result = run_tool(
        [sys.executable, "-m", "plugins.content_check", "-s", "pelicanconf.py",
         "--content", str(content), "--cache", str(content.parent / "check-cache")],
        timeout=120,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def checked(tmp_path, files):
    content = make_content(tmp_path, files)
    return content, *run_check(content)


# --- metadata rules ----------------------------------------------------------------------


def test_good_content_passes(tmp_path):
    _, code, output = checked(tmp_path, {"2024/a.md": GOOD})
    assert code == 0, output
    assert "0 lỗi" in output


def test_missing_title_is_an_error(tmp_path):
    _, code, output = checked(tmp_path, {"2024/khong-tieu-de.md": article(title=None)})
    assert code == 1
    assert "articles/2024/khong-tieu-de.md:1: lỗi: thiếu dòng Title" in output
    assert "(missing Title)" in output


def test_empty_title_is_an_error_with_its_line(tmp_path):
    _, code, output = checked(tmp_path, {"2024/trong.md": article(title="")})
    assert code == 1
    assert "articles/2024/trong.md:1: lỗi: dòng Title (tiêu đề) đang để trống" in output


@pytest.mark.parametrize("missing", ["date", "category"])
def test_missing_date_or_category_is_an_error(tmp_path, missing):
    _, code, output = checked(tmp_path, {"2024/a.md": article(**{missing: None})})
    assert code == 1
    assert f"(missing {missing.capitalize()})" in output


@pytest.mark.parametrize("date", ["2021-02-31", "31/02/2021 10:00", "2021-13-01 08:00"])
def test_impossible_date_is_an_error(tmp_path, date):
    _, code, output = checked(tmp_path, {"2021/a.md": article(date=date)})
    assert code == 1
    assert f'articles/2021/a.md:2: lỗi: ngày "{date}" không có thật trên lịch' in output


@pytest.mark.parametrize("date", ["05/03/21", "March 5, 2021", "2021/03/05"])
def test_unknown_date_form_is_an_error(tmp_path, date):
    _, code, output = checked(tmp_path, {"2021/a.md": article(date=date)})
    assert code == 1
    assert "không đúng dạng YYYY-MM-DD HH:MM hoặc DD/MM/YYYY HH:MM" in output


def test_day_first_dates_are_never_guessed(tmp_path):
    content = make_content(tmp_path, {
        "a.md": article(title="Ngày năm tháng ba", date="05/03/2021 08:00"),
        "b.md": article(title="Ngày mười ba tháng ba", date="13/03/2021 08:00"),
    })  # fmt: skip
    site = build_site(tmp_path / "output", content=content)
    first = site.soup("2021/03/ngay-nam-thang-ba.html").select_one(".article__header time")
    assert first["datetime"] == "2021-03-05T08:00:00+07:00"  # 5 March, not 3 May
    second = site.soup("2021/03/ngay-muoi-ba-thang-ba.html").select_one(".article__header time")
    assert second["datetime"] == "2021-03-13T08:00:00+07:00"


def test_unknown_category_and_long_title_are_warnings(tmp_path):
    _, code, output = checked(tmp_path, {"2024/a.md": article(
        title="Hội nghị " * 30, category="Xây dưng Đảng")})  # fmt: skip
    assert code == 0, output
    assert 'cảnh báo: chuyên mục "Xây dưng Đảng" chưa có trong danh sách' in output
    assert "cảnh báo: tiêu đề dài" in output


def test_unknown_metadata_key_is_a_warning(tmp_path):
    _, code, output = checked(tmp_path, {"2024/a.md": article(extra="Tag: nông thôn mới")})
    assert code == 0
    assert 'articles/2024/a.md:5: cảnh báo: không rõ dòng thông tin "tag:"' in output


def test_parse_header_lines_and_continuations():
    metadata, body_line, duplicates = parse_header("Title: A\nTags: x,\n    y\n\nBody")
    assert metadata == {"title": ("A", 1), "tags": ("x, y", 2)}
    assert body_line == 5
    assert duplicates == []


# --- encodings -----------------------------------------------------------------------------

SAMPLE = (
    "Hội nghị giao ban bí thư chi bộ chuyên đề về công tác phát triển đảng viên. "
    "Ban Thường vụ Huyện ủy Gia Lộc luôn xác định đây là nhiệm vụ quan trọng."
)


def test_legacy_tables_match_known_mojibake():
    # Examples of how these texts look when the old fonts are missing.
    assert decode_tcvn3("Héi nghÞ") == "Hội nghị"
    assert decode_tcvn3("B¶o Th¾ng") == "Bảo Thắng"
    assert decode_vni("Xin chaøo caùc baïn") == "Xin chào các bạn"
    assert decode_vni("Hoäi nghò") == "Hội nghị"
    assert encode_tcvn3("Hội nghị") == "Héi nghÞ"
    assert encode_vni("Hội nghị") == "Hoäi nghò"


@pytest.mark.parametrize(
    "encode, name",
    [
        (lambda t: encode_windows_1258(t), "windows-1258"),
        (lambda t: t.encode("utf-16"), "utf-16"),
        (lambda t: t.encode("utf-16-le"), "utf-16"),
        (lambda t: encode_tcvn3(t).encode("utf-8"), "tcvn3"),
        (lambda t: encode_tcvn3(t).encode("latin-1"), "tcvn3"),
        (lambda t: encode_vni(t).encode("utf-8"), "vni"),
        (lambda t: encode_vni(t).encode("cp1252"), "vni"),
    ],
)
def test_decode_bytes_detects_and_converts(encode, name):
    text, found = decode_bytes(encode(SAMPLE))
    assert found == name
    assert text == SAMPLE


def test_every_sample_file_reads_as_utf8():
    for path in sorted((ROOT / "content").rglob("*.md")):
        text, found = decode_bytes(path.read_bytes())
        assert found == "utf-8", path
        assert vietnamese_score(text) > 0.9, path


LEGACY_ENCODERS = {
    "windows-1258": lambda t: encode_windows_1258(t),
    "utf-16": lambda t: t.encode("utf-16"),
    "tcvn3": lambda t: encode_tcvn3(t).encode("utf-8"),
    "vni": lambda t: encode_vni(t).encode("utf-8"),
}


@pytest.mark.parametrize("name", sorted(LEGACY_ENCODERS))
def test_legacy_file_is_an_error_until_make_fix(tmp_path, name):
    text = article(title="Hội nghị giao ban", body=SAMPLE)
    content = make_content(tmp_path, {})
    target = content / "articles" / "2024" / "cu.md"
    target.parent.mkdir(parents=True)
    original = LEGACY_ENCODERS[name](text)
    target.write_bytes(original)

    code, output = run_check(content)
    assert code == 1
    assert "articles/2024/cu.md:" in output and "make fix" in output
    assert f"(file is in the {name} encoding, not UTF-8" in output

    fixed = run_tool(
        [sys.executable, "-m", "tools.fix_encoding", "-s", "pelicanconf.py",
         "--content", str(content)],
        timeout=120,
    )  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    assert "cu.md: đã chuyển" in fixed.stdout
    assert target.read_text(encoding="utf-8") == text
    assert (content / "articles" / "2024" / "cu.md.bak").read_bytes() == original
    code, output = run_check(content)
    assert code == 0, output


def test_legacy_file_stops_the_build(tmp_path):
    content = make_content(tmp_path, {"ok.md": GOOD})
    (content / "articles" / "cu.md").write_bytes(
        encode_tcvn3(article(title="Héi nghÞ", body=SAMPLE)).encode("latin-1")
    )
    with pytest.raises(ContentError) as caught:
        build_site(tmp_path / "output", content=content)
    assert "cu.md:1: lỗi: tệp được gõ bằng bảng mã TCVN3" in str(caught.value)
    assert not (tmp_path / "output").exists()  # stopped before writing anything


def test_nfd_file_is_fine_and_comes_out_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", GOOD)
    _, code, output = checked(tmp_path, {"a.md": nfd})
    assert code == 0, output


def test_bom_is_allowed(tmp_path):
    content = make_content(tmp_path, {})
    (content / "articles" / "bom.md").write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    code, output = run_check(content)
    assert code == 0, output
    site = build_site(tmp_path / "output", content=content)
    assert site.exists("2024/03/hoi-nghi-giao-ban-cong-tac-dang.html")


# --- duplicates ----------------------------------------------------------------------------


def test_same_title_twice_both_published_with_a_warning(tmp_path):
    files = {
        "a.md": article(title="Hội nghị giao ban", date="2024-03-05 08:00"),
        "b.md": article(title="Hội nghị giao ban", date="2024-03-20 08:00"),
        "c.md": article(title="Hội nghị giao ban", date="2024-04-02 08:00"),
    }
    content, code, output = checked(tmp_path, files)
    assert code == 0, output
    assert "articles/a.md:1: cảnh báo: tiêu đề trùng với" in output
    site = build_site(tmp_path / "output", content=content)
    assert site.exists("2024/03/hoi-nghi-giao-ban.html")
    assert site.exists("2024/03/hoi-nghi-giao-ban-2024-03-20.html")
    assert site.exists("2024/04/hoi-nghi-giao-ban.html")
    assert site.log.messages(level=40) == []


def test_same_explicit_slug_is_an_error_naming_both_files(tmp_path):
    files = {
        "a.md": article(title="Bài một", extra="Slug: trung-lap"),
        "b.md": article(title="Bài hai", extra="Slug: trung-lap"),
    }
    content, code, output = checked(tmp_path, files)
    assert code == 1
    assert "articles/a.md:5: lỗi: Slug \"trung-lap\" trùng với" in output
    assert "articles/b.md" in output.split("articles/a.md:5:")[1].split("\n")[0]
    with pytest.raises(ContentError) as caught:
        build_site(tmp_path / "output", content=content)
    assert "a.md" in str(caught.value) and "b.md" in str(caught.value)


# --- drafts and future articles ------------------------------------------------------------


def test_drafts_and_future_articles_never_reach_the_public_build(tmp_path):
    future = datetime.now().year + 5
    files = {
        "dang.md": article(title="Bài đã đăng", date="2024-01-02 08:00"),
        "nhap.md": article(title="Bài nháp bí mật", date="2024-01-03 08:00",
                           extra="Status: draft"),
        "tuong-lai.md": article(title="Bài ngày mai", date=f"{future}-01-01 08:00"),
    }  # fmt: skip
    content = make_content(tmp_path, files)
    site = build_site(tmp_path / "output", "publishconf.py", content=content)
    everything = "".join(p.read_text(encoding="utf-8", errors="replace") for p in site.files())
    for secret in ("Bài nháp bí mật", "bai-nhap-bi-mat", "Bài ngày mai", "bai-ngay-mai"):
        assert secret not in everything, secret
    assert not (site.output / "ban-nhap").exists()
    assert site.exists("2024/01/bai-da-dang.html")
    feed = feedparser.parse(site.text("feeds/tat-ca.atom.xml"))
    assert [e.title for e in feed.entries] == ["Bài đã đăng"]


def test_drafts_can_be_previewed_locally(tmp_path):
    content = make_content(tmp_path, {"nhap.md": article(title="Bản nháp", extra="Status: draft")})
    site = build_site(tmp_path / "output", content=content)
    assert site.exists("ban-nhap/ban-nhap.html")
    assert "Bản nháp" not in site.text("index.html")


# --- escaping ------------------------------------------------------------------------------

XSS = "<script>alert(1)</script>"


def test_metadata_is_escaped_everywhere(tmp_path):
    files = {"x.md": article(title=f"Tiêu đề {XSS}", extra=f"Tags: {XSS}, an toàn\n"
                             f"Summary: Tóm tắt {XSS}")}  # fmt: skip
    content = make_content(tmp_path, files)
    site = build_site(tmp_path / "output", "publishconf.py", content=content)
    for path in site.files():
        if path.suffix in (".html", ".xml"):
            assert "<script>alert" not in path.read_text(encoding="utf-8"), path
    page = next(site.output.glob("2024/03/*.html"))
    soup = site.soup(page.relative_to(site.output))
    assert soup.find("h1").get_text() == f"Tiêu đề {XSS}"
    assert XSS in [a.get_text() for a in soup.select("a[rel=tag]")]
    assert soup.find("meta", property="og:title")["content"] == f"Tiêu đề {XSS}"
    json_ld = json.loads(soup.find("script", type="application/ld+json").string)
    assert json_ld["headline"] == f"Tiêu đề {XSS}"
    assert XSS in json_ld["keywords"]
    for name in ("feeds/tat-ca.atom.xml", "feeds/tat-ca.rss.xml"):
        raw = site.text(name)
        assert "<title>Tiêu đề &lt;script&gt;alert(1)&lt;/script&gt;</title>" in raw
        assert "<script" not in raw
        feed = feedparser.parse(raw)
        assert "<script" not in feed.entries[0].summary


def test_script_in_body_is_an_error(tmp_path):
    _, code, output = checked(tmp_path, {"a.md": article(body=f"Văn bản {XSS}")})
    assert code == 1
    assert "articles/a.md:6: lỗi: bài viết không được chứa mã <script>" in output


# --- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "[bài cũ]({filename}/articles/khong-co.md)",
        "[tệp]({static}/images/khong-co.pdf)",
        "![Ảnh](images/2024/khong-co.jpg \"Ảnh\")",
        "[trang](/chuyen-muc/khong-co/)",
        "[trang](../../2021/11/khong-co.html)",
    ],
)
def test_broken_internal_link_is_an_error_naming_article_and_target(tmp_path, link):
    target = link.split("(", 1)[1].split(" ")[0].rstrip(")")
    _, code, output = checked(tmp_path, {"2024/co-lien-ket.md": article(body=link)})
    assert code == 1, output
    line = next(x for x in output.splitlines() if "co-lien-ket.md:6:" in x)
    assert target in line


def test_working_internal_links_pass(tmp_path):
    files = {
        "2024/dich.md": article(title="Bài đích", date="2024-01-05 08:00"),
        "2024/nguon.md": article(title="Bài nguồn", body=(
            "[a]({filename}/articles/2024/dich.md) [b]({filename}dich.md) "
            "[c](/chuyen-muc/xay-dung-dang/) [d](../01/bai-dich.html) [e](https://example.org/)")),
    }  # fmt: skip
    content, code, output = checked(tmp_path, files)
    assert code == 0, output
    site = build_site(tmp_path / "output", content=content)
    assert site.log.messages() == []


def test_a_link_into_a_linked_static_folder_passes(tmp_path):
    """Pelican copies the files of a linked folder of STATIC_PATHS (it follows links), so a
    link to one of them, by {static} or by its URL, is not broken."""
    shared = tmp_path / "shared" / "2024"
    shared.mkdir(parents=True)
    (shared / "bao-cao.pdf").write_bytes(b"%PDF-1.4 bao cao")
    content = make_content(tmp_path, {
        "2024/nguon.md": article(body="Xem [báo cáo]({static}/images/2024/bao-cao.pdf) "
                                      "và [bản in](/images/2024/bao-cao.pdf)."),
    })  # fmt: skip
    (content / "images").mkdir()
    (content / "images" / "2024").symlink_to(shared, target_is_directory=True)
    code, output = run_check(content)
    assert code == 0, output
    site = build_site(tmp_path / "output", content=content)
    assert (site.output / "images" / "2024" / "bao-cao.pdf").read_bytes() == b"%PDF-1.4 bao cao"
    assert site.log.messages() == []


def test_check_source_is_fast_enough_for_a_thousand_articles():
    """Not a timing test: `make check` reads each file once and does no Markdown parsing,
    so its work is linear; this checks the one file reading path used by the CLI."""
    report = check_source("a.md", GOOD.encode("utf-8"), settings={})
    assert report.errors == [] and report.title == "Hội nghị giao ban công tác Đảng"


# --- which files are checked ---------------------------------------------------------------


def test_check_and_build_read_the_same_files(tmp_path):
    """`make check` looks at exactly the files the build reads: hidden files (a Mac's
    "._" copies on a USB stick, autosaves) and ARTICLE_EXCLUDES folders are skipped by both."""
    from pelican.generators import ArticlesGenerator, PagesGenerator
    from pelican.settings import read_settings

    from plugins.content_check.content_check import source_files

    content = make_content(tmp_path, {
        "2024/a.md": GOOD,
        "2024/._a.md": "\x00\x05\x16\x07Mac OS X        \x00\x02",  # AppleDouble junk
        "2024/.nhap.md": article(title="Bản lưu tạm"),
        "luu-tru/cu.md": article(title="Bài lưu trữ không đăng"),
        ".an/b.md": article(title="Thư mục ẩn"),
    }, pages={"gioi-thieu.md": "Title: Giới thiệu\n\nNội dung.\n"})  # fmt: skip
    settings = read_settings(str(ROOT / "pelicanconf.py"), override={
        "PATH": str(content), "ARTICLE_EXCLUDES": ["articles/luu-tru"],
    })  # fmt: skip
    checked = {os.path.relpath(p, content) for p in source_files(settings)}
    read = set()
    for generator_class, kind in ((ArticlesGenerator, "ARTICLE"), (PagesGenerator, "PAGE")):
        generator = generator_class(
            context={}, settings=settings, path=str(content), theme=settings["THEME"],
            output_path=str(tmp_path / "o"),
        )
        read |= generator.get_files(settings[f"{kind}_PATHS"], exclude=settings[f"{kind}_EXCLUDES"])
    assert checked == read == {"articles/2024/a.md", "pages/gioi-thieu.md"}


def test_make_check_ignores_hidden_files_the_build_ignores(tmp_path):
    content = make_content(tmp_path, {"2024/a.md": GOOD, "2024/._a.md": "\x00\x05\x16\x07"})
    code, output = run_check(content)
    assert code == 0, output
    assert "._a.md" not in output
    site = build_site(tmp_path / "output", content=content)
    assert site.log.messages() == []


# --- the check cache -----------------------------------------------------------------------


def _check_settings(content, cache):
    from pelican.settings import read_settings

    return read_settings(str(ROOT / "pelicanconf.py"),
                         override={"PATH": str(content), "CACHE_PATH": str(cache)})  # fmt: skip


def test_remembered_reports_follow_every_file_the_rules_look_at(tmp_path, monkeypatch):
    """An unchanged article's report is reused only while the article it links to and the
    image it shows are unchanged: deleting either, or breaking the image, is reported as
    by a check without the cache."""
    from PIL import Image

    from plugins.content_check import content_check

    image = tmp_path / "anh.jpg"
    Image.new("RGB", (64, 48), "red").save(image)
    content = make_content(tmp_path, {
        "2024/a.md": article(body="Xem [bài trước]({filename}b.md).\n\n"
                                  "![Hội nghị]({static}/images/2024/hoi-nghi.jpg)"),
        "2024/b.md": article(title="Bài trước", date="2024-03-27 08:00"),
    }, images={"2024/hoi-nghi.jpg": image})  # fmt: skip
    settings = _check_settings(content, tmp_path / "cache")
    checked = []
    original = content_check.check_file
    monkeypatch.setattr(content_check, "check_file",
                        lambda path, *a, **k: checked.append(path) or original(path, *a, **k))

    def both():
        checked.clear()
        _, cached = content_check.check_tree(settings)
        files = sorted(os.path.relpath(p, content) for p in checked)
        _, fresh = content_check.check_tree(settings, cache=False)
        assert [p.format() for p in cached] == [p.format() for p in fresh]
        return files, [p.message for p in cached if p.level == "error"]

    assert both() == (["articles/2024/a.md", "articles/2024/b.md"], [])
    assert both() == ([], [])  # nothing changed: nothing checked again
    linked = content / "articles" / "2024" / "b.md"
    kept = linked.read_bytes()
    linked.unlink()
    files, errors = both()
    assert files == ["articles/2024/a.md"]  # a.md again: a file it links to changed
    assert any("không tìm thấy tệp được liên kết" in e for e in errors)
    linked.write_bytes(kept)
    assert both() == (["articles/2024/a.md", "articles/2024/b.md"], [])
    photo = content / "images" / "2024" / "hoi-nghi.jpg"
    photo.write_bytes(photo.read_bytes()[:200])  # a truncated upload
    files, errors = both()
    assert files == ["articles/2024/a.md"]
    assert errors and all("hoi-nghi.jpg" in e for e in errors)
    photo.unlink()
    assert any("hoi-nghi.jpg" in e for e in both()[1])
    Image.new("RGB", (64, 48), "blue").save(photo)
    assert both()[1] == []
    # An edit that keeps the size and the mtime (the ctime changes) is seen.
    source = content / "articles" / "2024" / "a.md"
    before = source.stat()
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("Category: Xây dựng Đảng", "Category: Xây dựng Đảnq"),
                      encoding="utf-8")  # fmt: skip
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    files, _ = both()
    assert files == ["articles/2024/a.md"]
    assert any("Xây dựng Đảnq" in p.message for p in content_check.check_tree(settings)[1])


def test_the_check_pauses_the_cycle_collector_and_gives_it_back(tmp_path, monkeypatch):
    """Collection is off while the files are checked, and as it was afterwards, even when
    a check fails."""
    import gc

    from plugins.content_check import content_check

    content = make_content(tmp_path, {"2024/a.md": GOOD})
    settings = _check_settings(content, tmp_path / "cache")
    seen = []
    original = content_check.check_file
    monkeypatch.setattr(content_check, "check_file",
                        lambda *a, **k: seen.append(gc.isenabled()) or original(*a, **k))
    assert gc.isenabled()
    content_check.check_tree(settings, cache=False)
    assert seen == [False] and gc.isenabled()

    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(content_check, "check_file", broken)
    with pytest.raises(OSError):
        content_check.check_tree(settings, cache=False)
    assert gc.isenabled()
    gc.disable()
    try:
        monkeypatch.setattr(content_check, "check_file", original)
        content_check.check_tree(settings, cache=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_make_check_remembers_reports_between_runs(tmp_path):
    content = make_content(tmp_path, {"2024/a.md": GOOD})
    assert run_check(content)[0] == 0
    assert list((tmp_path / "check-cache" / "content_check").glob("reports-*.pickle"))
    (content / "articles" / "2024" / "a.md").write_text(article(date="31/02/2024 08:00"),
                                                        encoding="utf-8")  # fmt: skip
    code, output = run_check(content)
    assert code == 1 and "articles/2024/a.md:2: lỗi" in output
