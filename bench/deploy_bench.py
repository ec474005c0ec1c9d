"""Deploy cost to users: failed requests and the longest response under a constant load, while the release moves.

Versions: the stack starts at 1.0.0. Each round moves it to 1.1.0 twice under load, in
alternating order: once by the runbook deploy (backup, migrate, up, health, readyz, smoke) and
once by a plain `docker compose up -d` (the baseline). Before each, a plain up puts 1.0.0 back
without load: 1.0.0 runs on the 1.1.0 schema (it ignores the added column). Only the first
deploy migrates; later ones find the schema at head.
"""

import statistics
import time
from pathlib import Path
from typing import Callable

from procedures import ledger
from procedures.stack import readiness
from procedures.stack import services as health
from procedures.stack import serving as release
from procedures.context import OpsContext
from testkit.disposable import DisposableStack

from . import checks
from .load import ConstantLoad
from .progress import say

OLD, NEW = "1.0.0", "1.1.0"
QUIET_SECONDS = 2.0  # load before and after the change, so its whole effect falls inside


def under_load(url: str, rate: float, max_seconds: float, change: Callable[[], dict | None]) -> dict:
    with ConstantLoad(url, rate, max_seconds) as load:
        time.sleep(QUIET_SECONDS)
        started = time.monotonic()
        facts = change() or {}
        change_seconds = time.monotonic() - started
        time.sleep(QUIET_SECONDS)
    return {**load.summary(), "change_seconds": round(change_seconds, 1), **facts}


def runbook_deploy(stack: DisposableStack, workdir: Path) -> dict:
    """The operator's deploy; its wall time and its steps' seconds from its ledger entry (backup,
    rollback_check = the rehearsal, migrate, ...): the goals' bound on a deploy is made of them."""
    run = checks.run_check(stack, "deploy", workdir, f"--tag={NEW}")
    cfg = stack.ctx.config
    entry = ledger.releases(cfg.deploy.state_dir, cfg.stack.project)[-1]
    return {"wall_seconds": round(run.seconds, 1), "timings": entry["timings"]}


def plain_up(ctx: OpsContext) -> None:
    """`docker compose up -d` of app, worker and proxy on ctx.tag, then the deploy's own waits:
    container health, readyz and /version (right after a recreate the proxy can still answer 502)."""
    services = ctx.config.services.serving
    ctx.compose.up(services)
    health.wait_healthy(ctx.compose, services, timeout=ctx.config.http.ready_timeout_seconds)
    readiness.check_ready(ctx)


def combine(runs: list[dict]) -> dict:
    return {"failed": [r["failed"] for r in runs], "failed_median": statistics.median(r["failed"] for r in runs),
            "requests": [r["requests"] for r in runs], "max_ms": max(r["max_ms"] for r in runs),
            "max_ok_ms": max(r["max_ok_ms"] for r in runs), "runs": runs}


def run(stack: DisposableStack, workdir: Path, reps: int, rate: float, max_seconds: float, path: str) -> dict:
    ctx = stack.ctx
    url = ctx.config.http.base_url.rstrip("/") + path
    changes = {"deploy": lambda: runbook_deploy(stack, workdir),
               "baseline": lambda: plain_up(ctx.with_tag(NEW))}
    runs: dict[str, list[dict]] = {"deploy": [], "baseline": []}
    for i in range(reps):
        for side in ("deploy", "baseline") if i % 2 == 0 else ("baseline", "deploy"):
            if release.running_tag(ctx) != OLD:
                plain_up(ctx.with_tag(OLD))
            runs[side].append(under_load(url, rate, max_seconds, changes[side]))
        say("deploy", f"rep {i + 1}/{reps}: " + "; ".join(
            f"{side} {r[-1]['failed']} of {r[-1]['requests']} failed, max {r[-1]['max_ms']:.0f} ms"
            for side, r in runs.items()))
    return {"from": OLD, "to": NEW, "url": url, "rate_per_second": rate,
            **{side: combine(r) for side, r in runs.items()}}
