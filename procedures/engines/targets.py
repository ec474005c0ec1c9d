"""Where a set is restored to, whatever the engine: one shape for the drill, the rehearsal and a disaster.

`Engine.restore_target(ctx, box, plan)` starts what the engine restores into (a networkless server,
an idle container holding a database file, or a new database on the live server) and hands back a
`RestoreTarget`: the callers restore into it, count its rows, read its revision, describe it, retire
it, and a rehearsal starts what it names. None of them asks which engine it holds.
"""

from dataclasses import dataclass, field
from typing import Callable

from .. import runner
from ..commands import docker as cmd
from ..errors import ConfigError

DRILL, REHEARSAL, DISASTER = "drill", "rehearsal", "disaster"
PURPOSES = (DRILL, REHEARSAL, DISASTER)
# The rollback rehearsal's own database server, for an engine whose live server is outside the stack.
REHEARSAL_DB_SERVICE = "opsuite-rehearsal-db"
# Where an engine keeps the live data (its `data_place`): on a volume of the stack, or in a database of
# a server outside it. That is what a disaster's copy replaces, and so which switch puts the app on it.
VOLUME, DATABASE = "volume", "database"


def require_database_volume_named(config) -> None:
    """An engine whose data_place is VOLUME needs [volumes] database."""
    if not config.volumes.database:
        raise ConfigError("[volumes] database must name the existing database volume")


@dataclass(frozen=True)
class TargetPlan:
    """What the caller decides: why, the container's name and labels, how to make a new volume (the
    caller names and labels it; an engine that needs none never calls it), and the set's database
    and server version."""

    purpose: str
    container: str
    labels: dict[str, str]
    new_volume: Callable[[], str]
    database: str = ""
    server_version_num: int = 0

    def __post_init__(self):
        if self.purpose not in PURPOSES:
            raise ValueError(f"purpose {self.purpose!r} is not one of {PURPOSES}")


@dataclass(frozen=True)
class RehearsalDatabase:
    """What a rollback rehearsal starts for its copy before migrating it: services to start first
    (the stack's own server, or one it adds), the services it adds, and the URL the app is given
    instead of the live one (None: the app finds the copy where it finds the live data)."""

    start_first: tuple[str, ...] = ()
    extra_services: dict[str, dict] = field(default_factory=dict)
    url: str | None = None


@dataclass
class ThrowawayServer:
    """A networkless server of the stack's db image on a new volume, asked as `user` inside its
    container; the password travels only in the environment variable its engine's clients read."""

    container: str
    volume: str
    user: str
    database: str
    password: str = field(repr=False)
    password_variable = ""  # each engine's server names the variable its clients read

    def exec(self, argv: list[str], **kwargs) -> runner.Completed:
        return runner.run(cmd.exec_in(self.container, argv, env_names=[self.password_variable]),
                          env={self.password_variable: self.password}, **kwargs)

    def describe(self) -> dict:
        return {"container": self.container, "new volume": self.volume, "network": "none"}

    def cleanup_hint(self) -> str:
        return f"clean up: {cmd.throwaway_cleanup_hint(self.container, self.volume)}"


@dataclass
class RestoreTarget:
    """A restore's destination as the engine started it; `server` is the engine's own handle."""

    engine: object  # the Engine that started it (restores, counts and reads through its own tools)
    server: object
    place: str  # VOLUME or DATABASE: what a disaster switch puts the app on
    name: str  # the new volume's name, or the new database's
    rehearsal: RehearsalDatabase = field(default_factory=RehearsalDatabase)
    container: str | None = None  # None: nothing runs for it (a new database on the live server)
    stop_seconds: int = 0  # a server is shut down cleanly this long before its container goes

    @property
    def volume(self) -> str | None:
        return self.name if self.place == VOLUME else None

    def restore(self, dump_in_backups: str, jobs: int, tables: int = 0) -> float:
        """Restore a dump (its path relative to the backups volume); returns seconds."""
        return self.engine.restore_dump(self.server, dump_in_backups, jobs, tables)

    def query(self, sql: str) -> str:
        return self.server.query(sql)

    def row_counts(self) -> dict[str, int]:
        return self.engine.row_counts(self.server)

    def schema_revision(self) -> str:
        return self.engine.schema_revision(self.server)

    def describe(self) -> dict:
        return self.server.describe()

    def how_to_connect(self) -> str:
        return self.server.how_to_connect()

    def retire(self) -> None:
        """Shut the server down cleanly (the data is reused) and remove its container; never a volume."""
        if self.container is None:
            return
        if self.stop_seconds:
            runner.run(cmd.stop_container(self.container, self.stop_seconds), limit="command", check=False)
        runner.run(cmd.remove_container(self.container), limit="command", check=False)
