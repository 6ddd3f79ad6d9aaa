"""Table-driven tests of the shared Vietnamese text helpers."""

import json
import os
import shutil
import subprocess
import unicodedata
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pelican.utils import slugify as pelican_slugify

from plugins import vn_text
from plugins.vn_text import (
    D_STROKE_MARK,
    SLUG_REGEX_SUBSTITUTIONS,
    compose_d,
    decompose_d,
    fold,
    format_date,
    format_datetime,
    format_long_date,
    has_diacritics,
    iso_datetime,
    nfc,
    slugify,
    sort_key,
    weekday_name,
)


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2024, 11, 18), "Thứ Hai"),
        (date(2021, 11, 9), "Thứ Ba"),
        (date(2024, 11, 20), "Thứ Tư"),
        (date(2024, 11, 21), "Thứ Năm"),
        (date(2024, 11, 22), "Thứ Sáu"),
        (date(2024, 11, 23), "Thứ Bảy"),
        (date(2024, 11, 24), "Chủ nhật"),
    ],
)
def test_weekday_table(day, expected):
    assert weekday_name(day) == expected


def test_weekday_table_has_seven_distinct_names():
    assert len(set(vn_text.WEEKDAYS)) == 7
    assert vn_text.WEEKDAYS[-1] == "Chủ nhật"  # not Babel's "Chủ Nhật"


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime(2021, 11, 9, 9, 0), "Thứ Ba 09/11/2021 09:00"),
        (datetime(2024, 1, 7, 14, 5), "Chủ nhật 07/01/2024 14:05"),
        # An aware UTC time is shown in Vietnam time (UTC+7): next day here.
        (datetime(2024, 11, 23, 18, 30, tzinfo=timezone.utc), "Chủ nhật 24/11/2024 01:30"),
        (
            datetime(2022, 3, 5, 8, 0, tzinfo=timezone(timedelta(hours=-5))),
            "Thứ Bảy 05/03/2022 20:00",
        ),
    ],
)
def test_format_datetime(value, expected):
    assert format_datetime(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (date(2024, 11, 24), "Chủ nhật, ngày 24/11/2024"),
        (date(2021, 11, 3), "Thứ Tư, ngày 03/11/2021"),
        (date(2023, 2, 27), "Thứ Hai, ngày 27/02/2023"),
    ],
)
def test_format_long_date(value, expected):
    assert format_long_date(value) == expected


def test_format_date_pads_day_and_month():
    assert format_date(date(2022, 1, 5)) == "05/01/2022"


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime(2021, 11, 9, 9, 0), "2021-11-09T09:00:00+07:00"),
        (datetime(2021, 11, 9, 2, 0, tzinfo=timezone.utc), "2021-11-09T09:00:00+07:00"),
    ],
)
def test_iso_datetime_is_in_vietnam_time(value, expected):
    assert iso_datetime(value) == expected


SLUG_TABLE = [
    (
        "Ban Thường vụ Huyện ủy Gia Lộc tổ chức Hội nghị giao ban bí thư chi bộ chuyên đề về "
        "công tác phát triển đảng viên",
        "ban-thuong-vu-huyen-uy-gia-loc-to-chuc-hoi-nghi-giao-ban-bi-thu-chi-bo-chuyen-de-ve"
        "-cong-tac-phat-trien-dang-vien",
    ),
    ("Quý I/2024", "quy-i-2024"),
    ("Hội nghị giao ban Quý I/2024", "hoi-nghi-giao-ban-quy-i-2024"),
    ("ĐẢNG BỘ HUYỆN GIA LỘC", "dang-bo-huyen-gia-loc"),
    ("Kinh tế - Xã hội", "kinh-te-xa-hoi"),
    ("Nhiệm kỳ 2020 – 2025", "nhiem-ky-2020-2025"),
    ("“Dân vận khéo” năm 2023!", "dan-van-kheo-nam-2023"),
    ("Ưu tiên, ước mơ; ơn nghĩa", "uu-tien-uoc-mo-on-nghia"),
    ("  khoảng   trắng  ", "khoang-trang"),
    ("Covid-19", "covid-19"),
]


@pytest.mark.parametrize("title, expected", SLUG_TABLE)
def test_slugify(title, expected):
    assert slugify(title) == expected
    assert slugify(unicodedata.normalize("NFD", title)) == expected


@pytest.mark.parametrize("title, expected", SLUG_TABLE)
def test_pelican_slugify_with_our_substitutions_agrees(title, expected):
    assert pelican_slugify(title, regex_subs=SLUG_REGEX_SUBSTITUTIONS) == expected


def test_slugs_are_ascii():
    for title, _ in SLUG_TABLE:
        assert slugify(title).isascii()


@pytest.mark.parametrize(
    "unsorted, expected",
    [
        # the alphabet: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
        (
            ["y", "x", "v", "ư", "u", "t", "s", "r", "q", "p", "ơ", "ô", "o", "n", "m", "l", "k",
             "i", "h", "g", "ê", "e", "đ", "d", "c", "b", "â", "ă", "a"],
            ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "g", "h", "i", "k", "l", "m", "n", "o",
             "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "x", "y"],
        ),
        # đ after every d-word, whatever the code points say (Đ is U+0110, after Z)
        (["Đảng", "Dân vận", "Đoàn", "Du lịch"], ["Dân vận", "Du lịch", "Đảng", "Đoàn"]),
        # tones only after the base letters: ngang, huyền, hỏi, ngã, sắc, nặng
        (["mạ", "má", "mã", "mả", "mà", "ma"], ["ma", "mà", "mả", "mã", "má", "mạ"]),
        (["bán", "bàn", "banh"], ["bàn", "bán", "banh"]),
        # words compare letter by letter, a space before any letter
        (["Gia Lộc", "Gia Lâm", "Gia", "Giang"], ["Gia", "Gia Lâm", "Gia Lộc", "Giang"]),
        (["ước", "uốn", "ăn", "ấm", "an"], ["an", "ăn", "ấm", "uốn", "ước"]),
        (
            ["Văn hóa - Xã hội", "Xây dựng Đảng", "Kinh tế - Xã hội", "Quốc phòng - An ninh",
             "Tin tức - Sự kiện"],
            ["Kinh tế - Xã hội", "Quốc phòng - An ninh", "Tin tức - Sự kiện", "Văn hóa - Xã hội",
             "Xây dựng Đảng"],
        ),
    ],
)
def test_vietnamese_sort_order(unsorted, expected):
    assert sorted(unsorted, key=sort_key) == expected


def test_sort_key_ignores_normalisation_form():
    nfd = unicodedata.normalize("NFD", "Đảng viên")
    assert sort_key(nfd)[:2] == sort_key("Đảng viên")[:2]


def test_sort_key_ignores_case_before_tiebreak():
    assert sorted(["b", "A", "a", "B"], key=sort_key) == ["A", "a", "B", "b"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Đảng viên", "dang vien"),
        ("đang", "dang"),
        ("dạng", "dang"),
        ("Hội nghị giao ban", "hoi nghi giao ban"),
        ("Gia Lộc", "gia loc"),
        ("Ưu tiên ước mơ", "uu tien uoc mo"),
        (unicodedata.normalize("NFD", "đảng viên"), "dang vien"),
    ],
)
def test_fold(text, expected):
    assert fold(text) == expected


def test_fold_keeps_case_when_asked():
    assert fold("Đảng Viên", lower=False) == "Dang Vien"


def test_nfc():
    decomposed = unicodedata.normalize("NFD", "Huyện ủy")
    assert decomposed != "Huyện ủy"
    assert nfc(decomposed) == "Huyện ủy"


# --- folding for search: the table shared with the JavaScript twin --------------------------

ROOT = Path(__file__).resolve().parent.parent
FOLD_TABLE = ROOT / "tests" / "data" / "vn_fold_cases.json"
FOLD_CASES = json.loads(FOLD_TABLE.read_text("utf-8"))["cases"]


@pytest.mark.parametrize("case", FOLD_CASES, ids=lambda case: repr(case["text"]))
def test_shared_fold_table(case):
    text = case["text"]
    assert fold(text) == case["fold"]
    assert has_diacritics(text) == case["has_diacritics"]
    assert decompose_d(text) == case["decompose_d"]
    # Pagefind folds by removing combining marks: the index form then folds like fold().
    assert fold(decompose_d(text)) == case["fold"]
    if D_STROKE_MARK not in text:
        assert compose_d(decompose_d(text)) == nfc(text)


def test_decompose_d_output_is_nfc_and_has_no_precomposed_d_stroke():
    text = unicodedata.normalize("NFD", "Đảng bộ huyện đã đề ra")
    marked = decompose_d(text)
    assert unicodedata.is_normalized("NFC", marked)
    assert "đ" not in marked and "Đ" not in marked


def test_javascript_twin_passes_the_same_table():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node not found; .ci/run must install Node.js")
        pytest.skip("node not found")
    result = subprocess.run(
        [node, "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
