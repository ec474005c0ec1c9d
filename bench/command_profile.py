"""python -m bench.command_profile [--megabytes N] [--out FILE]: every command one backup and one drill run,
with its seconds, on the bench's disposable stack; an argv run twice in the same run is flagged (a question
asked again, issue 28).

--megabytes 0 (default) backs up the example's few notes; N generates about N MB of the realistic schema first.
"""

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from procedures import runner
from procedures.backup import pipeline
from procedures.restore import drill

from . import data
from .stack import bench_stack


class Recorder:
    """Wraps runner.run while installed: each argv with its seconds."""

    def __init__(self):
        self.rows: list[tuple[float, list[str]]] = []
        self._run = runner.run

    def __enter__(self):
        def timed(argv, **kwargs):
            started = time.monotonic()
            try:
                return self._run(argv, **kwargs)
            finally:
                self.rows.append((time.monotonic() - started, list(argv)))
        runner.run = timed
        return self

    def __exit__(self, *exc):
        runner.run = self._run


def profile(rows: list[tuple[float, list[str]]], wall: float) -> dict:
    counts = Counter(tuple(argv) for _, argv in rows)
    return {"wall_seconds": round(wall, 3), "commands": len(rows),
            "repeated": sorted(" ".join(a) for a, n in counts.items() if n > 1),
            "rows": [{"seconds": round(s, 3), "argv": argv, "again": counts[tuple(argv)] > 1} for s, argv in rows]}


def measure(megabytes: int) -> dict:
    found = {"megabytes": megabytes}
    with tempfile.TemporaryDirectory() as tmp, bench_stack(Path(tmp)) as stack:
        if megabytes:
            data.generate(stack.ctx, data.REALISTIC, 1, megabytes)
        else:
            data.add_notes(stack.ctx, 20)
        pipeline.backup(stack.ctx)  # the first run creates the remote folder and the catalogs
        for name, procedure in (("backup", lambda: pipeline.backup(stack.ctx)),
                                ("drill", lambda: drill.restore(stack.ctx, drill.RestoreOptions()))):
            with Recorder() as recorder:
                started = time.monotonic()
                procedure()
                found[name] = profile(recorder.rows, time.monotonic() - started)
    return found


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.command_profile", description=__doc__.splitlines()[0])
    p.add_argument("--megabytes", type=int, default=0)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    found = measure(args.megabytes)
    for name in ("backup", "drill"):
        done = found[name]
        print(f"{name}: {done['wall_seconds']} s, {done['commands']} commands")
        for row in done["rows"]:
            print(f"  {row['seconds'] * 1000:7.0f} ms {'again ' if row['again'] else ''}{' '.join(row['argv'])[:160]}")
    if args.out:
        args.out.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
