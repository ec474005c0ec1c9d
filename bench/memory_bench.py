"""Memory: peak RSS of the pytest process of `ops_checks/backup.py` and `ops_checks/restore_drill.py`.

Dumps stream between containers and volumes; none passes through the runbook's process, so its
peak must not grow with the database. The two runs' step times show where a check spends its time.
"""

from pathlib import Path

from testkit.disposable import DisposableStack

from . import checks, rss_probe
from .progress import say

TARGET_MB = 200


def probed(stack: DisposableStack, workdir: Path, check: str) -> dict:
    target = workdir / f"{check}.rss"
    done = checks.run_check(stack, check, workdir, "-p", "bench.rss_probe", env={rss_probe.ENV: str(target)})
    return {"peak_mb": round(int(target.read_text()) * 1024 / 1e6, 1), "seconds": round(done.seconds, 2),
            "step_seconds": done.step_seconds}


def run(stack: DisposableStack, workdir: Path) -> dict:
    found = {check: probed(stack, workdir, check) for check in ("backup", "restore_drill")}
    peak = max(r["peak_mb"] for r in found.values())
    say("memory", ", ".join(f"{check} peak RSS {r['peak_mb']} MB" for check, r in found.items()))
    return {**found, "peak_mb": peak, "target_mb": TARGET_MB, "met": peak <= TARGET_MB}
