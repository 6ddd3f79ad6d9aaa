"""incremental: the site's build machinery on top of Pelican.

For now: installs ``SiteWriter`` (feed titles kept as text).
"""

import logging

from pelican import signals

from plugins.incremental.writer import SiteWriter

logger = logging.getLogger(__name__)


def get_writer(pelican):
    return SiteWriter


def register():
    signals.get_writer.connect(get_writer)
