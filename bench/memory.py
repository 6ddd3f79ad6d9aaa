"""Memory of a build and every process it starts, read from /proc (Linux).

A build here is several processes: the build's own, its reading and rendering workers
(forked from it), the related lists' process and Pagefind. Each one's peak resident memory
(``VmHWM``) says how large it grew; what the machine needs at once is their sum at one
moment. Summing their resident sizes (RSS) counts twice the pages a forked process still
shares with its parent, so the sum that matters is that of their proportional sizes (PSS:
each shared page divided among the processes that share it), from ``smaps_rollup``.

``TreeMemory`` samples both sums in a thread of the benchmark's process, every
``interval`` seconds, and keeps the largest; its own CPU time is kept too, so that what the
sampling takes from the build it measures is known.
"""

import functools
import os
import threading
import time


@functools.cache
def _children_files():
    """Whether the kernel has /proc/PID/task/TID/children (looked at once)."""
    return os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def descendants(pid):
    """PIDs of all processes below ``pid``: from each thread's ``children`` file where the
    kernel has them (a few small reads), else from every process's ``stat``."""
    if not _children_files():
        return _descendants_by_stat(pid)
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        try:
            threads = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                with open(f"/proc/{parent}/task/{thread}/children") as handle:
                    children = [int(child) for child in handle.read().split()]
            except OSError:
                continue
            found.extend(children)
            stack.extend(children)
    return found


def _descendants_by_stat(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                continue
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def status_kb(pid, key):
    """A ``kB`` field of /proc/PID/status (``VmRSS``, ``VmHWM``…); 0 if the process is gone."""
    return statuses_kb(pid, (key,))[key]


def statuses_kb(pid, keys):
    """``{key: kB}`` of the fields ``keys`` of /proc/PID/status, read once; zeros if the
    process is gone."""
    found = dict.fromkeys(keys, 0)
    wanted = {key + ":": key for key in keys}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                key = wanted.get(line[: line.find(":") + 1])
                if key is not None:
                    found[key] = int(line.split()[1])
    except OSError:
        pass
    return found


def rollup_kb(pid, keys=("Rss", "Pss")):
    """``{key: kB}`` from /proc/PID/smaps_rollup; zeros if the process is gone. The kernel
    walks the process's page tables for it: about 17 ms a GB of resident memory."""
    found = dict.fromkeys(keys, 0)
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name in found:
                    found[name] = int(rest.split()[0])
    except (OSError, ValueError):
        pass
    return found


PSS_EVERY = 0.5  # seconds between two readings of the PSS sum, unless memory grows fast


class TreeMemory:
    """Largest sums of RSS and PSS over process ``pid`` and its descendants, sampled in a
    thread until ``stop()``: ``rss_kb``, ``pss_kb``, ``samples``, ``cpu_s`` (the thread's),
    and ``worker_kb``, the largest peak (``VmHWM``) of a descendant. ``pss=False``: no PSS
    (``pss_kb`` stays 0), for a sampler in the measured process itself, which reading PSS
    would slow down."""

    def __init__(self, pid, interval=0.1, pss=True):
        self.pid, self.interval, self.pss = pid, interval, pss
        self.rss_kb = self.pss_kb = self.worker_kb = self.samples = 0
        self.cpu_s = 0.0
        self._read_at, self._read_rss = float("-inf"), 0  # the last PSS reading
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        started = time.thread_time()
        while True:
            self.sample()
            if self._done.wait(self.interval):
                break
        self.cpu_s = time.thread_time() - started

    def sample(self):
        """One sample: add the tree's sums to the largest seen. The PSS sum costs about
        17 ms a GB of resident memory, the RSS sum 0.005 ms a process: the PSS sum is read
        only when the RSS sum is above the largest PSS sum yet (below it, it cannot be
        larger), and then once every ``PSS_EVERY`` seconds, or sooner if the RSS sum grew
        by a quarter since the last reading."""
        below = descendants(self.pid)
        pids = [self.pid, *below]
        own = status_kb(self.pid, "VmRSS")
        # One read of each descendant's status for both fields.
        fields = [statuses_kb(pid, ("VmRSS", "VmHWM")) for pid in below]
        rss = own + sum(field["VmRSS"] for field in fields)
        self.rss_kb = max(self.rss_kb, rss)
        self.worker_kb = max([self.worker_kb, *(field["VmHWM"] for field in fields)])
        now = time.monotonic()
        due = now - self._read_at >= PSS_EVERY or rss > 1.25 * self._read_rss
        if self.pss and rss > self.pss_kb and due:
            self.pss_kb = max(self.pss_kb, sum(rollup_kb(pid)["Pss"] for pid in pids))
            self._read_at, self._read_rss = now, rss
        self.samples += 1

    def stop(self):
        self._done.set()
        self._thread.join()
        return self
