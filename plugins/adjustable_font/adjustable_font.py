"""adjustable_font: the "Xem với cỡ chữ" text-size control (A- / A / A+).

Theme-agnostic. The plugin provides three Jinja globals and writes its own small CSS and JS
into the output:

- ``adjustable_font_head()``: call it once in ``<head>``, before the theme's stylesheet. It
  emits a tiny inline script that reads the saved step from localStorage and puts it on
  ``<html data-adjustable-font="1.25">`` before the first paint (no flash of default-size
  text), the plugin's stylesheet, and its deferred script.
- ``adjustable_font_control(element_id="adjustable-font")``: the control's markup, where the
  theme wants it: the label and three ``<button type="button">``. Hidden until the head
  script has run, so without JavaScript it never shows. A second control on the same page
  needs another ``element_id``.
- ``adjustable_font_script_hash()``: ``'sha256-…'`` of the inline head script, for a
  Content-Security-Policy ``script-src``. Everything else is a file (no inline handlers, no
  inline styles), so ``style-src 'self'`` is enough.

A theme without these calls still builds; guard them with
``{% if adjustable_font_control is defined %}``.

The contract with the theme's CSS is one custom property, ``ADJUSTABLE_FONT_PROPERTY``
(``--font-scale``): the plugin's stylesheet sets it on ``<html>`` to the current step, on
screen only (print keeps the default size). The theme multiplies the reading text by it in
relative units, e.g. ``.article { font-size: calc(1.125rem * var(--font-scale)); }``, and sets
its default (``:root { --font-scale: 1; }``), so the reader's default size and zoom still work
on top of the control. The plugin knows no class of the theme.

Settings:
    ADJUSTABLE_FONT_STEPS = (0.875, 1, 1.125, 1.25, 1.5, 1.75, 2)  # scale factors, increasing
    ADJUSTABLE_FONT_DEFAULT_STEP = 1         # the step "A" returns to (one of the steps)
    ADJUSTABLE_FONT_STORAGE_KEY = "adjustable-font"  # localStorage key of the reader's choice
    ADJUSTABLE_FONT_PROPERTY = "--font-scale"        # the custom property the theme uses
    ADJUSTABLE_FONT_OUTPUT_DIR = "adjustable-font"   # where the CSS and JS go in the output
    ADJUSTABLE_FONT_LABELS = {}              # overrides of LABELS below, key by key
"""

import base64
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass

from jinja2 import pass_context
from markupsafe import Markup, escape
from pelican import signals

from plugins.incremental.state import write_if_changed
from plugins.vn_text import nfc

logger = logging.getLogger(__name__)

# The texts of the control. "{percent}" is the size relative to the default step ("125%").
LABELS = {
    "title": "Xem với cỡ chữ",
    "decrease": "A-",
    "decrease_name": "Giảm cỡ chữ",
    "reset": "A",
    "reset_name": "Cỡ chữ mặc định",
    "increase": "A+",
    "increase_name": "Tăng cỡ chữ",
    "status": "Cỡ chữ {percent}",
    "status_default": "Cỡ chữ {percent}, mặc định",
    "status_smallest": "Cỡ chữ {percent}, nhỏ nhất",
    "status_largest": "Cỡ chữ {percent}, lớn nhất",
}

DEFAULTS = {
    "ADJUSTABLE_FONT_STEPS": (0.875, 1, 1.125, 1.25, 1.5, 1.75, 2),
    "ADJUSTABLE_FONT_DEFAULT_STEP": 1,
    "ADJUSTABLE_FONT_STORAGE_KEY": "adjustable-font",
    "ADJUSTABLE_FONT_PROPERTY": "--font-scale",
    "ADJUSTABLE_FONT_OUTPUT_DIR": "adjustable-font",
    "ADJUSTABLE_FONT_LABELS": {},
}

# The attribute on <html> that holds the current step (shared with the JS and CSS files).
ATTRIBUTE = "data-adjustable-font"
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
CSS_NAME = "adjustable-font.css"
JS_NAME = "adjustable-font.js"
ACTIONS = ("decrease", "reset", "increase")
PROPERTY_RE = re.compile(r"--[A-Za-z0-9_-]+")


class AdjustableFontError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    """The validated settings. ``steps`` are the step tokens ("0.875", "1", "2")."""

    steps: tuple
    default: str
    storage_key: str
    property: str
    output_dir: str
    labels: dict


# --- pure helpers -------------------------------------------------------------------------


def step_token(value):
    """The text form of a step, as stored and as written in HTML and CSS: 1.0 → "1"."""
    return format(float(value), "g")


def format_percent(ratio):
    """A ratio as a Vietnamese percentage: 0.875 → "87,5%", 2 → "200%" (decimal comma)."""
    percent = round(float(ratio) * 100, 1)
    text = str(int(percent)) if percent == int(percent) else str(percent).replace(".", ",")
    return text + "%"


def _fail(message):
    raise AdjustableFontError("adjustable_font: " + message)


def resolve_settings(settings):
    """Validate the ADJUSTABLE_FONT_* settings (defaults for missing ones) into a Config."""

    def get(key):
        return settings.get(key, DEFAULTS[key])

    raw_steps = get("ADJUSTABLE_FONT_STEPS")
    try:
        values = [float(v) for v in raw_steps]
    except (TypeError, ValueError):
        values = []
    if (
        isinstance(raw_steps, str)
        or len(values) < 2
        or any(v <= 0 for v in values)
        or values != sorted(set(values))
    ):
        _fail(
            f"ADJUSTABLE_FONT_STEPS phải có ít nhất 2 số dương, tăng dần, không trùng "
            f"(must be at least 2 increasing positive numbers): {raw_steps!r}"
        )
    steps = tuple(step_token(v) for v in values)
    if len(set(steps)) != len(steps):
        _fail(f"ADJUSTABLE_FONT_STEPS có bước trùng nhau (duplicate steps): {raw_steps!r}")

    raw_default = get("ADJUSTABLE_FONT_DEFAULT_STEP")
    try:
        default = step_token(raw_default)
    except (TypeError, ValueError):
        default = None
    if default not in steps:
        _fail(
            f"ADJUSTABLE_FONT_DEFAULT_STEP = {raw_default!r} không phải một bước của "
            f"ADJUSTABLE_FONT_STEPS (is not one of the steps {list(steps)})"
        )

    storage_key = get("ADJUSTABLE_FONT_STORAGE_KEY")
    if not isinstance(storage_key, str) or not storage_key.strip():
        _fail(
            f"ADJUSTABLE_FONT_STORAGE_KEY phải là một chuỗi không rỗng "
            f"(must be a non-empty string): {storage_key!r}"
        )

    prop = get("ADJUSTABLE_FONT_PROPERTY")
    if not isinstance(prop, str) or not PROPERTY_RE.fullmatch(prop):
        _fail(
            f"ADJUSTABLE_FONT_PROPERTY phải là tên biến CSS như --font-scale "
            f"(must be a CSS custom property name): {prop!r}"
        )

    output_dir = get("ADJUSTABLE_FONT_OUTPUT_DIR")
    parts = output_dir.replace("\\", "/").split("/") if isinstance(output_dir, str) else [""]
    if not all(part and part not in {".", ".."} for part in parts) or ":" in output_dir:
        _fail(
            f"ADJUSTABLE_FONT_OUTPUT_DIR phải là một thư mục tương đối trong output "
            f"(must be a relative folder inside the output): {output_dir!r}"
        )

    overrides = get("ADJUSTABLE_FONT_LABELS") or {}
    if not isinstance(overrides, dict):
        _fail(f"ADJUSTABLE_FONT_LABELS phải là một dict (must be a dict): {overrides!r}")
    unknown = sorted(set(overrides) - set(LABELS))
    if unknown:
        _fail(
            f"ADJUSTABLE_FONT_LABELS có khóa lạ {unknown} (unknown keys); "
            f"các khóa hợp lệ (valid keys): {sorted(LABELS)}"
        )
    labels = {key: nfc(str(overrides.get(key, text))) for key, text in LABELS.items()}
    for key in ("status", "status_default", "status_smallest", "status_largest"):
        try:
            labels[key].format(percent="100%")
        except (KeyError, IndexError, ValueError):
            _fail(
                f"ADJUSTABLE_FONT_LABELS[{key!r}] chỉ được dùng {{percent}} "
                f"(may only use the {{percent}} placeholder): {labels[key]!r}"
            )

    return Config(
        steps=steps,
        default=default,
        storage_key=storage_key,
        property=prop,
        output_dir="/".join(parts),
        labels=labels,
    )


def announcements(config):
    """What the status region says at each step, e.g. "Cỡ chữ 125%" or "…, lớn nhất"."""
    labels = config.labels
    texts = []
    for index, step in enumerate(config.steps):
        if index == 0:
            template = labels["status_smallest"]
        elif index == len(config.steps) - 1:
            template = labels["status_largest"]
        elif step == config.default:
            template = labels["status_default"]
        else:
            template = labels["status"]
        ratio = float(step) / float(config.default)
        texts.append(template.format(percent=format_percent(ratio)))
    return texts


def control_markup(config, element_id="adjustable-font"):
    """The control: a labelled group of three buttons and a status region (screen readers)."""
    labels = config.labels
    label_id = f"{element_id}-label"
    # The symbol (A-, A, A+) is what sighted readers see; the name ("Tăng cỡ chữ") is the
    # button's text for assistive technology. Named by its content, not by aria-label, so the
    # visible symbol never has to be part of the name (WCAG 2.5.3 and axe agree).
    buttons = "".join(
        f'\n  <button class="adjustable-font__button adjustable-font__button--{action}"'
        f' type="button" data-adjustable-font-action="{action}"'
        f' title="{escape(labels[action + "_name"])}">'
        f'<span class="adjustable-font__symbol" aria-hidden="true">{escape(labels[action])}</span>'
        f'<span class="adjustable-font__name">{escape(labels[action + "_name"])}</span></button>'
        for action in ACTIONS
    )
    texts = json.dumps(announcements(config), ensure_ascii=False, separators=(",", ":"))
    return Markup(
        f'<div class="adjustable-font" id="{escape(element_id)}" data-module="adjustable-font"'
        f' role="group" aria-labelledby="{escape(label_id)}"'
        f' data-announcements="{escape(texts)}">'
        f'\n  <span class="adjustable-font__label" id="{escape(label_id)}">'
        f"{escape(labels['title'])}</span>"
        f"{buttons}"
        f'\n  <span class="adjustable-font__status" role="status"'
        f" data-adjustable-font-status></span>"
        f"\n</div>"
    )


def _js_literal(value):
    """JSON for an inline <script>: "<" escaped so no value can close the element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def head_script(config):
    """The inline pre-paint script: the saved step (if valid) or the default, on <html>."""
    return (
        "(function(r,k,s,d){var v;try{v=localStorage.getItem(k)}catch(e){}"
        f'r.setAttribute("{ATTRIBUTE}",s.indexOf(v)<0?d:v)}})'
        f"(document.documentElement,{_js_literal(config.storage_key)},"
        f"{_js_literal(list(config.steps))},{_js_literal(config.default)})"
    )


def script_hash(script):
    """The CSP source expression ('sha256-…') allowing an inline script with this text."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def stylesheet(config, base_css):
    """The plugin's CSS: the control's rules, then one rule per step, on screen only."""
    rules = "\n".join(
        f'  html[{ATTRIBUTE}="{step}"] {{ {config.property}: {step}; }}' for step in config.steps
    )
    return (
        f"{base_css.rstrip()}\n\n"
        f"/* One rule per step (ADJUSTABLE_FONT_STEPS), on screen only: print keeps the "
        f"default size. */\n@media not print {{\n{rules}\n}}\n"
    )


def version(text):
    """A short content hash for cache-busting asset URLs."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def head_markup(config, siteurl, css_version, js_version):
    """Inline pre-paint script, the plugin's stylesheet, and its deferred script."""
    base = f"{siteurl}/{config.output_dir}"
    return Markup(
        f"<script>{head_script(config)}</script>\n"
        f'<link rel="stylesheet" href="{escape(base)}/{CSS_NAME}?v={css_version}">\n'
        f'<script src="{escape(base)}/{JS_NAME}?v={js_version}" defer'
        f' data-steps="{" ".join(config.steps)}" data-default="{config.default}"'
        f' data-storage-key="{escape(config.storage_key)}"></script>\n'
    )


def read_static(name):
    with open(os.path.join(STATIC_DIR, name), encoding="utf-8") as handle:
        return handle.read()


def assets(config):
    """The files the plugin writes into the output: {name: text}."""
    return {
        CSS_NAME: stylesheet(config, read_static(CSS_NAME)),
        JS_NAME: read_static(JS_NAME),
    }


def jinja_globals(config):
    """The three template globals, bound to ``config``."""
    files = assets(config)
    css_version, js_version = version(files[CSS_NAME]), version(files[JS_NAME])

    # Called on every page with the same few arguments: each markup is made once.
    heads, controls = {}, {}

    @pass_context
    def adjustable_font_head(context):
        # SITEURL from the page's context: right for RELATIVE_URLS too.
        siteurl = context.get("SITEURL", "")
        if siteurl not in heads:
            heads[siteurl] = head_markup(config, siteurl, css_version, js_version)
        return heads[siteurl]

    def adjustable_font_control(element_id="adjustable-font"):
        if element_id not in controls:
            controls[element_id] = control_markup(config, element_id)
        return controls[element_id]

    def adjustable_font_script_hash():
        return script_hash(head_script(config))

    return {
        "adjustable_font_head": adjustable_font_head,
        "adjustable_font_control": adjustable_font_control,
        "adjustable_font_script_hash": adjustable_font_script_hash,
    }


# --- signal receivers ---------------------------------------------------------------------


def configure(pelican):
    settings = pelican.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    config = resolve_settings(settings)
    settings.setdefault("JINJA_GLOBALS", {}).update(jinja_globals(config))
    logger.debug("adjustable_font: %d steps, default %s", len(config.steps), config.default)


def write_assets(pelican):
    config = resolve_settings(pelican.settings)
    out_dir = os.path.join(pelican.output_path, *config.output_dir.split("/"))
    for name, text in sorted(assets(config).items()):
        if write_if_changed(os.path.join(out_dir, name), text.encode("utf-8")):
            logger.debug("adjustable_font: wrote %s/%s", config.output_dir, name)


def register():
    signals.initialized.connect(configure)
    signals.finalized.connect(write_assets)
