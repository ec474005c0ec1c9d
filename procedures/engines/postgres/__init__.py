"""Postgres running as a service of the stack (the first engine): the Engine interface for it."""

import posixpath
import secrets

from ...commands import postgres as pg
from ...compose_model import database_mount
from ...config import OpsConfig
from . import dump as dumping
from . import server as servers
from ..targets import DRILL, VOLUME, RehearsalDatabase, RestoreTarget, TargetPlan, require_database_volume_named
from .live import LiveDatabase

_RESTORE_USER = "restore"
CLUSTER_MARKER = "PG_VERSION"  # every cluster's data directory holds it
# A restore server is stopped cleanly before its volume is reused, so the db starts on a cleanly shut down cluster.
SERVER_STOP_SECONDS = 60


class PostgresInStack:
    """pg_dump -Fc in the backup service, pg_restore into a networkless server of the stack's db image."""

    name = "postgres"
    dump_suffix = ".dump"
    data_place = VOLUME  # the stack's db service keeps its cluster on a volume of the stack

    def __init__(self, config: OpsConfig):
        self.config = config

    @staticmethod
    def check_config(config: OpsConfig) -> None:
        """The cluster's volume is named."""
        require_database_volume_named(config)

    def server_services(self, config: OpsConfig) -> tuple[str, ...]:
        """The stack's services that run the database server: started before the app, health-checked,
        stopped before their volume is switched."""
        return (config.services.database,)

    def opened_by(self, model: dict) -> dict[str, str]:
        """App services that open the database's files themselves (a server's clients never do)."""
        return {}

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

    def volume_marker(self, ctx) -> tuple[str, str, str]:
        """What a volume holding this stack's database must hold, relative to its root, what that is, and
        an image to look with: PG_VERSION where the db service's data directory puts it, its own image."""
        model = ctx.compose.rendered()
        db = model["services"][ctx.config.services.database]
        inside = posixpath.relpath(self.data_directory(db.get("environment") or {}), database_mount(model, ctx.config)[1])
        marker = CLUSTER_MARKER if inside == "." or inside.startswith("..") else f"{inside}/{CLUSTER_MARKER}"
        return marker, "database cluster", db["image"]

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

    def restore_target(self, ctx, box, plan: TargetPlan) -> RestoreTarget:
        """A networkless server of the stack's db image on a new volume: a drill's logs in as a one-time
        user into the set's database; a rehearsal's and a disaster's as the stack's own user into its
        own database, so the app logs in to the copy as it does to the live one."""
        volume = plan.new_volume()
        if plan.purpose == DRILL:
            credentials, database = None, plan.database
        else:
            user, password, database = ctx.database.credentials()
            credentials = (user, password)
        server = self.start_server(ctx, box, plan.container, volume, database, plan.labels,
                                   credentials=credentials, server_version_num=plan.server_version_num)
        return RestoreTarget(self, server, VOLUME, volume, self.rehearsal_database(ctx), plan.container,
                             SERVER_STOP_SECONDS)

    def rehearsal_database(self, ctx) -> RehearsalDatabase:
        """The stack's own db service, on the rehearsal's copy of the volume."""
        return RehearsalDatabase(start_first=(ctx.config.services.database,))

    def start_server(self, ctx, box, container: str, volume: str, database: str, labels: dict[str, str],
                     credentials: tuple[str, str] | None = None, server_version_num: int = 0):
        """A networkless server on `volume` from the stack's own db image (the live server's major);
        with credentials (the stack's own, for a disaster restore) the restored cluster is what the
        app expects, else a one-time restore user. Refuses a dump of a newer major than the image's."""
        user, password = credentials or self.one_time_credentials()
        return servers.start(ctx, box, servers.RestoreServer(container, volume, user, database, password), labels,
                             needed_major=server_version_num // 10000)

    def restore_dump(self, server, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
        return servers.restore_dump(server, dump_in_backups, jobs, tables)
