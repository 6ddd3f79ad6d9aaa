"""Settings for the public site (`make publish`): absolute URLs and feeds."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: E402,F403

SITEURL = "https://gialoc.dcs.vn"
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
