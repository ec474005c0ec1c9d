"""Memory: peak RSS of the pytest process of `ops_checks/backup.py` and `ops_checks/restore_drill.py`.

Dumps stream between containers and volumes; none passes through the runbook's process, so its
peak must not grow with the database. The two runs' step times show where a check spends its time.
The drill's peak comes from the restore benchmark's own drill runs (each probed): one drill less per
dataset, so measuring memory on every dataset and size costs one backup check each.
"""

from pathlib import Path
from uuid import uuid4

from testkit.disposable import DisposableStack

from . import checks, rss_probe
from .progress import say

TARGET_MB = 200


def probed(stack: DisposableStack, workdir: Path, check: str, *args: str,
           timeout: float = 3 * 3600) -> tuple[checks.CheckRun, float]:
    """The check run as users run it, with its pytest process's peak RSS in MB (read at its exit)."""
    target = workdir / f"{check}-{uuid4().hex[:8]}.rss"
    done = checks.run_check(stack, check, workdir, *args, "-p", "bench.rss_probe",
                            env={rss_probe.ENV: str(target)}, timeout=timeout)
    return done, round(int(target.read_text()) * 1024 / 1e6, 1)


def record(done: checks.CheckRun, peak_mb: float) -> dict:
    return {"peak_mb": peak_mb, "seconds": round(done.seconds, 2), "step_seconds": done.step_seconds}


def run(stack: DisposableStack, workdir: Path, drill: dict) -> dict:
    """The backup check probed here; DRILL is the restore benchmark's record of its probed drills."""
    found = {"backup": record(*probed(stack, workdir, "backup")), "restore_drill": drill}
    peak = max(r["peak_mb"] for r in found.values())
    say("memory", ", ".join(f"{check} peak RSS {r['peak_mb']} MB" for check, r in found.items()))
    return {**found, "peak_mb": peak, "target_mb": TARGET_MB, "met": peak <= TARGET_MB}
