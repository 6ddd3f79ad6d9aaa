#!/usr/bin/env python3
"""Benchmark of the photos plugin: 200 camera-size photos, cold and warm.

Generates (once, seeded, cached under .bench/photos/source/) 200 noisy 6000×4000 JPEGs
of about 8 MB with EXIF orientation, GPS and camera data, writes one article per photo,
then builds that site with Pelican and the site's settings:

- cold:        empty cache, empty output (every photo decoded and encoded)
- warm:        the same build again (nothing changed: stat checks only)
- cache only:  empty output, warm cache (files copied from the cache, nothing encoded)
- no photos:   the same 200 articles without their photo, for the Pelican baseline

Each build runs in its own process; the bench reports wall-clock seconds and peak
memory (the build process, the largest worker, and the largest sum sampled over the
build's processes). Usage (from the repository root):

    .venv/bin/python bench/bench_photos.py              # make bench-photos
    .venv/bin/python bench/bench_photos.py --count 10   # a quick try
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402
from bench.memory import TreeMemory, status_kb  # noqa: E402

BENCH = ROOT / ".bench" / "photos"
SIZE = (6000, 4000)
QUALITY = 88  # about 8 MB for this noise level, like a camera's "fine" JPEG
SEED = 20211109
FIELDS = 10  # distinct scenes; every photo also gets its own noise offset, so its own bytes


# --- generating the photos ---------------------------------------------------------------


def _camera_exif(index, orientation):
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110] = "Canon", "EOS 80D"
    exif[0x0132] = f"2024:03:{1 + index % 28:02d} 09:{index % 60:02d}:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (20.0, 51.0, float(index % 60))
    gps[3], gps[4] = "E", (106.0, 18.0, float((index * 7) % 60))
    return exif


def _generate_one(args):
    index, path = args
    import numpy as np
    from PIL import Image, ImageChops

    rng = np.random.default_rng(SEED + index)
    field_rng = np.random.default_rng(SEED + index % FIELDS)
    cells = field_rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    field = Image.fromarray(cells, "RGB").resize(SIZE, Image.Resampling.BICUBIC)
    noise = _noise()
    dx, dy = (int(v) for v in rng.integers(0, 4000, 2))
    grain = ImageChops.offset(noise, dx, dy)
    photo = ImageChops.add(field, Image.merge("RGB", (grain, grain, grain)), 1.0, -128)
    orientation = int(rng.choice([1, 6, 8, 3], p=[0.6, 0.25, 0.1, 0.05]))
    temporary = path.with_suffix(".tmp")
    photo.save(temporary, "JPEG", quality=QUALITY, exif=_camera_exif(index, orientation))
    os.replace(temporary, path)
    return path.stat().st_size


_NOISE = None


def _noise():
    """Film-grain noise, the same for every photo (each photo takes another offset)."""
    global _NOISE
    if _NOISE is None:
        import numpy as np
        from PIL import Image

        rng = np.random.default_rng(SEED)
        grain = np.clip(rng.normal(128, 9, (SIZE[1], SIZE[0])), 0, 255).astype(np.uint8)
        _NOISE = Image.fromarray(grain, "L")
    return _NOISE


def generate_photos(count):
    folder = BENCH / "source"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"anh-{index:03d}.jpg" for index in range(count)]
    todo = [(i, p) for i, p in enumerate(paths) if not p.exists()]
    if todo:
        print(f"generating {len(todo)} photos into {folder} (once) …", flush=True)
        with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
            list(pool.map(_generate_one, todo, chunksize=4))
    return paths


def write_content(paths, with_photos):
    content = BENCH / ("content" if with_photos else "content-text")
    shutil.rmtree(content, ignore_errors=True)
    articles = content / "articles" / "2024"
    articles.mkdir(parents=True)
    shutil.copytree(ROOT / "content" / "extra", content / "extra")
    if with_photos:
        (content / "images").mkdir()
    for index, path in enumerate(paths):
        photo = ""
        if with_photos:
            os.link(path, content / "images" / path.name)  # no 1.6 GB copy
            photo = f'![Ảnh {index}](images/{path.name} "Quang cảnh hội nghị số {index}")\n\n'
        (articles / f"bai-{index:03d}.md").write_text(
            f"Title: Bài viết số {index}\nDate: 2024-03-{1 + index % 28:02d} 09:{index % 60:02d}\n"
            f"Category: Tin tức - Sự kiện\n\nĐoạn mở đầu của bài số {index}.\n\n{photo}"
            "Đoạn kết.\n",
            encoding="utf-8",
        )
    return content


# --- measuring one build -----------------------------------------------------------------


def measure(content, output, cache):
    """Build in this process (called in a fresh child); print the figures as JSON."""
    import logging

    from pelican import Pelican
    from pelican.settings import read_settings

    logging.basicConfig(level=logging.WARNING)
    from plugins.photos import photos

    # Time the plugin's own receivers (wrapped before Pelican connects them).
    in_photos = [0.0]

    def timed(function):
        def wrapper(*args):
            start = time.perf_counter()
            try:
                return function(*args)
            finally:
                in_photos[0] += time.perf_counter() - start

        return wrapper

    for name in ("rewrite_contents", "take_over_photos", "publish_photos"):
        setattr(photos, name, timed(getattr(photos, name)))
    settings = read_settings(
        str(ROOT / "pelicanconf.py"),
        override={"PATH": str(content), "OUTPUT_PATH": str(output), "CACHE_PATH": str(cache)},
    )
    tree = TreeMemory(os.getpid(), pss=False)
    start = time.perf_counter()
    os.chdir(ROOT)
    Pelican(settings).run()
    seconds = time.perf_counter() - start
    tree.stop()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "photos_seconds": round(in_photos[0], 3),
                "build_mb": round(status_kb(os.getpid(), "VmHWM") / 1024),
                "worker_mb": round(tree.worker_kb / 1024),
                "total_mb": round(tree.rss_kb / 1024),
            }
        )
    )


def run_build(content, output, cache):
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(content), str(output), str(cache)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep output and cache")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return

    from plugins.photos.imaging import plan_widths
    from plugins.photos.photos import DEFAULTS

    print(machine())
    paths = generate_photos(args.count)
    source_mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
    content = write_content(paths, with_photos=True)
    text_only = write_content(paths, with_photos=False)
    output, cache = BENCH / "output", BENCH / "cache"
    for folder in (output, cache, BENCH / "output-text", BENCH / "cache-text"):
        shutil.rmtree(folder, ignore_errors=True)

    rows = [
        ("cold: empty cache and output", run_build(content, output, cache)),
        ("warm: rebuild, nothing changed", run_build(content, output, cache)),
    ]
    reader = sorted(output.glob("images/*-960w.webp"))
    reader_kb = sum(p.stat().st_size for p in reader) / max(1, len(reader)) / 1e3
    shutil.rmtree(output)
    rows.append(("cache only: empty output", run_build(content, output, cache)))
    rows.append(
        (
            "no photos: same articles, text only",
            run_build(text_only, BENCH / "output-text", BENCH / "cache-text"),
        )
    )
    if not args.keep:
        for folder in (output, cache, BENCH / "output-text", BENCH / "cache-text"):
            shutil.rmtree(folder, ignore_errors=True)

    widths = ", ".join(str(w) for w, _h in plan_widths(*SIZE, DEFAULTS["PHOTOS_WIDTHS"]))
    print(
        f"\n{len(paths)} photos {SIZE[0]}×{SIZE[1]}, {source_mb:.1f} MB each on average; "
        f"derivatives {widths} px wide; a reader's 960 px WebP: {reader_kb:.0f} kB on average\n"
    )
    print(
        "| build | seconds | of which in the photos plugin | peak MB: build process "
        "| largest worker | sum |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in rows:
        print(
            f"| {name} | {row['seconds']:.1f} | {row['photos_seconds']:.2f} | {row['build_mb']} "
            f"| {row['worker_mb']} | {row['total_mb']} |"
        )
    cold, warm = rows[0][1], rows[1][1]
    print(
        f"\nwarm / cold = {warm['seconds'] / cold['seconds']:.3f}; photos plugin, warm: "
        f"{warm['photos_seconds'] / len(paths) * 1000:.2f} ms per photo"
    )


if __name__ == "__main__":
    main()
