"""Benchmark of the search plugin: Pagefind index size and time for N generated articles.

    make bench-search                       # 10,000 articles
    .venv/bin/python bench/bench_search.py --articles 2000

Generates a seeded corpus of Markdown articles (about 500 words each) from the syllables
of the sample articles (real Vietnamese, with their real frequencies), builds it once with
Pelican and the search plugin switched off, then times on the same output:

1. the plugin's full indexing (read pages, prepare them, Pagefind, write the bundle);
2. the plugin on unchanged pages (hash check only: the skip path);
3. the plugin after a one-article edit (a full re-index: Pagefind cannot update an index);
4. the bare Pagefind CLI on the same pages, for comparison.

Prints a Markdown table for docs/BENCHMARKS.md. The corpus and the build stay in
.bench/search/ (ignored by git) so a second run reuses them (--fresh rebuilds).
"""

import argparse
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.vn_text import slugify  # noqa: E402

WORK = ROOT / ".bench" / "search"
SEED = 20211103
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def sample_syllables():
    """Syllables of the sample articles' bodies with their counts (lower case)."""
    counts = {}
    for path in sorted((ROOT / "content" / "articles").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        body = text.split("\n\n", 1)[1] if "\n\n" in text else text
        body = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", body)  # image lines
        for word in WORD.findall(body):
            word = word.lower()
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items())


def sentence(rng, words, weights, low, high):
    chosen = rng.choices(words, weights, k=rng.randint(low, high))
    chosen[0] = chosen[0].capitalize()
    return " ".join(chosen)


def generate_corpus(content, articles, words_per_article=500, seed=SEED):
    """Write ``articles`` Markdown articles (and the sample pages) under ``content``."""
    from pelicanconf import SITE_CATEGORIES

    rng = random.Random(seed)
    pairs = sample_syllables()
    words = [w for w, _ in pairs]
    weights = [c for _, c in pairs]
    tags = sorted({sentence(rng, words, weights, 2, 3).lower() for _ in range(60)})
    start = datetime(2015, 1, 1, 7, 30)
    if content.exists():
        shutil.rmtree(content)
    shutil.copytree(ROOT / "content" / "pages", content / "pages")
    shutil.copytree(ROOT / "content" / "extra", content / "extra")
    for number in range(articles):
        title = sentence(rng, words, weights, 8, 16) + f" (số {number + 1})"
        date = start + timedelta(hours=7 * number + rng.randint(0, 5))
        paragraphs = []
        total = 0
        while total < words_per_article:
            sentences = [sentence(rng, words, weights, 10, 25) for _ in range(rng.randint(2, 4))]
            paragraph = ". ".join(sentences) + "."
            total += paragraph.count(" ") + 1
            paragraphs.append(paragraph)
        meta = [
            f"Title: {title}",
            f"Date: {date:%Y-%m-%d %H:%M}",
            f"Category: {rng.choice(SITE_CATEGORIES)}",
            f"Tags: {', '.join(rng.sample(tags, 2))}",
            "Author: VPHU Gia Lộc",
        ]
        path = content / "articles" / f"{date:%Y}" / f"{slugify(title)}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(meta) + "\n\n" + "\n\n".join(paragraphs) + "\n", "utf-8")


def build(content, output, **overrides):
    from tests.conftest import build_site

    return build_site(output, "pelicanconf.py", content=content, **overrides)


def folder_size(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def child_cpu():
    """CPU seconds (user + system) used so far by finished child processes (Pagefind)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        ram = "unknown RAM"
    return f"{os.cpu_count()} cores (nproc), {cpu}, {ram}, Python {platform.python_version()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--fresh", action="store_true", help="regenerate and rebuild")
    args = parser.parse_args()

    from plugins.search import search

    content = WORK / f"content-{args.articles}"
    output = WORK / f"output-{args.articles}"
    cache = WORK / f"output-{args.articles}-cache"
    stamp = WORK / f"built-{args.articles}"
    if args.fresh or not stamp.exists():
        print(f"generating {args.articles} articles …", file=sys.stderr)
        generate_corpus(content, args.articles, args.words)
        for folder in (output, cache):
            shutil.rmtree(folder, ignore_errors=True)
        print("building with Pelican (search off) …", file=sys.stderr)
        build_time, _ = timed(build, content, output, SEARCH_INDEX=False)
        stamp.write_text(f"{build_time:.1f}\n")
    build_time = float(stamp.read_text())

    settings = search.search_settings({"OUTPUT_PATH": str(output), "CACHE_PATH": str(cache)})
    bundle = output / settings["SEARCH_BUNDLE_DIR"]
    shutil.rmtree(bundle, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)

    cpu_before = child_cpu()
    full_time, full = timed(search.update_index, output, settings)
    full_cpu = child_cpu() - cpu_before
    index_bytes = folder_size(bundle)
    data_bytes = sum(folder_size(bundle / sub) for sub in ("index", "fragment"))
    skip_time, skipped = timed(search.update_index, output, settings)
    assert skipped.skipped, "unchanged pages must not be re-indexed"

    edited = sorted(output.glob("[0-9]*/*/*.html"))[len(full.pages) // 2]
    original = edited.read_bytes()
    edited.write_bytes(original.replace(b"</h1>", b" \xc4\x91\xc3\xa3 s\xe1\xbb\xada</h1>", 1))
    cpu_before = child_cpu()
    edit_time, edit = timed(search.update_index, output, settings)
    edit_cpu = child_cpu() - cpu_before
    edited.write_bytes(original)
    assert not edit.skipped

    cli_dir = WORK / "cli-bundle"
    shutil.rmtree(cli_dir, ignore_errors=True)
    command = [sys.executable, "-m", "pagefind", "--site", str(output)]
    command += ["--output-path", str(cli_dir), "--force-language", "vi", "--silent"]
    cpu_before = child_cpu()
    cli_time, _ = timed(subprocess.run, command, check=True)
    cli_cpu = child_cpu() - cpu_before
    shutil.rmtree(cli_dir, ignore_errors=True)

    downloads = search_downloads(output, ["dang vien", "đảng viên", "Gia Loc"])

    mb = 1024 * 1024
    print(f"\nMachine: {machine()}\n")
    print(
        f"Corpus: {args.articles} articles of about {args.words} words, "
        f"{len(full.pages)} pages indexed, {full.words} distinct indexed words\n"
    )
    print("| step | wall time | Pagefind CPU time |")
    print("| --- | ---: | ---: |")
    print(f"| Pelican build of the site, search off (once, for reference) | {build_time:.1f} s | |")
    print(f"| plugin: full index ({phases(full)}) | {full_time:.1f} s | {full_cpu:.1f} s |")
    print(f"| plugin: unchanged pages (read + hash, skip) | {skip_time:.2f} s | 0 |")
    print(
        f"| plugin: after a one-article edit, full re-index ({phases(edit)}) "
        f"| {edit_time:.1f} s | {edit_cpu:.1f} s |"
    )
    print(f"| bare Pagefind CLI on the same output | {cli_time:.1f} s | {cli_cpu:.1f} s |")
    print()
    print(
        f"Bundle: {index_bytes / mb:.1f} MiB on disk, of which index + fragments "
        f"{data_bytes / mb:.1f} MiB. Ratios: full index / Pelican build "
        f"{full_time / build_time:.2f}; plugin Pagefind step / bare CLI "
        f"{full.timings['pagefind'] / cli_time:.2f}; skip / full {skip_time / full_time:.3f}."
    )
    if downloads:
        print()
        print("| first search on the page | downloaded | requests |")
        print("| --- | ---: | ---: |")
        for query, (size, count) in downloads.items():
            print(
                f"| `{query}` (search page, Pagefind files, 10 results) | {size / 1024:.0f} KiB "
                f"| {count} |"
            )


def phases(result):
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())


def search_downloads(output, queries):
    """Bytes and requests of the Pagefind bundle for one search in Chromium, per query."""
    try:
        from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _browser_missing_reason, serve
    except ImportError:
        return {}
    if _browser_missing_reason():
        return {}
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    httpd = serve(output)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    found = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for query in queries:
                context = browser.new_context()  # an empty cache for every query
                page = context.new_page()
                sizes = []
                page.on(
                    "requestfinished",
                    lambda request, sizes=sizes: (
                        "/pagefind/" in request.url
                        and sizes.append(request.sizes()["responseBodySize"])
                    ),
                )
                page.goto(f"{base}/tim-kiem.html?q={quote(query)}")
                page.wait_for_selector(".search-result", timeout=120_000)
                page.wait_for_load_state("networkidle")
                found[query] = (sum(sizes), len(sizes))
                context.close()
            browser.close()
    finally:
        httpd.shutdown()
    return found


if __name__ == "__main__":
    main()
