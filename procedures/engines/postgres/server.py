"""A throwaway Postgres with no network, on a volume of its own, the backups volume read-only.

It runs the stack's own db image, so it is the server major the live database runs; the live
database and its volume are never touched.
"""

import time

from ... import runner
from ...commands import docker as cmd
from ...commands import postgres as pg
from ...compose_model import database_mount
from ...errors import CommandFailed, NotReady, RestoreError
from ...redact import register_secret
from ..targets import ThrowawayServer
from .progress import TableCount

DEFAULT_DATA_PATH = "/var/lib/postgresql/data"  # the official image's PGDATA


class RestoreServer(ThrowawayServer):
    password_variable = "PGPASSWORD"

    def query(self, sql: str) -> str:
        return self.exec([*pg.psql(sql, self.database), "--host", "127.0.0.1", "--username", self.user], limit="command").stdout

    def how_to_connect(self) -> str:
        return f"docker exec -it {self.container} psql -U {self.user} -d {self.database}\n{self.cleanup_hint()}"


def _wait_ready(server: RestoreServer, timeout: float) -> None:
    # TCP readiness: the official image's init-time server listens on the socket only.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.exec(["pg_isready", "--host", "127.0.0.1", "--username", server.user], limit="command", check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise NotReady(f"restore server {server.container} not ready after {timeout:.0f}s (docker logs {server.container})")


def start(ctx, box, server: RestoreServer, labels: dict[str, str], needed_major: int = 0) -> RestoreServer:
    """Start a networkless Postgres from the stack's own db image on server.volume, backups read-only;
    refuse (RestoreError) when its pg_restore is older than needed_major (the archive's major)."""
    model = ctx.compose.rendered()
    db = model["services"][ctx.config.services.database]
    pgdata = (db.get("environment") or {}).get("PGDATA")
    _start(ctx, box, server, labels, db["image"], database_mount(model, ctx.config)[1], pgdata)
    require_tools_read(server, db["image"], needed_major)
    return server


def require_tools_read(server: RestoreServer, image: str, needed_major: int) -> None:
    """Refuse (RestoreError) a restore whose archive came from a newer Postgres major than the server's
    pg_restore: it cannot read it, and an older server cannot hold what a newer one dumped."""
    if not needed_major:
        return
    tools = pg.tool_major(server.exec(pg.restore_version(), limit="command").stdout)
    if tools >= needed_major:
        return
    raise RestoreError(
        f"the set was dumped from Postgres {needed_major}, but the restore server ({image}, the stack's db "
        f"image) runs Postgres {tools}, whose pg_restore cannot read a newer major's archive. Nothing was "
        f"restored. Restore it on a server of Postgres {needed_major} or newer: move the db service to that "
        f"major first (its image, e.g. POSTGRES_IMAGE=postgres:{needed_major}, and BACKUP_IMAGE; "
        "docs/RESTORE_RUNBOOK.md section 9), or choose a set of this major (--backup=SET)")


def start_image(ctx, box, server: RestoreServer, labels: dict[str, str], image: str) -> RestoreServer:
    """Start a networkless Postgres from image (the official image's layout) on server.volume."""
    return _start(ctx, box, server, labels, image, DEFAULT_DATA_PATH, None)


def _start(ctx, box, server: RestoreServer, labels: dict[str, str], image: str, data_path: str,
           pgdata: str | None) -> RestoreServer:
    env = {"POSTGRES_PASSWORD": server.password, "POSTGRES_USER": server.user, "POSTGRES_DB": server.database}
    if pgdata:
        env["PGDATA"] = pgdata
    register_secret(server.password)
    runner.run(cmd.run_isolated_postgres(server.container, image, server.volume, data_path,
                                         box.volume_at(ctx.config.backup.directory), sorted(env), labels), env=env, limit="command")
    _wait_ready(server, ctx.config.restore.ready_timeout_seconds)
    return server


def stop(server: RestoreServer) -> None:
    """Remove the server's container; its volume stays."""
    runner.run(cmd.remove_container(server.container), limit="command", check=False)


def restore_dump(server: RestoreServer, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
    """pg_restore --no-owner --no-privileges with parallel jobs of a dump given relative to the
    backups volume (mounted read-only in the server), each table shown as it starts ('table i of
    `tables`'); returns seconds taken."""
    started = time.monotonic()
    try:
        # No timeout here: the runner gives pg_restore [timeouts] restore_seconds.
        server.exec(pg.restore(f"{cmd.BACKUPS_MOUNT}/{dump_in_backups}", server.database, server.user, jobs),
                    limit="restore", progress=TableCount("restore", tables))
    except CommandFailed as e:
        name = dump_in_backups.rsplit("/", 1)[-1]
        raise RestoreError(f"pg_restore of {name} failed (exit {e.returncode}): {e.stderr_tail}") from e
    return time.monotonic() - started
