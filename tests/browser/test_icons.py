"""The site's icon in a real browser: what Chromium asks for is there, with no failed request."""

from tests.conftest import SEED_PATH


def is_icon(url):
    return url.rsplit("/", 1)[-1] in {"favicon.ico", "favicon.svg", "apple-touch-icon.png"}


def test_the_browser_gets_the_site_icon_and_no_request_fails(page, server):
    responses, failed = [], []
    page.on("response", lambda response: responses.append(response))
    page.on("requestfailed", lambda request: failed.append(request.url))
    # Chromium asks for the icon once the page has loaded: wait for that response.
    with page.expect_response(lambda response: is_icon(response.url), timeout=10_000) as icon:
        page.goto(f"{server}/{SEED_PATH}", wait_until="load")
    assert icon.value.status == 200, icon.value.url
    # The SVG named in the head, not the /favicon.ico fallback.
    assert icon.value.url.endswith("/theme/icons/favicon.svg")
    assert icon.value.headers["content-type"].startswith("image/svg+xml")
    assert not [(r.url, r.status) for r in responses if r.status >= 400]
    assert not failed and not page.console_errors
