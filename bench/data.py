"""Test data in the stack's own database, and its size on disk: pgbench's tables at a chosen scale, or
a schema shaped like a real app's (bench/realistic.py) at a chosen size. The benchmark measures each in
turn on the same stack: `generate` one, measure, `clear` it, generate the next."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from procedures.commands import compose as compose_cmd
from procedures.context import OpsContext

from . import commands, realistic
from .progress import say

PGBENCH, REALISTIC = "pgbench", "realistic"
DATASETS = (PGBENCH, REALISTIC)


def add_notes(ctx: OpsContext, count: int) -> None:
    """A few app rows through the proxy: the restore drill's sample queries must return rows."""
    with httpx.Client(base_url=ctx.config.http.base_url, timeout=10) as client:
        for i in range(count):
            client.post("/notes", json={"body": f"bench note {i}"}).raise_for_status()


def _in_database(ctx: OpsContext, argv: list[str], **kwargs):
    """argv inside the db service (no data crosses this process)."""
    return ctx.compose.run(compose_cmd.compose(ctx.config.stack, "exec", "-T", ctx.config.services.database, *argv),
                           timeout=3 * 3600, limit="command", **kwargs)


def _account(ctx: OpsContext) -> tuple[str, str]:
    return ctx.database.credentials()[0], ctx.database.database_name()


def _load_in_phases(ctx: OpsContext, phases: list[list[list[str]]]) -> float:
    """Each phase's scripts at once, one psql session each (one backend uses one core); phases in order."""
    user, database = _account(ctx)
    started = time.monotonic()
    for phase in phases:
        with ThreadPoolExecutor(max_workers=len(phase)) as pool:
            running = [pool.submit(_in_database, ctx, commands.psql_script(user, database),
                                   input_text=";\n".join(script) + ";\n") for script in phase]
            for done in running:
                done.result()  # the first failure stops the run with its own error
    return time.monotonic() - started


def generate(ctx: OpsContext, dataset: str, scale: int, megabytes: int) -> dict:
    """DATASET into the stack's database: pgbench at SCALE, or the realistic schema at about MEGABYTES."""
    user, database = _account(ctx)
    if dataset == PGBENCH:
        say("data", f"pgbench -i at scale {scale}")
        seconds = _in_database(ctx, commands.pgbench_init(scale, user, database)).seconds
        shape = {"pgbench_scale": scale}
    elif dataset == REALISTIC:
        say("data", f"realistic schema at about {megabytes} MB ({len(realistic.table_names())} tables)")
        seconds = _load_in_phases(ctx, realistic.phases(megabytes))
        shape = {"realistic_megabytes": megabytes, "tables": len(realistic.table_names())}
    else:
        raise ValueError(f"dataset {dataset!r} is not one of {DATASETS}")
    size = int(ctx.database.query("SELECT pg_database_size(current_database())"))
    say("data", f"{size / 1e9:.2f} GB on disk after {seconds:.0f} s ({size / 1e6 / seconds:.1f} MB/s)")
    return {"dataset": dataset, **shape, "database_bytes": size, "generate_seconds": round(seconds, 1)}


def clear(ctx: OpsContext, dataset: str) -> None:
    """Drop DATASET's tables, so the next dataset's backups hold only their own data and the app's."""
    user, database = _account(ctx)
    if dataset == PGBENCH:
        _in_database(ctx, commands.pgbench_drop(user, database))
    else:
        _in_database(ctx, commands.psql_script(user, database), input_text=realistic.drop() + ";\n")
