"""Benchmark of the search plugin: Pagefind index size and time for N generated articles,
one index against one index per shard (year).

    make bench-search                       # 10,000 articles
    .venv/bin/python bench/bench_search.py --articles 2000

Uses the seeded corpus of ``make bench-build`` (bench/corpus.py: articles of about 500
Vietnamese syllables, dates 2010–2024; written once under .bench/build/), builds it once with
Pelican and the search plugin switched off, then times the plugin on the same output, with
the build's list of output files (the incremental manifest, as ``build_outputs`` gives it
to the plugin during a build):

1. cold indexing as one index (``SEARCH_SHARD_PATTERN = None``): what any change cost
   before shards;
2. cold indexing in shards, one Pagefind process at a time (``SEARCH_WORKERS = 1``);
3. cold indexing in shards, one Pagefind process per core (the default);
4. no change: from the build's outputs (nothing read), and by reading every page (plain
   ``pelican.Pelican``);
5. one article edited (its page rewritten, its entry changed): one shard re-indexed, a
   year's for an old article, the newest month's for the newest;
6. in Chromium, what a reader downloads for a first search, one index against shards.

Wall time, and CPU time of the plugin's process and of its Pagefind processes. Prints
Markdown tables for docs/BENCHMARKS.md. The corpus and the build stay in .bench/search/
(ignored by git) so a second run reuses the build (--fresh rebuilds).
"""

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.aside import measuring, set_aside  # noqa: E402
from bench.corpus import site_corpus  # noqa: E402
from bench.machine import machine  # noqa: E402

WORK = ROOT / ".bench" / "search"
TRASH = WORK / "trash"  # what a cold run replaced, removed at the end (bench/aside.py)


def build(content, output, **overrides):
    from tests.conftest import build_site

    return build_site(output, "pelicanconf.py", content=content, **overrides)


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def cpu_now():
    """CPU seconds (user + system) of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def measured(function, *args, **kwargs):
    """(wall, own CPU, children's CPU, result) of one call."""
    own, kids = cpu_now()
    wall, result = timed(function, *args, **kwargs)
    own_after, kids_after = cpu_now()
    return wall, own_after - own, kids_after - kids, result


def build_outputs_of(cache, output):
    """The incremental manifest of the bench build of ``output``: what ``build_outputs``
    gives the plugin (read as the build reads it: ``BuildState``)."""
    from plugins.incremental.incremental import manifest_path
    from plugins.incremental.state import BuildState

    manifest = manifest_path({"CACHE_PATH": str(cache)}, str(output))
    files = BuildState(str(output), manifest).previous
    if not files:
        raise SystemExit(f"no manifest of the build at {manifest}")
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate and rebuild")
    parser.add_argument("--no-browser", action="store_true", help="skip the download figures")
    parser.add_argument(
        "--shard-pattern", help="SEARCH_SHARD_PATTERN of the shard runs (default: the plugin's)"
    )
    parser.add_argument(
        "--shards-only", action="store_true", help="no one-index and no one-at-a-time run"
    )
    args = parser.parse_args()

    from plugins.search import search

    content, categories = site_corpus(args.articles)
    output = WORK / f"output-{args.articles}"
    cache = WORK / f"output-{args.articles}-cache"
    stamp = WORK / f"built-{args.articles}"
    built_from = stamp.read_text().split("\n")[1:2] if stamp.exists() else []
    if args.fresh or built_from != [str(content)]:
        for folder in (output, cache):
            set_aside(folder, TRASH)
        print("building with Pelican (search off) …", file=sys.stderr)
        build_time, _ = timed(build, content, output, SEARCH_INDEX=False,
                              SITE_CATEGORIES=categories)  # fmt: skip
        stamp.write_text(f"{build_time:.1f}\n{content}\n")
    build_time = float(stamp.read_text().split("\n")[0])
    outputs = build_outputs_of(cache, output)

    base = {"OUTPUT_PATH": str(output), "CACHE_PATH": str(cache)}
    if args.shard_pattern:
        base["SEARCH_SHARD_PATTERN"] = args.shard_pattern
    bundle = output / search.DEFAULTS["SEARCH_BUNDLE_DIR"]
    queries = [] if args.no_browser else ["dang vien", "đảng viên", "Gia Loc"]
    rows = []

    def cold(label, **overrides):
        set_aside(bundle, TRASH)
        set_aside(cache / "search", TRASH)
        settings = search.search_settings({**base, **overrides})
        print(f"{label} …", file=sys.stderr)
        wall, own, kids, result = measured(search.update_index, output, settings, outputs)
        rows.append((label, wall, own, kids, result))
        return settings, result

    one_size, one_downloads = None, {}
    if not args.shards_only:
        # 1. one index
        cold("cold, one index", SEARCH_SHARD_PATTERN=None)
        one_size = sizes(bundle)
        one_downloads = search_downloads(output, queries)
        # 2., 3. shards
        cold("cold, shards, 1 Pagefind process at a time", SEARCH_WORKERS=1)
    settings, full = cold(f"cold, shards, {search.workers(search.search_settings(base))} "
                          f"Pagefind processes at a time")  # fmt: skip
    shard_size = sizes(bundle)
    shard_downloads = search_downloads(output, queries)
    per_shard = {name: len(pages) for name, pages in
                 search.group_shards([(p, "") for p in full.pages], settings).items()}  # fmt: skip

    # 4. no change
    wall, own, kids, skipped = measured(search.update_index, output, settings, outputs)
    assert skipped.skipped and skipped.read == 0
    rows.append(("no change, from the build's outputs", wall, own, kids, skipped))
    wall, own, kids, skipped = measured(search.update_index, output, settings)
    assert skipped.skipped
    rows.append(("no change, every page read (plain Pelican)", wall, own, kids, skipped))

    # 5. one article edited: its page rewritten by the build, with a new entry; an old one
    # (a year shard) and the newest (the newest month's shard)
    shard_of_page = {page: name for name, pages in
                     search.group_shards([(p, "") for p in full.pages], settings).items()
                     for page, _ in pages}  # fmt: skip
    dated = sorted(page for page in full.pages if page[:1].isdigit())
    for which, edited_name in (("an old article", full.pages[len(full.pages) // 2]),
                               ("the newest article", dated[-1])):  # fmt: skip
        edited = output / edited_name
        original = edited.read_bytes()
        try:
            edited.write_bytes(original.replace(b"</h1>", " đã sửa</h1>".encode(), 1))
            stat = edited.stat()
            outputs[edited_name] = ["edited", stat.st_size, stat.st_mtime_ns]
            wall, own, kids, edit = measured(search.update_index, output, settings, outputs)
            assert edit.indexed == [shard_of_page[edited_name]], edit.indexed
            shard = edit.indexed[0]
            label = f"{which} edited: shard {shard} ({per_shard[shard]} pages) re-indexed"
            rows.append((label, wall, own, kids, edit))
        finally:
            edited.write_bytes(original)
            # the page is back as the manifest says: index it back, for a next run
            stat = edited.stat()
            outputs[edited_name] = ["restored", stat.st_size, stat.st_mtime_ns]
            search.update_index(output, settings, outputs)

    mb = 1024 * 1024
    print(f"\nMachine: {machine()}, Pagefind {search.pagefind_version()}\n")
    print(f"Shards: SEARCH_SHARD_PATTERN = {settings['SEARCH_SHARD_PATTERN']!r}, "
          f"SEARCH_SHARD_NEWEST = {settings['SEARCH_SHARD_NEWEST']!r}\n")
    print(
        f"Corpus: {args.articles} articles of about 500 syllables, {len(full.pages)} pages "
        f"indexed, in {len(per_shard)} shards: "
        + ", ".join(f"{name} {count}" for name, count in per_shard.items())
        + "\n"
    )
    print(f"Pelican build of the site, search off (once, for reference): {build_time:.1f} s\n")
    print("| step | wall | CPU, plugin | CPU, Pagefind | pages read |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, wall, own, kids, result in rows:
        print(f"| {label} | {wall:.2f} s | {own:.2f} s | {kids:.1f} s | {result.read} |")
    print()
    layouts = [("one index", one_size, one_downloads), ("shards", shard_size, shard_downloads)]
    layouts = [layout for layout in layouts if layout[1]]
    for label, (total, data, files), _ in layouts:
        print(f"Index, {label}: {total / mb:.1f} MiB in {files} files, of which index chunks and "
              f"fragments {data / mb:.1f} MiB.")  # fmt: skip
    if shard_downloads:
        print()
        print("| first search (empty cache) | " + " | ".join(
            f"{label}: requests (304) | bytes" for label, _, _ in layouts) + " |")  # fmt: skip
        print("| --- |" + " ---: | ---: |" * len(layouts))
        for query in queries:
            for part, label in (("index", "Pagefind files"), ("all", "whole page")):
                cells = [f"`{query}`, {label}"]
                for _, _, downloads in layouts:
                    size, count, revalidated = downloads[query][part]
                    cells += [f"{count} ({revalidated})", f"{size / 1024:,.0f} KiB"]
                print("| " + " | ".join(cells) + " |")


def sizes(bundle):
    """(bytes on disk, bytes of index chunks and fragments, files) of an index folder."""
    files = [p for p in Path(bundle).rglob("*") if p.is_file()]
    data = sum(p.stat().st_size for p in files if p.parent.name in ("index", "fragment"))
    return sum(p.stat().st_size for p in files), data, len(files)


def search_downloads(output, queries):
    """What the server sends for one search in Chromium (empty cache), per query: for the
    whole page ("all") and for the Pagefind files ("index"), (bytes, requests, of which
    revalidations answered 304 Not Modified)."""
    try:
        from tests.browser.conftest import (
            CHROMIUM,
            CHROMIUM_ARGS,
            QuietHandler,
            _browser_missing_reason,
        )
    except ImportError:
        return {}
    if not queries or _browser_missing_reason():
        return {}
    import functools
    import http.server
    import threading
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    hits = []

    class Counting(QuietHandler):
        def send_response(self, code, message=None):
            super().send_response(code, message)
            hits.append([self.path, code, 0])

        def send_header(self, keyword, value):
            super().send_header(keyword, value)
            if keyword.lower() == "content-length" and hits:
                hits[-1][2] = int(value)

    handler = functools.partial(Counting, directory=str(output))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    found = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for query in queries:
                context = browser.new_context()  # an empty cache for every query
                page = context.new_page()
                hits.clear()
                page.goto(f"{base}/tim-kiem.html?q={quote(query)}")
                page.wait_for_selector(".search-result", timeout=120_000)
                page.wait_for_load_state("networkidle")
                index = [h for h in hits if "/pagefind/" in h[0]]
                found[query] = {
                    part: (sum(h[2] for h in got), len(got), sum(h[1] == 304 for h in got))
                    for part, got in (("all", hits), ("index", index))
                }
                context.close()
            browser.close()
    finally:
        httpd.shutdown()
    return found


if __name__ == "__main__":
    with measuring(TRASH):  # the last benchmark's removals, then this one's (bench/aside.py)
        main()
