"""Facts of the machine and tools a result was measured on."""

import os
import platform
import statistics
from pathlib import Path

from procedures import runner
from procedures.box import backup_box
from procedures.commands import compose as compose_cmd
from procedures.context import OpsContext
from procedures.stack import tools as facts


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


def round_trips_ms(ctx: OpsContext, times: int = 10) -> dict:
    """What one `docker exec` and one `docker compose config` cost here: every runbook step pays them."""
    with backup_box(ctx) as box:
        execs = [box.run(["true"], limit="command").seconds for _ in range(times)]
    renders = [ctx.compose.run(compose_cmd.config_json(ctx.config.stack), limit="command").seconds for _ in range(times)]
    return {"docker exec round trip ms (median)": round(statistics.median(execs) * 1000),
            "docker compose config ms (median)": round(statistics.median(renders) * 1000)}


def describe(ctx: OpsContext) -> dict:
    commit = runner.run(["git", "describe", "--always", "--dirty"], check=False, limit="command").stdout.strip()
    return {"cpu_count": os.cpu_count(), "cpu_model": _cpu_model(), "memory_gib": _meminfo_gib(),
            "kernel": platform.release(), "python": platform.python_version(), **facts.tool_versions(),
            "PostgreSQL server": facts.database_version(ctx), **round_trips_ms(ctx), "commit": commit or "unknown"}
