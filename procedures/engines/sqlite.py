"""SQLite in a volume of an app service (LazyFlow's shape): the Engine for it.

There is no database server. The database is a file ([database] file, as the app service that
mounts it sees it) on the volume [volumes] database names. The suite's backup service mounts that
volume where the app does (so the file has the same path in both) and runs sqlite_copy there
(standard-library Python, its source on stdin): SQLite's online backup into a gzip-compressed copy
(the set's `.dump`), integrity check, row counts and revision from the copy. A drill decompresses
the copy into a volume of its own, in a networkless container of the backup image, and checks it;
the live file and its -wal/-shm are never copied. A disaster restore decompresses it into a NEW
volume, at the path it has on the live one and with the live file's owner; the volume switch then
recreates the app on that volume.
"""

import json
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path

from .. import runner
from ..commands import docker as cmd
from ..compose_model import database_file_mount
from ..config import OpsConfig
from ..errors import BackupError, CommandFailed, ConfigError, RestoreError
from . import sqlite_copy
from .facts import DumpFacts, ServerFacts
from .targets import DRILL, VOLUME, RestoreTarget, TargetPlan, require_database_volume_named

SCRIPT = Path(sqlite_copy.__file__).read_text()  # sent to the container on stdin
RESTORED = "/restored"  # where a drill's container mounts its new volume
RESTORED_FILE = "database.db"
LOCK_SECONDS = 30.0  # a live question waits this long for a writer's lock


def _script(*args: str) -> list[str]:
    return ["python3", "-", *args]


def _facts(text: str, what: str) -> dict:
    try:
        return json.loads(text)
    except ValueError as e:
        raise BackupError(f"{what}: the copy script answered no facts ({text[:200]!r})") from e


def _failure(e: CommandFailed) -> str:
    """The script's own last line of complaint (its CopyFailed), else the command's error."""
    text = (e.stderr_tail or "").strip()
    return text.splitlines()[-1] if text else str(e)


@dataclass(frozen=True)
class LiveSqlite:
    """The live database file, asked read-only from a one-off backup container mounting its volume."""

    ctx: object  # OpsContext

    def _run(self, *args: str) -> str:
        ctx = self.ctx
        try:
            return ctx.compose.run_once(ctx.config.services.backup, _script(*args), no_deps=True,
                                        input_text=SCRIPT, limit="command").stdout
        except CommandFailed as e:
            raise BackupError(f"the SQLite database {ctx.config.database.file} could not be read: {_failure(e)}") from e

    @property
    def path(self) -> str:
        return self.ctx.config.database.file

    def query(self, sql: str) -> str:
        return self._run("query", self.path, str(LOCK_SECONDS), sql).strip()

    def counts(self) -> dict:
        return _facts(self._run("counts", self.path, str(LOCK_SECONDS), self.ctx.config.database.revision_query),
                      "row counts")

    def identity(self) -> str:
        return _facts(self._run("identity", self.path), "identity")["identity"]

    def owner(self) -> str:
        """Who owns the file and its directory, as the script's JSON (handed on to a restore as it is)."""
        return self._run("owner", self.path).strip()

    def exists(self) -> bool:
        """Whether the database file exists yet (a new install's app has not created it)."""
        try:
            self.identity()
        except BackupError as e:
            if "does not exist" in str(e):
                return False
            raise
        return True

    def database_name(self) -> str:
        return posixpath.splitext(posixpath.basename(self.ctx.config.database.file))[0]


@dataclass
class RestoredCopy:
    """A copy decompressed into a new volume, in a networkless container of the backup image."""

    container: str
    volume: str
    revision_query: str
    path: str = f"{RESTORED}/{RESTORED_FILE}"
    owned: str = ""  # a disaster's copy: the live file's owner (the script's `owner` answer)

    def run_script(self, *args: str, limit: str) -> str:
        return runner.run(cmd.exec_in(self.container, _script(*args)), input_text=SCRIPT, limit=limit).stdout

    def query(self, sql: str) -> str:
        try:
            return self.run_script("query", self.path, str(LOCK_SECONDS), sql, limit="command").strip()
        except CommandFailed as e:
            raise RestoreError(f"{sql!r} failed on the restored copy: {_failure(e)}") from e

    def counts(self) -> dict:
        return _facts(self.run_script("counts", self.path, str(LOCK_SECONDS), self.revision_query, limit="command"), "row counts")

    def identity(self) -> str:
        return _facts(self.run_script("identity", self.path, limit="command"), "identity")["identity"]

    def describe(self) -> dict:
        return {"container": self.container, "new volume": self.volume, "file": self.path, "network": "none"}

    def how_to_connect(self) -> str:
        return (f"docker exec -it {self.container} python3 -c \"import sqlite3; "
                f"print(sqlite3.connect('{self.path}').execute('SELECT name FROM sqlite_master').fetchall())\"\n"
                f"clean up: {cmd.throwaway_cleanup_hint(self.container, self.volume)}")


class SqliteInVolume:
    """SQLite's online backup of a file on an app service's volume, from the backup service."""

    name = "sqlite"
    dump_suffix = ".dump"  # a gzip-compressed copy, under the set's one dump name
    data_place = VOLUME  # a file on an app service's volume

    def server_services(self, config: OpsConfig) -> tuple[str, ...]:
        return ()  # no server: the app opens the file

    def __init__(self, config: OpsConfig):
        self.config = config

    @staticmethod
    def check_config(config: OpsConfig) -> None:
        """A database file on an app service's volume: no database service, the file's absolute path, its volume."""
        if config.services.database:
            raise ConfigError(f"[services] database = {config.services.database!r}, but [database] engine = \"sqlite\" "
                              "keeps the database in a file of an app service: set [services] database = \"\"")
        if not config.database.file.startswith("/"):
            raise ConfigError(f"[database] file = {config.database.file!r}: give the SQLite file's absolute path as the "
                              "app service sees it, e.g. \"/app/data/app.db\" (the DB_PATH the app is given)")
        require_database_volume_named(config)

    def live(self, ctx) -> LiveSqlite:
        return LiveSqlite(ctx)

    def where(self, ctx) -> dict:
        return {"file": ctx.config.database.file, "volume": ctx.config.volumes.database}

    def server_version(self, db) -> str:
        found = db.counts()["server_version_num"]
        return f"SQLite {found // 1000000}.{found // 1000 % 1000}.{found % 1000}"

    def schema_revision(self, db) -> str:
        return db.counts()["revision"]

    def user_table_count(self, db) -> int:
        if isinstance(db, LiveSqlite) and not db.exists():
            return 0  # a new install: the app's migration creates the file
        return len(db.counts()["row_counts"])

    def row_counts(self, db) -> dict[str, int]:
        return db.counts()["row_counts"]

    def data_identity(self, db) -> str:
        """The database file's inode: a database created anew is a new file."""
        return db.identity()

    def data_directory(self, service_env: dict) -> str:
        raise ConfigError("[database] engine = \"sqlite\" has no database service")

    def healthcheck(self, service_env: dict) -> dict:
        raise ConfigError("[database] engine = \"sqlite\" has no database service")

    def client_environment(self, ctx) -> dict[str, str]:
        return {}

    def check_dump_client(self, box) -> ServerFacts:
        """The database file exists and SQLite in the backup image can read it."""
        try:
            found = _facts(box.run(_script("identity", self.config.database.file), input_text=SCRIPT, limit="command").stdout, "identity")
        except CommandFailed as e:
            raise BackupError(f"the SQLite database is not readable, nothing was written: {_failure(e)} "
                              "([database] file, [volumes] database)") from e
        major, minor, patch = (int(part) for part in found["sqlite_version"].split("."))
        return ServerFacts(major * 1000000 + minor * 1000 + patch, major)

    def dump(self, box, path: str) -> DumpFacts:
        """SQLite's online backup of the live file into path (gzip), checked; facts from the copy."""
        seconds = str(self.config.timeouts.pg_lock_wait_seconds)
        try:
            found = _facts(box.run(_script("backup", self.config.database.file, path, seconds, self.config.database.revision_query),
                                   input_text=SCRIPT, limit="dump").stdout, "backup")
        except CommandFailed as e:
            raise BackupError(f"SQLite online backup failed; no backup was written under a final name: "
                              f"{_failure(e)}") from e
        return DumpFacts(found["server_version_num"], found["revision"], found["row_counts"])

    def verify_dump(self, box, path: str, server_version_num: int = 0) -> int:
        """The copy decompresses and passes PRAGMA integrity_check; returns its table count."""
        try:
            found = _facts(box.run(_script("check", path), input_text=SCRIPT, limit="check").stdout, "check")
        except CommandFailed as e:
            raise BackupError(f"dump {path} is not a readable SQLite copy: {_failure(e)}") from e
        return len(found["row_counts"]) or 1

    def restore_target(self, ctx, box, plan: TargetPlan) -> RestoreTarget:
        """An idle, networkless container of the backup image on a new volume, backups read-only: a
        drill's copy goes to a file of its own; a rehearsal's and a disaster's where the app finds
        [database] file, owned as the live one (the app mounts that volume in their place)."""
        volume = plan.new_volume()
        if plan.purpose == DRILL:
            copy = self._start_copy(ctx, box, RestoredCopy(plan.container, volume, self.config.database.revision_query),
                                    plan.labels)
        else:
            copy = self.start_disaster_copy(ctx, box, plan.container, volume, plan.labels)
        return RestoreTarget(self, copy, VOLUME, volume, container=plan.container)

    @staticmethod
    def _start_copy(ctx, box, copy: RestoredCopy, labels: dict[str, str]) -> RestoredCopy:
        runner.run(cmd.run_isolated_idle(copy.container, ctx.config.backup.image, copy.volume, RESTORED,
                                         box.volume_at(ctx.config.backup.directory), labels), limit="command")
        return copy

    def start_disaster_copy(self, ctx, box, container: str, volume: str, labels: dict[str, str]) -> RestoredCopy:
        """For a disaster restore: a container like a drill's on the NEW volume, the copy to go where
        [database] file is on the live volume, owned as the live file and its directory are (read
        from the live volume: the app runs as its own user and must write there)."""
        try:
            owned = LiveSqlite(ctx).owner()
        except BackupError as e:
            raise RestoreError(f"{e}; the new volume takes the owner of the live file, so the live volume "
                               f"{ctx.config.volumes.database} must be readable. Nothing was switched") from e
        return self._start_copy(ctx, box, RestoredCopy(container, volume, self.config.database.revision_query,
                                                       posixpath.join(RESTORED, self.file_in_volume(ctx)), owned),
                                labels)

    def volume_marker(self, ctx) -> tuple[str, str, str]:
        """What a volume holding this stack's database must hold: the file, looked at with the backup image."""
        return self.file_in_volume(ctx), "database file", ctx.config.backup.image

    def opened_by(self, model: dict) -> dict[str, str]:
        """The app services mounting the volume the file lies on: each opens the database itself."""
        key = database_file_mount(self.config, model)[0]
        return {name: f"holds the SQLite database {self.config.database.file} (volume {key})"
                for name in self.config.services.app
                if any(m.get("type") == "volume" and m.get("source") == key
                       for m in (model["services"].get(name) or {}).get("volumes") or [])}

    def file_in_volume(self, ctx) -> str:
        """Where [database] file lies inside its volume."""
        at = database_file_mount(self.config, ctx.compose.rendered())[1]
        return posixpath.relpath(self.config.database.file, at)

    def restore_dump(self, server: RestoredCopy, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
        """Decompress the copy into the new volume and check its integrity (no live progress: one file);
        returns seconds."""
        started = time.monotonic()
        try:
            server.run_script("restore", f"{cmd.BACKUPS_MOUNT}/{dump_in_backups}", server.path,
                              server.revision_query, server.owned, limit="restore")
        except CommandFailed as e:
            raise RestoreError(f"restoring {dump_in_backups.rsplit('/', 1)[-1]} failed: {_failure(e)}") from e
        return time.monotonic() - started
