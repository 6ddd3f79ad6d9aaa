"""The machine line every benchmark prints: cores, CPU model, RAM, Python, load average."""

import os
import platform
from pathlib import Path


def machine():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB RAM, Python "
            f"{platform.python_version()}, load average {load:.1f} at the start")  # fmt: skip
