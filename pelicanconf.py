"""Settings for local builds (`make html`, `make serve`). publishconf.py extends these.

Another office adopts the site by editing the "Site identity" block below.
"""

import logging
import os
import sys

# Our plugins live in ./plugins and are loaded as "plugins.<name>".
ROOT = os.path.dirname(os.path.abspath(__file__))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# --- Site identity ------------------------------------------------------------------
SITENAME = "Huyện ủy Gia Lộc"
SITE_SUBTITLE = "Trang thông tin điện tử của Văn phòng Huyện ủy Gia Lộc"
SITE_PARENT = "Đảng bộ tỉnh Hải Dương"
OFFICE_NAME = "Văn phòng Huyện ủy Gia Lộc"
OFFICE_SHORT_NAME = "VPHU Gia Lộc"
OFFICE_ADDRESS = "Số 1 đường Nguyễn Chế Nghĩa, thị trấn Gia Lộc, huyện Gia Lộc, tỉnh Hải Dương"
OFFICE_PHONE = "0220 3716 105"
OFFICE_EMAIL = "vanphong@gialoc.dcs.vn"
OFFICE_HOURS = "Thứ Hai – Thứ Sáu, 7:30 – 17:00"
OFFICE_RESPONSIBLE = "Chánh Văn phòng Huyện ủy Gia Lộc"
AUTHOR = OFFICE_SHORT_NAME
# Menu order of the categories; categories not listed follow in alphabetical order.
SITE_CATEGORIES = [
    "Tin tức - Sự kiện",
    "Xây dựng Đảng",
    "Kinh tế - Xã hội",
    "Văn hóa - Xã hội",
    "Quốc phòng - An ninh",
]
DEFAULT_CATEGORY = "Tin tức - Sự kiện"

SITEURL = ""
# `make serve` address; publishconf.py sets the public one.
FEED_DOMAIN = "http://127.0.0.1:8000"
RELATIVE_URLS = False

# --- Language, time ------------------------------------------------------------------
TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LANG = "vi"
# One language: no translations (same-title articles are not "translations" of each other).
ARTICLE_TRANSLATION_ID = None
PAGE_TRANSLATION_ID = None
DEFAULT_DATE_FORMAT = "%d/%m/%Y %H:%M"

# --- Content -------------------------------------------------------------------------
PATH = "content"
# Staff write Markdown only; other readers are off (docutils also warns about "vi").
READERS = {"rst": None, "html": None, "htm": None}
ARTICLE_PATHS = ["articles"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images", "extra/favicon.ico"]
# The site's icon at the address browsers and feed readers ask for when a page names none
# (tools/make_icons.py draws it, with theme/static/icons/).
EXTRA_PATH_METADATA = {"extra/favicon.ico": {"path": "favicon.ico"}}
# Hidden files and folders are never published: "._bai.md" that a Mac leaves on a USB stick,
# ".bai.md" autosaves. (Pelican's default "**/.*" is matched against bare names, so it
# catches none of them.) `make check` skips the same files as the build.
IGNORE_FILES = [".*"]
# Copy a static file only when its source is newer: unchanged files keep their mtime.
# (JPEG/PNG/WebP photos are not copied at all: plugins/photos publishes them stripped.)
STATIC_CHECK_IF_MODIFIED = True
# Rendered with Jinja, so robots.txt can name the sitemap's absolute URL.
TEMPLATE_PAGES = {"extra/robots.txt": "robots.txt"}
# Future-dated articles wait as drafts until the first build after their date.
WITH_FUTURE_DATES = False
# Summary is plain text (escaped wherever shown), never HTML.
FORMATTED_FIELDS = []
DEFAULT_PAGINATION = 10
SUMMARY_MAX_LENGTH = 40
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}

# --- URLs (ASCII, Vietnamese words) ----------------------------------------------------
ARTICLE_URL = "{date:%Y}/{date:%m}/{slug}.html"
ARTICLE_SAVE_AS = ARTICLE_URL
PAGE_URL = "{slug}.html"
PAGE_SAVE_AS = PAGE_URL
CATEGORY_URL = "chuyen-muc/{slug}/"
CATEGORY_SAVE_AS = CATEGORY_URL + "index.html"
CATEGORIES_URL = "chuyen-muc/"
CATEGORIES_SAVE_AS = CATEGORIES_URL + "index.html"
TAG_URL = "chu-de/{slug}/"
TAG_SAVE_AS = TAG_URL + "index.html"
TAGS_URL = "chu-de/"
TAGS_SAVE_AS = TAGS_URL + "index.html"
ARCHIVES_URL = "luu-tru/"
ARCHIVES_SAVE_AS = ARCHIVES_URL + "index.html"
YEAR_ARCHIVE_URL = "luu-tru/{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = YEAR_ARCHIVE_URL + "index.html"
MONTH_ARCHIVE_URL = "luu-tru/{date:%Y}/{date:%m}/"
MONTH_ARCHIVE_SAVE_AS = MONTH_ARCHIVE_URL + "index.html"
DAY_ARCHIVE_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
DRAFT_URL = "ban-nhap/{slug}.html"
DRAFT_SAVE_AS = DRAFT_URL
DIRECT_TEMPLATES = ["index", "categories", "tags", "archives", "404", "search"]
PAGINATED_TEMPLATES = {"index": None, "category": None, "tag": None}
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/trang/{number}/", "{base_name}/trang/{number}/index.html"),
)

# --- Feeds (absolute URLs in publishconf.py) -------------------------------------------
FEED_ALL_ATOM = "feeds/tat-ca.atom.xml"
FEED_ALL_RSS = "feeds/tat-ca.rss.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
CATEGORY_FEED_RSS = "feeds/{slug}.rss.xml"
FEED_ATOM = None
FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None
RSS_FEED_SUMMARY_ONLY = False
FEED_MAX_ITEMS = 50

# --- Theme -----------------------------------------------------------------------------
THEME = "theme"
JINJA_ENVIRONMENT = {
    "trim_blocks": True,
    "lstrip_blocks": True,
    "autoescape": True,  # every piece of metadata is escaped; content is marked |safe
    # Pelican makes a new Jinja environment for every build, which reads the templates
    # afresh: no need for Jinja to stat each included template again at every page (eight
    # stats a listing page, about 5 % of its rendering).
    "auto_reload": False,
    # {% cache %}: the article cards, remembered between builds (plugins/incremental)
    "extensions": ["plugins.incremental.fragments.FragmentCache"],
}

# --- Plugins (settings by prefix below) -------------------------------------------------
PLUGINS = [
    "plugins.content_check",
    "plugins.incremental",
    "plugins.vietnamese",
    "plugins.photos",
    "plugins.related_posts",
    "plugins.asset_bundle",
    "plugins.adjustable_font",
    "plugins.search",
    "plugins.xml_sitemap",
]

RELATED_POSTS_MAX = 5

# "Xem với cỡ chữ" (A- / A / A+): 87.5 % to 200 % of the reader's own default size.
ADJUSTABLE_FONT_STEPS = (0.875, 1, 1.125, 1.25, 1.5, 1.75, 2)
ADJUSTABLE_FONT_DEFAULT_STEP = 1
ADJUSTABLE_FONT_STORAGE_KEY = "gialoc-co-chu"

# The search page (Pelican's direct template "search") and its Pagefind index.
SEARCH_URL = "tim-kiem.html"
SEARCH_SAVE_AS = SEARCH_URL
SEARCH_BUNDLE_DIR = "pagefind"

# `make check` reports images without alt text or caption, naming the line; Pelican's own
# message for the same thing (with no line) would only repeat it.
LOG_FILTER = [(logging.WARNING, "Empty alt attribute for image %s in %s")]

# Incremental builds (plugins/incremental): content cache by file hash, pages re-rendered
# only when what they show changed, files rewritten only when their bytes changed.
PELICAN_CLASS = "plugins.IncrementalPelican"

# sitemap.xml: every HTML page but these (regular expressions on the output path).
XML_SITEMAP_EXCLUDE = [r"^404\.html$", r"(^|/)trang/\d+/", r"^ban-nhap/", r"^tim-kiem\.html$"]
