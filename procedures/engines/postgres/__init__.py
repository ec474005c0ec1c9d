"""Postgres running as a service of the stack (the first engine): the Engine interface for it."""

import secrets

from ...commands import postgres as pg
from ...config import OpsConfig
from . import dump as dumping
from . import server as servers
from .live import LiveDatabase

_RESTORE_USER = "restore"


class PostgresInStack:
    """pg_dump -Fc in the backup service, pg_restore into a networkless server of the stack's db image."""

    name = "postgres"
    dump_suffix = ".dump"
    # Where the data lives: a service of the stack, on a volume of the stack.
    database_service = True
    database_volume = True

    def __init__(self, config: OpsConfig):
        self.config = config

    def live(self, ctx) -> LiveDatabase:
        return LiveDatabase(ctx)

    def where(self, ctx) -> dict:
        return {"service": ctx.config.services.database, "volume": ctx.config.volumes.database}

    def server_version(self, db) -> str:
        return db.query(pg.SERVER_VERSION_TEXT_SQL).strip()

    def schema_revision(self, db) -> str:
        query = self.config.database.revision_query
        return db.query(pg.revision_sql(query)).strip() if query else ""

    def user_table_count(self, db) -> int:
        return int(db.query(pg.USER_TABLES_SQL))

    def row_counts(self, db) -> dict[str, int]:
        rows = [line.split("\t") for line in db.query(pg.ROW_COUNTS_SQL).splitlines() if line]
        return {table: int(count) for table, count in rows}

    def data_identity(self, db) -> str:
        """The cluster's system identifier: initdb gives every new cluster a new one, restarts never change it."""
        return db.query(pg.SYSTEM_IDENTIFIER_SQL).strip()

    def data_directory(self, service_env: dict) -> str:
        """Where the database service keeps its cluster (PGDATA, or the official image's default)."""
        return service_env.get("PGDATA") or servers.DEFAULT_DATA_PATH

    def healthcheck(self, service_env: dict) -> dict:
        """A compose healthcheck for a database service that has none: pg_isready as its own user."""
        user = service_env.get(self.config.database.user_variable) or "postgres"
        name = service_env.get(self.config.database.name_variable) or user
        return {"test": ["CMD", "pg_isready", "--username", user, "--dbname", name],
                "interval": "5s", "timeout": "5s", "retries": 30, "start_period": "10s"}

    def client_environment(self, ctx) -> dict[str, str]:
        """libpq's variables for the backup service, from the database service as compose renders it:
        given when the backup container starts, so the password is in no file of the suite's."""
        user, password, name = ctx.database.credentials()
        return {"PGHOST": ctx.config.services.database, "PGUSER": user, "PGPASSWORD": password,
                "PGDATABASE": name}

    def check_dump_client(self, box):
        return dumping.check_dump_client(box)

    def dump(self, box, path: str):
        return dumping.dump(box, path, self.config.timeouts.pg_lock_wait_seconds, self.config.database.revision_query)

    def verify_dump(self, box, path: str, server_version_num: int = 0) -> int:
        return dumping.verify_dump(box, path, server_version_num // 10000)

    @staticmethod
    def one_time_credentials() -> tuple[str, str]:
        return _RESTORE_USER, secrets.token_urlsafe(18)

    def start_server(self, ctx, box, container: str, volume: str, database: str, labels: dict[str, str],
                     credentials: tuple[str, str] | None = None, server_version_num: int = 0):
        """A networkless server on `volume` from the stack's own db image (the live server's major);
        with credentials (the stack's own, for a disaster restore) the restored cluster is what the
        app expects, else a one-time restore user. Refuses a dump of a newer major than the image's."""
        user, password = credentials or self.one_time_credentials()
        return servers.start(ctx, box, servers.RestoreServer(container, volume, user, database, password), labels,
                             needed_major=server_version_num // 10000)

    def stop_server(self, server) -> None:
        servers.stop(server)

    def restore_dump(self, server, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
        return servers.restore_dump(server, dump_in_backups, jobs, tables)
