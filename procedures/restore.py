"""Restore a verified backup into an isolated Postgres and compare it with the backup's manifest.

The server never has a network, it runs on a volume of its own, and it sees the backups volume
read-only: the live database and its volume are never touched. The drill (test mode) removes
its throwaway server afterwards; disaster mode (`procedures/disaster.py`) keeps the new volume.
"""

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from . import backup, backup_files, backup_names, prune, runner, volumes
from .backup_box import BackupBox
from .commands import docker as cmd
from .commands import postgres as pg
from .context import OpsContext
from .dump import BackupError
from .errors import CommandFailed, NotReady, OpsError
from .guards import THROWAWAY_VOLUME_PREFIX
from .redact import register_secret

DRILL_LABEL = {"io.opsuite.role": "restore-test"}


class RestoreError(OpsError):
    """The restore could not run or the copy does not match its manifest; nothing was deleted."""


@dataclass(frozen=True)
class Chosen:
    set_name: str
    manifest: dict
    folder: str = ""  # inside the backups volume: "" or where a set fetched from the remote lies

    @property
    def dump_file(self) -> str:
        return self.manifest["dump"]["file"]

    @property
    def dump_path_in_server(self) -> str:
        return "/".join(part for part in (cmd.BACKUPS_MOUNT, self.folder, self.dump_file) if part)

    @property
    def age_seconds(self) -> float:
        taken = backup_names.parse_set_name(self.set_name).taken_at
        return (datetime.now(timezone.utc) - taken).total_seconds()


def pick_set(names: list[str], requested: str | None, where: str, how_to_list: str) -> str:
    """The requested set, else the newest verified one (dump and manifest present) among file names."""
    sets, groups = prune.to_sets(names)
    if requested:
        wanted = backup_names.parse_set_name(requested.rsplit("/", 1)[-1])
        if wanted is None or wanted.name not in groups:
            raise RestoreError(f"backup {requested!r} not found in {where}; list the sets there: {how_to_list}")
        if "manifest" not in groups[wanted.name]:
            raise RestoreError(f"backup {wanted.name} in {where} has no manifest: it never verified; choose another")
        return wanted.name
    newest = sorted((s for s in sets if s.verified), key=lambda s: s.taken_at, reverse=True)
    if not newest:
        raise RestoreError(f"no verified backup in {where}: run `pytest ops_checks/backup.py` first")
    return newest[0].name


def verify_chosen(box: BackupBox, directory: str, name: str, folder: str = "") -> Chosen:
    """Re-check a set's archive and checksums against its manifest before anything restores it."""
    try:
        manifest = backup.verify_set(box, "/".join(p for p in (directory, folder) if p), name)
    except (BackupError, CommandFailed) as e:
        raise RestoreError(f"backup {name} failed verification, not restoring it: {e}") from e
    return Chosen(name, manifest, folder)


def choose_backup(ctx: OpsContext, box: BackupBox, requested: str | None = None) -> Chosen:
    """The newest verified set in the backups volume (or the requested one), re-verified."""
    directory = ctx.config.backup.directory
    names = [f.name for f in backup_files.list_files(box, directory)]
    listing = f"`docker compose run --rm --no-deps backup ls -l {directory}`"
    return verify_chosen(box, directory, pick_set(names, requested, "the backups volume", listing))


@dataclass
class RestoreServer:
    container: str
    volume: str
    user: str
    database: str
    password: str = field(repr=False)

    def exec(self, argv: list[str], **kwargs) -> runner.Completed:
        return runner.run(cmd.exec_in(self.container, argv, env_names=["PGPASSWORD"]),
                          env={"PGPASSWORD": self.password}, **kwargs)

    def query(self, sql: str) -> str:
        return self.exec([*pg.psql(sql, self.database), "--host", "127.0.0.1", "--username", self.user]).stdout

    def how_to_connect(self) -> str:
        return (f"docker exec -it {self.container} psql -U {self.user} -d {self.database}\n"
                f"clean up: docker rm -f {self.container} && docker volume rm {self.volume}")


def start_server(ctx: OpsContext, box: BackupBox, server: RestoreServer, labels: dict[str, str]) -> RestoreServer:
    """Start a networkless Postgres from the stack's own db image on server.volume, backups read-only."""
    model = ctx.compose.rendered()
    db = model["services"][ctx.config.services.database]
    data_path = volumes.database_mount(model, ctx.config)[1]
    env = {"POSTGRES_PASSWORD": server.password, "POSTGRES_USER": server.user, "POSTGRES_DB": server.database}
    if (db.get("environment") or {}).get("PGDATA"):
        env["PGDATA"] = db["environment"]["PGDATA"]
    register_secret(server.password)
    runner.run(cmd.run_isolated_postgres(server.container, db["image"], server.volume, data_path,
                                         box.volume_at(ctx.config.backup.directory), sorted(env), labels), env=env)
    _wait_ready(server, ctx.config.restore.ready_timeout_seconds)
    return server


def remove_throwaway(name: str) -> None:
    """Remove a drill's throwaway server and its volume (they share the name); no other volume."""
    runner.run(cmd.remove_container(name), check=False)
    facts = volumes.inspect_volume(name)
    if name.startswith(THROWAWAY_VOLUME_PREFIX) and facts is not None and facts.labels == DRILL_LABEL:
        runner.run(cmd.remove_throwaway_volume(name), check=False)


@contextlib.contextmanager
def throwaway_server(ctx: OpsContext, box: BackupBox, database: str, *, keep: bool = False) -> Iterator[RestoreServer]:
    """Start an isolated Postgres on a fresh throwaway volume; both are removed on exit unless keep."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{THROWAWAY_VOLUME_PREFIX}{ctx.config.stack.project}-{stamp}-{secrets.token_hex(3)}"
    server = RestoreServer(name, name, "restore", database, secrets.token_urlsafe(18))
    with contextlib.ExitStack() as cleanup:
        if not keep:
            cleanup.callback(remove_throwaway, name)
        runner.run(cmd.volume_create(name, DRILL_LABEL))
        yield start_server(ctx, box, server, DRILL_LABEL)


def _wait_ready(server: RestoreServer, timeout: float) -> None:
    # TCP readiness: the official image's init-time server listens on the socket only.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.exec(["pg_isready", "--host", "127.0.0.1", "--username", server.user], check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise NotReady(f"restore server {server.container} not ready after {timeout:.0f}s (docker logs {server.container})")


def restore_dump(server: RestoreServer, chosen: Chosen, jobs: int) -> float:
    """pg_restore --no-owner --no-privileges with parallel jobs; returns seconds taken."""
    started = time.monotonic()
    try:
        server.exec(pg.restore(chosen.dump_path_in_server, server.database, server.user, jobs), timeout=6 * 3600)
    except CommandFailed as e:
        raise RestoreError(f"pg_restore of {chosen.dump_file} failed (exit {e.returncode}): {e.stderr_tail}") from e
    return time.monotonic() - started


def restored_counts(server: RestoreServer) -> dict[str, int]:
    rows = [line.split("\t") for line in server.query(pg.ROW_COUNTS_SQL).splitlines() if line]
    return {table: int(count) for table, count in rows}


def restored_revision(server: RestoreServer) -> str:
    return server.query(pg.ALEMBIC_REVISION_SQL).strip()


def compare_counts(manifest: dict, restored: dict[str, int]) -> list[dict]:
    """Per-table rows: manifest vs restore, every table of either side."""
    expected = manifest["row_counts"]
    return [{"table": t, "manifest": expected.get(t), "restored": restored.get(t),
             "match": expected.get(t) == restored.get(t)} for t in sorted(set(expected) | set(restored))]


def run_samples(server: RestoreServer, queries: tuple[str, ...]) -> list[dict]:
    return [{"query": q, "rows": len([line for line in server.query(q).splitlines() if line])} for q in queries]
