"""python -m bench [--data pgbench,realistic] [--scale N] [--megabytes N[,N...]] [--reps N] [--out DIR]: backup,
restore, deploy and memory benchmarks, and issue 28's goals.

Brings up its own disposable copy of the example stack, measures backup, restore, the rollback rehearsal and memory on each
dataset in turn (pgbench's tables, then a schema shaped like a real app's, bench/realistic.py, at each
--megabytes size), the deploy on the last one, always removes the stack (Ctrl-C and SIGTERM included),
prints the summary and goals tables and writes DIR/latest.json and latest.md.
"""

import argparse
import shlex
import signal
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from . import backup_bench, data, deploy_bench, goals, machine, memory_bench, rehearsal_bench, restore_bench, results
from .progress import say
from .stack import bench_stack

ROOT = Path(__file__).resolve().parents[1]


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--data", default=",".join(data.DATASETS),
                   help="datasets measured in turn, comma-separated: pgbench, realistic")
    p.add_argument("--scale", type=int, default=68, help="pgbench scale (1 is ~15 MB; 68 is ~1 GB on disk)")
    p.add_argument("--megabytes", default="1000",
                   help="the realistic dataset's sizes on disk, measured in turn, comma-separated (1000,7000: "
                        "whether peak RSS stays flat)")
    p.add_argument("--reps", type=int, default=5, help="repetitions of each measured side")
    p.add_argument("--jobs", default="1,2,4", help="pg_restore job counts to compare (comma-separated)")
    p.add_argument("--rate", type=float, default=20.0, help="requests per second during the release changes")
    p.add_argument("--max-load-seconds", type=float, default=900.0, help="upper bound of each load run")
    p.add_argument("--path", default="/notes", help="path requested through the reverse proxy")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where latest.json/.md go")
    args = p.parse_args(argv)
    args.jobs = [int(j) for j in args.jobs.split(",")]
    args.megabytes = [int(m) for m in args.megabytes.split(",")]
    args.data = args.data.split(",")
    if unknown := [name for name in args.data if name not in data.DATASETS]:
        p.error(f"--data: {', '.join(unknown)} not one of {', '.join(data.DATASETS)}")
    if min(args.megabytes) < 1 or args.scale < 1 or args.reps < 1 or min(args.jobs) < 1 or args.rate <= 0:
        p.error("--megabytes, --scale, --reps, --jobs and --rate must be positive")
    return args


def runs(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """(name in the results, dataset, realistic size) in the order measured: the realistic dataset once
    per size, from the smallest (each size is generated anew after the previous one is dropped)."""
    sizes = sorted(set(args.megabytes))
    found = []
    for dataset in args.data:
        if dataset == data.REALISTIC and len(sizes) > 1:
            found += [(f"{dataset}-{mb}MB", dataset, mb) for mb in sizes]
        else:
            found.append((dataset, dataset, sizes[0]))
    return found


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def measure(args: argparse.Namespace, workdir: Path) -> dict:
    with bench_stack(workdir) as stack:
        say("stack", f"{stack.project} up at 1.0.0 on {stack.ctx.config.http.base_url}")
        data.add_notes(stack.ctx, 20)
        found = {"machine": machine.describe(stack.ctx), "datasets": {}}
        previous = None
        for name, dataset, megabytes in runs(args):
            if previous:
                data.clear(stack.ctx, previous)
            previous = dataset
            measured = {"data": data.generate(stack.ctx, dataset, args.scale, megabytes)}
            measured["backup"] = backup_bench.run(stack.ctx, args.reps)
            measured["restore"] = restore_bench.run(stack, workdir, measured["backup"]["set_name"],
                                                    measured["backup"]["dump_file"], args.reps, args.jobs)
            measured["rehearsal"] = rehearsal_bench.run(stack, measured["backup"]["set_name"],
                                                        measured["backup"]["dump_file"], args.reps)
            measured["memory"] = memory_bench.run(stack, workdir, measured["restore"].pop("drill_memory"))
            found["datasets"][name] = measured
        found["deploy"] = deploy_bench.run(stack, workdir, args.reps, args.rate, args.max_load_seconds,
                                           args.path)
        say("stack", f"removing {stack.project}")
    return found


def main(argv: list[str]) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    started = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="opsuite-bench-") as tmp:
        found = measure(args, Path(tmp))
    settings = {"data": args.data, "scale": args.scale, "megabytes": args.megabytes, "reps": args.reps, "jobs": args.jobs, "rate": args.rate,
                "max_load_seconds": args.max_load_seconds, "path": args.path}
    document = {"command": shlex.join(["python", "-m", "bench", *argv]), "settings": settings,
                "started_at": started.isoformat(timespec="seconds"),
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **found}
    document["goals"] = goals.evaluate(document)
    print(results.text_table(results.summary_rows(document)))
    print()
    print(results.text_table(goals.table_rows(document["goals"])))
    for path in results.write(document, args.out):
        say("results", str(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
