#!/usr/bin/env python3
"""Draw the site's icons: a yellow five-pointed star on the banner's red.

One geometry, three files, so that the browser tab, a phone's home screen and a feed reader
show the same mark:

- ``content/extra/favicon.ico`` (16, 32 and 48 px), published as ``/favicon.ico``: what
  browsers and feed readers ask for when a page names no icon;
- ``theme/static/icons/favicon.svg``: the sharp icon of current browsers;
- ``theme/static/icons/apple-touch-icon.png`` (180 px): a phone's home screen.

Another office replaces these three files with its own mark, or draws them again in its
colours:

    .venv/bin/python tools/make_icons.py [--background "#a50f15"] [--star "#ffd54f"]

The colours default to the theme's ``--color-brand`` and ``--color-accent``, read from
theme/static/css/tokens.css. Pillow draws the bitmaps at four times their size and
scales them down (anti-aliasing); the output is the same bytes at every run.
"""

import argparse
import io
import math
import re
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
ICO = ROOT / "content" / "extra" / "favicon.ico"
SVG = ROOT / "theme" / "static" / "icons" / "favicon.svg"
TOUCH = ROOT / "theme" / "static" / "icons" / "apple-touch-icon.png"

TOKENS = ROOT / "theme" / "static" / "css" / "tokens.css"


def theme_colour(name, tokens=TOKENS):
    """The value of the CSS custom property ``--<name>`` in the theme's design tokens."""
    found = re.search(rf"--{re.escape(name)}:\s*([^;]+);", tokens.read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit(f"make_icons: no --{name} in {tokens}")
    return found[1].strip()


BACKGROUND = theme_colour("color-brand")
STAR = theme_colour("color-accent")
OUTER = 0.36  # the star's outer radius, as a share of the icon's side
CENTRE_Y = 0.52  # a star's visual centre sits a little below its points' circle's
SUPERSAMPLE = 4


def star_points(size, outer=OUTER):
    """The ten corners of a regular five-pointed star centred in a square of ``size``,
    first point straight up, as (x, y) pairs."""
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for corner in range(10):
        radius = (outer if corner % 2 == 0 else inner) * size
        angle = math.radians(-90 + 36 * corner)
        points.append((size / 2 + radius * math.cos(angle),
                       size * CENTRE_Y + radius * math.sin(angle)))  # fmt: skip
    return points


def svg_icon(background=BACKGROUND, star=STAR):
    path = " ".join(f"{x:.2f},{y:.2f}" for x, y in star_points(100))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        f'<rect width="100" height="100" fill="{background}"/>'
        f'<polygon points="{path}" fill="{star}"/></svg>\n'
    )


def bitmap_icon(size, background=BACKGROUND, star=STAR):
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), background)
    ImageDraw.Draw(image).polygon(star_points(big), fill=star)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def ico_bytes(background=BACKGROUND, star=STAR, sizes=(16, 32, 48)):
    """An ICO holding one bitmap per size, each drawn at its own size (not scaled from
    the largest, which blurs the 16 px one)."""
    images = [bitmap_icon(size, background, star) for size in sizes]
    buffer = io.BytesIO()
    images[-1].save(buffer, format="ICO", sizes=[(s, s) for s in sizes],
                    append_images=images[:-1])  # fmt: skip
    return buffer.getvalue()


def png_bytes(size, background=BACKGROUND, star=STAR):
    buffer = io.BytesIO()
    bitmap_icon(size, background, star).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--background", default=BACKGROUND)
    parser.add_argument("--star", default=STAR)
    args = parser.parse_args(argv)
    SVG.parent.mkdir(parents=True, exist_ok=True)
    SVG.write_text(svg_icon(args.background, args.star), encoding="utf-8")
    ICO.write_bytes(ico_bytes(args.background, args.star))
    TOUCH.write_bytes(png_bytes(180, args.background, args.star))
    for path in (ICO, SVG, TOUCH):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
