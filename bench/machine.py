"""Facts of the machine and tools a result was measured on."""

import os
import platform
from pathlib import Path

from procedures import facts, runner
from procedures.context import OpsContext


def _meminfo_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20, 1)
    return 0.0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def describe(ctx: OpsContext) -> dict:
    commit = runner.run(["git", "describe", "--always", "--dirty"], check=False).stdout.strip()
    return {"cpu_count": os.cpu_count(), "cpu_model": _cpu_model(), "memory_gib": _meminfo_gib(),
            "kernel": platform.release(), "python": platform.python_version(), **facts.tool_versions(),
            "PostgreSQL server": facts.database_version(ctx), "commit": commit or "unknown"}
