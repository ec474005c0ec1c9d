"""pytest plugin (`-p bench.rss_probe`): at exit, write this pytest process's peak RSS to $BENCH_RSS_FILE.

VmHWM is the process's own high-water mark: docker CLI children are not in it, and a dump read
into memory would be.
"""

import os
from pathlib import Path

ENV = "BENCH_RSS_FILE"


def peak_rss_kib(status: Path = Path("/proc/self/status")) -> int:
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM in {status}")


def pytest_unconfigure(config):
    target = os.environ.get(ENV)
    if target:
        Path(target).write_text(f"{peak_rss_kib()}\n")
