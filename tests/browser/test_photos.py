"""Photos in a real browser: a phone downloads the version its screen needs, not a larger one."""

import pytest

from tests.conftest import SEED_PATH

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height", "scale", "expected"), [
    (360, 800, 2, "720w.webp"),  # the commonest Android screen: 328 px × 2 = 656 px needed
    (390, 844, 3, "1200w.webp"),  # 358 px × 3 = 1074 px
    (1280, 800, 1, "960w.webp"),  # the article column, 47.25em = 756 px
])  # fmt: skip
def test_the_browser_picks_the_smallest_version_that_fills_the_photo(
        browser, server, width, height, scale, expected):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=scale)  # fmt: skip
    try:
        page = context.new_page()
        photos = []
        page.on("response", lambda response: "/images/" in response.url and photos.append(response))
        page.goto(f"{server}/{SEED_PATH}", wait_until="load")
        assert [r.url.rsplit("-", 1)[-1] for r in photos] == [expected]
        assert photos[0].status == 200
        # What the browser chose is as wide as the photo's box needs, at this screen's density.
        shown = page.locator(".article__body figure img").first
        need = shown.evaluate("img => img.getBoundingClientRect().width") * scale
        chosen = int(expected.split("w.")[0])
        assert chosen >= need * 0.99
    finally:
        context.close()
