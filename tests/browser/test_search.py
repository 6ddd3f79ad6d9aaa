"""Site search in a real browser: Vietnamese with or without diacritics, the form, the keyboard."""

import re
import unicodedata
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from tests.conftest import SEED_PATH

pytestmark = pytest.mark.browser

SEED_URL = "/" + SEED_PATH
SEARCHBOX = "Tìm kiếm"  # the header form's label
NOT_FOUND = "Không tìm thấy kết quả"


def console_problems(page):
    """The console errors and page errors of ``page``, as they come."""
    problems = []
    page.on(
        "console",
        lambda msg: (
            msg.type == "error" and problems.append(f"{msg.text} ({msg.location.get('url')})")
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def wait_for_results(page):
    """Wait until the search has finished; return the result links' paths (in order)."""
    page.wait_for_function(
        """() => {
          const status = document.querySelector('.search-results__status').textContent;
          if (/^Không tìm thấy/.test(status)) return true;
          return /^Có \\d+ kết quả/.test(status) && document.querySelector('.search-result a');
        }"""
    )
    return [
        re.sub(r"^https?://[^/]+", "", href)
        for href in page.locator(".search-result__title a").evaluate_all(
            "links => links.map(a => a.href)"
        )
    ]


def search(page, server, query):
    page.goto(f"{server}/tim-kiem.html?q={quote(query)}")
    return wait_for_results(page)


@pytest.mark.parametrize(
    "query",
    [
        "dang vien",
        "Dang Vien",
        "đảng viên",
        unicodedata.normalize("NFD", "đảng viên"),
        "hoi nghi giao ban",
    ],
    ids=["ascii", "ascii-capitals", "nfc", "nfd", "hoi-nghi-giao-ban"],
)
def test_query_finds_the_seed_bulletin(page, server, query):
    problems = console_problems(page)
    links = search(page, server, query)
    assert SEED_URL in links
    assert problems == []


def test_query_in_nfd_is_shown_and_searched_as_nfc(page, server):
    nfd = unicodedata.normalize("NFD", "đảng viên")
    assert search(page, server, nfd) == search(page, server, "đảng viên")
    value = page.get_by_role("searchbox", name="Từ khóa").input_value()
    assert value == "đảng viên" and unicodedata.is_normalized("NFC", value)


def test_gia_loc_without_diacritics_finds_gia_loc_articles(page, server):
    links = search(page, server, "Gia Loc")
    assert len(links) >= 5
    marks = [m.lower() for m in page.locator(".search-result mark").all_inner_texts()]
    assert "gia" in marks and any(m.startswith("lộc") for m in marks), marks
    for link in links[:5]:
        article = page.request.get(f"{server}{link}").text()
        assert "Gia Lộc" in article, link


def test_excerpts_show_the_real_vietnamese_text(page, server):
    search(page, server, "dang vien")
    text = page.locator(".search-results").inner_text()
    assert "\u0335" not in text
    marks = [m.lower() for m in page.locator(".search-result mark").all_inner_texts()]
    assert "đảng" in marks and "viên" in marks
    title = page.locator(f'.search-result__title a[href$="{SEED_URL}"]').inner_text()
    assert title.startswith("Ban Thường vụ Huyện ủy Gia Lộc")
    assert "đảng viên" in title


def test_results_show_title_date_category_and_excerpt(page, server):
    search(page, server, "hoi nghi giao ban")
    seed = page.locator(".search-result").filter(has=page.locator(f'a[href$="{SEED_URL}"]'))
    time = seed.locator(".search-result__meta time")
    assert time.inner_text() == "09/11/2021"
    assert time.get_attribute("datetime") == "2021-11-09T09:00:00+07:00"
    assert "Xây dựng Đảng" in seed.locator(".search-result__meta").inner_text()
    assert seed.locator(".search-result__excerpt mark").count() > 0


def test_exact_diacritics_rank_first(page, server):
    search(page, server, "đang")
    exact = []
    for item in page.locator(".search-result").all():
        marks = [m.lower().strip(".,;:") for m in item.locator("mark").all_inner_texts()]
        exact.append("đang" in marks)
    assert exact[0], "a page with “đang” itself comes first"
    assert exact == sorted(exact, reverse=True), "no “đảng”-only page before an “đang” page"
    assert not all(exact), "folded matches (đảng, đăng …) follow"


def pages_holding(site, phrase):
    """The paths of the built pages whose indexed text holds ``phrase``, its words side by
    side, diacritics folded."""
    from plugins.vn_text import fold

    wanted = re.compile(r"\b" + re.escape(fold(phrase)) + r"\b")
    found = set()
    for path in site.files(".html"):
        body = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").find(
            attrs={"data-pagefind-body": True})
        if body and wanted.search(" ".join(fold(body.get_text(" ")).split())):
            found.add("/" + path.relative_to(site.output).as_posix())
    return found


@pytest.mark.parametrize("query", ["nông thôn", "nong thon"])
def test_pages_holding_the_words_together_come_first(page, server, dev_site, query):
    # "thôn" also finds "thông" (Pagefind matches prefixes): a page with "nông" and "thông"
    # apart is found too, but after every page about "nông thôn".
    problems = console_problems(page)
    holding = pages_holding(dev_site, "nông thôn")
    links = search(page, server, query)
    assert len(holding) >= 3
    assert set(links[: len(holding)]) == holding
    assert len(links) > len(holding)  # the others are still listed
    assert problems == []


def test_query_without_diacritics_ignores_them(page, server):
    folded = search(page, server, "dang")
    assert len(folded) >= len(search(page, server, "đang")) - 1  # "dâng" pages too


def test_no_results_message(page, server):
    problems = console_problems(page)
    links = search(page, server, "qwfpgj zzxq")
    assert links == []
    status = page.locator(".search-results__status").inner_text()
    assert status.startswith(NOT_FOUND)
    assert "qwfpgj zzxq" in status
    assert page.locator(".search-result").count() == 0
    assert problems == []


def test_empty_query_asks_for_a_keyword(page, server):
    page.goto(f"{server}/tim-kiem.html")
    status = page.locator(".search-results__status")
    page.wait_for_function("document.querySelector('.search-results__status').textContent")
    assert "Nhập từ khóa" in status.inner_text()
    assert page.locator(".search-result").count() == 0


def test_header_form_submission_puts_the_query_in_the_url(page, server):
    problems = console_problems(page)
    page.goto(f"{server}{SEED_URL}")
    page.get_by_role("searchbox", name=SEARCHBOX).fill("dang vien")
    page.get_by_role("search").first.get_by_role("button", name="Tìm").click()
    page.wait_for_url(re.compile(r"/tim-kiem\.html\?q=dang\+vien$"))
    assert SEED_URL in wait_for_results(page)
    assert page.get_by_role("searchbox", name=SEARCHBOX).input_value() == "dang vien"
    assert page.get_by_role("searchbox", name="Từ khóa").input_value() == "dang vien"
    assert page.title().startswith("“dang vien”")
    # the URL is a link to the same results
    again = search(page, server, "dang vien")
    assert again[0] == wait_for_results(page)[0]
    assert problems == []


def test_keyboard_only(page, server):
    page.goto(f"{server}/index.html")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    searchbox = page.get_by_role("searchbox", name=SEARCHBOX)
    assert searchbox.evaluate("el => el === document.activeElement")
    page.keyboard.type("hoi nghi giao ban")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/tim-kiem\.html\?q=hoi\+nghi\+giao\+ban$"))
    links = wait_for_results(page)
    # Tab from the page's own search box reaches the first result link
    page.get_by_role("searchbox", name="Từ khóa").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.search-result') !== null"):
            break
    focused = page.evaluate("document.activeElement.href")
    assert focused.endswith(links[0])
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{links[0]}")
    assert page.locator("h1").count() == 1


def test_more_results_button(page, server):
    links = search(page, server, "Gia Loc")
    total = int(re.search(r"Có (\d+)", page.locator(".search-results__status").inner_text())[1])
    assert total > 10 and len(links) == 10
    more = page.get_by_role("button", name="Xem thêm kết quả")
    more.focus()
    page.keyboard.press("Enter")
    expected = min(total, 20)
    page.wait_for_function(f"document.querySelectorAll('.search-result').length === {expected}")
    assert page.evaluate("document.activeElement.closest('.search-result') !== null")
    first_new = page.locator(".search-result").nth(10).locator("a")
    assert first_new.evaluate("el => el === document.activeElement")
    if total <= 20:
        assert more.is_hidden()


def test_result_links_open_existing_pages(page, server):
    for link in search(page, server, "dang vien")[:5]:
        response = page.request.get(f"{server}{link}")
        assert response.status == 200, link


def test_without_javascript_the_form_stays_and_a_note_explains(browser, server):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server}/tim-kiem.html?q=dang+vien")
        note = page.locator("main .search-noscript")  # (get_by_text skips <noscript>)
        assert note.is_visible()
        assert note.inner_text().startswith("Chức năng tìm kiếm cần JavaScript.")
        assert page.get_by_role("searchbox", name="Từ khóa").is_visible()
        assert page.get_by_role("searchbox", name=SEARCHBOX).is_visible()
        assert page.locator(".search-result").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize(
    "missing",
    [
        "pagefind/shards.json",  # no index at all
        "pagefind/2024-08/pagefind.js",  # the first shard's script (the newest month's)
        "pagefind/2024-08/pagefind-entry.json*",  # the first shard (Pagefind would wait forever)
        "pagefind/2021/pagefind-entry.json*",  # a merged shard
    ],
    ids=["manifest", "script", "first-shard", "merged-shard"],
)
def test_missing_index_gives_a_message_not_a_blank_page(page, server, missing):
    page.route(f"**/{missing}", lambda route: route.fulfill(status=404))
    page.goto(f"{server}/tim-kiem.html?q=dang+vien")
    status = page.locator(".search-results__status")
    page.wait_for_function(
        "document.querySelector('.search-results__status').textContent.startsWith('Chưa tải')"
    )
    assert "Vui lòng thử lại sau" in status.inner_text()
    assert page.locator(".search-result").count() == 0


def test_results_come_from_every_shard(page, server):
    """The index is one Pagefind bundle per year, one for the newest month (August 2024 in
    the sample site) and one for the pages, merged in the browser."""
    shards = page.request.get(f"{server}/pagefind/shards.json").json()["shards"]
    assert [s["path"] for s in shards] == [
        "2024-08/", "2024/", "2023/", "2022/", "2021/", "trang/"
    ]  # fmt: skip
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    links = search(page, server, "Gia Loc")
    years = {link.split("/")[1] for link in links}
    assert len(years) >= 2, links
    for shard in shards:  # every shard's entry, cached under its index hash
        assert any(f"/pagefind/{shard['path']}pagefind-entry.json?ts={shard['hash']}" in url
                   for url in fetched), shard  # fmt: skip
    assert search(page, server, "chức năng nhiệm vụ văn phòng")[0] == "/gioi-thieu.html"
