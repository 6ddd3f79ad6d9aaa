"""asset_bundle: join the theme's small CSS files into one stylesheet per page load.

The theme keeps one CSS file per component (easy to read and change); readers on slow
connections get a single request. Each bundle is the concatenation, in order, of the
files matched by its glob patterns (relative to the theme's static folder); a pattern
that matches nothing is an error, so a renamed file cannot silently drop styles.
The bundle is rewritten only when its bytes change.

Settings:
    ASSET_BUNDLE_FILES = {
        "css/site.css": ["css/tokens.css", "css/base.css", "css/layout.css",
                         "css/components/*.css"],
    }
"""

import glob
import logging
import os

from pelican import signals

from plugins.incremental.state import write_if_changed

logger = logging.getLogger(__name__)

DEFAULTS = {
    "ASSET_BUNDLE_FILES": {
        "css/site.css": [
            "css/tokens.css",
            "css/base.css",
            "css/layout.css",
            "css/components/*.css",
        ],
    },
}


class AssetBundleError(Exception):
    pass


def expand(static_dir, patterns):
    """Files matching ``patterns`` in order; within one glob, sorted by name."""
    files = []
    for pattern in patterns:
        matches = sorted(glob.glob(os.path.join(static_dir, pattern)))
        if not matches:
            raise AssetBundleError(f"asset_bundle: no file matches {pattern!r} in {static_dir}")
        files.extend(path for path in matches if path not in files)
    return files


def join_files(paths):
    parts = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            parts.append(f"/* {os.path.basename(path)} */\n{handle.read().strip()}\n")
    return "\n".join(parts)


def write_bundles(pelican):
    settings = pelican.settings
    bundles = settings.get("ASSET_BUNDLE_FILES", DEFAULTS["ASSET_BUNDLE_FILES"])
    static_dir = os.path.join(settings["THEME"], "static")
    out_dir = os.path.join(pelican.output_path, settings["THEME_STATIC_DIR"])
    for target, patterns in sorted(bundles.items()):
        files = expand(static_dir, patterns)
        if write_if_changed(os.path.join(out_dir, target), join_files(files).encode("utf-8")):
            logger.debug("asset_bundle: wrote %s from %d files", target, len(files))


def register():
    signals.finalized.connect(write_bundles)
