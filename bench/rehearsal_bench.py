"""Rehearsal overhead: raw pg_restore + raw migration vs the whole rollback rehearsal, alternating.

The full side is `rollback_check.check` in-process, as the deploy calls it after its backup: the
bench's last verified set restored into a throwaway volume, a sealed copy of the stack under its own
project, 1.1.0's migrations on it, then 1.0.0 (the release serving) started on the result and asked
/readyz and the smoke checks, and everything removed. The raw side is the irreducible part of that:
pg_restore of the same dump with the same jobs into a fresh database of one throwaway server (started
once, warmed by one untimed restore), then 1.1.0's own migrate command (the migrate service's command,
else [deploy] migrate_command: `alembic upgrade head`) in a `docker run --rm` of the release's image
that shares the server's network namespace (the server has no network), pointed at that database.
The raw side leaves out the server's start and clean stop, the sealing, the db service's start, the
previous release's start and checks and the removals: that is the rehearsal's fixed cost.
"""

import time
from dataclasses import replace

from procedures import runner
from procedures.box import backup_box
from procedures.context import OpsContext, prepared_context
from procedures.guards import THROWAWAY_VOLUME_PREFIX
from procedures.release import rollback_check, switch_plan
from procedures.sets import files, manifest
from procedures.sets.chosen import Chosen
from testkit.disposable import DisposableStack

from . import commands, goals, restore_bench, stats
from .checks import BenchError
from .deploy_bench import NEW, OLD
from .progress import say

TARGET_RATIO = goals.REHEARSAL_RATIO
_TIMEOUT = 6 * 3600


def migrate_command(ctx: OpsContext) -> tuple[str, list[str]]:
    """The image and argv the rehearsal's migration runs for ctx.tag: the migrate service's own, else
    [deploy] migrate_command in the first app service's image."""
    services = ctx.compose.rendered()["services"]
    names = ctx.config.services
    if names.migrate:
        service = services[names.migrate]
        return service["image"], list(service.get("command") or [])
    return services[names.app[0]]["image"], list(ctx.config.deploy.migrate_command)


def raw_migrate(ctx: OpsContext, server, database: str, index: int) -> float:
    """ctx.tag's migrate command beside the server, on `database` (its URL only in the environment)."""
    image, argv = migrate_command(ctx)
    variable = ctx.config.database.url_variable
    url = f"postgresql://{server.user}:{server.password}@127.0.0.1:5432/{database}"
    name = f"{THROWAWAY_VOLUME_PREFIX}{ctx.config.stack.project}-bench-migrate-{index}"
    return runner.run(commands.run_beside(server.container, name, image, [variable], argv), env={variable: url},
                      timeout=_TIMEOUT, limit="one_off").seconds


def raw_round(ctx: OpsContext, server, dump_file: str, jobs: int, index: int) -> tuple[float, float]:
    database = f"raw_rehearsal_{index}"
    with restore_bench.restored(server, dump_file, jobs, database) as restore:
        return restore, raw_migrate(ctx, server, database, index)


def chosen_set(ctx: OpsContext, set_name: str) -> Chosen:
    """The set as the deploy hands it to the rehearsal: its name and manifest (verified when taken)."""
    with backup_box(ctx) as box:
        found = manifest.read(box, f"{ctx.config.backup.directory}/{files.file_name(set_name, 'manifest')}")
    return Chosen(set_name, found)


def rehearse(ctx: OpsContext, chosen: Chosen, proxy) -> tuple[float, dict]:
    started = time.monotonic()
    verdict = rollback_check.check(ctx.with_tag(NEW), chosen, OLD, proxy)
    seconds = time.monotonic() - started
    if verdict["rollback"] != rollback_check.SAFE:
        raise BenchError(f"the rehearsal found {OLD} does not serve after {NEW}'s migrations: {verdict['why']}")
    return seconds, {**verdict["seconds"], "total": round(seconds, 2)}


def ratio_to_raw(rehearsal: dict, restore: dict, migrate: dict) -> float:
    """The rehearsal's median over the raw restore's median plus the raw migration's."""
    return round(rehearsal["median"] / (restore["median"] + migrate["median"]), 3)


def with_jobs(ctx: OpsContext, jobs: int | None) -> OpsContext:
    if jobs is None:
        return ctx
    return prepared_context(replace(ctx.config, restore=replace(ctx.config.restore, jobs=jobs)), ctx.tag)


def run(stack: DisposableStack, set_name: str, dump_file: str, reps: int, jobs: int | None = None) -> dict:
    """reps rounds of raw (restore then migrate) and the rehearsal, alternating which goes first; both
    at [restore] jobs (or `jobs`)."""
    ctx = with_jobs(stack.ctx, jobs)
    jobs = ctx.config.restore.jobs
    chosen, (_, proxy) = chosen_set(ctx, set_name), switch_plan.plan(ctx)
    restores, migrates, full, steps = [], [], [], []
    with restore_bench.empty_server(ctx) as server:
        raw_round(ctx.with_tag(NEW), server, dump_file, jobs, 0)  # warm-up, untimed
        for i in range(reps):
            for side in ("raw", "full") if i % 2 == 0 else ("full", "raw"):
                if side == "raw":
                    restore, migrate = raw_round(ctx.with_tag(NEW), server, dump_file, jobs, i + 1)
                    restores.append(restore)
                    migrates.append(migrate)
                else:
                    seconds, step = rehearse(ctx, chosen, proxy)
                    full.append(seconds)
                    steps.append(step)
            say("rehearsal", f"rep {i + 1}/{reps}: raw restore {restores[-1]:.1f} s + migrate {migrates[-1]:.1f} s;"
                             f" rehearsal {full[-1]:.1f} s {steps[-1]}")
    restore_s, migrate_s, full_s = stats.summary(restores), stats.summary(migrates), stats.summary(full)
    ratio = ratio_to_raw(full_s, restore_s, migrate_s)
    return {"raw_restore_seconds": restore_s, "raw_migrate_seconds": migrate_s, "rehearsal_seconds": full_s,
            "ratio": ratio, "target_ratio": TARGET_RATIO, "met": ratio <= TARGET_RATIO, "step_seconds": steps,
            "options": {"jobs": jobs, "tag": NEW, "previous_tag": OLD, "set_name": set_name,
                        "raw_migrate": " ".join(migrate_command(ctx.with_tag(NEW))[1])}}
