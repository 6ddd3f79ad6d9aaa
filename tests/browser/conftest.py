"""Real-browser fixtures: the sample site served on 127.0.0.1, Playwright driving Chromium.

Debian's Chromium (/usr/bin/chromium) is used; `playwright install` cannot download here.
Without a browser these tests are skipped, except under CI=true where that is a failure.
"""

import functools
import http.server
import os
import shutil
import threading

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _browser_missing_reason():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def serve(directory):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="session")
def browser():
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run must install it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def dev_site(tmp_path_factory):
    """The sample site built with the local settings (root-relative links), for serving."""
    from tests.conftest import build_site

    return build_site(tmp_path_factory.mktemp("dev-site") / "output", "pelicanconf.py")


@pytest.fixture(scope="session")
def server(dev_site):
    httpd = serve(dev_site.output)
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def context(browser):
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A page that records console errors and failed requests; tests assert they stay empty."""
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text)
    )
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    page.close()
