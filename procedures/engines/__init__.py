"""The database engine behind one small interface: pipelines call it, never an engine's own tools.

An engine answers for one kind of database: how the live one is queried, how a consistent dump
is written and verified, how a throwaway server is started and a dump restored into it, and how
row counts, the schema revision and the server version are read. `engine_for(config)` picks the
one `[database] engine` names; adding an engine is one module here and one line in ENGINES.
"""

from typing import Protocol

from ..config import OpsConfig
from ..errors import ConfigError
from .facts import DumpFacts, Queryable, ServerFacts
from .postgres import PostgresInStack
from .postgres.by_url import PostgresByUrl
from .sqlite import SqliteInVolume


class Engine(Protocol):
    name: str
    dump_suffix: str
    database_service: bool  # the database runs as a service of the stack ([services] database)
    database_volume: bool  # its data lives on a volume of the stack ([volumes] database)

    def live(self, ctx) -> Queryable:
        """The stack's live database, to ask read-only questions."""

    def where(self, ctx) -> dict:
        """Where the live database is, for evidence and messages (never a secret)."""

    def server_version(self, db: Queryable) -> str:
        """The server's version, as text for evidence."""

    def schema_revision(self, db: Queryable) -> str:
        """The app's schema revision ('' when the app records none)."""

    def user_table_count(self, db: Queryable) -> int:
        """How many user tables exist (0 means a new, empty database)."""

    def row_counts(self, db: Queryable) -> dict[str, int]:
        """Exact row count of every user table."""

    def data_identity(self, db: Queryable) -> str:
        """What tells one database's data from another's (it changes when the data is created anew)."""

    def data_directory(self, service_env: dict) -> str:
        """Where the database service keeps its data, given its rendered environment."""

    def healthcheck(self, service_env: dict) -> dict:
        """A compose healthcheck for a database service that has none."""

    def client_environment(self, ctx) -> dict[str, str]:
        """What the backup service needs to reach the database, passed when it starts (secrets included)."""

    def check_dump_client(self, box) -> ServerFacts:
        """Refuse (BackupError) when the database is unreachable or the dump tool is too old."""

    def dump(self, box, path: str) -> DumpFacts:
        """Write a consistent dump to path; the facts are read inside the dump's own snapshot."""

    def verify_dump(self, box, path: str, server_version_num: int = 0) -> int:
        """Refuse (BackupError) an unreadable dump, or one of server_version_num (the set's, when
        known) that this box's tools are too old to read, saying so; returns its entry count."""

    def start_server(self, ctx, box, container: str, volume: str, database: str, labels: dict[str, str],
                     credentials: tuple[str, str] | None = None, server_version_num: int = 0):
        """Start an isolated server (no network) named container on volume, backups read-only, able to
        restore a dump of server_version_num."""

    def stop_server(self, server) -> None:
        """Remove the server's container; never its volume."""

    def restore_dump(self, server, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
        """Restore a dump (its path relative to the backups volume) into the server, showing progress
        against `tables` (the manifest's table count) where the engine's tool reports it; returns seconds."""


ENGINES = {engine.name: engine for engine in (PostgresInStack, PostgresByUrl, SqliteInVolume)}


def engine_for(config: OpsConfig) -> Engine:
    """The engine `[database] engine` names; refuses one the suite does not know."""
    try:
        return ENGINES[config.database.engine](config)
    except KeyError:
        raise ConfigError(f"[database] engine = {config.database.engine!r} is not supported; "
                          f"supported: {', '.join(ENGINES)}") from None
