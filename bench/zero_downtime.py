"""python -m bench.zero_downtime [--stack example|zenops-caddy] [--reps 5] [--rate 20]: what users see
while the runbook deploy switches the release under a constant load.

Each run moves the stack from 1.0.0 to 1.1.0 by `pytest ops_checks/deploy.py --tag=1.1.0` (the
operator's command) under `--rate` requests/s, then puts 1.0.0 back without load. It reports
failed requests of the whole deploy, p50/p99/max latency inside the switch's window (its
start and end in the ledger, padded by a second), and the deploy's wall time by step. The stacks:
the example behind nginx, or a Zen Ops-shaped one (seeds 000-004) behind Caddy, adopted by
discovery and with the `lb_try_duration` the deploy asks for. Writes
bench/results/zero-downtime-<stack>.json and .md; always removes its stack.
"""

import argparse
import contextlib
import json
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

from procedures import ledger
from procedures.release.switch import put_app_on
from testkit import disposable, zenops
from testkit.samples import summarize

from . import checks
from .load import ConstantLoad
from .progress import say
from .stack import bench_stack

ROOT = Path(__file__).resolve().parents[1]
OLD, NEW = "1.0.0", "1.1.0"
QUIET_SECONDS = 2.0
WINDOW_PAD_SECONDS = 1.0  # the ledger's times are whole seconds
LOADED_PATH = {"example": "/notes", "zenops-caddy": "/api/notes"}


@contextlib.contextmanager
def zenops_caddy_stack(workdir: Path) -> Iterator:
    """A Zen Ops-shaped host run plainly at 1.0.0, adopted, its Caddy set to retry; always removed."""
    host = zenops.create(workdir / "zenops-host")
    try:
        zenops.start_plainly(host, OLD)
        (workdir / "reports").mkdir()
        stack = zenops.adopted(host, workdir / "reports", OLD)
        zenops.let_caddy_retry(host)
        yield stack
    finally:
        disposable.destroy_project(host.project, f"{host.project}_postgres_data")


def _wall(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def one_deploy(stack, workdir: Path, url: str, rate: float, max_seconds: float) -> dict:
    with ConstantLoad(url, rate, max_seconds) as load:
        time.sleep(QUIET_SECONDS)
        run = checks.run_check(stack, "deploy", workdir, f"--tag={NEW}")
        time.sleep(QUIET_SECONDS)
    cfg = stack.ctx.config
    entry = ledger.releases(cfg.deploy.state_dir, cfg.stack.project)[-1]
    window = (_wall(entry["switch"]["started_at"]) - WINDOW_PAD_SECONDS,
              _wall(entry["switch"]["finished_at"]) + WINDOW_PAD_SECONDS)
    during_switch = load.between(*window)
    return {"whole_deploy": load.summary(), "switch": summarize(during_switch, window[1] - window[0]),
            "timings": entry["timings"], "wall_seconds": round(run.seconds, 1),
            "how": {s["service"]: s["how"] for s in entry["switch"]["services"]},
            "switched": [{k: s.get(k) for k in ("service", "result", "ready_seconds", "drain_seconds")}
                         for s in entry["switch"]["services"]],
            "bound": wait_bound(entry["timings"], run.seconds)}


def wait_bound(timings: dict, wall: float) -> dict:
    """Issue 15's bound on waiting: the deploy's wall time, less the rollback check (a rehearsal of
    its own, measured apart), within backup + migrate + 20 s."""
    limit = timings.get("backup", 0.0) + timings.get("migrate", 0.0) + 20.0
    without_check = wall - timings.get("rollback_check", 0.0)
    return {"limit_seconds": round(limit, 1), "wall_without_rollback_check": round(without_check, 1),
            "within": without_check <= limit}


def measure(stack, workdir: Path, reps: int, rate: float, max_seconds: float, path: str) -> dict:
    url = stack.ctx.config.http.base_url.rstrip("/") + path
    runs = []
    for i in range(reps):
        put_app_on(stack.ctx, OLD)  # without load: only the deploy is measured
        runs.append(one_deploy(stack, workdir, url, rate, max_seconds))
        say("deploy", f"run {i + 1}/{reps}: {runs[-1]['whole_deploy']['failed']} of "
                      f"{runs[-1]['whole_deploy']['requests']} failed; switch p99 {runs[-1]['switch']['p99_ms']} ms")
    steps = sorted({step for r in runs for step in r["timings"]})
    return {"from": OLD, "to": NEW, "url": url, "rate_per_second": rate, "runs": runs,
            "failed": [r["whole_deploy"]["failed"] for r in runs],
            "switch_p50_ms": statistics.median(r["switch"]["median_ms"] for r in runs),
            "switch_p99_ms": max(r["switch"]["p99_ms"] for r in runs),
            "switch_max_ms": max(r["switch"]["max_ms"] for r in runs),
            "step_seconds_median": {s: round(statistics.median(r["timings"].get(s, 0.0) for r in runs), 2)
                                    for s in steps},
            "wall_seconds_median": statistics.median(r["wall_seconds"] for r in runs)}


def markdown(found: dict) -> str:
    rows = [f"| {i + 1} | {r['whole_deploy']['failed']} of {r['whole_deploy']['requests']} | "
            f"{r['switch']['median_ms']:.0f} / {r['switch']['p99_ms']:.0f} / {r['switch']['max_ms']:.0f} | "
            f"{r['wall_seconds']} | {r['bound']['wall_without_rollback_check']} of {r['bound']['limit_seconds']} | "
            + ", ".join(f"{k} {v:g}" for k, v in r["timings"].items()) + " |"
            for i, r in enumerate(found["runs"])]
    return "\n".join([
        f"# Zero-downtime deploy: {found['stack']} ({found['finished_at']})", "",
        f"Command: `{found['command']}`; {found['rate_per_second']:g} requests/s to {found['url']}", "",
        "| run | failed of requests (whole deploy) | switch p50 / p99 / max ms | deploy wall s | "
        "wall less rollback check, of backup + migrate + 20 s | step seconds |",
        "|---|---|---|---|---|---|", *rows, "",
        f"How each service switched: {found['runs'][0]['how']}", ""])


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # the stack is removed on the way out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.zero_downtime", description=__doc__.splitlines()[0])
    p.add_argument("--stack", choices=sorted(LOADED_PATH), default="example")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--max-load-seconds", type=float, default=900.0)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="opsuite-bench-") as tmp:
        workdir = Path(tmp)
        opened = bench_stack(workdir) if args.stack == "example" else zenops_caddy_stack(workdir)
        with opened as stack:
            found = measure(stack, workdir, args.reps, args.rate, args.max_load_seconds, LOADED_PATH[args.stack])
    found.update(stack=args.stack, command="python -m bench.zero_downtime " + " ".join(argv),
                 finished_at=ledger.now())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"zero-downtime-{args.stack}.json").write_text(json.dumps(found, indent=2) + "\n")
    (args.out / f"zero-downtime-{args.stack}.md").write_text(markdown(found))
    print(markdown(found))
    return 0 if not any(found["failed"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
