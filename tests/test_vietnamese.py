"""vietnamese plugin: NFC everywhere, ASCII slugs, Vietnamese order, on small built sites."""

import unicodedata
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pelican.utils import SafeDatetime

from plugins.vietnamese.vietnamese import JINJA_FILTERS, order_categories, vn_sorted
from plugins.vn_text import format_datetime, iso_datetime
from tests.conftest import build_site, make_content

NFC_ARTICLE = """Title: Hội nghị giao ban Quý I/2024
Date: 2024-03-28 14:00
Category: Xây dựng Đảng
Tags: phát triển đảng viên, Đảng bộ
Author: VPHU Gia Lộc

Đảng bộ huyện tổ chức hội nghị giao ban quý I.
"""

NFD_ARTICLE = unicodedata.normalize(
    "NFD",
    """Title: Đảng ủy xã Gia Tân kết nạp đảng viên mới
Date: 2024-04-02 09:30
Category: Xây dựng Đảng
Tags: phát triển đảng viên, bầu cử
Author: VPHU Gia Lộc

Chi bộ thôn tổ chức lễ kết nạp đảng viên mới cho hai quần chúng ưu tú.
""",
)

OTHER_CATEGORY = """Title: Ấp trứng gà ở xã Yết Kiêu
Date: 2024-04-05 08:00
Category: Kinh tế - Xã hội
Tags: ấp trứng, an sinh
Author: VPHU Gia Lộc

Nghề ấp trứng giúp nhiều hộ vươn lên.
"""


def build_small(tmp_path):
    assert NFD_ARTICLE != unicodedata.normalize("NFC", NFD_ARTICLE)
    content = make_content(
        tmp_path,
        {"2024/a.md": NFC_ARTICLE, "2024/b.md": NFD_ARTICLE, "2024/c.md": OTHER_CATEGORY},
    )
    return build_site(tmp_path / "output", content=content, SITE_CATEGORIES=[])


def test_nfd_article_comes_out_nfc_and_merges_taxonomies(tmp_path):
    site = build_small(tmp_path)
    page = site.text("2024/04/dang-uy-xa-gia-tan-ket-nap-dang-vien-moi.html")
    assert unicodedata.is_normalized("NFC", page)
    assert "Đảng ủy xã Gia Tân kết nạp đảng viên mới" in page
    # one tag page, holding both articles; one category
    tag = site.soup("chu-de/phat-trien-dang-vien/index.html")
    assert len(tag.select(".card-list > li")) == 2
    categories = [a.get_text() for a in site.soup("chuyen-muc/index.html").select(".term-list a")]
    assert categories == ["Kinh tế - Xã hội", "Xây dựng Đảng"]
    for path in site.files(".html"):
        assert unicodedata.is_normalized("NFC", path.read_text(encoding="utf-8")), path


def test_slug_with_slash_and_roman_numeral(tmp_path):
    site = build_small(tmp_path)
    assert site.exists("2024/03/hoi-nghi-giao-ban-quy-i-2024.html")
    assert not list(site.output.rglob("*quy-i2024*"))


def test_tag_list_sorted_vietnamese(tmp_path):
    site = build_small(tmp_path)
    names = [a.get_text() for a in site.soup("chu-de/index.html").select(".term-list a")]
    # "Đảng bộ" after "bầu cử"; "ấp trứng" after "an sinh" (by code point it would be last)
    assert names == ["an sinh", "ấp trứng", "bầu cử", "Đảng bộ", "phát triển đảng viên"]


def test_menu_follows_site_categories_setting(tmp_path):
    content = make_content(tmp_path, {"a.md": NFC_ARTICLE, "c.md": OTHER_CATEGORY})
    site = build_site(
        tmp_path / "output", content=content, SITE_CATEGORIES=["Xây dựng Đảng", "Kinh tế - Xã hội"]
    )
    names = [a.get_text() for a in site.soup("index.html").select(".site-nav a")]
    assert names[1:3] == ["Xây dựng Đảng", "Kinh tế - Xã hội"]


def test_order_categories_preferred_then_alphabetical():
    names = ["Đoàn thể", "Xây dựng Đảng", "An ninh", "Tin tức - Sự kiện"]
    assert order_categories(names, ["Tin tức - Sự kiện", "Xây dựng Đảng"]) == [
        "Tin tức - Sự kiện",
        "Xây dựng Đảng",
        "An ninh",
        "Đoàn thể",
    ]


def test_vn_sorted_pairs_and_attributes():
    pairs = [("đường", 1), ("dân", 2), ("ăn", 3)]
    assert [k for k, _ in vn_sorted(pairs)] == ["ăn", "dân", "đường"]


@pytest.mark.parametrize("value", [
    datetime(2021, 11, 3, 8, 30),  # naive: taken as Vietnam time
    datetime(2021, 11, 3, 8, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    SafeDatetime(2021, 11, 3, 8, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),  # Pelican's dates
    datetime(2021, 11, 3, 1, 30, tzinfo=timezone.utc),  # the same instant in UTC
    datetime(2021, 11, 2, 20, 30, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone.utc),  # next day in Vietnam
])  # fmt: skip
def test_remembered_date_filters_answer_as_the_plain_functions(value):
    """The date filters keep their results by argument: equal datetimes (one instant, or one
    naive wall time) share one, and it is the plain function's answer for each of them."""
    filters = {name: JINJA_FILTERS[name] for name in ("isodatetime", "vn_datetime")}
    for name, plain in (("isodatetime", iso_datetime), ("vn_datetime", format_datetime)):
        filters[name].cache_clear()
        first = filters[name](value)
        assert first == plain(value)
        for other in (
            datetime(2021, 11, 3, 8, 30),
            datetime(2021, 11, 3, 1, 30, tzinfo=timezone.utc),
            datetime(2021, 11, 3, 8, 30, tzinfo=timezone.utc),  # not the naive wall time
        ):
            assert filters[name](other) == plain(other)
        assert filters[name](value) == first
    iso = JINJA_FILTERS["isodatetime"]
    assert iso(datetime(2021, 11, 3, 8, 30)) == "2021-11-03T08:30:00+07:00"
    assert iso(datetime(2021, 11, 3, 8, 30, tzinfo=timezone.utc)) == "2021-11-03T15:30:00+07:00"
