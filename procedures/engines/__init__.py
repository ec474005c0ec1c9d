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
from .targets import RestoreTarget, TargetPlan
from .postgres import PostgresInStack
from .postgres.by_url import PostgresByUrl
from .sqlite import SqliteInVolume
from .mariadb import MariadbInStack


class Engine(Protocol):
    name: str
    dump_suffix: str
    data_place: str  # targets.VOLUME (a volume of the stack) or targets.DATABASE (a server outside it)

    @staticmethod
    def check_config(config: OpsConfig) -> None:
        """Refuse (ConfigError) settings this engine cannot work with, naming the fix."""

    def server_services(self, config: OpsConfig) -> tuple[str, ...]:
        """The stack's services that run the database server (none: the data is a file, or outside)."""

    def opened_by(self, model: dict) -> dict[str, str]:
        """The app services that open the database's files themselves (a second copy of one would write
        them from a second process), each with what it holds: service -> why."""

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

    def volume_marker(self, ctx) -> tuple[str, str, str]:
        """What a volume holding this stack's database must hold (relative to its root), what that is,
        and an image to look with: how a volume switch tells a database volume from an empty one."""

    def restore_target(self, ctx, box, plan: TargetPlan) -> RestoreTarget:
        """Start what plan.purpose restores into (targets.DRILL: isolated, one-time credentials;
        REHEARSAL and DISASTER: as the app expects to find it), able to restore a dump of
        plan.server_version_num; no network, backups read-only."""


# The one list of engines: `[database] engine` names one of them.
ENGINES = {engine.name: engine for engine in (PostgresInStack, PostgresByUrl, SqliteInVolume, MariadbInStack)}


def engine_class(config: OpsConfig) -> type:
    """The engine `[database] engine` names; refuses one the suite does not know."""
    try:
        return ENGINES[config.database.engine]
    except KeyError:
        raise ConfigError(f"[database] engine = {config.database.engine!r} is not supported yet; "
                          f"supported: {', '.join(ENGINES)}") from None


def check_engine_config(config: OpsConfig) -> OpsConfig:
    """The engine exists and accepts the config's settings (called where a config is loaded for use)."""
    engine_class(config).check_config(config)
    return config


def engine_for(config: OpsConfig) -> Engine:
    """The engine `[database] engine` names, for this config."""
    return engine_class(config)(config)
