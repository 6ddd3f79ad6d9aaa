"""bench/memory.py: the memory of a process and its descendants, summed at one moment."""

import os
import subprocess
import sys

from bench import memory

MB = 1024  # kB

# A process that fills 96 MB, forks, and holds still (the child too) until its stdin closes:
# the 96 MB are resident in both and shared, so their RSS counts them twice, their PSS once.
FORKED = """
import os, sys
data = bytearray(b"x" * (96 * 2**20))
if os.fork() == 0:
    sys.stdin.read()
    os._exit(0)
print("ready", flush=True)
sys.stdin.read()
os.wait()
"""


def test_tree_memory_counts_pages_shared_after_a_fork_once():
    process = subprocess.Popen([sys.executable, "-c", FORKED], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert process.stdout.readline() == "ready\n"
        found = memory.descendants(process.pid)
        assert len(found) == 1  # the forked child
        assert found == memory._descendants_by_stat(process.pid)  # the other way, the same
        tree = memory.TreeMemory(process.pid, interval=0.05)
        no_pss = memory.TreeMemory(process.pid, interval=0.05, pss=False)
        while tree.samples < 3 or no_pss.samples < 3:
            os.sched_yield()
        tree.stop(), no_pss.stop()
    finally:
        process.communicate("")
    assert tree.rss_kb > 2 * 96 * MB  # each process counts the 96 MB
    assert 96 * MB < tree.pss_kb < 96 * MB + 60 * MB  # counted once, plus two Pythons
    assert tree.cpu_s > 0
    # the child's peak: the 96 MB it shares, plus one Python (the parent is not a worker)
    assert 96 * MB < tree.worker_kb < 96 * MB + 30 * MB
    assert no_pss.pss_kb == 0 and no_pss.rss_kb > 2 * 96 * MB
    assert 96 * MB < no_pss.worker_kb < 96 * MB + 30 * MB


def test_a_process_gone_reads_as_nothing():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert memory.status_kb(process.pid, "VmRSS") == 0
    assert memory.rollup_kb(process.pid) == {"Rss": 0, "Pss": 0}
    assert memory.descendants(process.pid) == []


def test_status_and_rollup_read_this_process():
    rss = memory.status_kb(os.getpid(), "VmRSS")
    rolled = memory.rollup_kb(os.getpid())
    assert rss > 0 and rolled["Rss"] > 0
    assert 0 < rolled["Pss"] <= rolled["Rss"]
