"""`make new`: a new article with every metadata line filled in."""

import sys
from datetime import datetime, timedelta, timezone

from tests.conftest import build_site, make_content, run_tool


def make_new(content, *args):
    return run_tool(
        [sys.executable, "-m", "tools.new_article", "-s", "pelicanconf.py",
         "--content", str(content), *args],
        timeout=120,
    )  # fmt: skip


def test_make_new_creates_a_complete_draft(tmp_path):
    content = make_content(tmp_path, {})
    before = datetime.now(timezone(timedelta(hours=7))).replace(second=0, microsecond=0)
    result = make_new(content, "--title", "Hội nghị giao ban quý IV")
    assert result.returncode == 0, result.stderr
    path = content / "articles" / f"{before:%Y}" / "hoi-nghi-giao-ban-quy-iv.md"
    assert result.stdout.strip().endswith(f"articles/{before:%Y}/hoi-nghi-giao-ban-quy-iv.md")
    lines = path.read_text(encoding="utf-8").split("\n")
    header = dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
                  for line in lines[: lines.index("")])  # fmt: skip
    assert header["Title"] == "Hội nghị giao ban quý IV"
    assert header["Category"] == "Tin tức - Sự kiện"
    assert header["Author"] == "VPHU Gia Lộc"
    assert header["Status"] == "draft"
    assert set(header) == {"Title", "Date", "Category", "Tags", "Author", "Summary", "Status"}
    written = datetime.strptime(header["Date"], "%Y-%m-%d %H:%M")
    assert before.replace(tzinfo=None) <= written <= before.replace(tzinfo=None) + timedelta(
        minutes=2
    )


def test_new_draft_passes_the_check_and_is_not_published(tmp_path):
    content = make_content(tmp_path, {})
    result = make_new(content, "--title", "Bản nháp mới", "--category", "Xây dựng Đảng")
    assert result.returncode == 0, result.stderr
    check = run_tool(
        [sys.executable, "-m", "plugins.content_check", "--content", str(content)], timeout=120
    )
    assert check.returncode == 0, check.stdout
    site = build_site(tmp_path / "output", "publishconf.py", content=content)
    assert "Bản nháp mới" not in site.text("index.html")


def test_make_new_refuses_bad_requests(tmp_path):
    content = make_content(tmp_path, {})
    assert "cần có tiêu đề" in make_new(content, "--title", "  ").stderr
    unknown = make_new(content, "--title", "Bài", "--category", "Thể thao")
    assert unknown.returncode == 1 and 'chuyên mục "Thể thao" không có' in unknown.stderr
    assert make_new(content, "--title", "Bài một").returncode == 0
    again = make_new(content, "--title", "Bài một")
    assert again.returncode == 1 and "đã có, không ghi đè" in again.stderr
