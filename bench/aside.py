"""Old output and cache folders moved out of a measurement's way, removed once it is done.

Creating a file on an ext4 file system without a journal (this machine's root) skips every
inode freed in the last minute, up to six while its inode table's block is not yet written
back (the kernel's ``recently_deleted``), and it scans for them again at each new file. A
cold build right after removing the last one's output (23,000 files) and cache thus paid
for the removal: 16.6 and 17.2 s of wall time against 14.1 and 13.8 s for the same build
with the old folders only renamed (10,000 articles, search off, alternating), its system
time 6–7 s instead of 2.1 s. A benchmark that removed the folders just before our cold
build, and stock Pelican's minutes later, measured the file system rather than the builds.

So the benchmarks rename old folders into a trash folder (``set_aside``, instant, nothing
freed) and empty it when every figure is taken (``empty_trash``, which notes when). A
benchmark started right after another one emptied its trash waits first (``settle``): the
removals written back to the disk (``os.sync``), ext4 then skips their inodes for a minute.
"""

import contextlib
import itertools
import os
import shutil
import time
from pathlib import Path

# Seconds after a removal before a measurement: ext4's RECENTCY_MIN (60 s) once the inode
# table is written back, and a margin; 300 s more while it is not (RECENTCY_DIRTY).
SETTLE_SECONDS = 65
DIRTY_SECONDS = 365
# When a benchmark last removed its trash (seconds since the epoch).
LAST_REMOVAL = Path(__file__).resolve().parent.parent / ".bench" / "last-removal"


def set_aside(path, trash):
    """Move ``path`` (a folder or file; nothing if missing) into the folder ``trash``, under
    a name no earlier one took; the new path, or None."""
    path, trash = Path(path), Path(trash)
    if not os.path.lexists(path):
        return None
    trash.mkdir(parents=True, exist_ok=True)
    for number in itertools.count(1):
        target = trash / f"{number}-{path.name}"
        if not os.path.lexists(target):
            break
    path.rename(target)
    return target


def empty_trash(trash, stamp=LAST_REMOVAL):
    """Remove the folder ``trash`` and everything set aside in it; if there was anything,
    note the time in the file ``stamp`` for ``settle``."""
    if not os.path.lexists(trash):
        return
    shutil.rmtree(trash, ignore_errors=True)
    Path(stamp).parent.mkdir(parents=True, exist_ok=True)
    Path(stamp).write_text(f"{time.time()}\n")


def settle(stamp=LAST_REMOVAL, sleep=time.sleep, now=time.time, sync=os.sync):
    """Before measuring: if a benchmark removed its trash less than DIRTY_SECONDS ago, write
    everything back (``sync``), then wait for the rest of SETTLE_SECONDS since the removal.
    The seconds waited."""
    try:
        last = float(Path(stamp).read_text())
    except (OSError, ValueError):
        return 0.0
    elapsed = now() - last
    if elapsed >= DIRTY_SECONDS:
        return 0.0
    sync()
    remaining = SETTLE_SECONDS - elapsed
    if remaining <= 0:
        return 0.0
    sleep(remaining)
    return remaining


@contextlib.contextmanager
def measuring(trash, stamp=LAST_REMOVAL):
    """Around a benchmark's measurements: ``settle`` first (the seconds waited are yielded),
    ``empty_trash(trash)`` once they are done or have failed."""
    waited = settle(stamp)
    try:
        yield waited
    finally:
        empty_trash(trash, stamp)
