"""Postgres outside the stack (a managed database) reached by the app's own URL: the Engine for it.

The URL is read from the app service's environment as compose renders it, parsed by libpq (through
database_url) and handed to psql, pg_dump and pg_restore as libpq's variables, in the suite's backup
service: it joins the app service's networks, so the URL's host resolves and routes as it does for
the app. Dumps, manifests and drills are the in-stack engine's; what differs is where the live
database is asked, what tells one database from another, and the drill server's image, which comes
from the config for the dump's server major.
"""

import time
from dataclasses import dataclass

from ... import restored_names
from ...commands import postgres as pg
from ...errors import BackupError, CommandFailed, ConfigError, RestoreError
from .. import database_url
from . import PostgresInStack
from . import server as servers
from .progress import TableCount

# Another database on the same server has another oid; a database created anew gets a new one.
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
    database_service = False
    database_volume = False
    # Where a server of server_image keeps its data: the drill's, and the deploy's rollback rehearsal's.
    server_data_path = servers.DEFAULT_DATA_PATH

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

    def start_server(self, ctx, box, container: str, volume: str, database: str, labels: dict[str, str],
                     credentials: tuple[str, str] | None = None, server_version_num: int = 0):
        if not server_version_num:
            raise ConfigError("a drill of a database outside the stack needs the dump's server version")
        user, password = credentials or self.one_time_credentials()
        return servers.start_image(ctx, box, servers.RestoreServer(container, volume, user, database, password),
                                   labels, self.server_image(server_version_num))
