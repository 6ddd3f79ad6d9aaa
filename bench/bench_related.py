"""Benchmark of the related_posts step: seconds and peak memory for N synthetic articles.

For each size, a seeded corpus from ``bench.corpus`` (≈500 words per article, 8 categories,
60 tags) is generated once; then each case runs in its own Python process, so that its peak RSS
is its own:

- cold:     no vector cache: tokenise every article, score, write the cache file;
- warm:     the cache file from "cold": load it, score (nothing to tokenise);
- one edit: the warm cache and one article's text changed: load, tokenise one, score, save.

The step is what the plugin does after Pelican has read the articles: build the records
(HTML → plain text), ``related_articles``, load/save the cache. Wall and CPU seconds are both
printed (the machine is shared: CPU seconds are less disturbed by other work).

    python -m bench.bench_related [--sizes 10000,50000] [--seed 1]
"""

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import generate_articles, to_html  # noqa: E402
from bench.machine import machine  # noqa: E402
from plugins.related_posts.related_posts import must_save  # noqa: E402
from plugins.related_posts.scoring import (  # noqa: E402
    Params,
    Record,
    VectorCache,
    plain_text,
    related_articles,
)
from plugins.vn_text import VIETNAM_TZ  # noqa: E402

NOW = datetime(2025, 1, 1, tzinfo=VIETNAM_TZ)  # after every generated date


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def records_of(articles):
    """What the plugin builds from Pelican articles (see related_posts.article_text)."""
    records = []
    for article in articles:
        title = plain_text(article["title"])
        records.append(
            Record(
                slug=article["slug"],
                date=article["date"],
                category=article["category"],
                tags=tuple(sorted(article["tags"])),
                text=f"{title} . {title} . {plain_text(to_html(article))}",
            )
        )
    return records


def run_case(case, corpus_path, cache_path):
    """One measurement, in this (fresh) process; prints a JSON line."""
    with open(corpus_path, "rb") as handle:
        articles = pickle.load(handle)
    if case == "one-edit":
        articles[0] = dict(articles[0], body=articles[0]["body"] + "\n\nĐoạn văn mới thêm.")
    baseline = rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    records = records_of(articles)
    cache = VectorCache() if case == "cold" else VectorCache.load(cache_path)
    lists, _ = related_articles(records, NOW, Params(), cache)
    if must_save(cache, os.path.exists(cache_path)):  # the plugin's rule
        cache.save(cache_path, keep=cache.used)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # Sanity check of quality at scale: the first three on the article's own sub-topic.
    precision = sum(
        sum(articles[j]["topic"] == articles[i]["topic"] for j in chosen[:3]) / 3
        for i, chosen in enumerate(lists)
    ) / len(lists)
    print(
        json.dumps(
            {
                "case": case,
                "n": len(articles),
                "wall": round(wall, 2),
                "cpu": round(cpu, 2),
                "tokenised": cache.added,
                "baseline_mb": round(baseline),
                "peak_mb": round(rss_mb()),
                "cache_mb": round(os.path.getsize(cache_path) / 2**20, 1),
                "topic_p3": round(precision, 3),
            }
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        run_case(args.case, args.corpus, args.cache)
        return
    print(f"machine: {machine()}")
    print(
        "| articles | case | wall s | CPU s | tokenised | peak RSS MB | (corpus alone) "
        "| cache file MB | topic precision@3 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="bench-related-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            corpus = Path(folder) / f"corpus-{size}.pickle"
            cache = Path(folder) / f"cache-{size}" / "vectors.npz"
            with open(corpus, "wb") as handle:
                pickle.dump(generate_articles(size, args.seed, args.words), handle)
            for case in ("cold", "warm", "one-edit"):
                output = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.bench_related",
                        "--case",
                        case,
                        "--corpus",
                        str(corpus),
                        "--cache",
                        str(cache),
                    ],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                r = json.loads(output.strip().splitlines()[-1])
                print(
                    f"| {r['n']} | {r['case']} | {r['wall']} | {r['cpu']} | {r['tokenised']} "
                    f"| {r['peak_mb']} | {r['baseline_mb']} | {r['cache_mb']} "
                    f"| {r['topic_p3']} |",
                    flush=True,
                )
    print(f"after: load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
