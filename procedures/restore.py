"""The restore drill (test mode): restore a verified backup into a throwaway Postgres and compare.

The throwaway server has no network, its own fresh volume with a reserved name, and the backups
volume mounted read-only; the live database and its volume are never touched.
"""

import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from . import backup, backup_files, backup_names, prune, runner
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
    """The drill could not restore or the copy does not match its manifest; nothing was deleted."""


@dataclass(frozen=True)
class Chosen:
    set_name: str
    manifest: dict
    dump_file: str

    @property
    def age_seconds(self) -> float:
        taken = backup_names.parse_set_name(self.set_name).taken_at
        return (datetime.now(timezone.utc) - taken).total_seconds()


def choose_backup(ctx: OpsContext, box: BackupBox, requested: str | None = None) -> Chosen:
    """The newest verified set (or the requested one), re-verified against its manifest."""
    directory = ctx.config.backup.directory
    names = [f.name for f in backup_files.list_files(box, directory)]
    sets, groups = prune.to_sets(names)
    verified = sorted((s for s in sets if s.verified), key=lambda s: s.taken_at, reverse=True)
    if requested:
        wanted = backup_names.parse_set_name(requested.rsplit("/", 1)[-1])
        if wanted is None or wanted.name not in groups:
            raise RestoreError(f"backup {requested!r} not found in the backups volume; list them with "
                               "`docker compose run --rm backup ls -l /backups`")
        if "manifest" not in groups[wanted.name]:
            raise RestoreError(f"backup {wanted.name} has no manifest: it never verified; choose another")
        name = wanted.name
    elif verified:
        name = verified[0].name
    else:
        raise RestoreError("no verified backup in the backups volume: run `pytest ops_checks/backup.py` first")
    try:
        manifest = backup.verify_set(box, directory, name)
    except (BackupError, CommandFailed) as e:
        raise RestoreError(f"backup {name} failed verification, not restoring it: {e}") from e
    return Chosen(name, manifest, manifest["dump"]["file"])


@dataclass
class Throwaway:
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


def _remove(throwaway: Throwaway) -> None:
    runner.run(cmd.remove_container(throwaway.container), check=False)
    labels = runner.run(["docker", "volume", "inspect", "--format", "{{json .Labels}}", throwaway.volume],
                        check=False).stdout
    if throwaway.volume.startswith(THROWAWAY_VOLUME_PREFIX) and json.loads(labels or "{}") == DRILL_LABEL:
        runner.run(cmd.remove_throwaway_volume(throwaway.volume), check=False)


@contextlib.contextmanager
def throwaway_server(ctx: OpsContext, box: BackupBox, database: str, *, keep: bool = False) -> Iterator[Throwaway]:
    """Start an isolated Postgres on a fresh volume; removed on exit unless keep."""
    image = ctx.compose.rendered()["services"][ctx.config.services.database]["image"]
    backups_volume = box.volume_at(ctx.config.backup.directory)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{THROWAWAY_VOLUME_PREFIX}{ctx.config.stack.project}-{stamp}-{secrets.token_hex(3)}"
    server = Throwaway(name, name, "restore", database, secrets.token_urlsafe(18))
    register_secret(server.password)
    with contextlib.ExitStack() as cleanup:
        if not keep:
            cleanup.callback(_remove, server)
        runner.run(cmd.volume_create(name, DRILL_LABEL))
        runner.run(cmd.run_throwaway_postgres(name, image, name, backups_volume,
                                              ["POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB"], DRILL_LABEL),
                   env={"POSTGRES_PASSWORD": server.password, "POSTGRES_USER": server.user,
                        "POSTGRES_DB": database})
        _wait_ready(server, ctx.config.restore.ready_timeout_seconds)
        yield server


def _wait_ready(server: Throwaway, timeout: float) -> None:
    # TCP readiness: the official image's init-time server listens on the socket only.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.exec(["pg_isready", "--host", "127.0.0.1", "--username", server.user], check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise NotReady(f"throwaway server {server.container} not ready after {timeout:.0f}s")


def restore_dump(server: Throwaway, chosen: Chosen, jobs: int) -> float:
    """pg_restore --no-owner --no-privileges with parallel jobs; returns seconds taken."""
    started = time.monotonic()
    try:
        server.exec(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--jobs={jobs}",
                     "--host", "127.0.0.1", "--username", server.user, "--dbname", server.database,
                     f"/backups/{chosen.dump_file}"], timeout=6 * 3600)
    except CommandFailed as e:
        raise RestoreError(f"pg_restore of {chosen.dump_file} failed (exit {e.returncode}): {e.stderr_tail}") from e
    return time.monotonic() - started


def restored_counts(server: Throwaway) -> dict[str, int]:
    rows = [line.split("\t") for line in server.query(pg.ROW_COUNTS_SQL).splitlines() if line]
    return {table: int(count) for table, count in rows}


def compare_counts(manifest: dict, restored: dict[str, int]) -> list[dict]:
    """Per-table rows: manifest vs restore, every table of either side."""
    expected = manifest["row_counts"]
    return [{"table": t, "manifest": expected.get(t), "restored": restored.get(t),
             "match": expected.get(t) == restored.get(t)} for t in sorted(set(expected) | set(restored))]


def run_samples(server: Throwaway, queries: tuple[str, ...]) -> list[dict]:
    return [{"query": q, "rows": len([line for line in server.query(q).splitlines() if line])} for q in queries]
