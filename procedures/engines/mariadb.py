"""MariaDB (and MySQL where the tools agree) as a service of the stack: the Engine for it.

The db service runs the official mariadb image (or one with its contract: MARIADB_*/MYSQL_*
variables, data in /var/lib/mysql, port 3306) on the volume [volumes] database names. A backup runs
mariadb_dump (standard-library Python, its source on stdin) in the backup service built FROM the
server's image: mariadb-dump --single-transaction, gzip-compressed, with the row counts read from the
dump stream itself. A drill restores it with `mariadb` into a networkless server of the stack's own db
image on a new volume; a disaster restore does the same as the stack's own user, and the volume
switch puts the db service on that volume.

Credentials come from the db service's rendered environment. [database] user_variable and its
siblings default to POSTGRES_*: left at those defaults, this engine reads MARIADB_USER/MYSQL_USER,
MARIADB_PASSWORD/MYSQL_PASSWORD and MARIADB_DATABASE/MYSQL_DATABASE instead (the official image's
names), and the default revision_query (a Postgres query) becomes Alembic's on MariaDB.
"""

import json
import posixpath
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import runner
from ..commands import docker as cmd
from ..compose_model import database_mount
from ..config import ALEMBIC_REVISION_QUERY, DatabaseConfig, OpsConfig
from ..errors import BackupError, CommandFailed, ConfigError, NotReady, RestoreError
from ..redact import register_secret
from . import mariadb_dump
from .facts import DumpFacts, ServerFacts
from .targets import (DRILL, VOLUME, RehearsalDatabase, RestoreTarget, TargetPlan, ThrowawayServer,
                      require_database_volume_named)

SCRIPT = Path(mariadb_dump.__file__).read_text()  # sent to the backup container on stdin
DATA_DIRECTORY = "/var/lib/mysql"  # the official image's, and the stand-in's
# A file every MariaDB and MySQL data directory holds: InnoDB's system tablespace.
DATA_MARKER = "ibdata1"
PASSWORD_VARIABLE = "MYSQL_PWD"  # read by mariadb, mariadb-dump and mariadb-admin themselves
ROOT = "root"
# A restore server is stopped cleanly before its volume is reused, so the db starts on a cleanly shut down server.
SERVER_STOP_SECONDS = 60
_POSTGRES_NAMES = DatabaseConfig()  # the defaults: Postgres' variable names and revision query
# The official image's names, each with its MySQL alias, used when the config leaves the Postgres defaults.
IMAGE_NAMES = {"user": ("MARIADB_USER", "MYSQL_USER"), "password": ("MARIADB_PASSWORD", "MYSQL_PASSWORD"),
               "database": ("MARIADB_DATABASE", "MYSQL_DATABASE"),
               "root_password": ("MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD")}
# Alembic's revision on MariaDB, in two steps: a query naming a missing table fails before it runs.
ALEMBIC_TABLE_EXISTS_SQL = ("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                            "AND TABLE_NAME = 'alembic_version'")
ALEMBIC_REVISION_SQL = "SELECT GROUP_CONCAT(version_num ORDER BY version_num SEPARATOR ',') FROM alembic_version"
_BASE_TABLES = "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
BASE_TABLES_SQL = f"SELECT TABLE_NAME {_BASE_TABLES} ORDER BY TABLE_NAME"
USER_TABLES_SQL = f"SELECT COUNT(*) {_BASE_TABLES}"
# What a data directory created anew changes: the creation time of the database's oldest table (the app's
# account sees no system table; a restore or a new volume creates every table anew). '' with no table yet.
# MariaDB reports a table file's ctime there, so an image must not chown files mysql already owns at each
# start (the official image does not; the stand-in neither).
DATA_IDENTITY_SQL = f"SELECT CONCAT(DATABASE(), '@', COALESCE(MIN(CREATE_TIME), '')) {_BASE_TABLES}"


# Commands: pure argv builders (the password is never one of their arguments: MYSQL_PWD carries it).

def client(host: str, user: str, database: str, sql: str) -> list[str]:
    return ["mariadb", "--host", host, "--user", user, "--database", database, "--batch", "--skip-column-names",
            "--execute", sql]


def restore_from_gzip(dump_path: str, host: str, user: str, database: str) -> list[str]:
    """Decompress a dump into `mariadb` inside the server's container; pipefail: a broken file fails it."""
    return ["bash", "-o", "pipefail", "-c", 'gzip -dc -- "$1" | "${@:2}"', "restore", dump_path,
            "mariadb", "--host", host, "--user", user, "--database", database, "--batch"]


def script(*args: str) -> list[str]:
    return ["python3", "-", *args]


def quote_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def row_counts_sql(tables: list[str]) -> str:
    """Exact counts of the tables, in one statement."""
    return " UNION ALL ".join(f"SELECT {quote_text(t)}, COUNT(*) FROM {quote_name(t)}" for t in tables)


def revision_queries(database: DatabaseConfig) -> tuple[str, str]:
    """The revision's guard (a count: 0 means no revision yet) and its query; the config's own query has no guard."""
    if database.revision_query == ALEMBIC_REVISION_QUERY:
        return ALEMBIC_TABLE_EXISTS_SQL, ALEMBIC_REVISION_SQL
    query = database.revision_query.strip().rstrip(";")
    return "", f"SELECT COALESCE(({query}), '')" if query else ""


def variable_names(database: DatabaseConfig, what: str) -> tuple[str, ...]:
    """Where the db service's environment keeps `what`: the config's variable, unless it is left at its
    Postgres default, then the official mariadb image's names."""
    configured = {"user": "user_variable", "password": "password_variable", "database": "name_variable"}.get(what)
    if configured and getattr(database, configured) != getattr(_POSTGRES_NAMES, configured):
        return (getattr(database, configured),)
    return IMAGE_NAMES[what]


def from_environment(env: dict, names: tuple[str, ...]) -> str:
    return next((str(env[n]) for n in names if env.get(n)), "")


def series(version_num: int) -> str:
    return f"{version_num // 10000}.{version_num // 100 % 100}"


@dataclass(frozen=True)
class Account:
    """The stack's database account as its db service is configured."""

    user: str
    password: str = field(repr=False)
    database: str
    root_password: str = field(repr=False, default="")


def account(config: OpsConfig, env: dict) -> Account:
    """The stack's account from the db service's environment (root when it names no user); refuses one
    that names no database."""
    names = config.database
    user = from_environment(env, variable_names(names, "user")) or ROOT
    root_password = from_environment(env, variable_names(names, "root_password"))
    password = root_password if user == ROOT else from_environment(env, variable_names(names, "password"))
    database = from_environment(env, variable_names(names, "database"))
    if not database:
        raise ConfigError(f"the {config.services.database} service's environment names no database "
                          f"({' or '.join(variable_names(names, 'database'))}): set it, or [database] name_variable")
    return Account(user, password, database, root_password)


def _failure(e: CommandFailed) -> str:
    text = (e.stderr_tail or "").strip()
    return text.splitlines()[-1] if text else str(e)


@dataclass(frozen=True)
class LiveMariadb:
    """The live database, asked with the `mariadb` client of a one-off backup container."""

    ctx: object  # OpsContext

    def environment(self) -> dict:
        return self.ctx.compose.rendered()["services"][self.ctx.config.services.database].get("environment") or {}

    def account(self) -> Account:
        return account(self.ctx.config, self.environment())

    def credentials(self) -> tuple[str, str, str]:
        found = self.account()
        return found.user, found.password, found.database

    def database_name(self) -> str:
        return self.account().database

    def query(self, sql: str) -> str:
        ctx, found = self.ctx, self.account()
        register_secret(found.password)
        argv = client(ctx.config.services.database, found.user, found.database, sql)
        return ctx.compose.run_once(ctx.config.services.backup, argv, no_deps=True, limit="command",
                                    env={PASSWORD_VARIABLE: found.password}).stdout.strip()


class MariadbServer(ThrowawayServer):
    """A networkless server of the stack's db image on a new volume, asked as `user` inside its container."""

    password_variable = PASSWORD_VARIABLE

    def query(self, sql: str) -> str:
        try:
            return self.exec(client("127.0.0.1", self.user, self.database, sql), limit="command").stdout
        except CommandFailed as e:
            raise RestoreError(f"{sql[:80]!r} failed on the restored copy: {_failure(e)}") from e

    def how_to_connect(self) -> str:
        return f"docker exec -it {self.container} mariadb -u{self.user} -p {self.database}\n{self.cleanup_hint()}"


class MariadbInStack:
    """mariadb-dump in the backup service, `mariadb` into a networkless server of the stack's db image."""

    name = "mariadb"
    dump_suffix = ".dump"  # gzip-compressed SQL, under the set's one dump name
    data_place = VOLUME  # the stack's db service keeps its data directory on a volume of the stack

    def __init__(self, config: OpsConfig):
        self.config = config

    @staticmethod
    def check_config(config: OpsConfig) -> None:
        """A database service and its volume are named."""
        if not config.services.database:
            raise ConfigError("[database] engine = \"mariadb\" runs the server as a service of the stack: set "
                              "[services] database to that service (e.g. \"db\")")
        require_database_volume_named(config)

    def server_services(self, config: OpsConfig) -> tuple[str, ...]:
        return (config.services.database,)

    def opened_by(self, model: dict) -> dict[str, str]:
        return {}  # the server's clients never open its files

    def live(self, ctx) -> LiveMariadb:
        return LiveMariadb(ctx)

    def where(self, ctx) -> dict:
        return {"service": ctx.config.services.database, "volume": ctx.config.volumes.database}

    def server_version(self, db) -> str:
        return db.query("SELECT VERSION()").strip()

    def schema_revision(self, db) -> str:
        guard, query = revision_queries(self.config.database)
        if not query or (guard and db.query(guard).strip() in ("", "0")):
            return ""
        return db.query(query).strip()

    def user_table_count(self, db) -> int:
        return int(db.query(USER_TABLES_SQL).strip() or 0)

    def row_counts(self, db) -> dict[str, int]:
        tables = [t for t in db.query(BASE_TABLES_SQL).splitlines() if t]
        if not tables:
            return {}
        rows = [line.split("\t") for line in db.query(row_counts_sql(tables)).splitlines() if line]
        return {table: int(count) for table, count in rows}

    def data_identity(self, db) -> str:
        return db.query(DATA_IDENTITY_SQL).strip()

    def data_directory(self, service_env: dict) -> str:
        return DATA_DIRECTORY

    def healthcheck(self, service_env: dict) -> dict:
        """mariadb-admin ping over TCP: it answers once the server listens (an access denial included),
        never during the image's first-start initialisation, whose server listens on no port."""
        return {"test": ["CMD", "mariadb-admin", "ping", "--host", "127.0.0.1", "--silent"],
                "interval": "5s", "timeout": "5s", "retries": 30, "start_period": "20s"}

    def volume_marker(self, ctx) -> tuple[str, str, str]:
        model = ctx.compose.rendered()
        db = model["services"][ctx.config.services.database]
        inside = posixpath.relpath(DATA_DIRECTORY, database_mount(model, ctx.config)[1])
        marker = DATA_MARKER if inside == "." or inside.startswith("..") else f"{inside}/{DATA_MARKER}"
        return marker, "MariaDB data directory", db["image"]

    def client_environment(self, ctx) -> dict[str, str]:
        """The account for the backup service's tools; the password in MYSQL_PWD, never on a command line."""
        found = LiveMariadb(ctx).account()
        register_secret(found.password)
        return {PASSWORD_VARIABLE: found.password, mariadb_dump.HOST_VARIABLE: ctx.config.services.database,
                mariadb_dump.USER_VARIABLE: found.user, mariadb_dump.DATABASE_VARIABLE: found.database}

    def _script(self, box, *args: str, limit: str) -> dict:
        text = box.run(script(*args), input_text=SCRIPT, limit=limit).stdout
        try:
            return json.loads(text)
        except ValueError as e:
            raise BackupError(f"the mariadb dump script answered no facts ({text[:200]!r})") from e

    def check_dump_client(self, box) -> ServerFacts:
        """The server answers the stack's account, and mariadb-dump is not of an older release series."""
        try:
            found = self._script(box, "server", limit="command")
        except CommandFailed as e:
            raise BackupError(f"database not reachable, nothing was written: {_failure(e)}") from e
        server, tool = found["server_version_num"], found["tool_version_num"]
        if tool // 100 < server // 100:
            raise BackupError(f"mariadb-dump {series(tool)} is older than the server ({series(server)}): rebuild the "
                              f"backup image from mariadb:{series(server)} (BACKUP_IMAGE, backup-image/README.md)")
        return ServerFacts(server, tool // 10000)

    def dump(self, box, path: str) -> DumpFacts:
        guard, query = revision_queries(self.config.database)
        try:
            found = self._script(box, "dump", path, guard, query, limit="dump")
        except CommandFailed as e:
            raise BackupError(f"mariadb-dump failed; no backup was written under a final name: {_failure(e)}") from e
        counts = found["row_counts"]
        return DumpFacts(found["server_version_num"], found["revision"], counts, len(counts))

    def verify_dump(self, box, path: str, server_version_num: int = 0) -> int:
        """The file decompresses whole and ends with mariadb-dump's completion line; returns its table count.
        Reading SQL text needs no tool of the set's series, so server_version_num is not needed here."""
        try:
            found = self._script(box, "verify", path, limit="check")
        except CommandFailed as e:
            raise BackupError(f"dump {path} is not a whole mariadb-dump: {_failure(e)}") from e
        return found["tables"] or 1

    def restore_target(self, ctx, box, plan: TargetPlan) -> RestoreTarget:
        """A networkless server of the stack's db image on a new volume: a drill's with a one-time root
        password and the set's database; a rehearsal's and a disaster's with the stack's own account and
        database (and its root password when the service sets one), so the app logs in to the copy."""
        volume = plan.new_volume()
        one_time = secrets.token_urlsafe(18)
        if plan.purpose == DRILL:
            env = {"MARIADB_ROOT_PASSWORD": one_time, "MARIADB_DATABASE": plan.database}
        else:
            found = LiveMariadb(ctx).account()
            env = {"MARIADB_ROOT_PASSWORD": found.root_password or one_time, "MARIADB_DATABASE": found.database}
            if found.user != ROOT:
                env.update({"MARIADB_USER": found.user, "MARIADB_PASSWORD": found.password})
        env.update({name.replace("MARIADB_", "MYSQL_"): value for name, value in env.items()})  # MySQL's images
        server = MariadbServer(plan.container, volume, ROOT, env["MARIADB_DATABASE"], env["MARIADB_ROOT_PASSWORD"])
        self._start(ctx, box, server, env, plan)
        return RestoreTarget(self, server, VOLUME, volume, RehearsalDatabase(start_first=(ctx.config.services.database,)),
                             plan.container, SERVER_STOP_SECONDS)

    def _start(self, ctx, box, server: MariadbServer, env: dict[str, str], plan: TargetPlan) -> None:
        """Start the server, wait until it answers, refuse a set of a newer release series than its own;
        the container is removed when it cannot be used."""
        model = ctx.compose.rendered()
        image = model["services"][ctx.config.services.database]["image"]
        for value in env.values():
            register_secret(value)
        runner.run(cmd.run_isolated_postgres(server.container, image, server.volume, database_mount(model, ctx.config)[1],
                                             box.volume_at(ctx.config.backup.directory), sorted(env), plan.labels),
                   env=env, limit="command")
        try:
            running = version_of_ready(server, ctx.config.restore.ready_timeout_seconds)
            if plan.server_version_num // 100 > running // 100:
                raise RestoreError(
                    f"the set was dumped from MariaDB {series(plan.server_version_num)}, but the restore server ({image}, "
                    f"the stack's db image) runs {series(running)}: an older server may not hold what a newer one dumped. "
                    f"Nothing was restored. Move the db service to mariadb:{series(plan.server_version_num)} or newer "
                    "first (and BACKUP_IMAGE), or choose a set of this series (--backup=SET)")
        except BaseException:
            runner.run(cmd.remove_container(server.container), limit="command", check=False)
            raise

    def restore_dump(self, server: MariadbServer, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
        """`mariadb` reads the decompressed dump inside the server's container (one stream: no jobs, no
        progress); returns seconds."""
        started = time.monotonic()
        try:
            server.exec(restore_from_gzip(f"{cmd.BACKUPS_MOUNT}/{dump_in_backups}", "127.0.0.1", server.user,
                                          server.database), limit="restore")
        except CommandFailed as e:
            name = dump_in_backups.rsplit("/", 1)[-1]
            raise RestoreError(f"restoring {name} with mariadb failed (exit {e.returncode}): {_failure(e)}") from e
        return time.monotonic() - started


def version_of_ready(server: MariadbServer, timeout: float) -> int:
    """Wait until the server answers its account over TCP (the image's first-start server listens on no
    port, so an answer means initialisation is over); returns its version number."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = server.exec(client("127.0.0.1", server.user, server.database, "SELECT VERSION()"), limit="command",
                           check=False)
        if done.returncode == 0:
            return mariadb_dump.version_num(done.stdout)
        time.sleep(0.5)
    raise NotReady(f"restore server {server.container} not ready after {timeout:.0f}s (docker logs {server.container})")
