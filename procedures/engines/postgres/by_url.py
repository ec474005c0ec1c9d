"""Postgres outside the stack (a managed database) reached by the app's own URL: the Engine for it.

The URL is read from the app service's environment as compose renders it, parsed by libpq (through
database_url) and handed to psql, pg_dump and pg_restore as libpq's variables, in the suite's backup
service: it joins the app service's networks, so the URL's host resolves and routes as it does for
the app. Dumps, manifests and drills are the in-stack engine's; what differs is where the live
database is asked, what tells one database from another, and the drill server's image, which comes
from the config for the dump's server major.
"""

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ... import restored_names
from ...commands import postgres as pg
from ...errors import BackupError, CommandFailed, ConfigError, RestoreError
from .. import database_url
from ..targets import DISASTER, DATABASE, VOLUME, REHEARSAL, REHEARSAL_DB_SERVICE, RehearsalDatabase, \
    RestoreTarget, TargetPlan
from . import SERVER_STOP_SECONDS, PostgresInStack
from . import server as servers
from .progress import TableCount

# Another database on the same server has another oid; a database created anew gets a new one.
POSTGRES_NAME_LIMIT = 63  # bytes in a Postgres identifier
PORT = 5432  # where a server of server_image listens, in the rehearsal's network
DATABASE_IDENTITY_SQL = ("SELECT current_setting('server_version_num') || '/' || oid FROM pg_database "
                         "WHERE datname = current_database()")


@dataclass(frozen=True)
class UrlDatabase:
    ctx: object  # OpsContext

    def url(self) -> database_url.DatabaseUrl:
        """The URL the app is given, as its compose files render it, parsed and checked."""
        config = self.ctx.config
        service, variable = config.url_service, config.database.url_variable
        env = self.ctx.compose.rendered()["services"][service].get("environment") or {}
        where = f"{variable} (the {service} service's, from {config.url_file or 'its compose file'})"
        return database_url.parse(env.get(variable), where)

    def credentials(self) -> tuple[str, str, str]:
        keywords = self.url().keywords
        return keywords["user"], keywords["password"], keywords["dbname"]

    def database_name(self) -> str:
        """The app's database as backups name it: one a disaster restore made (<name>_restored_<stamp>)
        keeps the name of the database it replaced, so its sets continue that series (retention,
        the drill's choice). The URL's own name is in_use()."""
        return restored_names.original_name(self.in_use())

    def in_use(self) -> str:
        """The database the app's URL names now."""
        return self.url().keywords["dbname"]

    def query(self, sql: str) -> str:
        """Run one SQL statement from a one-off backup container (on the app's networks); tab-separated rows."""
        url = self.url()
        try:
            return self.ctx.compose.run_once(self.ctx.config.services.backup, pg.psql(sql), no_deps=True,
                                             env=url.environment(), limit="command").stdout.strip()
        except CommandFailed as e:
            raise BackupError(f"the database at {url.describe()} did not answer ({e.stderr_tail.strip() or e}); "
                              f"check {url.variable}") from e


@dataclass
class NewDatabase:
    """A new database on the live server, reached from the backup container (the URL's route): where a
    disaster restore puts the set before the app's URL is switched to it."""

    box: object  # BackupBox: libpq's variables from the URL
    name: str
    backups: str  # where the backups volume is mounted in the box

    def query(self, sql: str) -> str:
        return self.box.run(pg.psql(sql, self.name), limit="command").stdout

    def describe(self) -> dict:
        return {"new database": self.name, "on": "the server the app's URL names"}


class PostgresByUrl(PostgresInStack):
    """pg_dump -Fc of a server outside the stack, from the backup service; drills in a networkless
    server of [database] server_image at the dump's major."""

    name = "postgres-url"
    data_place = DATABASE  # a database of a server outside the stack

    def server_services(self, config) -> tuple[str, ...]:
        return ()

    @staticmethod
    def check_config(config) -> None:
        """A database outside the stack: no database service or volume of the stack's is named, the URL's
        service is one of the app's, and server_image carries {major}."""
        for setting, value in (("[services] database", config.services.database),
                               ("[volumes] database", config.volumes.database)):
            if value:
                raise ConfigError(f"{setting} = {value!r}, but [database] engine = \"postgres-url\" reaches a database "
                                  f"outside the stack through {config.database.url_variable}: set {setting} = \"\"")
        if config.database.url_service and config.database.url_service not in config.services.app:
            raise ConfigError(f"[database] url_service = {config.database.url_service!r} is not one of [services] app "
                              f"({', '.join(config.services.app)}): name the app service whose environment carries "
                              f"{config.database.url_variable}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", config.database.url_variable):
            raise ConfigError(f"[database] url_variable = {config.database.url_variable!r} is not a variable name")
        if "{major}" not in config.database.server_image:
            raise ConfigError(f"[database] server_image = {config.database.server_image!r} must carry {{major}}, the "
                              "backed-up server's major version, e.g. \"postgres:{major}\": a drill restores into the "
                              "major the dump was taken from")

    def live(self, ctx) -> UrlDatabase:
        return UrlDatabase(ctx)

    def where(self, ctx) -> dict:
        """The server the URL names (user, host, port, database, sslmode; no password)."""
        return {"server": UrlDatabase(ctx).url().describe()}

    def data_identity(self, db) -> str:
        """The server's version and the database's oid: both stay while the data does."""
        return db.query(DATABASE_IDENTITY_SQL).strip()

    def data_directory(self, service_env: dict) -> str:
        raise ConfigError("[database] engine = \"postgres-url\" keeps no data in the stack")

    def volume_marker(self, ctx) -> tuple[str, str, str]:
        raise ConfigError("[database] engine = \"postgres-url\" keeps no volume in the stack")

    def client_environment(self, ctx) -> dict[str, str]:
        """libpq's variables from the app's URL (password included), given when the backup container starts."""
        return UrlDatabase(ctx).url().environment()

    def check_dump_client(self, box):
        """As in the stack, with the URL named: an unknown host, a refused connection, a wrong password
        or sslmode is the URL's to fix."""
        try:
            return super().check_dump_client(box)
        except BackupError as e:
            config = self.config
            raise BackupError(f"{e}\nThe server is the one {config.database.url_variable} names (the "
                              f"{config.url_service} service's); fix the URL in {config.url_file or 'its env file'}, "
                              "or the route to that server") from e

    def restore_target(self, ctx, box, plan: TargetPlan) -> RestoreTarget:
        """A disaster's: a NEW database on the live server (the live one is not touched). A drill's and a
        rehearsal's: a networkless server of server_image at the set's major on a new volume, as a
        one-time user; the rehearsal runs it as its own service and gives the app its URL."""
        if plan.purpose == DISASTER:
            name = restored_names.new_name(UrlDatabase(ctx).database_name(), datetime.now(timezone.utc),
                                           POSTGRES_NAME_LIMIT)
            return RestoreTarget(self, self.create_database(box, name), DATABASE, name)
        if not plan.server_version_num:
            raise ConfigError("a restore of a database outside the stack needs the dump's server version")
        volume, (user, password) = plan.new_volume(), self.one_time_credentials()
        image = self.server_image(plan.server_version_num)
        server = servers.start_image(ctx, box, servers.RestoreServer(plan.container, volume, user, plan.database,
                                                                     password), plan.labels, image)
        rehearsal = RehearsalDatabase()
        if plan.purpose == REHEARSAL:
            service = {"image": image, "volumes": [{"type": "volume", "source": REHEARSAL_DB_SERVICE,
                                                    "target": servers.DEFAULT_DATA_PATH}]}
            rehearsal = RehearsalDatabase((REHEARSAL_DB_SERVICE,), {REHEARSAL_DB_SERVICE: service},
                                          f"postgresql://{user}:{password}@{REHEARSAL_DB_SERVICE}:{PORT}/{plan.database}")
        return RestoreTarget(self, server, VOLUME, volume, rehearsal, plan.container, SERVER_STOP_SECONDS)

    def create_database(self, box, name: str) -> NewDatabase:
        """CREATE DATABASE name on the live server, as the URL's user (it needs CREATEDB)."""
        try:
            box.run(pg.psql(pg.create_database_sql(name)), limit="command")
        except CommandFailed as e:
            raise RestoreError(f"could not create database {name} on the server ({e.stderr_tail.strip() or e}); the "
                               "URL's user needs CREATEDB, or restore by hand (docs/RESTORE_RUNBOOK.md section 8). "
                               "Nothing else was changed") from e
        return NewDatabase(box, name, self.config.backup.directory)

    def restore_dump(self, server, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
        """Into a throwaway server (a drill) as in the stack; into a new database on the live server
        (a disaster restore) from the backup container."""
        if not isinstance(server, NewDatabase):
            return super().restore_dump(server, dump_in_backups, jobs, tables)
        started = time.monotonic()
        try:
            server.box.run(pg.restore_over_url(f"{server.backups}/{dump_in_backups}", server.name, jobs),
                           limit="restore", progress=TableCount("restore", tables))
        except CommandFailed as e:
            raise RestoreError(f"pg_restore into {server.name} failed (exit {e.returncode}): {e.stderr_tail}") from e
        return time.monotonic() - started

    def server_image(self, server_version_num: int) -> str:
        return self.config.database.server_image.format(major=server_version_num // 10000)
