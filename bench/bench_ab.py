"""Two versions of the code timed against each other, alternating, on one corpus.

What a change to the build does to its speed is smaller than what this shared machine does
to one benchmark run (runs of the same code differ by up to 20 %). So the two versions are
timed in the same minutes: each edit is made once to a private copy of the seeded corpus, then
built by both versions, each in a fresh process with its own output and cache, in alternating
order (base first in even rounds, target first in odd ones). At the end the two outputs must
be identical file by file: a faster build that makes another site is not faster.

    python -m bench.bench_ab BASE [--target REV] [--size 10000] [--rounds 3]
                             [--kinds recent,old,new,setting,cold] [--search on|off]

BASE and ``--target`` are git revisions (``git archive`` copies them under ``.bench/ab/``);
without ``--target`` the target is the working tree. Both run with this checkout's virtualenv,
so compare revisions with the same requirements.txt. Kinds: ``recent`` (a sentence appended
to the newest article), ``old`` (to an old one), ``new`` (an article added after all others):
``bench_build``'s edits; ``setting`` (the office's phone number, ``OFFICE_PHONE``, given a new
value: a setting shown in every page's footer, every page written again); and ``cold`` (not
by default: the output and cache set aside, the same corpus built from nothing; what is set
aside is removed at the end, ``aside.py``).
Printed: each build's wall seconds (inside the process, from the settings read to the end
of the build, as ``bench_build``) and CPU seconds (the build's and its workers'), per kind
the two means and their ratios. On a busy machine the CPU seconds
vary less than the wall seconds: a change that removes work shows there first.
"""

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.aside import measuring, set_aside  # noqa: E402
from bench.bench_build import OURS, add_article, edit_article, run  # noqa: E402
from bench.corpus import site_corpus  # noqa: E402
from bench.machine import machine  # noqa: E402
from tests.conftest import file_digests  # noqa: E402

AB = ROOT / ".bench" / "ab"
KINDS = ("recent", "old", "new", "setting", "cold")
# ``setting``: the phone number of round N (a new one each round, as when the office's changes).
PHONE = "0220 3716 {:03d}"


def export(revision, folder):
    """The files of git ``revision`` under ``folder`` (replaced); its full commit id."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, stdout=archive,
                       check=True)  # fmt: skip
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(folder, filter="data")
    return commit


def change(corpus, kind, originals, settings, number):
    """Make the change of ``kind`` in round ``number``: to the corpus, or to the
    ``settings`` of both builds."""
    if kind == "new":
        add_article(corpus, originals)
    elif kind == "setting":
        for override in settings.values():
            override["OFFICE_PHONE"] = PHONE.format(number)
    elif kind != "cold":
        edit_article(corpus, kind, originals)


def compare(size, base, target, rounds, kinds, search, work=AB):
    """{kind: {"base": [s…], "target": [s…]}} of wall seconds, the same of CPU seconds, and
    the files whose bytes differ between the two outputs at the end (none expected)."""
    source, categories = site_corpus(size)
    corpus = work / f"corpus-{size}"
    set_aside(corpus, work / "trash")  # removed after the measurements (aside.py)
    shutil.copytree(source, corpus)
    trees = {"base": base, "target": target}
    settings = {}
    for name in trees:
        set_aside(work / name, work / "trash")
        settings[name] = {
            "PATH": str(corpus), "OUTPUT_PATH": str(work / name / "output"),
            "CACHE_PATH": str(work / name / "cache"), "SITE_CATEGORIES": categories,
            "SEARCH_INDEX": search,
        }  # fmt: skip
        run(OURS, settings[name], root=trees[name])  # cold: each fills its caches
    times = {kind: {"base": [], "target": []} for kind in kinds}
    cpu = {kind: {"base": [], "target": []} for kind in kinds}
    originals = {}  # what edit_article and add_article record; the copy is thrown away
    for number in range(rounds):
        for kind in kinds:
            change(corpus, kind, originals, settings, number)
            order = ("base", "target") if number % 2 == 0 else ("target", "base")
            for name in order:
                if kind == "cold":  # the same corpus built again from nothing
                    set_aside(settings[name]["OUTPUT_PATH"], work / "trash")
                    set_aside(settings[name]["CACHE_PATH"], work / "trash")
                figures = run(OURS, settings[name], root=trees[name])
                times[kind][name].append(figures["wall"])
                cpu[kind][name].append(figures["cpu"])
                print(f"round {number + 1} {kind:6} {name:6} {figures['wall']:7.2f} s"
                      f" ({figures['cpu']:.2f} s CPU, all processes at most"
                      f" {figures['tree_pss_mb']:.0f} MB PSS)", flush=True)  # fmt: skip
    base_files = file_digests(work / "base" / "output")
    target_files = file_digests(work / "target" / "output")
    differ = sorted(
        name for name in set(base_files) | set(target_files)
        if base_files.get(name) != target_files.get(name)
    )  # fmt: skip
    return times, cpu, differ


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--target")
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default="recent,old,new")
    parser.add_argument("--search", choices=("on", "off"), default="on")
    args = parser.parse_args(argv)
    kinds = [kind for kind in args.kinds.split(",") if kind]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}, choose from {', '.join(KINDS)}")
    base = AB / "tree-base"
    base_commit = export(args.base, base)
    target, target_name = ROOT, "the working tree"
    if args.target:
        target = AB / "tree-target"
        target_name = export(args.target, target)[:12]
    print(f"Machine: {machine()}")
    print(f"base {base_commit[:12]} against target {target_name}, {args.size} articles, "
          f"search {args.search}, {args.rounds} rounds")  # fmt: skip
    with measuring(AB / "trash"):  # the last benchmark's removals, then this one's (aside.py)
        times, cpu, differ = compare(args.size, base, target, args.rounds, kinds,
                                     args.search == "on")  # fmt: skip
    print(f"\n{'edit':8} {'base s':>30} {'target s':>30} {'target / base':>14}")
    for kind, pair in times.items():
        row = [", ".join(f"{t:.2f}" for t in pair[name]) for name in ("base", "target")]
        ratio = mean(pair["target"]) / mean(pair["base"])
        print(f"{kind:8} {row[0]:>30} {row[1]:>30} {ratio:14.3f}")
        print(f"{'  mean':8} {mean(pair['base']):30.2f} {mean(pair['target']):30.2f}")
        used = cpu[kind]
        print(f"{'  CPU':8} {mean(used['base']):30.2f} {mean(used['target']):30.2f} "
              f"{mean(used['target']) / mean(used['base']):14.3f}")
    if differ:
        print(f"\nthe outputs differ in {len(differ)} files, first: {differ[:5]}")
        return 1
    print("\nthe two outputs are identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
