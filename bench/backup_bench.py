"""Backup overhead: raw pg_dump -Fc into the backups volume vs the whole backup procedure, alternating.

The full procedure is `procedures.backup.backup`: lock, backup container start, preflight, dump in
an exported snapshot with row counts, verify, checksum, uploads archive, manifest, re-verify,
offsite copy with hash check, and local and remote retention. The raw side times only pg_dump
inside an already started container of the same service: the irreducible cost.
"""

import time

from procedures.backup import pipeline as backup
from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.commands import postgres as pg
from procedures.context import OpsContext

from . import goals, stats
from .progress import say

TARGET_RATIO = goals.BACKUP_RATIO
_TIMEOUT = 6 * 3600


def raw_dump(ctx: OpsContext, index: int) -> float:
    path = f"{ctx.config.backup.directory}/bench-raw-{index}.dump"
    with backup_box(ctx) as box:
        seconds = box.run(pg.dump(path), timeout=_TIMEOUT, limit="dump").seconds
        box.run(files_cmd.remove([path]), limit="command")
    return seconds


def full_backup(ctx: OpsContext) -> tuple[float, backup.BackupResult]:
    started = time.monotonic()
    result = backup.backup(ctx)
    return time.monotonic() - started, result


def run(ctx: OpsContext, reps: int) -> dict:
    """reps of each, alternating raw-full, full-raw, ... so drift and cache warmth hit both sides."""
    raw, full, steps = [], [], []
    result = None
    for i in range(reps):
        order = ["raw", "full"] if i % 2 == 0 else ["full", "raw"]
        for side in order:
            if side == "raw":
                raw.append(raw_dump(ctx, i))
            else:
                seconds, result = full_backup(ctx)
                full.append(seconds)
                steps.append({k: round(v, 3) for k, v in result.timings.items()})
        say("backup", f"rep {i + 1}/{reps}: raw pg_dump {raw[-1]:.1f} s, full backup {full[-1]:.1f} s")
    raw_s, full_s = stats.summary(raw), stats.summary(full)
    ratio = stats.ratio(full_s, raw_s)
    return {"raw_pg_dump_seconds": raw_s, "full_backup_seconds": full_s, "ratio": ratio,
            "target_ratio": TARGET_RATIO, "met": ratio <= TARGET_RATIO, "dump_bytes": result.dump_size,
            "full_backup_step_seconds": steps, "set_name": result.set_name,
            "dump_file": result.dump_path.rsplit("/", 1)[-1]}
