from .xml_sitemap import *  # noqa: F403
from .xml_sitemap import register  # noqa: F401
