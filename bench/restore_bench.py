"""Restore overhead: plain pg_restore into a running empty server vs the whole restore drill, alternating.

The drill is `pytest ops_checks/restore_drill.py --backup=SET`, as users run it monthly: choose and
re-verify the set, start a networkless throwaway server, pg_restore, compare row counts, alembic
revision and sample queries, remove the server and its volume. Raw pg_restore runs with the same
flags and jobs into a fresh database of one server started once and warmed by one untimed
restore; other job counts show what parallelism buys on this machine.
"""

import contextlib
from pathlib import Path
from typing import Iterator

from procedures.box import backup_box
from procedures.commands import docker as docker_cmd
from procedures.commands import postgres as pg
from procedures.context import OpsContext
from procedures.restore import throwaway
from testkit.disposable import DisposableStack

from . import checks, commands, goals, memory_bench, stats
from .progress import say

TARGET_RATIO = goals.DRILL_RATIO  # issue 28: 1.20 (it was 1.30)
_TIMEOUT = 6 * 3600


@contextlib.contextmanager
def empty_server(ctx: OpsContext) -> Iterator:
    """One throwaway server for every raw restore, removed on exit.

    The backup container only names the backups volume at start; it goes at once, because each
    drill removes stray backup containers of the stack when it starts its own.
    """
    with contextlib.ExitStack() as cleanup:
        with backup_box(ctx) as box:
            target = cleanup.enter_context(throwaway.throwaway_server(ctx, box, "bench"))
        yield target.server  # the raw side runs the engine's own tools in the same server


@contextlib.contextmanager
def restored(server, dump_file: str, jobs: int, database: str) -> Iterator[float]:
    """The dump restored by plain pg_restore into a new database of the server (its seconds), dropped on exit."""
    server.exec(commands.create_database(database, server.user), limit="command")
    try:
        yield server.exec(pg.restore(f"{docker_cmd.BACKUPS_MOUNT}/{dump_file}", database, server.user, jobs),
                          timeout=_TIMEOUT, limit="restore").seconds
    finally:
        server.exec(commands.drop_database(database, server.user), limit="command")


def raw_restore(server, dump_file: str, jobs: int, database: str) -> float:
    with restored(server, dump_file, jobs, database) as seconds:
        return seconds


def drill(stack: DisposableStack, workdir: Path, set_name: str) -> tuple[checks.CheckRun, float]:
    """The drill as users run it, and its process's peak RSS (the probe reads it once, at exit)."""
    return memory_bench.probed(stack, workdir, "restore_drill", f"--backup={set_name}", timeout=_TIMEOUT)


def run(stack: DisposableStack, workdir: Path, set_name: str, dump_file: str, reps: int,
        jobs: list[int]) -> dict:
    """reps rounds of: raw at the drill's jobs, the drill, raw at each other job count.

    Each round starts one place further along that list, so no side always runs first or last.
    """
    drill_jobs = stack.ctx.config.restore.jobs
    raw: dict[int, list[float]] = {j: [] for j in sorted({drill_jobs, *jobs})}
    sides = [drill_jobs, "drill", *(j for j in raw if j != drill_jobs)]
    full, steps, peaks = [], [], []
    with empty_server(stack.ctx) as server:
        raw_restore(server, dump_file, drill_jobs, "warm_up")
        for i in range(reps):
            for side in sides[i % len(sides):] + sides[:i % len(sides)]:
                if side == "drill":
                    done, peak_mb = drill(stack, workdir, set_name)
                    peaks.append(peak_mb)
                    full.append(done.seconds)
                    steps.append(done.step_seconds)
                else:
                    raw[side].append(raw_restore(server, dump_file, side, f"raw_{i}_jobs{side}"))
            say("restore", f"rep {i + 1}/{reps}: drill {full[-1]:.1f} s; pg_restore "
                           + ", ".join(f"jobs={j} {raw[j][-1]:.1f} s" for j in raw))
    raw_s, full_s = stats.summary(raw[drill_jobs]), stats.summary(full)
    ratio = stats.ratio(full_s, raw_s)
    return {"jobs": drill_jobs, "raw_pg_restore_seconds": raw_s, "drill_seconds": full_s, "ratio": ratio,
            "target_ratio": TARGET_RATIO, "met": ratio <= TARGET_RATIO, "drill_step_seconds": steps,
            "raw_by_jobs": {str(j): stats.summary(s) for j, s in raw.items()}, "set_name": set_name,
            "drill_memory": memory_bench.record(done, max(peaks))}
