"""The least CPU a cold build of this site with search can take, against stock Pelican's.

The fast-builds issue asks for a cold build, with our theme and every plugin on, in at most
half of stock Pelican's cold build (its default theme, no plugin) on this 2-core machine.
Half of stock's wall time on N cores gives at most N × stock/2 seconds of CPU: stock's own
wall time on 2 cores. Three parts of the work no cold build of this site can leave out, each
timed alone on the same corpus, in a fresh process, in the least form it can take:

- **Markdown**: every article's file read and its body converted by Python-Markdown, with
  no extension at all (Pelican's reader, our content check and our extensions only add);
- **Pagefind**: one Pagefind process indexing every article as the smallest page it could be
  given: its title and its body's HTML (the site's pages add a header, menus, a footer, the
  date and the category);
- **related lists**: "Các bài viết khác" for every article, as the related-posts plugin
  computes them with no cache (tokenising, TF-IDF, candidate search, scores), from the
  articles' plain text made beforehand, untimed.

The sum is a floor: what is left of the budget when it is taken out is all a build would
have for everything else (Pelican's loops, rendering every page of our theme with Jinja,
writing 12,700 files, the feeds, the sitemap, the photos), which stock alone spends most of
its time on. Our own cold build (search on) and stock's are timed too, in the same rounds,
each in a fresh process. Every step runs ``--rounds`` times, in turn; the table gives every
run and the median; the verdict reads the least floor against the largest budget, the most
favourable pairing of the noisy figures.

    python -m bench.bench_floor [--size 10000] [--rounds 2]
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.aside import measuring, set_aside  # noqa: E402
from bench.bench_build import (  # noqa: E402
    OURS,
    STOCK,
    empty_work,
    report_of,
    run,
    stock_settings,
)
from bench.corpus import site_corpus  # noqa: E402
from bench.machine import machine  # noqa: E402

WORK = ROOT / ".bench" / "floor"
TRASH = WORK / "trash"

# Around each step timed below: its wall time and the CPU its process (and the processes it
# waited for) spent from START on, its imports and untimed set-up left out.
START = """
def cpu_now():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
cpu_before = cpu_now()
started = time.perf_counter()
"""
REPORT = """
print("RESULT", time.perf_counter() - started, cpu_now() - cpu_before)
"""

# Times the conversion (``started`` to REPORT), then writes the smallest page Pagefind could
# index for each article, untimed.
MARKDOWN = """
import html, os, resource, sys, time
from pathlib import Path
import markdown
files = sorted(Path({articles!r}).rglob("*.md"))
""" + START + """
converter = markdown.Markdown()
converted = []
for path in files:
    head, _, body = path.read_text(encoding="utf-8").partition("\\n\\n")
    converted.append((path.stem, head, converter.reset().convert(body)))
""" + REPORT + """
site = Path({site!r})
site.mkdir(parents=True)
for stem, head, body in converted:
    title = html.escape(dict(line.split(": ", 1) for line in head.splitlines())["Title"])
    (site / (stem + ".html")).write_text(
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>' + title
        + '</title></head><body><main data-pagefind-body><h1>' + title + '</h1>' + body
        + '</main></body></html>', encoding="utf-8")
"""

# The related-posts plugin's cold step on the corpus's articles (bench/bench_related.py
# makes the plugin's records from them, untimed).
RELATED = """
import os, resource, sys, time
sys.path.insert(0, {root!r})
from bench.bench_related import NOW, records_of
from bench.corpus import generate_articles
from plugins.related_posts.scoring import Params, VectorCache, related_articles
records = records_of(generate_articles({size}))
""" + START + """
related_articles(records, NOW, Params(), VectorCache())
""" + REPORT

PAGEFIND = """
import os, resource, subprocess, sys, time
sys.path.insert(0, {root!r})
from plugins.search.search import pagefind_arguments
arguments = pagefind_arguments({site!r}, {bundle!r}, {language!r})
""" + START + """
subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
""" + REPORT


def fresh(script):
    """Run ``script`` in a fresh Python process; (wall, CPU) of its REPORT line."""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT)  # fmt: skip
    wall, cpu = report_of(result.stdout, result.stderr, result.returncode, "floor: a step")
    return {"wall": wall, "cpu": cpu}


def verdict(stock_walls, parts, cores):
    """The floor against the budget, most favourably paired: the largest budget (cores ×
    half of stock's slowest cold build) less the least CPU of each part (a list of runs)."""
    budget = cores * max(stock_walls) / 2
    floor = sum(min(runs) for runs in parts)
    return {"budget": budget, "floor": floor, "left": budget - floor}


def measure(size, rounds, language="vi"):
    folder, categories = site_corpus(size)
    work = empty_work(WORK / f"run-{size}", TRASH)
    stock = stock_settings(folder, work)
    runs = {"ours cold (wall)": [], "ours cold (CPU)": [],
            "stock Pelican cold (wall)": [], "stock Pelican cold (CPU)": [],
            "Markdown alone (CPU)": [], "Pagefind alone (CPU)": [],
            "related lists alone (CPU)": []}  # fmt: skip
    for number in range(rounds):
        ours = {"PATH": str(folder), "SITE_CATEGORIES": categories,
                "OUTPUT_PATH": str(work / f"ours-{number}"),
                "CACHE_PATH": str(work / f"ours-cache-{number}")}  # fmt: skip
        figures = run(OURS, ours)
        runs["ours cold (wall)"].append(figures["wall"])
        runs["ours cold (CPU)"].append(figures["cpu"])
        set_aside(ours["OUTPUT_PATH"], TRASH)
        set_aside(ours["CACHE_PATH"], TRASH)
        output = work / f"stock-{number}"
        figures = run(STOCK, dict(stock, OUTPUT_PATH=str(output)))
        runs["stock Pelican cold (wall)"].append(figures["wall"])
        runs["stock Pelican cold (CPU)"].append(figures["cpu"])
        set_aside(output, TRASH)
        site, bundle = work / f"pages-{number}", work / f"bundle-{number}"
        runs["Markdown alone (CPU)"].append(
            fresh(MARKDOWN.format(articles=str(folder / "articles"), site=str(site)))["cpu"])
        runs["Pagefind alone (CPU)"].append(fresh(PAGEFIND.format(
            root=str(ROOT), site=str(site), bundle=str(bundle), language=language))["cpu"])
        set_aside(site, TRASH)
        set_aside(bundle, TRASH)
        runs["related lists alone (CPU)"].append(
            fresh(RELATED.format(root=str(ROOT), size=size))["cpu"])
    return runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    cores = os.cpu_count()
    print(f"Machine: {machine()}")
    with measuring(TRASH) as waited:
        if waited:
            print(f"(waited {waited:.0f} s: the last benchmark's removals, see bench/aside.py)")
        runs = measure(args.size, args.rounds)
    print(f"\n{args.size} articles, {args.rounds} rounds\n")
    print(f"{'step':28} {'median s':>9}  runs (s)")
    for name, values in runs.items():
        shown = " ".join(f"{value:.2f}" for value in values)
        print(f"{name:28} {statistics.median(values):9.2f}  {shown}")
    parts = [runs[name] for name in runs if name.endswith("alone (CPU)")]
    result = verdict(runs["stock Pelican cold (wall)"], parts, cores)
    print(f"\nCPU that {cores} cores give in half of stock's slowest cold build: "
          f"{result['budget']:.2f} s")
    print(f"least Markdown + least Pagefind + least related lists: {result['floor']:.2f} s")
    print(f"left for everything else a build does: {result['left']:.2f} s "
          f"({result['left'] / result['budget']:.0%} of the budget)")
    rest = statistics.median(runs["stock Pelican cold (CPU)"]) - statistics.median(
        runs["Markdown alone (CPU)"])
    print(f"stock's CPU less Markdown alone (medians), for everything else with its own "
          f"theme: {rest:.2f} s")
    ours = statistics.median(runs["ours cold (CPU)"]) - sum(
        statistics.median(values) for values in parts)
    print(f"our cold build's CPU less the three parts alone (medians): {ours:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
