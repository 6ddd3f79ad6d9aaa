"""Settings for the public site (`make publish`): absolute URLs and feeds."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: E402,F403

SITEURL = "https://gialoc.dcs.vn"
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False

# Drafts and future-dated articles never reach the public site.
DRAFT_SAVE_AS = ""
DRAFT_URL = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_URL = ""
