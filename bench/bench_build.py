"""Whole-site build benchmark: our incremental build against stock Pelican, same corpus.

For each size (default 1,000 and 10,000 articles; ``--sizes``) it generates the seeded
corpus of ``bench/corpus.py`` once (cached under ``.bench/build/``), then measures, each
build in a fresh process:

- ours, cold: empty output and cache, our theme and every plugin on;
- ours, no change: the same build again;
- ours, one edit: one article's body edited (a recent one, then an old one);
- ours, one new article: an article added, dated after all others (what an office does
  every day: it enters the related lists of articles of every year and shifts every page of
  the paginated lists by one);
- stock Pelican 4.12, cold: its default theme, no plugins, the same Markdown files;
- stock Pelican, one edit and one new article, with its content cache on
  (``CACHE_CONTENT``/``LOAD_CONTENT_CACHE``);
- ``make check`` (lint every file, no build) on the same corpus, imports included: first
  with an empty cache, then after one edit (the other files' reports remembered);
- ``make publish`` (check, build with publishconf.py into the standby folder, swap), imports
  included: first (no output yet), second (makes the standby folder: a copy of output/),
  no change, one edit.

Printed: wall seconds, CPU seconds (the build process and its workers), peak resident
memory (the build process; the largest worker), the largest sums of memory over the build
and every process it started at one moment (PSS, which counts a page shared by forked
processes once, and RSS, which counts it in each; ``bench/memory.py``, sampled every
0.1 s), and ratios to stock Pelican in the same run.
``--search off`` leaves Pagefind out (its own figures: ``make bench-search``).

Our everyday builds (one edit of a recent or an old article, one new article) are measured
``--repeat`` times each (default 3: the same kind of change made again, each built in a fresh
process); the row gives the run with the median wall time, and every run's wall time in the
last column. The machines here are shared, and one sample of a 3-second build can be 20 %
off; the goals of the fast-builds issue are read against the median and the range.

    python -m bench.bench_build [--sizes 1000,10000] [--search on|off] [--repeat 3]
                                [--json out.json]
"""

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.aside import measuring, set_aside  # noqa: E402
from bench.corpus import site_corpus  # noqa: E402
from bench.machine import machine  # noqa: E402
from bench.memory import TreeMemory  # noqa: E402

BENCH = ROOT / ".bench" / "build"
TRASH = BENCH / "trash"  # the last run's folders, removed after the measurements (aside.py)

# Appended to every script below: what ``run`` reads back.
REPORT = """
wall = time.perf_counter() - started
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print("RESULT", wall, me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
      me.ru_maxrss, kids.ru_maxrss)
"""

OURS = """
import os, resource, sys, time
sys.path.insert(0, {root!r})
os.chdir({root!r})
from pelican.settings import read_settings
from tools.publish import pelican_class
settings = read_settings("pelicanconf.py", override={override})
started = time.perf_counter()
pelican_class(settings)(settings).run()
"""

# `make check` on the same corpus: imports included, as a staff member would wait for it.
CHECK = """
import os, resource, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
os.chdir({root!r})
from pelican.settings import read_settings
from plugins.content_check.content_check import check_tree
from plugins.content_check.rules import ERROR
settings = read_settings("pelicanconf.py", override={override})
reports, problems = check_tree(settings)
assert len(reports) > 0 and not any(p.level == ERROR for p in problems), problems[:3]
"""

PUBLISH = """
import os, resource, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
os.chdir({root!r})
from pelican.settings import read_settings
from tools.publish import publish
override = {override}
output = override.pop("OUTPUT_PATH")
publish(read_settings("publishconf.py", override=override), output)
"""

STOCK = """
import os, resource, sys, time
from pelican import Pelican
from pelican.settings import read_settings
settings = read_settings(None, override={override})
started = time.perf_counter()
Pelican(settings).run()
"""


def report_of(stdout, stderr, returncode, what="build"):
    """The numbers of the RESULT line a script printed; a stop with its output if it failed."""
    line = next((x for x in stdout.splitlines() if x.startswith("RESULT")), None)
    if returncode != 0 or line is None:
        raise SystemExit(f"{what} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return [float(number) for number in line.split()[1:]]


def run(script, override, root=ROOT):
    """Run ``script`` in a fresh process with the code of the tree ``root``; its figures,
    with the largest sums of memory over it and the processes it started (``TreeMemory``)."""
    process = subprocess.Popen(
        [sys.executable, "-c",
         script.format(root=str(root), override=repr(override)) + REPORT],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
    )  # fmt: skip
    tree = TreeMemory(process.pid)
    try:
        stdout, stderr = process.communicate()
    finally:
        tree.stop()
    wall, cpu, rss, kids = report_of(stdout, stderr, process.returncode)
    return {"wall": wall, "cpu": cpu, "rss_mb": rss / 1024,
            "worker_rss_mb": kids / 1024, "tree_pss_mb": tree.pss_kb / 1024,
            "tree_rss_mb": tree.rss_kb / 1024, "sampler_cpu": tree.cpu_s}  # fmt: skip


def edit_article(folder, which, originals):
    """Append a sentence to the body of the newest or an old article; its first text is
    kept in ``originals`` (path → bytes) for ``restore``."""
    files = sorted((folder / "articles").rglob("*.md"))
    path = files[-1] if which == "recent" else files[len(files) // 10]
    data = path.read_bytes()
    originals.setdefault(path, data)
    text = data.decode("utf-8").rstrip("\n") + f" Đã cập nhật lúc {time.time_ns()}.\n"
    path.write_text(text, encoding="utf-8")


def add_article(folder, originals):
    """Add an article dated after every other: an old article's text under a new title,
    slug and date. Recorded in ``originals`` (as None) for ``restore`` to delete."""
    files = sorted((folder / "articles").rglob("*.md"))
    text = files[len(files) // 3].read_text(encoding="utf-8")
    newest = max(line for path in files for line in
                 path.read_text(encoding="utf-8").splitlines()[:6] if line.startswith("Date: "))
    newest = datetime.strptime(newest[len("Date: "):], "%Y-%m-%d %H:%M")
    date = newest + timedelta(hours=2)
    replaced = ("Title:", "Slug:", "Date:")
    lines = [line for line in text.splitlines() if not line.startswith(replaced)]
    header = [f"Title: Bài mới về hội nghị sơ kết công tác {time.time_ns()}",
              f"Date: {date:%Y-%m-%d %H:%M}", f"Slug: bai-moi-{time.time_ns()}"]  # fmt: skip
    added = sum(1 for data in originals.values() if data is None)
    path = folder / "articles" / f"{date:%Y}" / f"bai-moi-bench-{added + 1}.md"
    originals[path] = None
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(header + lines) + "\n", encoding="utf-8")


def restore(originals):
    """Put the edited articles back as the corpus generator wrote them, remove added ones."""
    for path, data in originals.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)


def median_run(runs):
    """The figures of the run with the median wall time (of an even number, the upper
    middle one), with every run's wall time, in the order run, under "walls"."""
    if not runs:
        raise ValueError("no run")
    middle = sorted(runs, key=lambda figures: figures["wall"])[len(runs) // 2]
    return dict(middle, walls=[figures["wall"] for figures in runs])


def repeated(times, change, build):
    """``change()`` then ``build()``, ``times`` times: the median run (``median_run``)."""
    runs = []
    for _ in range(times):
        change()
        runs.append(build())
    return median_run(runs)


def empty_work(work, trash):
    """The folder ``work``, empty: the last run's set aside into ``trash``."""
    set_aside(work, trash)
    work.mkdir(parents=True)
    return work


def stock_settings(folder, work):
    """Stock Pelican's settings for the corpus ``folder`` (its default theme, no plugin),
    output and cache under ``work``."""
    return {
        "PATH": str(folder), "OUTPUT_PATH": str(work / "stock-output"),
        "CACHE_PATH": str(work / "stock-cache"), "ARTICLE_PATHS": ["articles"],
        "PAGE_PATHS": ["pages"], "TIMEZONE": "Asia/Ho_Chi_Minh", "SITEURL": "",
    }  # fmt: skip


def bench_size(size, search, with_stock=True, repeat=3):
    folder, categories = site_corpus(size)
    work = empty_work(BENCH / f"run-{size}", TRASH)
    ours = {
        "PATH": str(folder), "OUTPUT_PATH": str(work / "output"),
        "CACHE_PATH": str(work / "cache"), "SITE_CATEGORIES": categories,
        "SEARCH_INDEX": search,
    }  # fmt: skip
    stock = stock_settings(folder, work)
    stock_cached = dict(stock, CACHE_CONTENT=True, LOAD_CONTENT_CACHE=True,
                        OUTPUT_PATH=str(work / "stock-cached-output"))  # fmt: skip
    check = {"PATH": str(folder), "SITE_CATEGORIES": categories,
             "CACHE_PATH": str(work / "cache")}  # fmt: skip
    published = dict(ours, OUTPUT_PATH=str(work / "published"))
    figures = {}
    figures["make check (no build)"] = run(CHECK, check)
    figures["ours cold"] = run(OURS, ours)
    figures["ours no change"] = run(OURS, ours)
    figures["make publish, first"] = run(PUBLISH, published)
    # The second publish makes the standby folder (a copy of the live site), once.
    figures["make publish, second"] = run(PUBLISH, published)
    figures["make publish, no change"] = run(PUBLISH, published)
    originals = {}
    try:
        ours_build = partial(run, OURS, ours)
        figures["ours one edit (recent article)"] = repeated(
            repeat, partial(edit_article, folder, "recent", originals), ours_build)
        figures["make check, one file edited"] = run(CHECK, check)
        figures["make publish, one edit"] = run(PUBLISH, published)
        figures["ours one edit (old article)"] = repeated(
            repeat, partial(edit_article, folder, "old", originals), ours_build)
        figures["ours one new article"] = repeated(
            repeat, partial(add_article, folder, originals), ours_build)
        if repeat > 1:  # publish catches up with those articles, then gets one new one
            run(PUBLISH, published)
            add_article(folder, originals)
            ours_build()
        figures["make publish, one new article"] = run(PUBLISH, published)
        if with_stock:
            figures["stock cold"] = run(STOCK, stock)
            run(STOCK, stock_cached)  # fills the stock cache
            edit_article(folder, "recent", originals)
            figures["stock one edit, cache on"] = run(STOCK, stock_cached)
            add_article(folder, originals)
            figures["stock one new article, cache on"] = run(STOCK, stock_cached)
    finally:
        restore(originals)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--search", choices=("on", "off"), default="on")
    parser.add_argument("--stock-sizes", default="1000,10000",
                        help="sizes at which stock Pelican is measured too")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each everyday build of ours (median shown)")  # fmt: skip
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}")
    with measuring(TRASH) as waited:  # the folders set aside go once every figure is taken
        if waited:
            print(f"(waited {waited:.0f} s: the last benchmark's removals, see bench/aside.py)")
        return report(args)


def report(args):
    """Measure each size of ``args`` and print its table; 0."""
    results = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        stock_sizes = {int(s) for s in args.stock_sizes.split(",") if s}
        figures = bench_size(size, args.search == "on", size in stock_sizes, args.repeat)
        results[size] = figures
        stock = figures.get("stock cold", figures["ours cold"])["wall"]
        print(f"\n{size} articles")
        ratio = "/ stock cold" if "stock cold" in figures else "/ ours cold"
        print(f"{'build':36} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'worker MB':>9} "
              f"{'all PSS MB':>10} {'all RSS MB':>10} {ratio:>12}  runs (wall s)")  # fmt: skip
        for name, f in figures.items():
            runs = " ".join(f"{wall:.2f}" for wall in f.get("walls", ()))
            print(f"{name:36} {f['wall']:8.2f} {f['cpu']:8.2f} {f['rss_mb']:8.0f} "
                  f"{f['worker_rss_mb']:9.0f} {f['tree_pss_mb']:10.0f} {f['tree_rss_mb']:10.0f} "
                  f"{f['wall'] / stock:12.3f}  {runs}")  # fmt: skip
        sampler = sum(f["sampler_cpu"] for f in figures.values())
        print(f"(the memory sampler's own CPU time over these builds: {sampler:.2f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
