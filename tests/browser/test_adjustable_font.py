"""The "Xem với cỡ chữ" control in a real browser (Playwright driving Debian's Chromium).

Sizes are compared as ratios of computed font sizes, against the plugin's own settings.
"""

import json
import math
import os
from pathlib import Path

import pytest

from plugins.adjustable_font.adjustable_font import ATTRIBUTE, announcements, resolve_settings
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, SEED_PATH

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Everything a reader reads on the article page, and so must scale with the control.
READING = {
    "title": ".article__title",
    "date": ".article__date",
    "body": ".article__body > p",
    "caption": ".article__body figcaption",
    "signature": ".article__signature",
    "tags": ".article__tags a",
    "related heading": ".related__heading",
    "related link": ".related__list a",
    "related date": ".related__list .date-short",
}
# Sized with vw as well as rem: the same only at the same viewport width.
VIEWPORT_DEPENDENT = {"title"}

SIZES_JS = """(selectors) => Object.fromEntries(Object.entries(selectors).map(([name, css]) => {
  const element = document.querySelector(css);
  return [name, element ? parseFloat(getComputedStyle(element).fontSize) : null];
}))"""

OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (element) => {
    for (let e = element.parentElement; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")].filter((element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.right > width + 0.5 && !clipped(element);
  });
  const describe = (e) => `${e.tagName.toLowerCase()}.${e.className}: right edge at `
    + e.getBoundingClientRect().right;
  return {width, scrollWidth: document.documentElement.scrollWidth, wide: wide.map(describe)};
}"""

# Records the body text size in the first frame that shows it, and at DOMContentLoaded.
PROBE_JS = """
window.__fontProbe = {};
(function () {
  function size() {
    var p = document.querySelector(".article__body > p");
    return p ? parseFloat(getComputedStyle(p).fontSize) : null;
  }
  function frame() {
    var s = size();
    if (s === null) { requestAnimationFrame(frame); return; }
    window.__fontProbe.firstFrame = s;
  }
  requestAnimationFrame(frame);
  document.addEventListener("DOMContentLoaded", function () {
    window.__fontProbe.domContentLoaded = size();
  });
})();
"""

BLOCKED_STORAGE_JS = """
Object.defineProperty(window, "localStorage", {
  configurable: true,
  get: function () { throw new DOMException("blocked", "SecurityError"); }
});
"""


@pytest.fixture(scope="module")
def config(dev_site):
    return resolve_settings(dev_site.settings)


@pytest.fixture(scope="module")
def other_article(dev_site):
    """Another article page (one of the seed page's related links)."""
    link = dev_site.soup(SEED_PATH).select_one(".related__list a")
    return link["href"].lstrip("/")


def new_page(context):
    """A page that records console errors and page errors."""
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


@pytest.fixture
def make_context(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def article(make_context, server):
    page = new_page(make_context())
    page.goto(f"{server}/{SEED_PATH}")
    return page


def sizes(page, names=READING):
    result = page.evaluate(SIZES_JS, names)
    missing = [name for name, size in result.items() if size is None]
    assert not missing, f"not on the page: {missing}"
    return result


def assert_scaled(actual, base, ratio, skip=()):
    for name, size in actual.items():
        if name in skip:
            continue
        assert math.isclose(size, base[name] * ratio, rel_tol=0.01), (name, size, base[name], ratio)


def button(page, action):
    return page.locator(f'.adjustable-font [data-adjustable-font-action="{action}"]')


def to_largest(page):
    """Click A+ until it says it is at the end of the range."""
    plus = button(page, "increase")
    clicks = 0
    while plus.get_attribute("aria-disabled") != "true":
        plus.click()
        clicks += 1
        assert clicks < 50
    return clicks


def step_of(page):
    return page.evaluate(f"document.documentElement.getAttribute('{ATTRIBUTE}')")


def status_text(page):
    return page.locator(".adjustable-font [data-adjustable-font-status]").text_content().strip()


def saved(page, config):
    return page.evaluate("(key) => localStorage.getItem(key)", config.storage_key)


def ratio(config, step):
    return float(step) / float(config.default)


# --- the control -----------------------------------------------------------------------------


def test_control_shows_label_and_three_named_buttons(article):
    control = article.get_by_role("group", name="Xem với cỡ chữ")
    assert control.is_visible()
    names = ["Giảm cỡ chữ", "Cỡ chữ mặc định", "Tăng cỡ chữ"]
    for name, text in zip(names, ["A-", "A", "A+"], strict=True):
        target = control.get_by_role("button", name=name, exact=True)
        assert target.is_visible()
        assert target.locator("[aria-hidden=true]").inner_text() == text  # what is seen
        box = target.locator(".adjustable-font__name").bounding_box()
        assert box is None or (box["width"] <= 1 and box["height"] <= 1)  # the name is not
        assert target.get_attribute("type") == "button"
    assert article.errors == []


def test_each_click_scales_the_whole_article_by_one_step(article, config):
    base = sizes(article)
    texts = announcements(config)
    start = config.steps.index(config.default)
    assert step_of(article) == config.default
    assert button(article, "reset").get_attribute("aria-disabled") == "true"

    for index in range(start + 1, len(config.steps)):
        assert button(article, "increase").get_attribute("aria-disabled") is None
        button(article, "increase").click()
        step = config.steps[index]
        assert step_of(article) == step
        assert_scaled(sizes(article), base, ratio(config, step))
        assert status_text(article) == texts[index]
    # the largest step: the button says so, and another click changes nothing
    assert button(article, "increase").get_attribute("aria-disabled") == "true"
    largest = sizes(article)
    button(article, "increase").click(force=True)  # force: Playwright waits for enabled ones
    assert sizes(article) == largest
    assert status_text(article) == texts[-1]
    assert "lớn nhất" in texts[-1]

    for index in range(len(config.steps) - 2, -1, -1):
        button(article, "decrease").click()
        step = config.steps[index]
        assert step_of(article) == step
        assert_scaled(sizes(article), base, ratio(config, step))
        assert status_text(article) == texts[index]
    assert button(article, "decrease").get_attribute("aria-disabled") == "true"
    assert button(article, "increase").get_attribute("aria-disabled") is None
    assert float(config.steps[0]) <= 0.875

    button(article, "reset").click()
    assert step_of(article) == config.default
    assert sizes(article) == base
    assert button(article, "reset").get_attribute("aria-disabled") == "true"
    assert article.errors == []


def test_largest_step_is_at_least_twice_the_default(article, config):
    base = sizes(article)
    assert to_largest(article) == len(config.steps) - 1 - config.steps.index(config.default)
    largest = sizes(article)
    for name in READING:
        assert largest[name] >= 2 * base[name] - 0.01, name
    assert article.errors == []


def test_status_region_is_a_polite_live_region(article):
    status = article.locator(".adjustable-font [data-adjustable-font-status]")
    assert status.get_attribute("role") == "status"
    assert status.text_content() == ""  # nothing said on load
    button(article, "increase").click()
    assert status.text_content().strip()
    # visually hidden but in the accessibility tree
    box = status.bounding_box()
    assert box is None or (box["width"] <= 1 and box["height"] <= 1)


def test_pressed_button_stays_under_the_pointer(article):
    # The title above the control grows: the page scrolls so the button does not move.
    plus = button(article, "increase")
    before = plus.bounding_box()
    for _ in range(3):
        plus.click()
        after = plus.bounding_box()
        assert abs(after["y"] - before["y"]) <= 1, (before, after)
    assert article.evaluate("window.scrollY") > 0


# --- remembered -------------------------------------------------------------------------------


def test_choice_survives_reload_and_other_articles(article, config, server, other_article):
    base = sizes(article)
    button(article, "increase").click()
    button(article, "increase").click()
    step = step_of(article)
    assert saved(article, config) == step

    article.reload()
    assert step_of(article) == step
    assert_scaled(sizes(article), base, ratio(config, step))
    assert button(article, "reset").get_attribute("aria-disabled") is None

    article.goto(f"{server}/{other_article}")
    assert step_of(article) == step
    body = sizes(article, {"body": ".article__body > p", "title": ".article__title"})
    assert_scaled(body, base, ratio(config, step))

    button(article, "reset").click()
    assert saved(article, config) is None  # the default is no stored choice at all
    article.reload()
    assert step_of(article) == config.default
    assert article.errors == []


@pytest.mark.parametrize("deferred_script", ["loaded", "blocked"])
def test_enlarged_before_first_paint(make_context, server, config, deferred_script):
    page = new_page(make_context())
    page.goto(f"{server}/{SEED_PATH}")
    base = sizes(page, {"body": ".article__body > p"})["body"]
    button(page, "increase").click()
    step = step_of(page)
    if deferred_script == "blocked":
        # Only the inline head script may act: the deferred file never arrives.
        page.route("**/adjustable-font.js*", lambda route: route.abort())
    page.add_init_script(PROBE_JS)
    page.reload()
    probe = page.evaluate("window.__fontProbe")
    expected = base * ratio(config, step)
    assert math.isclose(probe["domContentLoaded"], expected, rel_tol=0.01), probe
    page.wait_for_function("window.__fontProbe.firstFrame !== undefined")
    probe = page.evaluate("window.__fontProbe")
    assert math.isclose(probe["firstFrame"], expected, rel_tol=0.01), probe
    if deferred_script == "loaded":
        assert page.errors == []


def test_other_tabs_follow_the_choice(make_context, server, config):
    context = make_context()
    first, second = new_page(context), new_page(context)
    first.goto(f"{server}/{SEED_PATH}")
    second.goto(f"{server}/{SEED_PATH}")
    button(first, "increase").click()
    step = step_of(first)
    second.wait_for_function(
        "(step) => document.documentElement.getAttribute('data-adjustable-font') === step", arg=step
    )
    assert button(second, "reset").get_attribute("aria-disabled") is None
    assert first.errors == [] and second.errors == []


def test_blocked_storage_still_works_for_the_page(make_context, server, config):
    page = new_page(make_context())
    page.add_init_script(BLOCKED_STORAGE_JS)
    page.goto(f"{server}/{SEED_PATH}")
    assert page.evaluate("() => { try { localStorage; return false; } catch (e) { return true; } }")
    base = sizes(page)
    button(page, "increase").click()
    step = step_of(page)
    assert step != config.default
    assert_scaled(sizes(page), base, ratio(config, step))
    page.reload()
    assert step_of(page) == config.default
    assert page.errors == []


# --- reflow, reader's settings, print, no JavaScript -------------------------------------------


@pytest.mark.parametrize(
    "path", [SEED_PATH, "index.html", "gioi-thieu.html", "lien-he.html", "chuyen-muc/", "luu-tru/"]
)
def test_no_horizontal_scrolling_at_320px_at_the_largest_step(make_context, server, config, path):
    context = make_context(viewport={"width": 320, "height": 640})
    context.add_init_script(
        f"localStorage.setItem({json.dumps(config.storage_key)}, {json.dumps(config.steps[-1])})"
    )
    page = new_page(context)
    page.goto(f"{server}/{path}")
    assert step_of(page) == config.steps[-1]
    report = page.evaluate(OVERFLOW_JS)
    assert report["width"] == 320
    assert report["scrollWidth"] <= report["width"], report
    assert report["wide"] == [], report
    assert page.errors == []


def launch_with_reader_settings(browser, user_data_dir, default_font_size, zoom_percent):
    """A Chromium profile with the reader's default text size and page zoom, as set in the
    browser's own settings (Preferences of a fresh profile)."""
    default = Path(user_data_dir) / "Default"
    default.mkdir(parents=True)
    zoom_level = math.log(zoom_percent / 100) / math.log(1.2)  # Chromium: factor = 1.2^level
    preferences = {
        "webkit": {"webprefs": {"default_font_size": default_font_size}},
        "partition": {"default_zoom_level": {"x": zoom_level}},
    }
    (default / "Preferences").write_text(json.dumps(preferences), encoding="utf-8")
    return browser.browser_type.launch_persistent_context(
        str(user_data_dir),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 800},
    )


def test_reader_default_size_and_browser_zoom_work_on_top(browser, make_context, server, tmp_path):
    # Reference: 16 px default, no zoom, at the same CSS width (320 px).
    reference = new_page(make_context(viewport={"width": 320, "height": 640}))
    reference.goto(f"{server}/{SEED_PATH}")
    base = sizes(reference)
    root_base = reference.evaluate(
        "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    )

    # The reader: Chromium's "Very large" text (24 px) and page zoom 400 % on a 1280 px
    # window, i.e. 320 CSS px (WCAG 1.4.10 Reflow); then the largest step on top.
    context = launch_with_reader_settings(browser, tmp_path / "profile", 24, 400)
    try:
        page = new_page(context)
        page.goto(f"{server}/{SEED_PATH}")
        width, root = page.evaluate(
            "[innerWidth, parseFloat(getComputedStyle(document.documentElement).fontSize)]"
        )
        assert width == 320, "the zoom preference was not applied"
        assert root == 24 and root_base == 16
        reader = sizes(page)
        assert_scaled(reader, base, root / root_base, skip=VIEWPORT_DEPENDENT)
        to_largest(page)
        largest = sizes(page)
        assert_scaled(largest, reader, 2, skip=VIEWPORT_DEPENDENT)
        report = page.evaluate(OVERFLOW_JS)
        assert report["scrollWidth"] <= report["width"] and report["wide"] == [], report
        assert page.errors == []
    finally:
        context.close()


def test_viewport_allows_pinch_zoom(article):
    viewport = article.locator('meta[name="viewport"]').get_attribute("content")
    assert "user-scalable=no" not in viewport.replace(" ", "")
    assert "maximum-scale" not in viewport


def test_print_uses_the_default_size(make_context, server):
    page = new_page(make_context())
    page.goto(f"{server}/{SEED_PATH}")
    page.emulate_media(media="print")
    printed = sizes(page)
    page.emulate_media(media="screen")
    for _ in range(3):
        button(page, "increase").click()
    page.emulate_media(media="print")
    assert sizes(page) == printed
    assert not page.locator(".adjustable-font").is_visible()
    assert page.errors == []


def test_without_javascript_no_control_and_normal_text(make_context, server, config):
    # A reader who enlarged the text earlier, then turned JavaScript off.
    scripted = new_page(make_context())
    scripted.goto(f"{server}/{SEED_PATH}")
    base = sizes(scripted)
    button(scripted, "increase").click()

    context = make_context(java_script_enabled=False)
    page = new_page(context)
    page.goto(f"{server}/{SEED_PATH}")
    assert page.locator(".adjustable-font").count() == 1
    assert not page.locator(".adjustable-font").is_visible()
    assert not page.get_by_text("Xem với cỡ chữ").is_visible()
    assert page.locator(f"html[{ATTRIBUTE}]").count() == 0
    assert sizes(page) == base
    assert page.locator(".article__body").is_visible()


# --- keyboard -------------------------------------------------------------------------------


def test_keyboard_operable_with_visible_focus(article, config):
    base = sizes(article)
    button(article, "reset").focus()
    article.keyboard.press("Tab")
    plus = button(article, "increase")
    assert plus.evaluate("(b) => b === document.activeElement")
    style = plus.evaluate(
        "(b) => { const s = getComputedStyle(b); return {visible: b.matches(':focus-visible'),"
        " outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"
    )
    assert style["visible"] and style["outline"] != "none" and style["width"] >= 2, style

    start = config.steps.index(config.default)
    article.keyboard.press("Enter")
    assert step_of(article) == config.steps[start + 1]
    article.keyboard.press("Space")
    assert step_of(article) == config.steps[start + 2]
    for _ in config.steps:
        article.keyboard.press("Enter")
    assert step_of(article) == config.steps[-1]
    # aria-disabled, not disabled: the focus stays on the button at the end of the range
    assert plus.evaluate("(b) => b === document.activeElement")
    assert plus.get_attribute("aria-disabled") == "true"

    article.keyboard.press("Shift+Tab")
    article.keyboard.press("Enter")
    assert step_of(article) == config.default
    assert sizes(article) == base
    assert article.errors == []


# --- axe-core ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def axe_path():
    if not AXE.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{AXE} is missing; .ci/run must run `npm ci`")
        pytest.skip("axe-core is not installed (npm ci)")
    return AXE


@pytest.mark.parametrize("largest", [False, True])
def test_axe_finds_no_serious_violations(article, axe_path, largest):
    if largest:
        to_largest(article)
    article.add_script_tag(path=str(axe_path))
    violations = article.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                           nodes: v.nodes.map((n) => n.target.join(" "))}))"""
    )
    serious = [v for v in violations if v["impact"] in {"serious", "critical"}]
    assert serious == [], json.dumps(serious, ensure_ascii=False, indent=1)
    assert article.errors == []
