"""The banner date: the reader's today in Asia/Ho_Chi_Minh, whatever the reader's time zone."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import SEED_PATH

pytestmark = pytest.mark.browser


def expected_today_in_vietnam(now_utc):
    from plugins.vn_text import format_long_date

    return format_long_date((now_utc + timedelta(hours=7)).date())


@pytest.mark.parametrize(
    "reader_zone", ["Asia/Ho_Chi_Minh", "America/Los_Angeles", "Pacific/Kiritimati"]
)
def test_banner_shows_today_in_vietnam(browser, server, reader_zone):
    context = browser.new_context(timezone_id=reader_zone)
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        before = datetime.now(timezone.utc)
        page.goto(f"{server}/{SEED_PATH}")
        text = page.locator('[data-module="today-date"] time').inner_text()
        after = datetime.now(timezone.utc)
        assert text in {expected_today_in_vietnam(before), expected_today_in_vietnam(after)}
        assert errors == []
    finally:
        context.close()


def test_fixed_clock_gives_the_model_page_date(browser, server):
    # 2024-11-23 20:00 in Los Angeles is already Sunday 24/11/2024 in Vietnam.
    context = browser.new_context(timezone_id="America/Los_Angeles")
    try:
        page = context.new_page()
        page.clock.set_fixed_time(datetime(2024, 11, 24, 4, 0, tzinfo=timezone.utc))
        page.goto(f"{server}/index.html")
        time = page.locator('[data-module="today-date"] time')
        assert time.inner_text() == "Chủ nhật, ngày 24/11/2024"
        assert time.get_attribute("datetime") == "2024-11-24"
    finally:
        context.close()


def test_without_javascript_there_is_no_date(browser, server):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server}/{SEED_PATH}")
        assert page.locator('[data-module="today-date"] time').count() == 0
        assert "ngày" not in page.locator("header.site-header").inner_text()
        assert page.locator("html.no-js").count() == 1
    finally:
        context.close()
