"""tools/make_icons.py: the star's geometry, the colours, the same bytes at every run."""

import io
import math

import pytest
from PIL import Image

from tools import make_icons


@pytest.mark.parametrize("size", [16, 100, 180, 720])
def test_the_star_has_five_points_up_and_is_symmetric(size):
    points = make_icons.star_points(size)
    assert len(points) == 10
    centre = (size / 2, size * make_icons.CENTRE_Y)
    radii = [math.dist(point, centre) for point in points]
    outer, inner = radii[0::2], radii[1::2]
    assert outer == pytest.approx([make_icons.OUTER * size] * 5)
    # A regular star: the inner corners at sin 18° / sin 126° of the outer radius (0.382).
    assert inner == pytest.approx([make_icons.OUTER * size * 0.381966] * 5, rel=1e-5)
    assert points[0] == pytest.approx((size / 2, centre[1] - make_icons.OUTER * size))
    # Mirror image about the vertical axis through the top point.
    mirrored = sorted((round(size - x, 6), round(y, 6)) for x, y in points)
    assert mirrored == sorted((round(x, 6), round(y, 6)) for x, y in points)
    assert all(0 <= x <= size and 0 <= y <= size for x, y in points)


@pytest.mark.parametrize(("background", "star"), [
    ("#a50f15", "#ffd54f"),
    ("#004b87", "#ffffff"),
])  # fmt: skip
def test_the_bitmaps_are_the_star_on_the_background(background, star):
    icon = make_icons.bitmap_icon(48, background, star)
    rgb = Image.new("RGB", (1, 1), background).getpixel((0, 0))
    star_rgb = Image.new("RGB", (1, 1), star).getpixel((0, 0))
    assert icon.getpixel((1, 1)) == rgb  # a corner
    assert icon.getpixel((24, 26)) == star_rgb  # the star's centre
    assert make_icons.svg_icon(background, star).count(f'fill="{background}"') == 1


def test_the_ico_holds_each_size_drawn_at_that_size():
    with Image.open(io.BytesIO(make_icons.ico_bytes())) as icon:
        assert icon.info["sizes"] == {(16, 16), (32, 32), (48, 48)}
        icon.size = (16, 16)
        small = icon.convert("RGB").copy()
    assert small.size == (16, 16)
    assert small.tobytes() == make_icons.bitmap_icon(16).tobytes()


def test_the_tool_draws_the_same_bytes_at_every_run():
    # Run again with the same colours, it leaves the committed icons as they are.
    assert make_icons.ico_bytes() == make_icons.ico_bytes()
    assert make_icons.png_bytes(180) == make_icons.png_bytes(180)


@pytest.mark.parametrize(("css", "name", "expected"), [
    (":root {\n  --color-brand: #a50f15;          /* red */\n}", "color-brand", "#a50f15"),
    (":root{--color-brand-dark:#7d0b10;--color-brand:#004b87;}", "color-brand", "#004b87"),
    (":root { --color-accent:  rgb(255 213 79) ; }", "color-accent", "rgb(255 213 79)"),
])  # fmt: skip
def test_the_default_colours_are_the_theme_tokens(tmp_path, css, name, expected):
    tokens = tmp_path / "tokens.css"
    tokens.write_text(css, encoding="utf-8")
    assert make_icons.theme_colour(name, tokens) == expected


def test_a_missing_token_stops_with_its_name(tmp_path):
    tokens = tmp_path / "tokens.css"
    tokens.write_text(":root { --color-text: #1b1b1b; }", encoding="utf-8")
    with pytest.raises(SystemExit, match="--color-brand"):
        make_icons.theme_colour("color-brand", tokens)
