"""adjustable_font plugin: settings, markup, head script and assets of "Xem với cỡ chữ"."""

import base64
import hashlib
import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from plugins.adjustable_font.adjustable_font import (
    ATTRIBUTE,
    CSS_NAME,
    DEFAULTS,
    JS_NAME,
    LABELS,
    AdjustableFontError,
    announcements,
    control_markup,
    format_percent,
    head_markup,
    head_script,
    resolve_settings,
    script_hash,
    step_token,
    stylesheet,
)
from tests.conftest import ROOT, SEED_PATH, build_site, make_content

SITEURL = "https://gialoc.dcs.vn"


def soup(html):
    return BeautifulSoup(str(html), "html.parser")


# --- settings ------------------------------------------------------------------------------


def test_defaults_cover_87_5_to_200_percent_in_at_least_5_steps():
    config = resolve_settings({})
    values = [float(step) for step in config.steps]
    assert len(values) >= 5
    assert values == sorted(values)
    assert values[0] <= 0.875 and values[-1] >= 2
    assert config.default == "1"
    assert config.property == "--font-scale"
    assert config.labels == LABELS


def test_site_settings_are_the_plugin_prefix_only(site):
    assert "plugins.adjustable_font" in site.settings["PLUGINS"]
    config = resolve_settings(site.settings)
    assert len(config.steps) >= 5
    assert float(config.steps[-1]) / float(config.default) >= 2


@pytest.mark.parametrize(
    "value, token",
    [(1, "1"), (1.0, "1"), (0.875, "0.875"), (1.125, "1.125"), (2, "2"), ("1.5", "1.5")],
)
def test_step_token(value, token):
    assert step_token(value) == token


@pytest.mark.parametrize(
    "ratio, text",
    [
        (0.875, "87,5%"),
        (1, "100%"),
        (1.125, "112,5%"),
        (1.25, "125%"),
        (2, "200%"),
        (1 / 3, "33,3%"),
    ],
)
def test_format_percent_uses_the_vietnamese_decimal_comma(ratio, text):
    assert format_percent(ratio) == text


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"ADJUSTABLE_FONT_STEPS": (1,)}, "ADJUSTABLE_FONT_STEPS"),
        ({"ADJUSTABLE_FONT_STEPS": (1, 0.875)}, "ADJUSTABLE_FONT_STEPS"),
        ({"ADJUSTABLE_FONT_STEPS": (1, 1, 2)}, "ADJUSTABLE_FONT_STEPS"),
        ({"ADJUSTABLE_FONT_STEPS": (0, 1)}, "ADJUSTABLE_FONT_STEPS"),
        ({"ADJUSTABLE_FONT_STEPS": "1 2"}, "ADJUSTABLE_FONT_STEPS"),
        ({"ADJUSTABLE_FONT_STEPS": ("a", "b")}, "ADJUSTABLE_FONT_STEPS"),
        ({"ADJUSTABLE_FONT_DEFAULT_STEP": 1.1}, "ADJUSTABLE_FONT_DEFAULT_STEP"),
        ({"ADJUSTABLE_FONT_DEFAULT_STEP": None}, "ADJUSTABLE_FONT_DEFAULT_STEP"),
        ({"ADJUSTABLE_FONT_STORAGE_KEY": ""}, "ADJUSTABLE_FONT_STORAGE_KEY"),
        ({"ADJUSTABLE_FONT_PROPERTY": "font-scale"}, "ADJUSTABLE_FONT_PROPERTY"),
        ({"ADJUSTABLE_FONT_PROPERTY": "--x; color: red"}, "ADJUSTABLE_FONT_PROPERTY"),
        ({"ADJUSTABLE_FONT_OUTPUT_DIR": "../outside"}, "ADJUSTABLE_FONT_OUTPUT_DIR"),
        ({"ADJUSTABLE_FONT_OUTPUT_DIR": "/abs"}, "ADJUSTABLE_FONT_OUTPUT_DIR"),
        ({"ADJUSTABLE_FONT_LABELS": {"tilte": "x"}}, "ADJUSTABLE_FONT_LABELS"),
        ({"ADJUSTABLE_FONT_LABELS": {"status": "{pct}"}}, "ADJUSTABLE_FONT_LABELS"),
        ({"ADJUSTABLE_FONT_LABELS": ["title"]}, "ADJUSTABLE_FONT_LABELS"),
    ],
)
def test_bad_settings_fail_loudly_naming_the_setting(settings, named):
    with pytest.raises(AdjustableFontError) as error:
        resolve_settings(settings)
    message = str(error.value)
    assert message.startswith("adjustable_font: ")
    assert named in message
    assert "(" in message and ")" in message  # Vietnamese, with the English in brackets


def test_labels_override_key_by_key_and_come_out_nfc():
    decomposed = unicodedata.normalize("NFD", "Cỡ chữ")
    config = resolve_settings({"ADJUSTABLE_FONT_LABELS": {"title": decomposed}})
    assert config.labels["title"] == "Cỡ chữ"
    assert unicodedata.is_normalized("NFC", config.labels["title"])
    assert config.labels["increase_name"] == LABELS["increase_name"]


def test_default_step_may_be_given_as_any_number_form():
    config = resolve_settings(
        {"ADJUSTABLE_FONT_STEPS": [1, 1.25, 1.5], "ADJUSTABLE_FONT_DEFAULT_STEP": "1.25"}
    )
    assert config.steps == ("1", "1.25", "1.5")
    assert config.default == "1.25"


# --- announcements and markup --------------------------------------------------------------


def test_announcements_name_every_step_and_the_ends():
    config = resolve_settings({})
    texts = announcements(config)
    assert len(texts) == len(config.steps)
    for step, text in zip(config.steps, texts, strict=True):
        assert format_percent(float(step)) in text
    assert "nhỏ nhất" in texts[0]
    assert "lớn nhất" in texts[-1]
    assert "mặc định" in texts[config.steps.index(config.default)]


def test_announcements_are_relative_to_the_default_step():
    config = resolve_settings(
        {"ADJUSTABLE_FONT_STEPS": (1, 1.25, 1.5, 2), "ADJUSTABLE_FONT_DEFAULT_STEP": 1.25}
    )
    assert announcements(config) == [
        "Cỡ chữ 80%, nhỏ nhất",
        "Cỡ chữ 100%, mặc định",
        "Cỡ chữ 120%",
        "Cỡ chữ 160%, lớn nhất",
    ]


def test_control_markup_is_a_labelled_group_of_three_real_buttons():
    config = resolve_settings({})
    group = soup(control_markup(config)).select_one('[data-module="adjustable-font"]')
    assert group["role"] == "group"
    label = group.find(id=group["aria-labelledby"])
    assert label.get_text() == "Xem với cỡ chữ"
    buttons = group.find_all("button")
    assert [b["type"] for b in buttons] == ["button"] * 3
    names = [b.select_one(".adjustable-font__name").get_text() for b in buttons]
    assert names == ["Giảm cỡ chữ", "Cỡ chữ mặc định", "Tăng cỡ chữ"]
    symbols = [b.select_one("[aria-hidden=true]").get_text() for b in buttons]
    assert symbols == ["A-", "A", "A+"]
    assert [b["data-adjustable-font-action"] for b in buttons] == ["decrease", "reset", "increase"]
    assert not any(attr.startswith("on") for b in buttons for attr in b.attrs)  # no inline JS
    assert group.find(attrs={"role": "status"}) is not None
    assert json.loads(group["data-announcements"]) == announcements(config)


def test_control_markup_escapes_labels_and_takes_an_id():
    config = resolve_settings({"ADJUSTABLE_FONT_LABELS": {"title": '<b>"Cỡ"</b>'}})
    html = str(control_markup(config, element_id="co-chu-2"))
    assert "<b>" not in html
    group = soup(html).select_one('[data-module="adjustable-font"]')
    assert group["id"] == "co-chu-2"
    assert group.find(id="co-chu-2-label").get_text() == '<b>"Cỡ"</b>'


# --- head script, CSP hash, stylesheet -----------------------------------------------------


def test_head_script_reads_the_key_and_checks_the_step():
    config = resolve_settings({"ADJUSTABLE_FONT_STORAGE_KEY": "co-chu"})
    script = head_script(config)
    assert '"co-chu"' in script
    assert json.dumps(list(config.steps), separators=(",", ":")) in script
    assert ATTRIBUTE in script
    assert "try{" in script  # blocked storage must not stop the page


def test_head_script_cannot_be_closed_by_a_setting():
    config = resolve_settings({"ADJUSTABLE_FONT_STORAGE_KEY": "</script><script>alert(1)"})
    assert "</" not in head_script(config)
    html = str(head_markup(config, "", "v1", "v2"))
    assert html.count("</script>") == 2
    assert "&lt;/script&gt;" in html  # the key on the deferred script is escaped too


def test_script_hash_is_the_csp_sha256_of_the_exact_text():
    text = "alert(1)"
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert script_hash(text) == f"'sha256-{digest}'"


def test_stylesheet_sets_the_property_per_step_on_screen_only():
    config = resolve_settings({"ADJUSTABLE_FONT_PROPERTY": "--co-chu"})
    css = stylesheet(config, "/* base */")
    block = css[css.index("@media not print") :]
    for step in config.steps:
        assert f'html[{ATTRIBUTE}="{step}"] {{ --co-chu: {step}; }}' in block
    assert "--font-scale" not in css


def test_plugin_css_uses_relative_font_sizes_only():
    css = stylesheet(
        resolve_settings({}),
        (ROOT / "plugins/adjustable_font/static" / CSS_NAME).read_text(encoding="utf-8"),
    )
    sizes = re.findall(r"font-size:\s*([^;]+);", css)
    assert sizes
    for value in sizes:
        assert re.fullmatch(r"[\d.]+r?em|inherit", value.strip()), value
    # hidden until the head script has run: no control without JavaScript
    assert re.search(r"^\.adjustable-font \{ display: none; \}", css, re.M)
    assert f"[{ATTRIBUTE}] .adjustable-font {{ display: flex; }}" in css


# --- built sites ---------------------------------------------------------------------------


def head_parts(page):
    inline = [s for s in page.head.find_all("script") if not s.get("src")]
    ours = [s for s in inline if ATTRIBUTE in s.get_text()]
    link = page.head.find("link", href=re.compile(CSS_NAME))
    deferred = page.head.find("script", src=re.compile(JS_NAME))
    return ours, link, deferred


def test_seed_page_has_the_control_right_after_the_date(seed_page):
    header = seed_page.select_one(".article__header")
    date = header.select_one(".article__date")
    control = date.find_next_sibling()
    assert control["data-module"] == "adjustable-font"
    assert control.select_one(".adjustable-font__label").get_text() == "Xem với cỡ chữ"
    assert len(seed_page.select('[data-module="adjustable-font"]')) == 1


def test_head_applies_the_step_before_any_stylesheet(site, seed_page):
    ours, link, deferred = head_parts(seed_page)
    assert len(ours) == 1
    head = str(seed_page.head)
    first_stylesheet = head.index('rel="stylesheet"')
    assert head.index(ATTRIBUTE) < first_stylesheet  # runs before the first paint
    assert deferred.has_attr("defer")
    config = resolve_settings(site.settings)
    assert deferred["data-steps"].split() == list(config.steps)
    assert deferred["data-default"] == config.default
    assert deferred["data-storage-key"] == config.storage_key
    assert ours[0].get_text() == head_script(config)


def test_assets_are_written_and_their_urls_change_with_their_bytes(site, seed_page):
    _, link, deferred = head_parts(seed_page)
    for url, name in ((link["href"], CSS_NAME), (deferred["src"], JS_NAME)):
        path, _, query = url.removeprefix(SITEURL + "/").partition("?v=")
        assert path == f"adjustable-font/{name}"
        data = site.path(path).read_bytes()
        assert query == hashlib.sha256(data).hexdigest()[:10]
    css = site.text(f"adjustable-font/{CSS_NAME}")
    assert "--font-scale: 2; }" in css


def test_every_page_restores_the_choice_but_only_articles_show_the_control(site):
    for name in ("index.html", "gioi-thieu.html", SEED_PATH):
        ours, link, deferred = head_parts(site.soup(name))
        assert len(ours) == 1 and link and deferred, name
    assert not site.soup("index.html").select('[data-module="adjustable-font"]')


def test_csp_hash_global_matches_the_inline_script(tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    base = theme / "templates" / "base.html"
    base.write_text(
        base.read_text(encoding="utf-8").replace(
            "<head>",
            '<head>\n  <meta http-equiv="Content-Security-Policy"'
            " content=\"script-src 'self' {{ adjustable_font_script_hash() }}\">",
        ),
        encoding="utf-8",
    )
    content = make_content(tmp_path, {"2024/a.md": ARTICLE})
    built = build_site(tmp_path / "out", content=content, THEME=str(theme))
    page = built.soup("2024/03/bai-a.html")
    csp = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    ours, _, _ = head_parts(page)
    assert script_hash(ours[0].get_text()) in csp


ARTICLE = """Title: Bài A
Date: 2024-03-01 08:00
Category: Tin tức - Sự kiện
Author: VPHU Gia Lộc

Nội dung bài A.
"""


def test_a_theme_without_the_calls_still_builds(tmp_path):
    theme = tmp_path / "bare"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    for name in (
        "index",
        "article",
        "page",
        "category",
        "tag",
        "archives",
        "period_archives",
        "categories",
        "tags",
        "404",
        "search",
    ):
        (theme / "templates" / f"{name}.html").write_text(
            "<!doctype html><title>{{ SITENAME }}</title>"
            "{% if article is defined %}<h1>{{ article.title }}</h1>{% endif %}",
            encoding="utf-8",
        )
    content = make_content(tmp_path, {"2024/a.md": ARTICLE})
    built = build_site(
        tmp_path / "out",
        content=content,
        THEME=str(theme),
        ASSET_BUNDLE_FILES={},
        SEARCH_INDEX=False,
    )
    assert built.log.messages() == []
    assert "Xem với cỡ chữ" not in built.text("2024/03/bai-a.html")
    assert built.exists(f"adjustable-font/{JS_NAME}")


def test_settings_reach_the_built_page(tmp_path):
    content = make_content(tmp_path, {"2024/a.md": ARTICLE})
    built = build_site(
        tmp_path / "out",
        content=content,
        ADJUSTABLE_FONT_STEPS=[1, 1.5, 2, 3],
        ADJUSTABLE_FONT_STORAGE_KEY="khoa-rieng",
        ADJUSTABLE_FONT_OUTPUT_DIR="tai-nguyen/co-chu",
        ADJUSTABLE_FONT_LABELS={"title": "Cỡ chữ", "increase": "Lớn hơn"},
    )
    page = built.soup("2024/03/bai-a.html")
    control = page.select_one('[data-module="adjustable-font"]')
    assert control.select_one(".adjustable-font__label").get_text() == "Cỡ chữ"
    assert control.select("button")[2].select_one("[aria-hidden=true]").get_text() == "Lớn hơn"
    assert json.loads(control["data-announcements"])[-1] == "Cỡ chữ 300%, lớn nhất"
    _, link, deferred = head_parts(page)
    assert deferred["data-storage-key"] == "khoa-rieng"
    assert deferred["src"].startswith("/tai-nguyen/co-chu/")
    css = built.text(f"tai-nguyen/co-chu/{CSS_NAME}")
    assert 'html[data-adjustable-font="3"] { --font-scale: 3; }' in css


def test_relative_urls_point_at_the_assets_from_every_depth(tmp_path):
    content = make_content(tmp_path, {"2024/a.md": ARTICLE})
    built = build_site(tmp_path / "out", content=content, RELATIVE_URLS=True)
    page_path = Path("2024/03/bai-a.html")
    _, link, deferred = head_parts(built.soup(page_path))
    for url in (link["href"], deferred["src"]):
        target = (built.output / page_path.parent / url.partition("?")[0]).resolve()
        assert target.is_file(), url


def test_bad_setting_stops_the_build(tmp_path):
    content = make_content(tmp_path, {"2024/a.md": ARTICLE})
    with pytest.raises(AdjustableFontError, match="ADJUSTABLE_FONT_DEFAULT_STEP"):
        build_site(tmp_path / "out", content=content, ADJUSTABLE_FONT_DEFAULT_STEP=3)


def test_defaults_dict_lists_every_setting_in_the_docstring():
    import plugins.adjustable_font.adjustable_font as module

    for key in DEFAULTS:
        assert key in module.__doc__
