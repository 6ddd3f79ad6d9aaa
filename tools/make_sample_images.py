#!/usr/bin/env python3
"""Draw the synthetic sample photos used by the demo articles.

The pictures are simple, flat illustrations (conference halls, a parade
ground, rice fields, a school, a temple festival...) rendered with Pillow.
Every image is drawn from its own seed, so re-running the script produces
byte-identical JPEG files.  No text is rendered, so no font is needed.

Usage (from the repository root):

    .venv/bin/python tools/make_sample_images.py            # write all images
    .venv/bin/python tools/make_sample_images.py --list     # list their paths

Images are written as baseline JPEG, quality 82, 1600x1067 px, under
content/images/<year>/<name>.jpg.
"""

from __future__ import annotations

import argparse
import math
import random
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 1600, 1067
SS = 2  # supersampling factor: draw at 2x, then downsample for anti-aliasing
JPEG_QUALITY = 82
MAX_BYTES = 250 * 1024

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "content" / "images"

# Palette -------------------------------------------------------------------
FLAG_RED = (218, 37, 29)
STAR_YELLOW = (255, 221, 0)
SKIN = [(234, 192, 160), (222, 178, 140), (205, 160, 122), (240, 200, 170)]
HAIR = [(22, 18, 16), (35, 28, 24), (48, 40, 34), (70, 66, 64), (150, 150, 150)]
SHIRT_OFFICE = [
    (245, 245, 240),
    (235, 238, 245),
    (200, 215, 235),
    (250, 250, 250),
    (40, 45, 60),
    (60, 60, 70),
    (190, 205, 225),
]
ARMY_GREEN = (74, 98, 52)
ARMY_GREEN_DARK = (52, 72, 38)


def clamp(v: float) -> int:
    return max(0, min(255, int(round(v))))


def jitter(rng: random.Random, color, amount: int = 10):
    return tuple(clamp(c + rng.randint(-amount, amount)) for c in color)


def mix(c0, c1, t: float):
    return tuple(clamp(a + (b - a) * t) for a, b in zip(c0, c1, strict=False))


class Painter:
    """Thin wrapper around ImageDraw working in 1600x1067 coordinates."""

    def __init__(self, bg=(0, 0, 0)):
        self.img = Image.new("RGB", (W * SS, H * SS), bg)
        self.d = ImageDraw.Draw(self.img)

    @staticmethod
    def _s(values):
        return [round(v * SS) for v in values]

    @staticmethod
    def _box(x0, y0, x1, y1):
        if x1 < x0:
            x0, x1 = x1, x0
        if y1 < y0:
            y0, y1 = y1, y0
        return [round(x0 * SS), round(y0 * SS), round(x1 * SS), round(y1 * SS)]

    def rect(self, x0, y0, x1, y1, fill, outline=None, width=1):
        self.d.rectangle(
            self._box(x0, y0, x1, y1), fill=fill, outline=outline, width=max(1, round(width * SS))
        )

    def rrect(self, x0, y0, x1, y1, r, fill, outline=None, width=1):
        box = self._box(x0, y0, x1, y1)
        r = min(r * SS, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2)
        self.d.rounded_rectangle(
            box, radius=max(0, int(r)), fill=fill, outline=outline, width=max(1, round(width * SS))
        )

    def ellipse(self, x0, y0, x1, y1, fill, outline=None, width=1):
        self.d.ellipse(
            self._box(x0, y0, x1, y1), fill=fill, outline=outline, width=max(1, round(width * SS))
        )

    def circle(self, cx, cy, r, fill, outline=None, width=1):
        self.ellipse(cx - r, cy - r, cx + r, cy + r, fill, outline, width)

    def poly(self, pts, fill, outline=None):
        self.d.polygon([(round(x * SS), round(y * SS)) for x, y in pts], fill=fill, outline=outline)

    def line(self, pts, fill, width=1):
        self.d.line(
            [(round(x * SS), round(y * SS)) for x, y in pts],
            fill=fill,
            width=max(1, round(width * SS)),
        )

    def arc(self, x0, y0, x1, y1, start, end, fill, width=1):
        self.d.arc(
            self._box(x0, y0, x1, y1), start, end, fill=fill, width=max(1, round(width * SS))
        )

    def vgrad(self, x0, y0, x1, y1, c0, c1):
        box = self._box(x0, y0, x1, y1)
        w, h = box[2] - box[0], box[3] - box[1]
        if w <= 0 or h <= 0:
            return
        t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        a = np.array(c0, dtype=np.float32)[None, None, :]
        b = np.array(c1, dtype=np.float32)[None, None, :]
        arr = np.repeat(a + (b - a) * t, w, axis=1)
        self.img.paste(Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB"), (box[0], box[1]))

    def finish(self, rng: random.Random, vignette: float = 0.22, noise: float = 1.6) -> Image.Image:
        img = self.img.filter(ImageFilter.GaussianBlur(radius=0.8 * SS / 2))
        img = img.resize((W, H), Image.LANCZOS)
        arr = np.asarray(img).astype(np.float32)
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        dist = np.sqrt(((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2)
        arr *= (1.0 - vignette * np.clip(dist - 0.35, 0, None) ** 1.5)[:, :, None]
        nrng = np.random.default_rng(rng.randrange(2**32))
        arr += nrng.normal(0.0, noise, size=(H, W, 1)).astype(np.float32)
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


# Reusable props ------------------------------------------------------------


def star_points(cx, cy, r, rot=-90.0):
    pts = []
    for i in range(10):
        rad = r if i % 2 == 0 else r * 0.382
        a = math.radians(rot + i * 36)
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    return pts


def vn_flag(p: Painter, x0, y0, w, wave=0.0):
    h = w * 2 / 3
    if wave:
        pts_top = [
            (x0 + w * t / 10, y0 + wave * math.sin(t / 10 * math.pi * 1.6)) for t in range(11)
        ]
        pts_bot = [(x + 0, y + h) for x, y in reversed(pts_top)]
        p.poly(pts_top + pts_bot, FLAG_RED)
    else:
        p.rect(x0, y0, x0 + w, y0 + h, FLAG_RED)
    p.poly(star_points(x0 + w / 2, y0 + h / 2 + (wave * 0.4 if wave else 0), h * 0.3), STAR_YELLOW)


def party_flag(p: Painter, x0, y0, w):
    """Red flag with a stylised yellow hammer and sickle."""
    h = w * 2 / 3
    p.rect(x0, y0, x0 + w, y0 + h, FLAG_RED)
    emblem(p, x0 + w / 2, y0 + h / 2, h * 0.32)


def emblem(p: Painter, cx, cy, r, color=STAR_YELLOW):
    # sickle: thick arc with a handle
    p.arc(cx - r, cy - r, cx + r, cy + r, 120, 400, color, width=max(2, r * 0.22))
    p.line(
        [(cx - r * 0.62, cy + r * 0.62), (cx - r * 1.0, cy + r * 1.0)],
        color,
        width=max(2, r * 0.25),
    )
    # hammer: diagonal handle and head
    p.line(
        [(cx - r * 0.55, cy - r * 0.55), (cx + r * 0.75, cy + r * 0.8)],
        color,
        width=max(2, r * 0.2),
    )
    hx, hy = cx - r * 0.55, cy - r * 0.55
    d = r * 0.38
    p.poly(
        [
            (hx - d, hy + d * 0.2),
            (hx - d * 0.2, hy - d),
            (hx + d * 0.5, hy - d * 0.3),
            (hx - d * 0.3, hy + d * 0.9),
        ],
        color,
    )


def bust(p: Painter, cx, base_y, scale, color=(238, 236, 228)):
    """A plaster bust on a pedestal (as in Vietnamese meeting halls)."""
    s = scale
    shade = mix(color, (120, 110, 100), 0.25)
    p.rect(cx - 42 * s, base_y - 95 * s, cx + 42 * s, base_y, mix(color, (200, 190, 170), 0.3))
    p.rect(cx - 50 * s, base_y - 105 * s, cx + 50 * s, base_y - 92 * s, shade)
    p.ellipse(cx - 48 * s, base_y - 160 * s, cx + 48 * s, base_y - 100 * s, color)
    p.rect(cx - 48 * s, base_y - 130 * s, cx + 48 * s, base_y - 104 * s, color)
    p.rect(cx - 9 * s, base_y - 172 * s, cx + 9 * s, base_y - 150 * s, shade)
    p.ellipse(cx - 21 * s, base_y - 218 * s, cx + 21 * s, base_y - 166 * s, color)
    p.poly(
        [(cx - 7 * s, base_y - 178 * s), (cx + 7 * s, base_y - 178 * s), (cx, base_y - 160 * s)],
        shade,
    )


def flowers(p: Painter, rng: random.Random, cx, cy, w, h, n=40, palette=None):
    palette = palette or [
        (230, 60, 70),
        (250, 200, 60),
        (245, 245, 240),
        (235, 120, 160),
        (250, 150, 50),
    ]
    p.ellipse(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, (50, 110, 50))
    for _ in range(n):
        a = rng.uniform(0, 2 * math.pi)
        rr = rng.uniform(0, 1) ** 0.5
        x = cx + math.cos(a) * rr * w * 0.45
        y = cy + math.sin(a) * rr * h * 0.42 - h * 0.05
        r = rng.uniform(0.05, 0.09) * w
        p.circle(x, y, r, jitter(rng, rng.choice(palette), 12))


def seated_back(p: Painter, rng: random.Random, cx, seat_y, s, chair_color, shirts=SHIRT_OFFICE):
    """Audience member seen from behind, sitting on a chair with a covered back."""
    hair = rng.choice(HAIR)
    shirt = jitter(rng, rng.choice(shirts), 8)
    # shoulders / torso
    p.rrect(cx - 30 * s, seat_y - 66 * s, cx + 30 * s, seat_y - 10 * s, 18 * s, shirt)
    # neck and head
    p.rect(
        cx - 7 * s, seat_y - 78 * s, cx + 7 * s, seat_y - 62 * s, jitter(rng, rng.choice(SKIN), 6)
    )
    p.ellipse(cx - 15 * s, seat_y - 108 * s, cx + 15 * s, seat_y - 70 * s, hair)
    # chair back in front of the lower body
    p.rrect(cx - 34 * s, seat_y - 36 * s, cx + 34 * s, seat_y + 18 * s, 10 * s, chair_color)
    p.rrect(
        cx - 34 * s,
        seat_y - 36 * s,
        cx + 34 * s,
        seat_y - 26 * s,
        5 * s,
        mix(chair_color, (255, 255, 255), 0.2),
    )


def seated_front(p: Painter, rng: random.Random, cx, top_y, s, shirts=SHIRT_OFFICE):
    """Person seen from the front, upper body only (behind a table)."""
    shirt = jitter(rng, rng.choice(shirts), 8)
    skin = jitter(rng, rng.choice(SKIN), 6)
    p.rrect(cx - 30 * s, top_y + 36 * s, cx + 30 * s, top_y + 100 * s, 16 * s, shirt)
    if shirt[0] < 100:  # dark jacket: white collar and tie
        p.poly(
            [(cx - 9 * s, top_y + 36 * s), (cx + 9 * s, top_y + 36 * s), (cx, top_y + 70 * s)],
            (245, 245, 245),
        )
        p.poly(
            [(cx - 3 * s, top_y + 40 * s), (cx + 3 * s, top_y + 40 * s), (cx, top_y + 66 * s)],
            (150, 30, 40),
        )
    p.rect(cx - 6 * s, top_y + 26 * s, cx + 6 * s, top_y + 40 * s, skin)
    p.ellipse(cx - 14 * s, top_y, cx + 14 * s, top_y + 34 * s, skin)
    p.ellipse(cx - 15 * s, top_y - 3 * s, cx + 15 * s, top_y + 12 * s, rng.choice(HAIR))


def standing_front(
    p: Painter,
    rng: random.Random,
    cx,
    feet_y,
    s,
    shirt=None,
    trousers=None,
    hold=None,
    skirt=False,
    scarf=False,
    hat=None,
):
    """Standing person seen from the front.  hold: None|'flowers'|'certificate'|'wave'."""
    shirt = shirt or jitter(rng, rng.choice(SHIRT_OFFICE), 8)
    trousers = trousers or jitter(rng, (45, 45, 55), 8)
    skin = jitter(rng, rng.choice(SKIN), 6)
    hgt = 170 * s
    top = feet_y - hgt
    # legs
    if skirt:
        p.poly(
            [
                (cx - 16 * s, top + 100 * s),
                (cx + 16 * s, top + 100 * s),
                (cx + 22 * s, top + 140 * s),
                (cx - 22 * s, top + 140 * s),
            ],
            trousers,
        )
        p.rect(cx - 12 * s, top + 140 * s, cx - 4 * s, feet_y - 4 * s, skin)
        p.rect(cx + 4 * s, top + 140 * s, cx + 12 * s, feet_y - 4 * s, skin)
    else:
        p.rect(cx - 15 * s, top + 98 * s, cx - 2 * s, feet_y - 4 * s, trousers)
        p.rect(cx + 2 * s, top + 98 * s, cx + 15 * s, feet_y - 4 * s, trousers)
    p.ellipse(cx - 17 * s, feet_y - 8 * s, cx - 1 * s, feet_y, (25, 25, 25))
    p.ellipse(cx + 1 * s, feet_y - 8 * s, cx + 17 * s, feet_y, (25, 25, 25))
    # torso and arms
    p.rrect(cx - 19 * s, top + 36 * s, cx + 19 * s, top + 104 * s, 10 * s, shirt)
    if hold == "wave":
        p.line([(cx + 16 * s, top + 44 * s), (cx + 34 * s, top + 8 * s)], shirt, width=9 * s)
        p.circle(cx + 35 * s, top + 4 * s, 5 * s, skin)
        p.line([(cx - 17 * s, top + 44 * s), (cx - 22 * s, top + 96 * s)], shirt, width=9 * s)
    else:
        p.line([(cx - 17 * s, top + 44 * s), (cx - 22 * s, top + 96 * s)], shirt, width=9 * s)
        p.line([(cx + 17 * s, top + 44 * s), (cx + 22 * s, top + 96 * s)], shirt, width=9 * s)
    if scarf:
        p.poly(
            [(cx - 10 * s, top + 36 * s), (cx + 10 * s, top + 36 * s), (cx, top + 56 * s)], FLAG_RED
        )
    # head
    p.rect(cx - 5 * s, top + 28 * s, cx + 5 * s, top + 40 * s, skin)
    p.ellipse(cx - 13 * s, top, cx + 13 * s, top + 32 * s, skin)
    if hat == "army":
        p.ellipse(cx - 16 * s, top - 6 * s, cx + 16 * s, top + 14 * s, ARMY_GREEN)
        p.rect(cx - 17 * s, top + 6 * s, cx + 17 * s, top + 11 * s, ARMY_GREEN_DARK)
        p.poly(star_points(cx, top + 3 * s, 3.5 * s), FLAG_RED)
    elif hat == "conical":
        p.poly(
            [(cx - 30 * s, top + 14 * s), (cx + 30 * s, top + 14 * s), (cx, top - 22 * s)],
            (236, 226, 190),
        )
    elif hat == "khan_xep":
        p.ellipse(cx - 15 * s, top - 6 * s, cx + 15 * s, top + 12 * s, (30, 30, 30))
    else:
        p.ellipse(cx - 14 * s, top - 3 * s, cx + 14 * s, top + 12 * s, rng.choice(HAIR))
    if hold == "flowers":
        flowers(p, rng, cx - 2 * s, top + 70 * s, 34 * s, 30 * s, n=14)
    elif hold == "certificate":
        p.rect(cx - 20 * s, top + 60 * s, cx + 20 * s, top + 88 * s, (180, 30, 35))
        p.rect(cx - 15 * s, top + 64 * s, cx + 15 * s, top + 84 * s, (240, 220, 150))


def standing_back(
    p: Painter, rng: random.Random, cx, feet_y, s, shirt, trousers, hat=None, hair=None
):
    hgt = 170 * s
    top = feet_y - hgt
    p.rect(cx - 15 * s, top + 98 * s, cx - 2 * s, feet_y - 3 * s, trousers)
    p.rect(cx + 2 * s, top + 98 * s, cx + 15 * s, feet_y - 3 * s, trousers)
    p.rrect(cx - 20 * s, top + 34 * s, cx + 20 * s, top + 104 * s, 10 * s, shirt)
    p.rect(cx - 5 * s, top + 26 * s, cx + 5 * s, top + 38 * s, jitter(rng, rng.choice(SKIN), 6))
    p.ellipse(cx - 13 * s, top, cx + 13 * s, top + 32 * s, hair or rng.choice(HAIR))
    if hat == "army":
        p.ellipse(cx - 16 * s, top - 6 * s, cx + 16 * s, top + 16 * s, ARMY_GREEN)
        p.rect(cx - 17 * s, top + 8 * s, cx + 17 * s, top + 13 * s, ARMY_GREEN_DARK)
    elif hat == "conical":
        p.poly(
            [(cx - 30 * s, top + 14 * s), (cx + 30 * s, top + 14 * s), (cx, top - 22 * s)],
            (236, 226, 190),
        )


def tree(p: Painter, rng: random.Random, cx, base_y, s, green=(60, 120, 55)):
    p.rect(cx - 7 * s, base_y - 70 * s, cx + 7 * s, base_y, (95, 70, 50))
    for _ in range(7):
        dx = rng.uniform(-45, 45) * s
        dy = rng.uniform(-150, -80) * s
        r = rng.uniform(35, 55) * s
        p.circle(cx + dx, base_y + dy, r, jitter(rng, green, 14))


def tree_line(p: Painter, rng: random.Random, y, x0=0, x1=W, green=(70, 110, 70), height=40):
    x = x0 - 20
    while x < x1 + 20:
        r = rng.uniform(0.5, 1.0) * height
        p.circle(x, y - r * 0.6, r, jitter(rng, green, 10))
        x += rng.uniform(0.6, 1.2) * r


def house(p: Painter, rng: random.Random, x0, base_y, w, h, wall=None, roof=None):
    wall = wall or jitter(
        rng, rng.choice([(240, 236, 225), (245, 230, 190), (230, 225, 215), (250, 245, 235)]), 8
    )
    roof = roof or jitter(
        rng, rng.choice([(180, 70, 50), (200, 90, 60), (160, 60, 45), (120, 120, 130)]), 10
    )
    p.rect(x0, base_y - h, x0 + w, base_y, wall)
    p.poly(
        [
            (x0 - w * 0.08, base_y - h),
            (x0 + w * 1.08, base_y - h),
            (x0 + w * 0.85, base_y - h * 1.45),
            (x0 + w * 0.15, base_y - h * 1.45),
        ],
        roof,
    )
    for i in range(max(1, int(w // 40))):
        wx = x0 + w * (i + 0.5) / max(1, int(w // 40)) - w * 0.08
        p.rect(wx, base_y - h * 0.7, wx + w * 0.16, base_y - h * 0.3, (90, 110, 130))


def sky(p: Painter, horizon, top=(120, 170, 225), bottom=(215, 230, 240), rng=None):
    p.vgrad(0, 0, W, horizon, top, bottom)
    if rng is not None:
        for _ in range(rng.randint(3, 6)):
            cx, cy = rng.uniform(0, W), rng.uniform(40, horizon * 0.55)
            for _ in range(6):
                p.ellipse(
                    cx + rng.uniform(-90, 90) - 70,
                    cy + rng.uniform(-15, 15) - 22,
                    cx + rng.uniform(-90, 90) + 70,
                    cy + rng.uniform(-15, 15) + 22,
                    jitter(rng, (245, 247, 250), 4),
                )


def banner_text(p: Painter, rng: random.Random, x0, y0, x1, y1, color, lines=2):
    """Rows of small blocks standing in for the banner's lettering."""
    lh = (y1 - y0) / (lines * 1.6 + 0.6)
    for li in range(lines):
        yy = y0 + lh * (0.6 + li * 1.6)
        total = (x1 - x0) * rng.uniform(0.7, 0.92)
        x = x0 + ((x1 - x0) - total) / 2
        end = x + total
        while x < end:
            ww = rng.uniform(0.4, 1.0) * lh
            if x + ww > end:
                break
            p.rect(x, yy, x + ww, yy + lh, color)
            x += ww + lh * (0.12 if rng.random() > 0.22 else 0.55)


# Scenes -------------------------------------------------------------------


def scene_conference(
    p: Painter,
    rng: random.Random,
    backdrop=(170, 22, 28),
    cloth=(40, 110, 60),
    rows=5,
    presidium=6,
    podium_right=True,
):
    # ceiling and side walls
    p.vgrad(0, 0, W, 70, (235, 230, 220), (215, 205, 190))
    for i in range(9):
        p.ellipse(120 + i * 170, 22, 170 + i * 170, 40, (255, 250, 230))
    wall = (214, 196, 165)
    p.poly([(0, 60), (230, 70), (230, 600), (0, 720)], mix(wall, (120, 90, 60), 0.15))
    p.poly([(W, 60), (W - 230, 70), (W - 230, 600), (W, 720)], mix(wall, (120, 90, 60), 0.15))
    for k in range(4):  # wooden wall panels
        x = 40 + k * 48
        p.line([(x, 68 + k * 2), (x, 690 - k * 25)], (150, 115, 80), width=3)
        p.line([(W - x, 68 + k * 2), (W - x, 690 - k * 25)], (150, 115, 80), width=3)
    # backdrop
    p.vgrad(230, 70, W - 230, 600, backdrop, mix(backdrop, (60, 0, 0), 0.35))
    # banner stripe with lettering
    p.rect(230, 112, W - 230, 126, (235, 190, 60))
    p.vgrad(520, 140, W - 260, 300, (245, 236, 200), (235, 220, 170))
    banner_text(p, rng, 540, 150, W - 280, 290, mix(backdrop, (0, 0, 0), 0.1), lines=2)
    p.rect(230, 316, W - 230, 324, (235, 190, 60))
    # flags and bust (left part of the backdrop)
    party_flag(p, 262, 150, 112)
    vn_flag(p, 384, 150, 112)
    bust(p, 374, 470, 0.95)
    # stage
    p.rect(230, 470, W - 230, 530, (150, 95, 55))
    p.rect(180, 530, W - 180, 560, (115, 70, 40))
    # presidium table
    tx0, tx1 = 560, 1240 if podium_right else 1280
    if not podium_right:
        tx0 += 80
    n = presidium
    for i in range(n):
        cx = tx0 + (tx1 - tx0) * (i + 0.5) / n
        seated_front(p, rng, cx, 375 + rng.uniform(-4, 4), 1.0)
    p.rect(tx0 - 10, 440, tx1 + 10, 452, (245, 245, 245))
    p.rect(tx0 - 10, 452, tx1 + 10, 530, cloth)
    for i in range(n):
        cx = tx0 + (tx1 - tx0) * (i + 0.5) / n
        p.rect(cx - 14, 422, cx + 14, 440, (245, 245, 250))  # name plates / papers
        p.rect(cx - 2, 405, cx + 2, 440, (40, 40, 40))  # microphones
    flowers(p, rng, (tx0 + tx1) / 2, 520, 160, 70, n=55)
    # podium with speaker
    px = 1300 if podium_right else 500
    seated_front(p, rng, px, 385, 1.0, shirts=[(235, 238, 245)])
    p.poly([(px - 45, 440), (px + 45, 440), (px + 38, 545), (px - 38, 545)], (120, 70, 40))
    p.poly(star_points(px, 485, 16), STAR_YELLOW)
    flowers(p, rng, px, 545, 80, 34, n=20)
    # carpet
    p.vgrad(0, 560, W, H, (120, 40, 38), (90, 25, 25))
    p.poly([(760, 560), (840, 560), (980, H), (620, H)], (150, 55, 50))  # aisle runner
    # audience rows, back to front
    chair = jitter(rng, rng.choice([(185, 30, 40), (235, 235, 230), (40, 70, 140)]), 6)
    for r in range(rows):
        t = r / max(1, rows - 1)
        s = 0.55 + t * 1.1
        y = 640 + (t**1.15) * 420
        gap = 74 * s
        x = 150 - (r % 2) * gap / 2
        while x < W + 40:
            if abs(x - 800) > 70 * s:  # central aisle
                if rng.random() > 0.06:
                    seated_back(p, rng, x, y, s, chair)
                else:
                    p.rrect(x - 34 * s, y - 36 * s, x + 34 * s, y + 18 * s, 10 * s, chair)
            x += gap


def scene_awards(p: Painter, rng: random.Random, backdrop=(178, 24, 30), people=7):
    p.vgrad(0, 0, W, 720, backdrop, mix(backdrop, (60, 0, 0), 0.4))
    p.rect(0, 60, W, 74, (235, 190, 60))
    p.vgrad(300, 100, W - 120, 300, (245, 236, 200), (235, 220, 170))
    banner_text(p, rng, 330, 115, W - 150, 285, mix(backdrop, (0, 0, 0), 0.1), lines=2)
    p.rect(0, 320, W, 330, (235, 190, 60))
    party_flag(p, 40, 110, 110)
    vn_flag(p, 160, 110, 110)
    bust(p, 150, 560, 1.05)
    # stage floor
    p.vgrad(0, 700, W, 800, (160, 100, 60), (130, 80, 45))
    p.rect(0, 800, W, 840, (100, 60, 35))
    # row of award recipients holding certificates and flowers
    x0, x1 = 380, 1500
    for i in range(people):
        cx = x0 + (x1 - x0) * (i + 0.5) / people
        female = rng.random() < 0.4
        shirt = jitter(
            rng,
            rng.choice(
                [(245, 245, 245), (40, 45, 60), (230, 235, 245), (200, 60, 80)]
                if female
                else SHIRT_OFFICE
            ),
            6,
        )
        standing_front(
            p,
            rng,
            cx,
            790,
            3.1,
            shirt=shirt,
            hold="certificate",
            skirt=female and rng.random() < 0.5,
        )
        flowers(p, rng, cx + 34, 790 - 3.1 * 95, 70, 60, n=16)
    # presenter on the left
    standing_front(p, rng, 300, 795, 3.15, shirt=(40, 45, 60), hold="flowers")
    # foreground audience heads and a photographer
    p.vgrad(0, 840, W, H, (80, 30, 30), (50, 18, 18))
    for i in range(14):
        cx = 40 + i * 120 + rng.uniform(-20, 20)
        cy = 990 + rng.uniform(-20, 20)
        p.ellipse(cx - 48, cy - 60, cx + 48, cy + 50, rng.choice(HAIR))
        p.rrect(cx - 85, cy + 30, cx + 85, cy + 140, 40, jitter(rng, rng.choice(SHIRT_OFFICE), 6))


def scene_parade(p: Painter, rng: random.Random):
    horizon = 430
    sky(p, horizon, rng=rng)
    tree_line(p, rng, horizon, green=(60, 105, 60), height=55)
    # building and stage at the back
    p.rect(420, 250, 1180, horizon, (235, 228, 205))
    for r in range(3):
        for c in range(12):
            p.rect(445 + c * 62, 270 + r * 50, 480 + c * 62, 300 + r * 50, (120, 150, 170))
    p.poly([(400, 250), (1200, 250), (1150, 215), (450, 215)], (170, 70, 50))
    p.vgrad(560, 300, 1040, 460, (175, 25, 30), (140, 18, 22))
    p.vgrad(600, 318, 1000, 370, (245, 236, 200), (235, 220, 170))
    banner_text(p, rng, 615, 322, 985, 366, (170, 25, 30), lines=1)
    p.rect(540, 455, 1060, 480, (140, 90, 55))
    for i in range(8):
        seated_front(p, rng, 600 + i * 57, 410, 0.55)
    # parade ground
    p.vgrad(0, horizon, W, H, (170, 168, 160), (135, 132, 125))
    # flag poles
    for i, x in enumerate([90, 230, 1370, 1510]):
        p.line([(x, 120), (x, 560)], (210, 210, 210), width=5)
        if i % 2 == 0:
            vn_flag(p, x + 2, 125, 96, wave=8)
        else:
            p.rect(x + 2, 125, x + 90, 189, FLAG_RED)
            emblem(p, x + 46, 157, 18)
    # formation of new recruits: green uniforms, seen from behind
    for r in range(7):
        t = r / 6
        s = 0.45 + t * 0.75
        y = 560 + (t**1.2) * 420
        n = 14 - r
        span = 700 + t * 800
        for block in (-1, 1):
            for i in range(n // 2 + 1):
                cx = W / 2 + block * (60 * s + i * span / n)
                if cx < -30 or cx > W + 30:
                    continue
                standing_back(
                    p,
                    rng,
                    cx,
                    y,
                    s * 1.2,
                    jitter(rng, ARMY_GREEN, 6),
                    jitter(rng, ARMY_GREEN_DARK, 5),
                    hat="army",
                    hair=(25, 20, 18),
                )
                p.line(
                    [(cx - 18 * s, y - 150 * s), (cx + 18 * s, y - 100 * s)],
                    (200, 30, 40),
                    width=4 * s,
                )
    # relatives at the sides
    for side in (0, 1):
        for i in range(9):
            cx = (40 + i * 28) if side == 0 else (W - 40 - i * 28)
            standing_front(
                p,
                rng,
                cx,
                600 + (i % 3) * 18,
                0.75,
                shirt=jitter(
                    rng,
                    rng.choice([(240, 240, 240), (200, 60, 60), (60, 90, 160), (230, 200, 90)]),
                    8,
                ),
            )


def scene_trucks(p: Painter, rng: random.Random):
    horizon = 470
    sky(p, horizon, top=(140, 185, 230), rng=rng)
    tree_line(p, rng, horizon, green=(65, 110, 65), height=70)
    for i in range(6):
        house(p, rng, 60 + i * 260 + rng.uniform(-30, 30), horizon + 10, 140, 90)
    p.vgrad(0, horizon, W, H, (150, 150, 148), (110, 110, 108))
    p.rect(0, 700, W, 708, (230, 230, 225))

    def truck(x0, base_y, s):
        body = jitter(rng, (80, 100, 60), 5)
        canvas = jitter(rng, (95, 110, 70), 5)
        # cargo bed with canvas cover
        p.rrect(x0, base_y - 260 * s, x0 + 520 * s, base_y - 60 * s, 40 * s, canvas)
        p.rect(x0, base_y - 110 * s, x0 + 520 * s, base_y - 60 * s, body)
        for k in range(5):
            p.line(
                [
                    (x0 + (60 + k * 100) * s, base_y - 250 * s),
                    (x0 + (60 + k * 100) * s, base_y - 110 * s),
                ],
                mix(canvas, (0, 0, 0), 0.2),
                width=4 * s,
            )
        # open rear window with recruits waving
        p.rrect(x0 + 20 * s, base_y - 220 * s, x0 + 200 * s, base_y - 120 * s, 10 * s, (40, 45, 35))
        for k in range(3):
            cx = x0 + (55 + k * 55) * s
            p.circle(cx, base_y - 165 * s, 16 * s, jitter(rng, rng.choice(SKIN), 6))
            p.ellipse(cx - 19 * s, base_y - 192 * s, cx + 19 * s, base_y - 168 * s, ARMY_GREEN)
            p.rrect(cx - 22 * s, base_y - 150 * s, cx + 22 * s, base_y - 118 * s, 8 * s, ARMY_GREEN)
            p.line(
                [(cx + 18 * s, base_y - 140 * s), (cx + 32 * s, base_y - 195 * s)],
                ARMY_GREEN,
                width=8 * s,
            )
        # cab
        p.poly(
            [
                (x0 + 520 * s, base_y - 60 * s),
                (x0 + 520 * s, base_y - 200 * s),
                (x0 + 640 * s, base_y - 200 * s),
                (x0 + 690 * s, base_y - 130 * s),
                (x0 + 690 * s, base_y - 60 * s),
            ],
            body,
        )
        p.poly(
            [
                (x0 + 560 * s, base_y - 185 * s),
                (x0 + 630 * s, base_y - 185 * s),
                (x0 + 668 * s, base_y - 135 * s),
                (x0 + 560 * s, base_y - 135 * s),
            ],
            (150, 180, 195),
        )
        p.poly(star_points(x0 + 600 * s, base_y - 95 * s, 14 * s), FLAG_RED)
        p.rect(x0 - 10 * s, base_y - 70 * s, x0 + 700 * s, base_y - 55 * s, (40, 40, 40))
        for wx in (90, 200, 590):
            p.circle(x0 + wx * s, base_y - 40 * s, 42 * s, (30, 30, 30))
            p.circle(x0 + wx * s, base_y - 40 * s, 18 * s, (110, 110, 100))
        # red garland on the cab
        p.line(
            [(x0 + 520 * s, base_y - 205 * s), (x0 + 640 * s, base_y - 205 * s)],
            FLAG_RED,
            width=8 * s,
        )

    truck(880, 640, 0.6)
    truck(180, 840, 1.0)
    # people seeing the recruits off
    for i in range(11):
        cx = 950 + i * 60 + rng.uniform(-8, 8)
        standing_front(
            p,
            rng,
            cx,
            960 + rng.uniform(-10, 20),
            1.05,
            hold="wave" if i % 3 == 0 else None,
            shirt=jitter(
                rng,
                rng.choice(
                    [
                        (240, 240, 240),
                        (210, 70, 70),
                        (70, 100, 170),
                        (235, 205, 100),
                        (90, 150, 110),
                    ]
                ),
                8,
            ),
        )


def scene_rice(p: Painter, rng: random.Random):
    horizon = 380
    sky(p, horizon, top=(110, 165, 225), bottom=(220, 232, 240), rng=rng)
    tree_line(p, rng, horizon, green=(70, 105, 70), height=45)
    for i in range(5):
        house(p, rng, 100 + i * 320 + rng.uniform(-40, 40), horizon - 4, 70, 40)
    # golden field with converging furrows
    p.vgrad(0, horizon, W, H, (205, 170, 60), (185, 145, 40))
    vx = W * 0.55
    for k in range(-40, 41):
        x_bottom = vx + k * 60
        col = (170, 130, 35) if k % 2 else (215, 185, 80)
        p.line([(vx + k * 3, horizon), (x_bottom, H)], col, width=3)
    for _ in range(1600):
        y = horizon + (rng.random() ** 1.6) * (H - horizon)
        s = 0.2 + (y - horizon) / (H - horizon) * 1.4
        x = rng.uniform(0, W)
        p.line(
            [(x, y), (x + rng.uniform(-3, 3) * s, y - 14 * s)],
            jitter(rng, (225, 190, 80), 18),
            width=1.5 * s,
        )
    # harvested strip on the left (stubble)
    p.poly([(0, 600), (560, 470), (760, 470), (420, H), (0, H)], (196, 176, 120))
    for _ in range(500):
        y = rng.uniform(480, H)
        x_lim = 760 - (y - 470) / (H - 470) * 340
        x = rng.uniform(0, x_lim)
        p.line([(x, y), (x, y - 6)], (160, 140, 90), width=2)
    # combine harvester
    hx, hy = 560, 640
    p.rect(hx - 40, hy + 40, hx + 330, hy + 80, (40, 40, 40))
    for wx in range(0, 300, 55):
        p.circle(hx + wx, hy + 80, 24, (30, 30, 30))
    p.rrect(hx - 10, hy - 110, hx + 300, hy + 50, 14, (205, 45, 40))
    p.rect(hx + 180, hy - 210, hx + 290, hy - 100, (205, 45, 40))
    p.rect(hx + 192, hy - 198, hx + 278, hy - 130, (150, 190, 210))
    p.rect(hx + 170, hy - 222, hx + 300, hy - 208, (240, 240, 240))
    p.poly(
        [(hx + 300, hy + 10), (hx + 470, hy + 40), (hx + 470, hy + 80), (hx + 300, hy + 60)],
        (230, 190, 40),
    )
    for k in range(8):
        p.line(
            [(hx + 310 + k * 20, hy + 30 + k * 4), (hx + 310 + k * 20, hy + 74)],
            (150, 120, 30),
            width=3,
        )
    p.line([(hx + 20, hy - 100), (hx - 120, hy - 170)], (205, 45, 40), width=16)  # unloading auger
    # farmers with conical hats and rice sacks
    for i, (fx, fy) in enumerate([(200, 900), (300, 940), (1180, 880), (1320, 960)]):
        standing_front(
            p,
            rng,
            fx,
            fy,
            1.5 + i * 0.05,
            hat="conical",
            shirt=jitter(rng, rng.choice([(80, 110, 160), (230, 230, 225), (170, 80, 90)]), 8),
            trousers=jitter(rng, (50, 50, 60), 6),
        )
    for i in range(6):
        sx, sy = 80 + i * 70, 1000 + (i % 2) * 20
        p.rrect(sx, sy - 60, sx + 60, sy, 18, (240, 240, 232))


def scene_road(p: Painter, rng: random.Random):
    horizon = 440
    sky(p, horizon, rng=rng)
    tree_line(p, rng, horizon, green=(75, 115, 75), height=35)
    p.vgrad(0, horizon, W, H, (120, 165, 80), (90, 140, 60))
    vx = W * 0.52
    road_l, road_r = 330, 1290
    p.poly([(vx - 10, horizon), (vx + 10, horizon), (road_r, H), (road_l, H)], (190, 190, 185))
    p.line([(vx, horizon + 4), ((road_l + road_r) / 2, H)], (235, 235, 230), width=3)
    # flower verges along both edges
    for side in (-1, 1):
        for _k in range(260):
            t = rng.random() ** 1.4
            y = horizon + t * (H - horizon)
            xe = vx + side * 10 + (((road_r if side > 0 else road_l) - vx - side * 10) * t)
            x = xe + side * rng.uniform(4, 18 + 90 * t)
            r = 1 + 8 * t
            p.circle(
                x,
                y,
                r,
                jitter(
                    rng,
                    rng.choice([(230, 60, 90), (250, 200, 60), (240, 120, 160), (250, 250, 245)]),
                    10,
                ),
            )
    # houses and trees receding
    for side in (-1, 1):
        for k in range(7):
            t = 1 - k / 7
            y = horizon + t**2 * (H - horizon) * 0.7 + 10
            s = 0.25 + t * 1.6
            x = vx + side * (60 + t**2 * 900)
            house(
                p,
                rng,
                x - (0 if side > 0 else 150 * s) + side * 60 * s,
                y - 30 * s,
                150 * s,
                90 * s,
            )
            tree(p, rng, x + side * 10 * s, y, s)
    # power poles
    for k in range(5):
        t = 1 - k / 5
        y = horizon + t**2 * (H - horizon) * 0.75
        x = vx - 40 - t**2 * 500
        h = 60 + t**2 * 420
        p.line([(x, y), (x, y - h)], (200, 200, 195), width=2 + 6 * t)
    # a motorbike rider
    mx, my, ms = 860, 760, 1.1
    p.circle(mx - 40 * ms, my, 20 * ms, (30, 30, 30))
    p.circle(mx + 40 * ms, my, 20 * ms, (30, 30, 30))
    p.rrect(mx - 50 * ms, my - 40 * ms, mx + 50 * ms, my - 10 * ms, 10 * ms, (180, 30, 40))
    standing_back(
        p, rng, mx - 5 * ms, my - 10 * ms, 0.5 * ms, (70, 110, 170), (50, 50, 60), hat=None
    )


def scene_school(p: Painter, rng: random.Random):
    horizon = 520
    sky(p, 260, top=(120, 175, 230), bottom=(200, 225, 240), rng=rng)
    # three-storey school building
    p.vgrad(0, 150, W, horizon, (245, 215, 120), (230, 195, 100))
    p.rect(0, 130, W, 150, (180, 60, 45))
    for floor in range(3):
        y0 = 170 + floor * 115
        p.rect(0, y0 + 88, W, y0 + 96, (250, 245, 230))  # corridor slab
        for c in range(16):
            x = 40 + c * 100
            p.rect(x, y0 + 10, x + 60, y0 + 80, (120, 160, 185))
            p.line([(x + 30, y0 + 10), (x + 30, y0 + 80)], (240, 240, 235), width=3)
    # balloons and banners on the facade
    for _ in range(36):
        x, y = rng.uniform(20, W - 20), rng.uniform(150, 200)
        p.ellipse(
            x - 12,
            y - 16,
            x + 12,
            y + 16,
            jitter(
                rng, rng.choice([(230, 50, 60), (250, 200, 50), (60, 120, 220), (90, 180, 90)]), 10
            ),
        )
    p.vgrad(520, 180, 1080, 240, (200, 25, 30), (170, 20, 25))
    banner_text(p, rng, 540, 188, 1060, 232, (250, 230, 120), lines=1)
    # school yard
    p.vgrad(0, horizon, W, H, (190, 120, 100), (165, 100, 85))
    for k in range(14):
        p.line([(0, horizon + k**1.6 * 9), (W, horizon + k**1.6 * 9)], (175, 110, 92), width=2)
    # flag pole
    p.line([(800, 40), (800, horizon + 10)], (225, 225, 225), width=6)
    vn_flag(p, 803, 44, 120, wave=7)
    p.rect(770, horizon, 830, horizon + 16, (200, 200, 200))
    # trees in the yard
    tree(p, rng, 90, horizon + 30, 1.6, green=(60, 125, 60))
    tree(p, rng, W - 110, horizon + 40, 1.7, green=(55, 120, 60))
    # rows of pupils facing the flag (seen from behind)
    for r in range(6):
        t = r / 5
        s = 0.5 + t * 0.9
        y = 600 + (t**1.2) * 430
        n = 12 - r
        span = 900 + t * 700
        for i in range(n):
            cx = W / 2 - span / 2 + span * (i + 0.5) / n + rng.uniform(-6, 6)
            girl = rng.random() < 0.5
            standing_back(
                p,
                rng,
                cx,
                y,
                s,
                jitter(rng, (248, 248, 248), 4),
                jitter(rng, (35, 45, 90), 6),
                hair=(25, 20, 18),
            )
            if girl:
                p.rect(
                    cx - 6 * s, y - 170 * s + 24 * s, cx + 6 * s, y - 170 * s + 52 * s, (25, 20, 18)
                )
            p.poly(
                [
                    (cx - 12 * s, y - 170 * s + 36 * s),
                    (cx + 12 * s, y - 170 * s + 36 * s),
                    (cx, y - 170 * s + 58 * s),
                ],
                FLAG_RED,
            )
    # teacher at the side
    standing_front(p, rng, 260, 760, 1.3, shirt=(245, 245, 245), trousers=(40, 40, 60), skirt=True)
    standing_front(
        p, rng, 1340, 770, 1.35, shirt=(220, 70, 90), trousers=(240, 235, 230), skirt=True
    )


def scene_temple(p: Painter, rng: random.Random):
    horizon = 560
    sky(p, horizon, top=(150, 185, 220), bottom=(230, 232, 230), rng=rng)
    tree(p, rng, 90, horizon, 2.2, green=(60, 110, 60))
    tree(p, rng, W - 80, horizon, 2.4, green=(55, 105, 55))
    # temple: two-tier roof with upturned eaves
    tx0, tx1 = 360, 1240
    wall = (235, 210, 150)
    p.rect(tx0 + 30, 330, tx1 - 30, horizon, wall)
    for i in range(7):
        x = tx0 + 70 + i * (tx1 - tx0 - 140) / 6
        p.rect(x - 14, 340, x + 14, horizon, (150, 35, 30))
    for i in range(6):
        x0 = tx0 + 84 + i * (tx1 - tx0 - 140) / 6
        x1 = x0 + (tx1 - tx0 - 140) / 6 - 28
        p.rect(x0, 390, x1, horizon, (120, 40, 30))
        p.line([((x0 + x1) / 2, 390), ((x0 + x1) / 2, horizon)], (90, 30, 20), width=3)
    roof = (90, 80, 78)

    def tier(x0, x1, y_base, height):
        p.poly(
            [
                (x0 - 60, y_base),
                (x1 + 60, y_base),
                (x1 - 40, y_base - height),
                (x0 + 40, y_base - height),
            ],
            roof,
        )
        for x, d in ((x0 - 60, -1), (x1 + 60, 1)):  # upturned corners
            p.poly([(x, y_base), (x + d * 10, y_base - 55), (x - d * 30, y_base - 8)], roof)
        for k in range(int((x1 - x0 + 120) // 18)):
            xx = x0 - 60 + k * 18
            p.line(
                [
                    (xx, y_base),
                    (xx + (x0 + x1) / 2 * 0 + (((x0 + x1) / 2 - xx) * 0.08), y_base - height),
                ],
                mix(roof, (0, 0, 0), 0.2),
                width=2,
            )
        p.rect(x0 + 40, y_base - height - 12, x1 - 40, y_base - height, mix(roof, (0, 0, 0), 0.25))

    tier(tx0, tx1, 340, 90)
    tier(tx0 + 160, tx1 - 160, 225, 85)
    p.circle((tx0 + tx1) / 2, 118, 20, (230, 180, 60))  # ridge ornament
    # stone courtyard
    p.vgrad(0, horizon, W, H, (185, 180, 170), (150, 145, 135))
    for k in range(10):
        y = horizon + k**1.5 * 16
        p.line([(0, y), (W, y)], (165, 160, 150), width=2)
    # festival flags (five colours) on tall poles
    five = [(230, 50, 40), (250, 210, 50), (60, 130, 200), (80, 160, 80), (245, 245, 240)]
    for i, x in enumerate([60, 220, 1380, 1530]):
        p.line([(x, 80), (x, horizon + 120)], (120, 90, 60), width=6)
        fh = 260
        for k in range(5):
            p.rect(x + 3, 90 + k * fh / 5, x + 120, 90 + (k + 1) * fh / 5, five[(k + i) % 5])
        for k in range(10):
            p.poly(
                [(x + 3 + k * 12, 350), (x + 15 + k * 12, 350), (x + 9 + k * 12, 372)], five[k % 5]
            )
    # incense burner
    p.rect(770, 560, 830, 620, (110, 90, 60))
    p.ellipse(740, 520, 860, 575, (140, 115, 70))
    for k in range(3):
        p.line([(790 + k * 10, 525), (780 + k * 14, 440)], (200, 200, 200), width=3)
    # palanquin carried by bearers in yellow
    kx, ky = 800, 860
    p.line([(kx - 360, ky - 150), (kx + 360, ky - 150)], (120, 40, 30), width=14)
    p.line([(kx - 360, ky - 120), (kx + 360, ky - 120)], (120, 40, 30), width=14)
    p.rect(kx - 110, ky - 330, kx + 110, ky - 140, (200, 40, 35))
    p.rect(kx - 90, ky - 310, kx + 90, ky - 170, (230, 180, 60))
    p.poly(
        [(kx - 150, ky - 330), (kx + 150, ky - 330), (kx + 80, ky - 410), (kx - 80, ky - 410)],
        (200, 40, 35),
    )
    p.circle(kx, ky - 425, 18, (240, 200, 70))
    for i in range(8):
        bx = kx - 330 + i * 94
        if abs(bx - kx) < 100:
            continue
        standing_front(
            p,
            rng,
            bx,
            ky + 160,
            1.9,
            shirt=jitter(rng, (240, 195, 50), 8),
            trousers=(240, 235, 220),
            hat="khan_xep",
        )
    # crowd in the foreground
    for i in range(18):
        cx = 20 + i * 92 + rng.uniform(-10, 10)
        cy = 1010 + rng.uniform(-25, 15)
        p.ellipse(cx - 34, cy - 46, cx + 34, cy + 38, rng.choice(HAIR))
        p.rrect(
            cx - 60,
            cy + 24,
            cx + 60,
            cy + 140,
            30,
            jitter(
                rng,
                rng.choice(
                    [(240, 240, 240), (200, 60, 60), (60, 90, 150), (230, 200, 90), (150, 80, 120)]
                ),
                8,
            ),
        )


def scene_conference_seed(p, rng):
    scene_conference(p, rng, backdrop=(172, 24, 30), cloth=(40, 110, 60), rows=5, presidium=5)


# Catalogue ----------------------------------------------------------------

IMAGES = {
    # seed article (written by the lead) references this one
    "2021/hoi-nghi-giao-ban-phat-trien-dang-vien.jpg": scene_conference_seed,
    "2021/hoi-nghi-quan-triet-nghi-quyet-dai-hoi-xiii.jpg": lambda p, r: scene_conference(
        p, r, backdrop=(165, 20, 26), cloth=(170, 25, 30), rows=6, presidium=7
    ),
    "2022/le-giao-nhan-quan-2022.jpg": scene_parade,
    "2022/tan-binh-len-xe-ve-don-vi.jpg": scene_trucks,
    "2022/duong-giao-thong-nong-thon-gia-khanh.jpg": scene_road,
    "2023/thu-hoach-lua-vu-xuan-toan-thang.jpg": scene_rice,
    "2023/le-khai-giang-nam-hoc-2023-2024.jpg": scene_school,
    "2023/hoi-nghi-tong-ket-phat-trien-dang-vien-2023.jpg": lambda p, r: scene_conference(
        p, r, backdrop=(160, 22, 34), cloth=(35, 95, 70), rows=4, presidium=6, podium_right=False
    ),
    "2023/khen-thuong-phat-trien-dang-vien-2023.jpg": scene_awards,
    "2024/le-ruoc-kieu-den-quat-2024.jpg": scene_temple,
    "2024/hoi-nghi-giao-ban-xay-dung-dang-quy-i-2024.jpg": lambda p, r: scene_conference(
        p, r, backdrop=(176, 28, 28), cloth=(30, 80, 130), rows=5, presidium=4
    ),
}


def render(name: str, draw) -> Image.Image:
    rng = random.Random(zlib.crc32(name.encode("utf-8")))
    p = Painter()
    draw(p, rng)
    return p.finish(rng)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: content/images)"
    )
    ap.add_argument("--list", action="store_true", help="only list the image paths")
    args = ap.parse_args()
    for name, draw in IMAGES.items():
        path = args.out / name
        if args.list:
            print(path)
            continue
        img = render(name, draw)
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, "JPEG", quality=JPEG_QUALITY, progressive=False, optimize=True)
        size = path.stat().st_size
        flag = "" if size <= MAX_BYTES else "  (WARNING: larger than 250 KB)"
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  "
            f"{size // 1024} KB{flag}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
