"""Test data: pgbench's tables at a chosen scale in the stack's own database, and its size on disk."""

import httpx

from procedures.commands import compose as compose_cmd
from procedures.context import OpsContext

from . import commands
from .progress import say


def add_notes(ctx: OpsContext, count: int) -> None:
    """A few app rows through the proxy: the restore drill's sample queries must return rows."""
    with httpx.Client(base_url=ctx.config.http.base_url, timeout=10) as client:
        for i in range(count):
            client.post("/notes", json={"body": f"bench note {i}"}).raise_for_status()


def generate(ctx: OpsContext, scale: int) -> dict:
    """pgbench -i inside the db service (no data crosses this process), beside a few notes of the app."""
    add_notes(ctx, 20)
    say("data", f"pgbench -i at scale {scale}")
    argv = compose_cmd.compose(ctx.config.stack, "exec", "-T", ctx.config.services.database,
                               *commands.pgbench_init(scale, ctx.database.credentials()[0], ctx.database.database_name()))
    done = ctx.compose.run(argv, timeout=3 * 3600, limit="command")
    size = int(ctx.database.query("SELECT pg_database_size(current_database())"))
    say("data", f"{size / 1e9:.2f} GB on disk after {done.seconds:.0f} s")
    return {"pgbench_scale": scale, "database_bytes": size, "generate_seconds": round(done.seconds, 1)}
